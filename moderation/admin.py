"""Operators read reported messages in their context and close the reports."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from moderation import services
from moderation.models import MessageReport
from moderation.selectors import message_context


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
