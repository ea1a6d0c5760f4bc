"""Operators look at conversations, members, messages and uploads here; they edit nothing.

Everything is read-only on purpose: seq numbers, read cursors and membership are
invariants kept by the services (and announced to live sockets by their events), so a
hand edit or a deleted message would open a gap that clients would try to sync forever.
"""

from functools import cached_property
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from chat.models import Conversation, ConversationMember, Message, Upload
from chat.serializers import CONTENT_KINDS, attachment_payload
from chat.services.changes import message_takedown

PREVIEW_SIDE = 160


class EstimatedCountPaginator(Paginator):
    """Page without COUNT(*) over a whole huge table: use PostgreSQL's estimate there."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        db = getattr(self.object_list, "db", "default")
        connection = connections[db]
        if query is not None and not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [query.model._meta.db_table],
                )
                row = cursor.fetchone()
            # reltuples is -1 before the first ANALYZE; count exactly then.
            if row and row[0] >= 0:
                return int(row[0])
        return super().count


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only: the services own every write to these tables.

    Without change permission Django shows every field as text, so `readonly_fields`
    only needs to name the computed ones.
    """

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def image_preview(upload: Upload | None) -> str:
    if upload is None or not upload.thumbnail:
        return "—"
    # The access-checked URLs: operators see uploads through the `chat.view_upload`
    # permission. Width/height attributes, not a style attribute (the CSP forbids inline).
    payload = attachment_payload(upload) or {}
    scale = min(1.0, PREVIEW_SIDE / max(upload.width, upload.height, 1))
    return format_html(
        '<a href="{}"><img src="{}" alt="" width="{}" height="{}"></a>',
        payload["url"],
        payload["thumbnail_url"],
        max(1, round(upload.width * scale)),
        max(1, round(upload.height * scale)),
    )


class ConversationMemberInline(admin.TabularInline):
    model = ConversationMember
    fields = ["user", "is_active", "last_read_seq", "left_seq", "muted", "created_at"]
    readonly_fields = ["created_at"]  # not editable, so Django's form cannot include it
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "group_name", "last_seq", "last_message_at", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=id", "group__name", "pair_key"]
    list_select_related = ["group"]
    fields = ["kind", "group_name", "pair_key", "last_seq", "last_message_at", "created_at"]
    readonly_fields = ["group_name"]
    inlines = [ConversationMemberInline]
    ordering = ["-id"]

    @admin.display(description=_("group"))
    def group_name(self, obj: Conversation) -> str:
        group = getattr(obj, "group", None)
        return group.name if group is not None else "—"


@admin.register(ConversationMember)
class ConversationMemberAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "conversation",
        "user",
        "is_active",
        "last_read_seq",
        "left_seq",
        "muted",
        "created_at",
    ]
    list_filter = ["is_active", "muted", "conversation__kind"]
    search_fields = ["user__username", "=conversation__id"]
    list_select_related = ["conversation", "user"]
    raw_id_fields = ["conversation", "user"]
    ordering = ["-id"]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "conversation", "seq", "sender", "kind", "short_body", "created_at"]
    list_filter = ["kind", "recalled"]
    search_fields = ["body", "sender__username", "=client_id"]
    list_select_related = ["conversation", "sender"]
    raw_id_fields = ["conversation", "sender", "attachment", "target", "reply_to", "recalled_by"]
    fields = [
        "conversation",
        "seq",
        "sender",
        "kind",
        "body",
        "attachment",
        "attachment_preview",
        "target",
        "reply_to",
        "recalled",
        "recalled_by",
        "recall_reason",
        "edited",
        "client_id",
        "created_at",
    ]
    readonly_fields = ["attachment_preview"]
    # Newest first on the primary key index; the message table grows without bound.
    ordering = ["-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    actions = ["take_down"]

    @admin.display(description=_("body"))
    def short_body(self, obj: Message) -> str:
        return Truncator(obj.body).chars(60)

    def has_takedown_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("chat.change_message"))

    @admin.action(
        description=_("Take down selected messages (recorded: who and why)"),
        permissions=["takedown"],
    )
    def take_down(self, request: HttpRequest, queryset: Any) -> TemplateResponse | None:
        """An operator's recall at any time, through the service (members see a recall)."""
        messages = list(queryset.filter(kind__in=CONTENT_KINDS, recalled=False)[:100])
        reason = request.POST.get("reason", "").strip()
        if "apply" in request.POST and reason:
            for message in messages:
                message_takedown(operator=request.user, message_id=message.pk, reason=reason)  # type: ignore[arg-type]
            self.message_user(request, _("%(n)d messages taken down.") % {"n": len(messages)})
            return None
        return TemplateResponse(
            request,
            "admin/chat/message/takedown.html",
            {**self.admin_site.each_context(request), "messages": messages},
        )

    @admin.display(description=_("image"))
    def attachment_preview(self, obj: Message) -> str:
        return image_preview(obj.attachment)


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "preview",
        "owner",
        "content_type",
        "dimensions",
        "kilobytes",
        "created_at",
    ]
    list_filter = ["content_type"]
    search_fields = ["owner__username", "=id"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    fields = [
        "preview",
        "owner",
        "content_type",
        "dimensions",
        "kilobytes",
        "created_at",
    ]
    readonly_fields = ["preview", "dimensions", "kilobytes"]
    ordering = ["-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description=_("preview"))
    def preview(self, obj: Upload) -> str:
        return image_preview(obj)

    @admin.display(description=_("size (px)"))
    def dimensions(self, obj: Upload) -> str:
        return f"{obj.width} × {obj.height}"

    @admin.display(description=_("size (KB)"), ordering="size")
    def kilobytes(self, obj: Upload) -> str:
        return f"{obj.size / 1024:.1f}"
