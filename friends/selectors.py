"""Reads for the friends screens: people search, requests, blocks.

The graph's rules other apps need (`are_friends`, `is_blocked`, `friend_remarks`,
`friendship_list`) live with the models in `accounts.selectors`.
"""

from django.db.models import Q, QuerySet

from accounts.models import Block, FriendRequest, User
from happychat.validators import clean_text

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
