"""Reads of groups: access checks, search, members, invitations.

`access_group` is the one place that decides who may see a group: a dissolved group is
nobody's, a private group is only its members' (everyone else gets `not_found`, never
its content), a public group anyone signed in may see.
"""

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from chat.models import ConversationMember
from groups.models import Group, GroupInvitation, GroupMember
from happychat.errors import NotFound
from happychat.validators import clean_text, require_id

GROUP_SEARCH_LIMIT = 50


def live_groups() -> QuerySet[Group]:
    """Groups not dissolved, with their owner and member count."""
    return (
        Group.objects.filter(dissolved_at__isnull=True)
        .select_related("owner")
        .annotate(num_members=Count("memberships"))
    )


def membership_get(*, group_id: int, user_id: int) -> GroupMember | None:
    """The user's membership of the group, if any."""
    return GroupMember.objects.filter(group_id=group_id, user_id=user_id).first()


def access_group(*, user: User, group_id: int) -> tuple[Group, GroupMember | None]:
    """The group and the user's membership; `not_found` if the user may not see it."""
    group_id = require_id(group_id, detail=_("No such group."))
    try:
        group = live_groups().get(pk=group_id)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such group.")) from None
    member = membership_get(group_id=group.pk, user_id=user.pk)
    if member is None and not group.is_public:
        raise NotFound(_("No such group."))
    return group, member


def group_list(*, user: User, query: str = "") -> list[tuple[Group, str | None]]:
    """The user's groups, then public groups matching `query` (name contains), with roles."""
    query = clean_text(query, field="search").strip()
    roles = dict(
        GroupMember.objects.filter(user=user, group__dissolved_at__isnull=True).values_list(
            "group_id", "role"
        )
    )
    visible = Q(pk__in=roles.keys())
    if query:
        visible = (visible & Q(name__icontains=query)) | Q(is_public=True, name__icontains=query)
    groups = list(live_groups().filter(visible).order_by("name", "id")[:GROUP_SEARCH_LIMIT])
    groups.sort(key=lambda g: (g.pk not in roles, g.name.casefold(), g.pk))
    return [(g, roles.get(g.pk)) for g in groups]


def group_member_list(*, group: Group) -> QuerySet[GroupMember]:
    """Members: owner, then admins, then members, each by when they joined."""
    return (
        GroupMember.objects.filter(group=group).select_related("user").order_by("created_at", "id")
    )


def group_members_sorted(*, group: Group) -> list[GroupMember]:
    """Members ordered owner first, then admins, then members, by join time."""
    rank: dict[str, int] = {"owner": 0, "admin": 1, "member": 2}
    return sorted(group_member_list(group=group), key=lambda m: (rank[m.role], m.created_at))


def group_invitation_list(*, user: User) -> QuerySet[GroupInvitation]:
    """The user's pending invitations to live groups, newest first."""
    return (
        GroupInvitation.objects.filter(
            invitee=user,
            status=GroupInvitation.Status.PENDING,
            group__dissolved_at__isnull=True,
        )
        .select_related("group", "inviter", "invitee")
        .order_by("-created_at", "-id")
    )


def group_member_ids(*, group: Group) -> list[int]:
    """The ids of the group's members."""
    return list(GroupMember.objects.filter(group=group).values_list("user_id", flat=True))


def group_muted(*, group: Group, user: User) -> bool:
    """Whether the group's conversation is muted for the user."""
    return ConversationMember.objects.filter(
        conversation_id=group.conversation_id, user=user, muted=True
    ).exists()
