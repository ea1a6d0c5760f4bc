"""Group payloads shared by REST, pages and events (docs/protocol.md §7 Group)."""

from typing import Any

from accounts.serializers import user_payload
from groups.models import Group, GroupInvitation, GroupMember


def group_avatar_url(group: Group) -> str | None:
    return group.avatar.url if group.avatar else None


def group_brief(group: Group, *, member_count: int | None = None) -> dict[str, Any]:
    """The viewer-independent part of a Group, used in events."""
    if member_count is None:
        member_count = group.memberships.count()
    return {
        "id": group.pk,
        "name": group.name,
        "notice": group.notice,
        "avatar": group_avatar_url(group),
        "owner": user_payload(group.owner),
        "conversation": group.conversation_id,
        "member_count": member_count,
        "is_public": group.is_public,
    }


def group_payload(
    group: Group, *, my_role: str | None, member_count: int | None = None
) -> dict[str, Any]:
    """The Group object as one viewer sees it."""
    return {**group_brief(group, member_count=member_count), "my_role": my_role}


def member_payload(member: GroupMember, *, remark: str | None = None) -> dict[str, Any]:
    """A group member: the User (with the viewer's remark), role, in-group alias, since."""
    return {
        "user": user_payload(member.user, remark=remark),
        "role": member.role,
        "alias": member.alias,
        "joined_at": member.created_at,
    }


def invitation_payload(invitation: GroupInvitation) -> dict[str, Any]:
    """A group invitation as its invitee sees it."""
    group = invitation.group
    return {
        "id": invitation.pk,
        "group": {"id": group.pk, "name": group.name, "avatar": group_avatar_url(group)},
        "inviter": user_payload(invitation.inviter),
        "invitee": user_payload(invitation.invitee),
        "status": invitation.status,
        "created_at": invitation.created_at,
    }
