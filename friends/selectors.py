"""Reads for the friends screens: people search, requests, blocks.

The graph's rules other apps need (`are_friends`, `is_blocked`, `friend_remarks`,
`friendship_list`) live with the models in `accounts.selectors`.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import Block, FriendRequest, Friendship, User
from accounts.selectors import is_blocked
from happychat.errors import NotFound
from happychat.validators import clean_text, id_or_none

USER_SEARCH_LIMIT = 20
REQUEST_LIST_LIMIT = 200


def user_search(*, viewer: User, query: str) -> list[User]:
    """People matching username or nickname (contains) or e-mail (exact), never the viewer."""
    query = clean_text(query, field="search").strip()
    if not query:
        return []
    match = Q(username__icontains=query) | Q(nickname__icontains=query)
    if "@" in query:
        match |= Q(email__iexact=query)
    return list(
        User.objects.filter(match, is_active=True, is_robot=False)
        .exclude(pk=viewer.pk)
        .order_by("username")[:USER_SEARCH_LIMIT]
    )


def friend_request_list(*, user: User) -> QuerySet[FriendRequest]:
    """Requests the user sent or received, newest first."""
    return (
        FriendRequest.objects.filter(Q(from_user=user) | Q(to_user=user))
        .select_related("from_user", "to_user")
        .order_by("-created_at", "-id")[:REQUEST_LIST_LIMIT]
    )


def block_list(*, user: User) -> QuerySet[Block]:
    """The people the user has blocked, newest first."""
    return Block.objects.filter(user=user).select_related("blocked").order_by("-created_at")


@dataclass(frozen=True)
class UserCard:
    """A person as the viewer sees them: who they are and how the two are related."""

    user: User
    remark: str
    is_friend: bool
    is_blocked: bool


def user_card(*, viewer: User, user_id: int) -> UserCard:
    """The card of an active user (or the robot); `NotFound` for anyone else."""
    valid_id = id_or_none(user_id)
    user = User.objects.filter(pk=valid_id, is_active=True).first() if valid_id else None
    if user is None:
        raise NotFound("No such person.")
    friendship = Friendship.objects.filter(user=viewer, friend=user).first()
    return UserCard(
        user=user,
        remark=friendship.remark if friendship else "",
        is_friend=friendship is not None,
        is_blocked=is_blocked(viewer.pk, user.pk),
    )
