"""Reads of the friend graph: search, friends with remarks, requests, blocks.

`are_friends`, `is_blocked` and `friend_remarks` are the sending and naming rules other
apps (chat) call; they are re-exported from `accounts.selectors`.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import Block, FriendRequest, Friendship, User
from chat.errors import NotFound

USER_SEARCH_LIMIT = 20
REQUEST_LIST_LIMIT = 200


def are_friends(user_a_id: int, user_b_id: int) -> bool:
    """Whether `user_a` has `user_b` as a friend (friendships are always mutual)."""
    return Friendship.objects.filter(user_id=user_a_id, friend_id=user_b_id).exists()


def is_blocked(by_user_id: int, user_id: int) -> bool:
    """Whether `by_user` has blocked `user` (no requests, no messages from them)."""
    return Block.objects.filter(user_id=by_user_id, blocked_id=user_id).exists()


def blocked_either_way(user_a_id: int, user_b_id: int) -> bool:
    """Whether either of the two has blocked the other."""
    return Block.objects.filter(
        Q(user_id=user_a_id, blocked_id=user_b_id) | Q(user_id=user_b_id, blocked_id=user_a_id)
    ).exists()


def friend_remarks(viewer_id: int) -> dict[int, str]:
    """The viewer's remarks: {friend id: remark} for every friend that has one."""
    return dict(
        Friendship.objects.filter(user_id=viewer_id)
        .exclude(remark="")
        .values_list("friend_id", "remark")
    )


def friend_ids(user_id: int) -> set[int]:
    """The ids of the user's friends."""
    return set(Friendship.objects.filter(user_id=user_id).values_list("friend_id", flat=True))


def friendship_list(*, user: User) -> QuerySet[Friendship]:
    """The user's friendships (each with `friend` and the user's `remark`), by display name."""
    return (
        Friendship.objects.filter(user=user)
        .select_related("friend")
        .order_by("friend__nickname", "friend__username")
    )


def user_search(*, viewer: User, query: str) -> list[User]:
    """People matching username or nickname (contains) or e-mail (exact), never the viewer."""
    query = query.strip()
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
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("No such person.")
    friendship = Friendship.objects.filter(user=viewer, friend=user).first()
    return UserCard(
        user=user,
        remark=friendship.remark if friendship else "",
        is_friend=friendship is not None,
        is_blocked=is_blocked(viewer.pk, user.pk),
    )
