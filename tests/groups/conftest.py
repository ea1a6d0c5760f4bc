"""Fixtures for the groups tests: event capture and a small social graph."""

import pytest

from accounts.models import User
from friends.services import friend_request_accept, friend_request_send
from tests.factories import UserFactory
from tests.groups.capture import commit, fast_passwords, published  # noqa: F401


def make_friends(a: User, b: User) -> None:
    request = friend_request_send(from_user=a, to_user_id=b.pk)
    friend_request_accept(user=b, request_id=request.pk)


@pytest.fixture
def people(db) -> dict[str, User]:
    """owner with friends admin, member, friend (not in groups), and a stranger."""
    users = {
        name: UserFactory(username=name)
        for name in ("owner", "admin", "member", "friend", "stranger", "exmember")
    }
    for name in ("admin", "member", "friend", "exmember"):
        make_friends(users["owner"], users[name])
    return users
