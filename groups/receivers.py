"""Groups' subscriptions to chat's hooks (connected in `GroupsConfig.ready`)."""

from typing import Any

from groups.models import Group, GroupMember
from groups.serializers import group_avatar_url


def on_conversation_rows_decorate(
    sender: Any, *, conversation_ids: list[int], **kwargs: Any
) -> dict[int, dict[str, Any]]:
    """Name the group conversations in a conversation list: title, avatar, group id."""
    return {
        g.conversation_id: {"title": g.name, "avatar": group_avatar_url(g), "group": g.pk}
        for g in Group.objects.filter(conversation_id__in=conversation_ids)
    }


def on_mention_all_permitted(
    sender: Any, *, conversation_id: int, user: Any, **kwargs: Any
) -> bool:
    """Owners and admins of a live group may mention everyone in it."""
    return GroupMember.objects.filter(
        group__conversation_id=conversation_id,
        group__dissolved_at__isnull=True,
        user=user,
        role__in=[GroupMember.Role.OWNER, GroupMember.Role.ADMIN],
    ).exists()


def on_recall_permitted(sender: Any, *, user: Any, message: Any, **kwargs: Any) -> bool:
    """The owner may recall any member's message; an admin a plain member's (or the robot's)."""
    roles = dict(
        GroupMember.objects.filter(
            group__conversation_id=message.conversation_id,
            group__dissolved_at__isnull=True,
            user_id__in=[user.pk, message.sender_id],
        ).values_list("user_id", "role")
    )
    mine = roles.get(user.pk)
    theirs = roles.get(message.sender_id, GroupMember.Role.MEMBER)
    if mine == GroupMember.Role.OWNER:
        return True
    return mine == GroupMember.Role.ADMIN and theirs == GroupMember.Role.MEMBER
