"""Changes to stored messages (recall, edit, react), system messages and forwarding.

A change is an entry of its own kind appended to the conversation's sequence, pointing at
its `target` (docs/message-changes.md): `sync` and history carry it like any message, so
a device that was offline catches up through the one mechanism it already has, and every
client folds the entry into the target. The target row keeps the folded state
(`recalled`, `edited`, its latest `body`, its reactions, `change_seq` = the seq of the
newest entry folded into it) for history pages, the conversation list and search.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from chat import events, hooks, search
from chat.models import Conversation, ConversationMember, Message, Reaction, Upload
from chat.serializers import CHANGE_KINDS, CONTENT_KINDS, message_payload
from chat.services.messages import authorize_sender, message_send
from chat.uploads import upload_delete
from happychat.errors import Conflict, InvalidInput, NotFound, NotMember, PermissionDenied
from happychat.validators import clean_text, require_id
from safety.services import text_filter

logger = logging.getLogger("happychat.messages")

# The fixed set of reactions: what WeChat and Telegram users reach for most.
REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")

_NEXT_SEQ_SQL = (
    "UPDATE chat_conversation SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq"
)
_NEXT_SEQ_ACTIVITY_SQL = (
    "UPDATE chat_conversation SET last_seq = last_seq + 1, last_message_at = %s WHERE id = %s "
    "RETURNING last_seq"
)
_READ_OWN_SQL = (
    "UPDATE chat_conversationmember SET last_read_seq = %s "
    "WHERE conversation_id = %s AND user_id = %s AND last_read_seq < %s"
)


def _append(
    *,
    conversation_id: int,
    sender: User,
    kind: str,
    body: str = "",
    target: Message | None = None,
    data: dict[str, Any] | None = None,
    activity: bool = False,
    origin: str | None = None,
) -> Message:
    """Store an entry with the next seq (inside the caller's transaction) and publish it.

    `activity` moves the conversation up the list (system messages); changes do not.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        if activity:
            cursor.execute(
                _NEXT_SEQ_ACTIVITY_SQL,
                [connection.ops.adapt_datetimefield_value(now), conversation_id],
            )
        else:
            cursor.execute(_NEXT_SEQ_SQL, [conversation_id])
        seq = cursor.fetchone()[0]
        # The actor has seen everything up to their own change.
        cursor.execute(_READ_OWN_SQL, [seq, conversation_id, sender.pk, seq])
    entry = Message.objects.create(
        conversation_id=conversation_id,
        seq=seq,
        sender=sender,
        kind=kind,
        body=body,
        target=target,
        data=data,
        client_id=f"{kind}:{target.pk if target else 0}:{conversation_id}:{seq}",
    )
    events.message_created(message_payload=message_payload(entry), origin=origin)
    return entry


def _lock(conversation_id: int) -> None:
    """Take the conversation's write lock before reading what a change depends on."""
    Conversation.objects.select_for_update().filter(pk=conversation_id).exists()


def _target(*, message_id: Any) -> Message:
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        raise InvalidInput(_("`message` must be a message id."))
    pk = require_id(message_id, detail=_("No such message."))
    qs = Message.objects.select_related("conversation", "sender", "attachment")
    target = qs.filter(pk=pk).first()
    if target is None or target.kind not in CONTENT_KINDS:
        raise NotFound(_("No such message."))
    return target


def _member(*, user: User, target: Message) -> ConversationMember:
    """The user's active membership of the target's conversation (NotFound if never one)."""
    member = ConversationMember.objects.filter(
        conversation_id=target.conversation_id, user=user
    ).first()
    if member is None or (
        not member.is_active and (member.left_seq is None or target.seq > member.left_seq)
    ):
        raise NotFound(_("No such message."))
    if not member.is_active:
        raise NotMember()
    return member


# --- recall -----------------------------------------------------------------------------


def message_recall(
    *, user: User, message_id: int, origin: str | None = None
) -> tuple[Message, Message | None]:
    """Take back a message: its sender within CHAT_RECALL_SECONDS, or a group's owner or
    admin for a member's message at any time. Returns the folded target and the recall
    entry (None when it was already recalled: a retry changes nothing)."""
    with transaction.atomic():
        target = _target(message_id=message_id)
        _lock(target.conversation_id)
        target.refresh_from_db()
        _member(user=user, target=target)
        if target.recalled:
            return target, None
        if target.sender_id == user.pk:
            deadline = target.created_at + timedelta(seconds=settings.CHAT_RECALL_SECONDS)
            if timezone.now() > deadline and not _moderates(user, target):
                raise PermissionDenied(
                    _("Messages can only be recalled within %(n)d seconds of sending.")
                    % {"n": settings.CHAT_RECALL_SECONDS}
                )
            by = "sender"
        elif _moderates(user, target):
            by = "admin"
        else:
            raise PermissionDenied(_("Only the sender or a group admin may recall this message."))
        entry = _recall(target=target, actor=user, by=by, origin=origin)
    return target, entry


def message_takedown(*, operator: User, message_id: int, reason: str) -> Message:
    """An operator removes a message at any time (from the admin), recording who and why.

    Members see an ordinary recall; the operator's identity is not shown to them.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the message is taken down."))
    if not operator.is_staff:
        raise PermissionDenied()
    with transaction.atomic():
        target = _target(message_id=message_id)
        _lock(target.conversation_id)
        target.refresh_from_db()
        if target.recalled:
            return target
        _recall(target=target, actor=operator, by="operator", reason=reason[:500])
    return target


def _moderates(user: User, target: Message) -> bool:
    return hooks.recall_permitted(user=user, message=target)


def _recall(
    *, target: Message, actor: User, by: str, reason: str = "", origin: str | None = None
) -> Message:
    upload = target.attachment
    target.recalled = True
    target.body = ""
    target.attachment = None
    target.recalled_by = actor
    target.recall_reason = reason
    # An operator's entry is signed by the message's sender: members are not told who.
    entry = _append(
        conversation_id=target.conversation_id,
        sender=target.sender if by == "operator" else actor,
        kind=Message.Kind.RECALL,
        target=target,
        data={"by": by},
        origin=origin,
    )
    target.change_seq = entry.seq
    target.save(
        update_fields=[
            "recalled",
            "body",
            "attachment",
            "recalled_by",
            "recall_reason",
            "change_seq",
        ]
    )
    # The text is gone everywhere: from edit entries and from the search index too.
    Message.objects.filter(target=target, kind=Message.Kind.EDIT).update(body="")
    Reaction.objects.filter(message=target).delete()
    with connection.cursor() as cursor:
        search.index_delete(cursor, message_id=target.pk)
    if upload is not None:
        _delete_upload_if_unused(upload)
    return entry


def _delete_upload_if_unused(upload: Upload) -> None:
    """Delete a recalled attachment's files, unless a forwarded copy still shows them."""
    if not Message.objects.filter(attachment=upload).exists():
        upload_delete(upload)


# --- edit -------------------------------------------------------------------------------


def message_edit(
    *, user: User, message_id: int, body: Any, origin: str | None = None
) -> tuple[Message, Message | None]:
    """Replace the text of one's own text message within CHAT_EDIT_SECONDS (the content
    filter applies). Returns the folded target and the edit entry (None if unchanged)."""
    body = clean_text(body, field="body")
    if not body.strip():
        raise InvalidInput(_("An edit needs a non-empty `body`."))
    if len(body) > settings.CHAT_MAX_BODY_CHARS:
        raise InvalidInput(
            _("`body` is limited to %(n)d characters.") % {"n": settings.CHAT_MAX_BODY_CHARS}
        )
    body = text_filter(text=body, field="message")
    with transaction.atomic():
        target = _target(message_id=message_id)
        _lock(target.conversation_id)
        target.refresh_from_db()
        _member(user=user, target=target)
        if target.sender_id != user.pk:
            raise PermissionDenied(_("Only the sender may edit a message."))
        if target.kind != Message.Kind.TEXT:
            raise InvalidInput(_("Only text messages can be edited."))
        if target.recalled:
            raise Conflict(_("This message was recalled."))
        if timezone.now() > target.created_at + timedelta(seconds=settings.CHAT_EDIT_SECONDS):
            raise PermissionDenied(
                _("Messages can only be edited within %(n)d seconds of sending.")
                % {"n": settings.CHAT_EDIT_SECONDS}
            )
        if body == target.body:
            return target, None
        entry = _append(
            conversation_id=target.conversation_id,
            sender=user,
            kind=Message.Kind.EDIT,
            body=body,
            target=target,
            origin=origin,
        )
        target.body = body
        target.edited = True
        target.change_seq = entry.seq
        target.save(update_fields=["body", "edited", "change_seq"])
        tokens = search.indexable_now(
            target.kind, body, conversation_id=target.conversation_id, sender_id=target.sender_id
        )
        with connection.cursor() as cursor:
            search.index_put(cursor, message_id=target.pk, tokens=tokens or "")
        if tokens is None:
            message_pk = target.pk
            transaction.on_commit(lambda: search.index_later(message_pk))
    return target, entry


# --- reactions --------------------------------------------------------------------------


def message_react(
    *,
    user: User,
    message_id: int,
    emoji: Any,
    on: Any = None,
    origin: str | None = None,
) -> tuple[Message, Message | None]:
    """Add or remove the user's reaction (`on` true/false; omitted: toggle). Idempotent
    with `on` given. Returns the folded target and the entry (None if nothing changed)."""
    if emoji not in REACTIONS:
        raise InvalidInput(_("`emoji` must be one of %(set)s.") % {"set": " ".join(REACTIONS)})
    if on is not None and not isinstance(on, bool):
        raise InvalidInput(_("`on` must be true or false."))
    with transaction.atomic():
        target = _target(message_id=message_id)
        _lock(target.conversation_id)
        target.refresh_from_db()
        _member(user=user, target=target)
        authorize_sender(sender=user, conversation_id=target.conversation_id)
        if target.recalled:
            raise Conflict(_("This message was recalled."))
        mine = Reaction.objects.filter(message=target, user=user, emoji=emoji)
        current = mine.exists()
        wanted = (not current) if on is None else on
        if wanted == current:
            return target, None
        if wanted:
            Reaction.objects.create(message=target, user=user, emoji=emoji)
        else:
            mine.delete()
        entry = _append(
            conversation_id=target.conversation_id,
            sender=user,
            kind=Message.Kind.REACTION,
            body=emoji,
            target=target,
            data={"emoji": emoji, "on": wanted},
            origin=origin,
        )
        target.change_seq = entry.seq
        target.save(update_fields=["change_seq"])
    return target, entry


# --- system messages --------------------------------------------------------------------


def system_message_post(
    *, conversation_id: int, actor: User, event: str, body: str, **data: Any
) -> Message:
    """Write a system message ("Bob joined the group") into the timeline.

    Called by the service that makes the change, inside its transaction, so the message
    exists exactly when the change does. `data` carries ids for clients to render in
    their own language; `body` is the English fallback.
    """
    return _append(
        conversation_id=conversation_id,
        sender=actor,
        kind=Message.Kind.SYSTEM,
        body=body,
        data={"event": event, **data},
        activity=True,
    )


# --- forward ----------------------------------------------------------------------------


def messages_forward(
    *, user: User, message_ids: Any, conversation_id: int, client_id: Any
) -> list[Message]:
    """Copy messages the user can read into a conversation they may post in, in order.

    Each copy is sent through `message_send` with client id "<client_id>:<n>", so a
    retried forward stores nothing twice. A copy says where it came from in `data`.
    """
    if (
        not isinstance(message_ids, list)
        or not message_ids
        or len(message_ids) > settings.CHAT_FORWARD_MAX
        or not all(isinstance(m, int) and not isinstance(m, bool) for m in message_ids)
    ):
        raise InvalidInput(
            _("`messages` must be a list of 1 to %(n)d message ids.")
            % {"n": settings.CHAT_FORWARD_MAX}
        )
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 56:
        raise InvalidInput(_("`id` must be a string of 1 to 56 characters."))
    sources = _readable(user=user, message_ids=message_ids)
    copies = []
    with transaction.atomic():
        for n, source in enumerate(sources):
            copy, _created = message_send(
                sender=user,
                conversation_id=conversation_id,
                client_id=f"{client_id}:{n}",
                kind=source.kind,
                body=source.body,
                forward_of=source,
            )
            copies.append(copy)
    return copies


def _readable(*, user: User, message_ids: Iterable[int]) -> list[Message]:
    """The messages, in the order given, if the user may read every one of them."""
    wanted = list(dict.fromkeys(message_ids))
    found = {
        m.pk: m
        for m in Message.objects.select_related("sender", "attachment").filter(pk__in=wanted)
    }
    members = {
        m.conversation_id: m
        for m in ConversationMember.objects.filter(
            user=user, conversation_id__in={m.conversation_id for m in found.values()}
        )
    }
    out = []
    for mid in wanted:
        message = found.get(mid)
        member = members.get(message.conversation_id) if message else None
        if (
            message is None
            or member is None
            or (not member.is_active and (member.left_seq is None or message.seq > member.left_seq))
            or message.kind not in CONTENT_KINDS
        ):
            raise NotFound(_("No such message."))
        if message.recalled:
            raise Conflict(_("A recalled message cannot be forwarded."))
        out.append(message)
    return out


__all__ = [
    "CHANGE_KINDS",
    "REACTIONS",
    "message_edit",
    "message_react",
    "message_recall",
    "message_takedown",
    "messages_forward",
    "system_message_post",
]
