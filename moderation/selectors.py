"""Moderation reads: which messages a user may report, and a message in its context."""

from accounts.models import User
from chat.models import ConversationMember, Message


def message_visible_to(*, user: User, message_id: int) -> Message | None:
    """The message if `user` is or was a member and it falls within their visible history."""
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None:
        return None
    member = ConversationMember.objects.filter(
        conversation_id=message.conversation_id, user=user
    ).first()
    if member is None:
        return None
    if not member.is_active and (member.left_seq is None or message.seq > member.left_seq):
        return None
    return message


def message_context(*, message: Message, around: int = 3) -> list[Message]:
    """The message with up to `around` messages before and after it in its conversation."""
    return list(
        Message.objects.select_related("sender")
        .filter(
            conversation_id=message.conversation_id,
            seq__gte=message.seq - around,
            seq__lte=message.seq + around,
        )
        .order_by("seq")
    )
