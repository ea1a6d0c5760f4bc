"""Friend graph rules: search, requests, friendships, remarks, deletion, blocks, events."""

import pytest

from accounts.models import Block, FriendRequest, Friendship, User
from accounts.selectors import are_friends, friend_remarks, is_blocked
from chat.models import Conversation, ConversationMember
from chat.services.conversations import robot_user
from chat.services.messages import message_send
from friends.selectors import friend_request_list, user_search
from friends.services import (
    friend_delete,
    friend_remark_set,
    friend_request_accept,
    friend_request_reject,
    friend_request_send,
    user_block,
    user_unblock,
)
from happychat.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.factories import UserFactory
from tests.groups import capture

# The event recorder and cheap password hashing, shared with the groups tests.
published = capture.published
commit = capture.commit
fast_passwords = capture.fast_passwords

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> User:
    return UserFactory(username="alice", nickname="Alice Liddell", email="alice@example.com")


@pytest.fixture
def bob() -> User:
    return UserFactory(username="bob", nickname="Bobby", email="bob@example.com")


@pytest.fixture
def carol() -> User:
    return UserFactory(username="carol", nickname="Carol")


def befriend(a: User, b: User) -> FriendRequest:
    request = friend_request_send(from_user=a, to_user_id=b.pk, message="hi")
    return friend_request_accept(user=b, request_id=request.pk)


# --- search ---------------------------------------------------------------------------


def test_search_finds_people_by_username_and_nickname_contains(alice, bob, carol):
    assert [u.username for u in user_search(viewer=alice, query="BOB")] == ["bob"]
    assert [u.username for u in user_search(viewer=alice, query="obb")] == ["bob"]


def test_search_finds_by_exact_email_only(alice, bob):
    assert [u.username for u in user_search(viewer=alice, query="BOB@example.com")] == ["bob"]
    assert user_search(viewer=alice, query="@example.com") == []
    assert user_search(viewer=alice, query="example") == []


def test_search_never_returns_the_viewer_robots_or_inactive_people(alice, bob):
    UserFactory(username="bobinactive", is_active=False)
    assert [u.username for u in user_search(viewer=alice, query="")] == []
    assert [u.username for u in user_search(viewer=alice, query="bo")] == ["bob"]
    assert user_search(viewer=alice, query="alice") == []
    assert user_search(viewer=alice, query="robot") == []


# --- requests -------------------------------------------------------------------------


def test_sending_a_request_stores_it_pending_and_tells_both_users(alice, bob, published, commit):
    with commit():
        request = friend_request_send(from_user=alice, to_user_id=bob.pk, message=" hello ")
    assert request.status == FriendRequest.Status.PENDING
    assert request.message == "hello"
    assert published.recipients("friend_request") == sorted([alice.pk, bob.pk])
    data = published.events("friend_request")[0].data["request"]
    assert data["id"] == request.pk
    assert data["from"]["id"] == alice.pk
    assert data["to"]["id"] == bob.pk
    assert data["message"] == "hello"
    assert data["status"] == "pending"
    assert "email" not in data["from"]


def test_request_to_yourself_is_refused(alice):
    with pytest.raises(InvalidInput):
        friend_request_send(from_user=alice, to_user_id=alice.pk)
    assert not FriendRequest.objects.exists()


@pytest.mark.parametrize("target", ["missing", "inactive", "robot"])
def test_request_to_nobody_inactive_or_robot_is_not_found(alice, target):
    if target == "missing":
        to_id = 999_999
    elif target == "inactive":
        to_id = UserFactory(username="ghost", is_active=False).pk
    else:
        to_id = robot_user().pk
    with pytest.raises(NotFound):
        friend_request_send(from_user=alice, to_user_id=to_id)
    assert not FriendRequest.objects.exists()


def test_second_pending_request_is_a_conflict_and_stores_nothing(alice, bob, published, commit):
    friend_request_send(from_user=alice, to_user_id=bob.pk)
    published.clear()
    with commit(), pytest.raises(Conflict):
        friend_request_send(from_user=alice, to_user_id=bob.pk)
    assert FriendRequest.objects.count() == 1
    assert published.events() == []


def test_request_to_someone_who_already_asked_you_accepts_theirs(alice, bob):
    theirs = friend_request_send(from_user=bob, to_user_id=alice.pk)
    result = friend_request_send(from_user=alice, to_user_id=bob.pk)
    assert result.pk == theirs.pk
    assert result.status == FriendRequest.Status.ACCEPTED
    assert FriendRequest.objects.count() == 1
    assert are_friends(alice.pk, bob.pk)
    assert are_friends(bob.pk, alice.pk)


def test_request_message_too_long_is_refused(alice, bob):
    with pytest.raises(InvalidInput):
        friend_request_send(from_user=alice, to_user_id=bob.pk, message="x" * 201)
    assert not FriendRequest.objects.exists()


def test_request_to_a_friend_is_a_conflict(alice, bob):
    befriend(alice, bob)
    with pytest.raises(Conflict):
        friend_request_send(from_user=bob, to_user_id=alice.pk)


def test_request_to_someone_who_blocked_you_is_refused(alice, bob):
    user_block(user=bob, blocked_id=alice.pk)
    with pytest.raises(PermissionDenied):
        friend_request_send(from_user=alice, to_user_id=bob.pk)
    assert not FriendRequest.objects.exists()


def test_request_to_someone_you_blocked_is_refused(alice, bob):
    user_block(user=alice, blocked_id=bob.pk)
    with pytest.raises(PermissionDenied):
        friend_request_send(from_user=alice, to_user_id=bob.pk)


def test_request_list_has_both_directions_newest_first(alice, bob, carol):
    first = friend_request_send(from_user=bob, to_user_id=alice.pk)
    second = friend_request_send(from_user=alice, to_user_id=carol.pk)
    assert [r.pk for r in friend_request_list(user=alice)] == [second.pk, first.pk]
    assert [r.pk for r in friend_request_list(user=carol)] == [second.pk]


# --- accept / reject ------------------------------------------------------------------


def test_accepting_makes_both_friends_and_opens_one_direct_conversation(
    alice, bob, published, commit
):
    request = friend_request_send(from_user=alice, to_user_id=bob.pk)
    published.clear()
    with commit():
        friend_request_accept(user=bob, request_id=request.pk)
    assert are_friends(alice.pk, bob.pk)
    assert are_friends(bob.pk, alice.pk)
    conversation = Conversation.objects.get(kind=Conversation.Kind.DIRECT)
    assert set(
        ConversationMember.objects.filter(conversation=conversation, is_active=True).values_list(
            "user_id", flat=True
        )
    ) == {alice.pk, bob.pk}
    request.refresh_from_db()
    assert request.status == FriendRequest.Status.ACCEPTED
    assert request.responded_at is not None

    assert published.recipients("friend_request") == sorted([alice.pk, bob.pk])
    assert published.events("friend_request")[0].data["request"]["status"] == "accepted"
    added = {p.user_id: p for p in published.events("friend_added")}
    assert set(added) == {alice.pk, bob.pk}
    assert added[alice.pk].data == {
        "user": {"id": bob.pk, "username": "bob", "nickname": "Bobby", "avatar": None},
        "conversation": conversation.pk,
    }
    assert added[bob.pk].data["user"]["id"] == alice.pk
    assert all(p.subscribe == conversation.pk for p in added.values())
    created = {p.user_id: p for p in published.events("conversation_created")}
    assert set(created) == {alice.pk, bob.pk}
    assert created[alice.pk].data["conversation"] == {
        "id": conversation.pk,
        "kind": "direct",
        "peer": added[alice.pk].data["user"],
        "group": None,
    }
    assert created[bob.pk].subscribe == conversation.pk


def test_only_the_recipient_can_accept_or_reject(alice, bob, carol):
    request = friend_request_send(from_user=alice, to_user_id=bob.pk)
    for user in (alice, carol):
        with pytest.raises(NotFound):
            friend_request_accept(user=user, request_id=request.pk)
        with pytest.raises(NotFound):
            friend_request_reject(user=user, request_id=request.pk)
    request.refresh_from_db()
    assert request.status == FriendRequest.Status.PENDING
    assert not Friendship.objects.exists()


def test_answered_request_cannot_be_answered_again(alice, bob):
    request = friend_request_send(from_user=alice, to_user_id=bob.pk)
    friend_request_reject(user=bob, request_id=request.pk)
    with pytest.raises(Conflict):
        friend_request_accept(user=bob, request_id=request.pk)
    assert not are_friends(alice.pk, bob.pk)


def test_rejecting_keeps_them_strangers_and_tells_both(alice, bob, published, commit):
    request = friend_request_send(from_user=alice, to_user_id=bob.pk)
    published.clear()
    with commit():
        friend_request_reject(user=bob, request_id=request.pk)
    request.refresh_from_db()
    assert request.status == FriendRequest.Status.REJECTED
    assert not are_friends(alice.pk, bob.pk)
    assert published.recipients("friend_request") == sorted([alice.pk, bob.pk])
    assert published.events("friend_request")[0].data["request"]["status"] == "rejected"
    assert published.names() == ["friend_request", "friend_request"]
    # After a rejection a new request may be sent.
    assert friend_request_send(from_user=alice, to_user_id=bob.pk).status == "pending"


def test_befriending_again_reuses_the_direct_conversation_with_its_history(
    alice, bob, published, commit
):
    befriend(alice, bob)
    conversation = Conversation.objects.get(kind=Conversation.Kind.DIRECT)
    message_send(sender=alice, conversation_id=conversation.pk, client_id="c1", body="hi")
    friend_delete(user=alice, friend_id=bob.pk)
    published.clear()
    with commit():
        befriend(bob, alice)
    assert Conversation.objects.filter(kind=Conversation.Kind.DIRECT).count() == 1
    # "You are now friends", "hi", and "You are now friends" again.
    assert list(conversation.messages.order_by("seq").values_list("kind", "body")) == [
        ("system", "You are now friends. Say hello!"),
        ("text", "hi"),
        ("system", "You are now friends. Say hello!"),
    ]
    assert published.events("conversation_created") == []
    assert {p.subscribe for p in published.events("friend_added")} == {conversation.pk}


# --- remarks --------------------------------------------------------------------------


def test_remark_is_private_to_who_set_it(alice, bob, published, commit):
    befriend(alice, bob)
    published.clear()
    with commit():
        friend_remark_set(user=alice, friend_id=bob.pk, remark="  Bob from work ")
    assert friend_remarks(alice.pk) == {bob.pk: "Bob from work"}
    assert friend_remarks(bob.pk) == {}
    assert published.recipients("friend_updated") == [alice.pk]
    assert published.events("friend_updated")[0].data["user"]["remark"] == "Bob from work"


def test_empty_remark_clears_it(alice, bob):
    befriend(alice, bob)
    friend_remark_set(user=alice, friend_id=bob.pk, remark="B")
    friend_remark_set(user=alice, friend_id=bob.pk, remark="")
    assert friend_remarks(alice.pk) == {}


def test_remark_too_long_or_not_text_is_refused_and_changes_nothing(alice, bob):
    befriend(alice, bob)
    friend_remark_set(user=alice, friend_id=bob.pk, remark="B")
    for bad in ("x" * 65, 12, None):
        with pytest.raises(InvalidInput):
            friend_remark_set(user=alice, friend_id=bob.pk, remark=bad)
    assert friend_remarks(alice.pk) == {bob.pk: "B"}


def test_remark_on_a_stranger_is_not_found(alice, bob):
    with pytest.raises(NotFound):
        friend_remark_set(user=alice, friend_id=bob.pk, remark="x")


# --- delete ---------------------------------------------------------------------------


def test_deleting_a_friend_ends_it_both_ways_and_keeps_the_conversation(
    alice, bob, published, commit
):
    befriend(alice, bob)
    conversation = Conversation.objects.get(kind=Conversation.Kind.DIRECT)
    published.clear()
    with commit():
        friend_delete(user=bob, friend_id=alice.pk)
    assert not are_friends(alice.pk, bob.pk)
    assert not are_friends(bob.pk, alice.pk)
    assert ConversationMember.objects.filter(conversation=conversation, is_active=True).count() == 2
    removed = {p.user_id: p.data for p in published.events("friend_removed")}
    assert removed == {alice.pk: {"user": bob.pk}, bob.pk: {"user": alice.pk}}


def test_deleting_a_stranger_is_not_found(alice, bob):
    with pytest.raises(NotFound):
        friend_delete(user=alice, friend_id=bob.pk)


# --- blocks ---------------------------------------------------------------------------


def test_blocking_refuses_their_requests_and_rejects_pending_ones(alice, bob, published, commit):
    pending = friend_request_send(from_user=bob, to_user_id=alice.pk)
    published.clear()
    with commit():
        _block, created = user_block(user=alice, blocked_id=bob.pk)
    assert created
    assert is_blocked(alice.pk, bob.pk)
    assert not is_blocked(bob.pk, alice.pk)
    pending.refresh_from_db()
    assert pending.status == FriendRequest.Status.REJECTED
    # Only the blocker's devices hear of it.
    assert published.recipients("user_blocked") == [alice.pk]
    assert published.events("user_blocked")[0].data["user"]["id"] == bob.pk
    assert published.names() == ["user_blocked"]


def test_blocking_twice_is_harmless(alice, bob, published, commit):
    user_block(user=alice, blocked_id=bob.pk)
    published.clear()
    with commit():
        _, created = user_block(user=alice, blocked_id=bob.pk)
    assert not created
    assert Block.objects.count() == 1
    assert published.events() == []


def test_blocking_yourself_or_nobody_is_refused(alice):
    with pytest.raises(InvalidInput):
        user_block(user=alice, blocked_id=alice.pk)
    with pytest.raises(NotFound):
        user_block(user=alice, blocked_id=424242)
    assert not Block.objects.exists()


def test_blocking_does_not_end_a_friendship(alice, bob):
    befriend(alice, bob)
    user_block(user=alice, blocked_id=bob.pk)
    assert are_friends(alice.pk, bob.pk)
    assert is_blocked(alice.pk, bob.pk)


def test_unblocking_lifts_the_block(alice, bob, published, commit):
    user_block(user=alice, blocked_id=bob.pk)
    published.clear()
    with commit():
        user_unblock(user=alice, blocked_id=bob.pk)
    assert not is_blocked(alice.pk, bob.pk)
    assert published.recipients("user_unblocked") == [alice.pk]
    assert published.events("user_unblocked")[0].data == {"user": bob.pk}
    assert friend_request_send(from_user=bob, to_user_id=alice.pk).status == "pending"


def visibility(published) -> list[tuple[str, dict]]:
    return [(g, e) for g, e in published.sent if e["type"] == "chat.visibility"]


def test_blocking_and_unblocking_tell_both_sides_sockets_who_they_may_not_see(
    alice, bob, published, commit
):
    with commit():
        user_block(user=alice, blocked_id=bob.pk)
    event = {"type": "chat.visibility", "users": [alice.pk, bob.pk], "hidden": True}
    assert visibility(published) == [(f"user.{alice.pk}", event), (f"user.{bob.pk}", event)]
    # No frame of its own: the blocked person learns nothing but that presence stops.
    assert "frame" not in event
    user_block(user=bob, blocked_id=alice.pk)
    published.clear()
    with commit():
        user_unblock(user=alice, blocked_id=bob.pk)
    # Bob's block still stands: still hidden both ways.
    assert [e["hidden"] for _, e in visibility(published)] == [True, True]
    published.clear()
    with commit():
        user_unblock(user=bob, blocked_id=alice.pk)
    assert [e["hidden"] for _, e in visibility(published)] == [False, False]


def test_unblocking_someone_not_blocked_is_not_found(alice, bob):
    with pytest.raises(NotFound):
        user_unblock(user=alice, blocked_id=bob.pk)
