"""Reads of people and the friend graph other apps call.

The friend graph's models stay here at the bottom (see docs/architecture.md): chat's
sending rule (friends only, not blocked) and naming rule (the viewer's remarks) read them.
The friends app above chat owns every write and the friends screens.
"""

from django.db.models import Q, QuerySet

from accounts.models import Block, Friendship, User


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


def blocked_either_way_ids(user_id: int) -> set[int]:
    """Everyone the user has blocked or been blocked by (they see nothing of each other
    live: no presence, no typing)."""
    pairs = Block.objects.filter(Q(user_id=user_id) | Q(blocked_id=user_id)).values_list(
        "user_id", "blocked_id"
    )
    return {a if b == user_id else b for a, b in pairs}


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
