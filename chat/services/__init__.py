"""Chat writes. Conversations and membership live in `conversations`, messages in `messages`."""

from chat.services.conversations import (
    conversation_direct_get_or_create,
    conversation_group_create,
    conversation_member_remove,
    conversation_members_add,
    conversation_robot_ensure,
)

__all__ = [
    "conversation_direct_get_or_create",
    "conversation_group_create",
    "conversation_member_remove",
    "conversation_members_add",
    "conversation_robot_ensure",
]
