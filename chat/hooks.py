"""What chat announces to the apps above it (robot, groups, push), which subscribe in
their `AppConfig.ready`; chat never imports them.

- `message_committed(message)`: after the transaction that stored a new message commits
  (not for retries). Receivers must return quickly (hand work to a thread) and must not
  raise: an error is logged and never reaches the sender.
- `conversation_rows_decorate(conversation_ids)`: while building the conversation list;
  a receiver returns {conversation id: {"title", "avatar", "group"}} for the
  conversations it owns (groups names its group conversations).
- `mention_all_permitted(conversation_id, user)`: may this member mention everyone?
  A receiver answers True or False for the conversations it owns (groups: owner and
  admins); with no answer, nobody may.
- `recall_permitted(user, message)`: may this member recall someone else's message (or
  their own after the time limit)? Groups: the owner any member's, an admin a plain
  member's.
"""

import logging
from typing import Any, cast

from django.dispatch import Signal

logger = logging.getLogger("happychat.hooks")

message_committed = Signal()
conversation_rows_decorate = Signal()
mention_all_permitted_signal = Signal()
recall_permitted_signal = Signal()


def announce_message_committed(message: Any) -> None:
    """Call every `message_committed` receiver; log, never raise, what one of them raises."""
    for receiver, result in message_committed.send_robust(sender=None, message=message):
        if isinstance(result, Exception):
            logger.error(
                "message_committed receiver %r failed for message %s",
                receiver,
                message.pk,
                exc_info=result,
            )


def conversation_decorations(conversation_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the subscribed apps say about these conversations, merged by conversation id."""
    merged: dict[int, dict[str, Any]] = {}
    for _receiver, result in conversation_rows_decorate.send(
        sender=None, conversation_ids=conversation_ids
    ):
        found = cast(dict[int, dict[str, Any]], result or {})
        for cid, fields in found.items():
            merged.setdefault(cid, {}).update(fields)
    return merged


def mention_all_permitted(*, conversation_id: int, user: Any) -> bool:
    """Whether a receiver allows `user` to mention everyone in the conversation."""
    answers = mention_all_permitted_signal.send(
        sender=None, conversation_id=conversation_id, user=user
    )
    return any(result is True for _receiver, result in answers)


def recall_permitted(*, user: Any, message: Any) -> bool:
    """Whether a receiver allows `user` to recall `message` as a moderator."""
    answers = recall_permitted_signal.send(sender=None, user=user, message=message)
    return any(result is True for _receiver, result in answers)
