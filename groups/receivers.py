"""Groups' subscriptions to chat's hooks (connected in `GroupsConfig.ready`)."""

from typing import Any

from groups.models import Group
from groups.serializers import group_avatar_url


def on_conversation_rows_decorate(
    sender: Any, *, conversation_ids: list[int], **kwargs: Any
) -> dict[int, dict[str, Any]]:
    """Name the group conversations in a conversation list: title, avatar, group id."""
    return {
        g.conversation_id: {"title": g.name, "avatar": group_avatar_url(g), "group": g.pk}
        for g in Group.objects.filter(conversation_id__in=conversation_ids)
    }
