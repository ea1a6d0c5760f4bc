"""Sending and reading messages: the one pipeline behind the socket, REST and the robot."""

import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.selectors import are_friends, is_blocked
from chat import events
from chat.errors import (
    Busy,
    Conflict,
    InvalidAttachment,
    InvalidInput,
    NotFound,
    NotFriends,
    NotMember,
)
from chat.models import Conversation, ConversationMember, Message
from chat.serializers import message_payload

logger = logging.getLogger("happychat.messages")

SENDABLE_KINDS = (Message.Kind.TEXT, Message.Kind.IMAGE)


def _validate(*, client_id: Any, kind: Any, body: Any, attachment_id: Any) -> None:
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
        raise InvalidInput("`id` must be a string of 1 to 64 characters.")
    if kind not in SENDABLE_KINDS:
        raise InvalidInput("`kind` must be `text` or `image`.")
    if not isinstance(body, str):
        raise InvalidInput("`body` must be a string.")
    if len(body) > settings.CHAT_MAX_BODY_CHARS:
        raise InvalidInput(f"`body` is limited to {settings.CHAT_MAX_BODY_CHARS} characters.")
    if kind == Message.Kind.TEXT and not body.strip():
        raise InvalidInput("A text message needs a non-empty `body`.")
    if kind == Message.Kind.IMAGE and attachment_id is None:
        raise InvalidAttachment("An image message needs an `attachment` (an upload id).")
    if attachment_id is not None and (
        isinstance(attachment_id, bool) or not isinstance(attachment_id, int)
    ):
        raise InvalidAttachment("`attachment` must be an upload id.")


def _authorize(*, sender: User, conversation_id: int) -> Conversation:
    """The conversation, if `sender` may post in it now."""
    member = (
        ConversationMember.objects.select_related("conversation")
        .filter(conversation_id=conversation_id, user=sender)
        .first()
    )
    if member is None:
        raise NotFound("No such conversation.")
    if not member.is_active:
        raise NotMember()
    conversation = member.conversation
    if conversation.kind == Conversation.Kind.DIRECT:
        peer_id = (
            ConversationMember.objects.filter(conversation=conversation)
            .exclude(user=sender)
            .values_list("user_id", flat=True)
            .first()
        )
        if peer_id is None or not are_friends(sender.pk, peer_id):
            raise NotFriends()
        if is_blocked(peer_id, sender.pk):
            raise NotFriends("This person does not accept your messages.")
    return conversation


def _existing(*, sender: User, client_id: str, conversation_id: int) -> Message | None:
    found = (
        Message.objects.select_related("attachment")
        .filter(sender=sender, client_id=client_id)
        .first()
    )
    if found is not None and found.conversation_id != conversation_id:
        raise Conflict("This message id was already used in another conversation.")
    return found


def _filter_text(body: str) -> str:
    from safety.services import text_filter

    return text_filter(text=body, field="message")


def message_send(
    *,
    sender: User,
    conversation_id: int,
    client_id: str,
    kind: str = Message.Kind.TEXT,
    body: str = "",
    attachment_id: int | None = None,
    origin: str | None = None,
) -> tuple[Message, bool]:
    """Store a message with the next seq and publish it after commit.

    Idempotent on (sender, client_id): a retry returns the stored message and False.
    `origin` is the sending socket's channel name, which gets an `ack` instead.
    """
    _validate(client_id=client_id, kind=kind, body=body, attachment_id=attachment_id)
    existing = _existing(sender=sender, client_id=client_id, conversation_id=conversation_id)
    if existing is not None:
        existing.sender = sender
        return existing, False
    try:
        message = _store(
            sender=sender,
            conversation_id=conversation_id,
            client_id=client_id,
            kind=kind,
            body=body,
            attachment_id=attachment_id,
            origin=origin,
        )
    except IntegrityError:
        # A racing retry of the same (sender, client_id) committed first: return that one.
        existing = _existing(sender=sender, client_id=client_id, conversation_id=conversation_id)
        if existing is None:
            raise
        existing.sender = sender
        return existing, False
    except OperationalError as exc:
        if not _unavailable(exc):
            raise
        logger.warning("message_send: storage unavailable: %s", exc)
        raise Busy(retryable=True) from exc
    return message, True


def _unavailable(exc: OperationalError) -> bool:
    """Whether the error means "try again later" (locked, connection lost), not a bug."""
    if connection.vendor == "sqlite":
        return "locked" in str(exc) or "busy" in str(exc)
    return True


def _store(
    *,
    sender: User,
    conversation_id: int,
    client_id: str,
    kind: str,
    body: str,
    attachment_id: int | None,
    origin: str | None,
) -> Message:
    # Filter before taking the write lock: a moderation service may take its timeout.
    if body:
        body = _filter_text(body)
    with transaction.atomic():
        conversation = _authorize(sender=sender, conversation_id=conversation_id)
        attachment = None
        if attachment_id is not None:
            from chat.uploads import access_upload_for_attachment

            attachment = access_upload_for_attachment(user=sender, upload_id=attachment_id)
        now = timezone.now()
        # The row update takes the conversation's write lock: concurrent senders queue here,
        # so seq is gap-free; a rollback gives the number back.
        Conversation.objects.filter(pk=conversation.pk).update(
            last_seq=F("last_seq") + 1, last_message_at=now
        )
        seq = Conversation.objects.values_list("last_seq", flat=True).get(pk=conversation.pk)
        message = Message.objects.create(
            conversation=conversation,
            seq=seq,
            sender=sender,
            kind=kind,
            body=body,
            attachment=attachment,
            client_id=client_id,
        )
        # Sending means having read everything up to one's own message.
        ConversationMember.objects.filter(conversation=conversation, user=sender).update(
            last_read_seq=seq
        )
        message.sender = sender
        events.message_created(message_payload=message_payload(message), origin=origin)
        transaction.on_commit(lambda: _after_commit(message))
    return message


def _after_commit(message: Message) -> None:
    from robot.dispatch import message_committed

    try:
        message_committed(message)
    except Exception:  # the robot must never break sending
        logger.exception("robot dispatch failed for message %s", message.pk)


def conversation_mark_read(
    *, user: User, conversation_id: int, seq: int, origin: str | None = None
) -> ConversationMember:
    """Move the user's read cursor forward to `seq` (never back, never past the end)."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise InvalidInput("`seq` must be a non-negative integer.")
    with transaction.atomic():
        member = (
            ConversationMember.objects.select_related("conversation")
            .filter(conversation_id=conversation_id, user=user)
            .first()
        )
        if member is None:
            raise NotFound("No such conversation.")
        if not member.is_active:
            raise NotMember()
        target = min(seq, member.conversation.last_seq)
        if target > member.last_read_seq:
            ConversationMember.objects.filter(pk=member.pk).update(last_read_seq=target)
            member.last_read_seq = target
            events.read_updated(
                conversation_id=conversation_id, user_id=user.pk, seq=target, origin=origin
            )
    return member


def conversation_mute_set(*, user: User, conversation_id: int, muted: bool) -> ConversationMember:
    """Mute or unmute notifications for one conversation (the user's devices only)."""
    updated = ConversationMember.objects.filter(conversation_id=conversation_id, user=user).update(
        muted=muted
    )
    if not updated:
        raise NotFound("No such conversation.")
    return ConversationMember.objects.select_related("conversation").get(
        conversation_id=conversation_id, user=user
    )
