"""Chat's real-time events: messages, read cursors, typing, presence.

Published by chat's services through `happychat.events.publish_on_commit`, so nothing is
announced that was rolled back; names and payloads of chat frames live here.
"""

from collections.abc import Iterable
from typing import Any

from happychat.events import (
    conversation_group,
    encode,
    frame_with_message,
    publish_on_commit,
    send_now,
    user_group,
)

# --- messages and reads ---------------------------------------------------------------


# frame_with_message({"type": "message"}, …), whose head never changes.
_MESSAGE_FRAME_HEAD = frame_with_message({"type": "message"}, "")[:-1]


def message_created(*, message_payload: dict[str, Any], origin: str | None) -> str:
    """Deliver a stored message to every subscribed socket except the one that sent it.

    Returns the Message object's JSON, encoded once for the `message` frame: the sender's
    `ack` carries the same object (`frame_with_message`).
    """
    conversation_id = message_payload["conversation"]
    message_json = encode(message_payload)
    publish_on_commit(
        [conversation_group(conversation_id)],
        {
            "type": "chat.message",
            "conversation": conversation_id,
            "origin": origin,
            "frame": _MESSAGE_FRAME_HEAD + message_json + "}",
        },
    )
    return message_json


def read_updated(*, conversation_id: int, user_id: int, seq: int, origin: str | None) -> None:
    """Tell the other members and the reader's other devices how far `user_id` has read."""
    publish_on_commit(
        [conversation_group(conversation_id)],
        {
            "type": "chat.read",
            "conversation": conversation_id,
            "origin": origin,
            "frame": encode(
                {"type": "read", "conversation": conversation_id, "user": user_id, "seq": seq}
            ),
        },
    )


async def typing(*, conversation_id: int, user_id: int) -> None:
    """Tell the conversation's other members online that `user_id` is typing (not stored)."""
    await send_now(
        [conversation_group(conversation_id)],
        {
            "type": "chat.typing",
            "conversation": conversation_id,
            "user": user_id,
            "frame": encode({"type": "typing", "conversation": conversation_id, "user": user_id}),
        },
    )


async def presence(*, conversation_ids: Iterable[int], user_id: int, online: bool) -> None:
    """Tell everyone who shares a conversation with `user_id` that they came or went."""
    await send_now(
        [conversation_group(cid) for cid in conversation_ids],
        {
            "type": "chat.presence",
            "user": user_id,
            "online": online,
            "frame": encode({"type": "presence", "user": user_id, "online": online}),
        },
    )


# --- who sees whom live ------------------------------------------------------------------


def visibility_changed(*, user_a: int, user_b: int, hidden: bool) -> None:
    """After a block or unblock: the two users' sockets stop (or start again) showing each
    other's presence and typing. No frame of its own; the blocked person is never told."""
    publish_on_commit(
        [user_group(user_a), user_group(user_b)],
        {"type": "chat.visibility", "users": [user_a, user_b], "hidden": hidden},
    )
