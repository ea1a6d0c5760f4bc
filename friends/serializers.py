"""Payloads of the friend graph shared by REST, pages and events (docs/protocol.md §7)."""

from typing import Any

from accounts.models import Block, FriendRequest, Friendship, User
from accounts.serializers import user_payload
from friends.selectors import UserCard


def friend_payload(friendship: Friendship) -> dict[str, Any]:
    """A friend as the owner of `friendship` sees them: a User with their `remark`."""
    return user_payload(friendship.friend, remark=friendship.remark or None)


def friend_request_payload(request: FriendRequest) -> dict[str, Any]:
    """The FriendRequest object."""
    return {
        "id": request.pk,
        "from": user_payload(request.from_user),
        "to": user_payload(request.to_user),
        "message": request.message,
        "status": request.status,
        "created_at": request.created_at,
    }


def block_payload(block: Block) -> dict[str, Any]:
    """A block as its owner sees it."""
    return {"user": user_payload(block.blocked), "created_at": block.created_at}


def users_payload(users: list[User], *, remarks: dict[int, str]) -> list[dict[str, Any]]:
    """Users with the viewer's remarks where set."""
    return [user_payload(u, remark=remarks.get(u.pk)) for u in users]


def user_card_payload(card: UserCard) -> dict[str, Any]:
    """A person's card: the User (with the viewer's remark) plus profile and relationship."""
    return {
        **user_payload(card.user, remark=card.remark or None),
        "bio": card.user.bio,
        "region": card.user.region,
        "gender": card.user.gender,
        "is_friend": card.is_friend,
        "is_blocked": card.is_blocked,
    }
