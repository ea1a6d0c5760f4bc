"""Operators edit words and the policy here, and review reports with the message in context.

Edits go through the services (not plain model saves) so every process notices the new
word list at once.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from safety import services
from safety.models import MessageReport, SafetyPolicy, SensitiveWord
from safety.selectors import message_context


@admin.register(SensitiveWord)
class SensitiveWordAdmin(admin.ModelAdmin):
    list_display = ["word", "action", "created_at"]
    list_filter = ["action"]
    search_fields = ["word"]

    def save_model(self, request: HttpRequest, obj: SensitiveWord, form: Any, change: bool) -> None:
        saved = services.sensitive_word_save(
            word=obj.word, action=obj.action, word_id=obj.pk if change else None
        )
        obj.pk, obj.word = saved.pk, saved.word

    def delete_model(self, request: HttpRequest, obj: SensitiveWord) -> None:
        services.sensitive_words_delete(word_ids=[obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SensitiveWord]) -> None:
        services.sensitive_words_delete(word_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(SafetyPolicy)
class SafetyPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SafetyPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SafetyPolicy, form: Any, change: bool) -> None:
        saved = services.safety_policy_update(default_action=obj.default_action)
        obj.pk = saved.pk


@admin.register(MessageReport)
class MessageReportAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "status", "reporter", "reason", "message_excerpt"]
    list_filter = ["status", "created_at"]
    search_fields = ["reason", "message__body", "reporter__username"]
    list_select_related = ["reporter", "message", "message__sender"]
    readonly_fields = (
        "message_link",
        "reporter",
        "reason",
        "status",
        "created_at",
        "resolved_at",
        "conversation_context",
    )
    fields = readonly_fields
    actions = ["mark_resolved", "mark_dismissed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("message"))
    def message_excerpt(self, obj: MessageReport) -> str:
        return f"{obj.message.sender}: {obj.message.body[:60]}"

    @admin.display(description=_("message"))
    def message_link(self, obj: MessageReport) -> str:
        return f"#{obj.message_id} in conversation {obj.message.conversation_id}"

    @admin.display(description=_("in context"))
    def conversation_context(self, obj: MessageReport) -> str:
        rows = format_html_join(
            "",
            '<tr style="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    "font-weight:bold;background:#fff3cd" if m.pk == obj.message_id else "",
                    m.seq,
                    m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    m.sender.username,
                    m.body or f"[{m.kind}]",
                )
                for m in message_context(message=obj.message)
            ),
        )
        return format_html(
            '<table class="report-context"><thead><tr><th>seq</th><th>{}</th><th>{}</th>'
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("time"),
            _("sender"),
            _("text"),
            rows,
        )

    @admin.action(description=_("Mark selected reports resolved"))
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[MessageReport]) -> None:
        services.message_reports_close(
            report_ids=queryset.values_list("pk", flat=True),
            status=MessageReport.Status.RESOLVED,
        )

    @admin.action(description=_("Dismiss selected reports"))
    def mark_dismissed(self, request: HttpRequest, queryset: QuerySet[MessageReport]) -> None:
        services.message_reports_close(
            report_ids=queryset.values_list("pk", flat=True),
            status=MessageReport.Status.DISMISSED,
        )
