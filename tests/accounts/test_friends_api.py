"""REST shapes of the friend graph: User objects with remarks, no e-mails, status codes."""

import pytest
from rest_framework.test import APIClient

from accounts.models import FriendRequest, Friendship, User
from accounts.selectors import is_blocked
from tests.factories import UserFactory
from tests.groups import capture

pytestmark = pytest.mark.django_db
fast_passwords = capture.fast_passwords


@pytest.fixture
def alice():
    return UserFactory(username="alice", nickname="Alice", email="alice@example.com")


@pytest.fixture
def bob():
    return UserFactory(username="bob", nickname="Bobby", email="bob@example.com")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def befriend(a, b) -> None:
    sent = client_for(a).post("/api/v1/friend-requests/", {"to": b.pk, "message": "hi"})
    assert sent.status_code == 201
    accepted = client_for(b).post(f"/api/v1/friend-requests/{sent.json()['id']}/accept/")
    assert accepted.status_code == 200


def test_search_by_exact_email_shows_the_user_but_never_an_email(alice, bob):
    response = client_for(alice).get("/api/v1/users/", {"search": "bob@example.com"})
    assert response.json() == [
        {"id": bob.pk, "username": "bob", "nickname": "Bobby", "avatar": None}
    ]
    assert b"@example.com" not in response.content


def test_search_shows_the_viewers_remark_for_a_friend(alice, bob):
    befriend(alice, bob)
    client_for(alice).patch(f"/api/v1/friends/{bob.pk}/", {"remark": "Bob from work"})
    response = client_for(alice).get("/api/v1/users/", {"search": "bob"})
    assert response.json()[0]["remark"] == "Bob from work"
    response = client_for(bob).get("/api/v1/users/", {"search": "alice"})
    assert "remark" not in response.json()[0]


def test_friend_list_carries_remarks(alice, bob):
    befriend(alice, bob)
    response = client_for(alice).patch(f"/api/v1/friends/{bob.pk}/", {"remark": " B "})
    assert response.status_code == 200
    assert response.json()["remark"] == "B"
    assert client_for(alice).get("/api/v1/friends/").json() == [
        {"id": bob.pk, "username": "bob", "nickname": "Bobby", "avatar": None, "remark": "B"}
    ]
    assert client_for(bob).get("/api/v1/friends/").json() == [
        {"id": alice.pk, "username": "alice", "nickname": "Alice", "avatar": None}
    ]


def test_friend_request_shape_and_both_directions_listed(alice, bob):
    response = client_for(alice).post("/api/v1/friend-requests/", {"to": bob.pk})
    body = response.json()
    assert body["from"]["id"] == alice.pk
    assert body["to"]["id"] == bob.pk
    assert (body["message"], body["status"]) == ("", "pending")
    assert "created_at" in body
    assert [r["id"] for r in client_for(bob).get("/api/v1/friend-requests/").json()] == [body["id"]]
    assert [r["id"] for r in client_for(alice).get("/api/v1/friend-requests/").json()] == [
        body["id"]
    ]


def test_request_back_to_someone_who_asked_answers_200_accepted(alice, bob):
    client_for(bob).post("/api/v1/friend-requests/", {"to": alice.pk})
    response = client_for(alice).post("/api/v1/friend-requests/", {"to": bob.pk})
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert Friendship.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [{}, {"to": "bob"}, {"to": None}, {"message": "hi"}],
)
def test_malformed_request_is_400_with_field_errors_and_stores_nothing(alice, bob, body):
    response = client_for(alice).post("/api/v1/friend-requests/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "to" in response.json()["errors"]
    assert not FriendRequest.objects.exists()


def test_too_long_message_is_400_in_words(alice, bob):
    response = client_for(alice).post(
        "/api/v1/friend-requests/", {"to": bob.pk, "message": "x" * 201}
    )
    assert response.status_code == 400
    assert "200 characters" in response.json()["detail"]
    assert not FriendRequest.objects.exists()


def test_delete_friend_then_remark_is_404(alice, bob):
    befriend(alice, bob)
    assert client_for(bob).delete(f"/api/v1/friends/{alice.pk}/").status_code == 204
    response = client_for(alice).patch(f"/api/v1/friends/{bob.pk}/", {"remark": "x"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_block_and_unblock_over_rest(alice, bob):
    response = client_for(alice).post("/api/v1/blocks/", {"user": bob.pk})
    assert response.status_code == 201
    assert response.json()["user"]["id"] == bob.pk
    assert client_for(alice).post("/api/v1/blocks/", {"user": bob.pk}).status_code == 200
    assert [b["user"]["id"] for b in client_for(alice).get("/api/v1/blocks/").json()] == [bob.pk]
    refused = client_for(bob).post("/api/v1/friend-requests/", {"to": alice.pk})
    assert refused.status_code == 403
    assert client_for(alice).delete(f"/api/v1/blocks/{bob.pk}/").status_code == 204
    assert not is_blocked(alice.pk, bob.pk)


def test_schema_documents_the_friend_and_group_endpoints(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    for path in (
        b"/api/v1/users/",
        b"/api/v1/friends/{user_id}/",
        b"/api/v1/friend-requests/{request_id}/accept/",
        b"/api/v1/blocks/{user_id}/",
        b"/api/v1/groups/{group_id}/transfer/",
        b"/api/v1/groups/{group_id}/me/",
        b"/api/v1/group-invitations/{invitation_id}/accept/",
    ):
        assert path in response.content


def test_a_persons_card_shows_profile_remark_and_relationship(alice, bob):
    bob.bio, bob.region = "Hiker", "Hangzhou"
    bob.save()
    stranger = client_for(alice).get(f"/api/v1/users/{bob.pk}/")
    assert stranger.status_code == 200
    assert stranger.json() == {
        "id": bob.pk,
        "username": "bob",
        "nickname": "Bobby",
        "avatar": None,
        "bio": "Hiker",
        "region": "Hangzhou",
        "gender": "unknown",
        "is_friend": False,
        "is_blocked": False,
    }
    befriend(alice, bob)
    client_for(alice).patch(f"/api/v1/friends/{bob.pk}/", {"remark": "Bob from work"})
    client_for(alice).post("/api/v1/blocks/", {"user": bob.pk})
    card = client_for(alice).get(f"/api/v1/users/{bob.pk}/").json()
    assert card["remark"] == "Bob from work"
    assert card["is_friend"] is True
    assert card["is_blocked"] is True
    # Bob's view of Alice carries no remark of Alice's and no block of his own.
    assert client_for(bob).get(f"/api/v1/users/{alice.pk}/").json()["is_blocked"] is False
    assert "email" not in card


def test_a_card_of_an_unknown_or_deactivated_person_is_404(alice, bob):
    bob.is_active = False
    bob.save()
    assert client_for(alice).get(f"/api/v1/users/{bob.pk}/").json()["code"] == "not_found"
    assert client_for(alice).get(f"/api/v1/users/{bob.pk}/").status_code == 404
    assert client_for(alice).get("/api/v1/users/999999/").status_code == 404
    assert client_for(alice).get(f"/api/v1/users/{2**70}/").status_code == 404
    assert APIClient().get(f"/api/v1/users/{alice.pk}/").status_code in (401, 403)


def test_the_robot_is_marked_in_every_user_object(alice):
    from chat.services import conversation_robot_ensure

    conversation_robot_ensure(user=alice)
    robot = User.objects.get(is_robot=True)
    card = client_for(alice).get(f"/api/v1/users/{robot.pk}/").json()
    assert card["is_robot"] is True
    conversations = client_for(alice).get("/api/v1/conversations/").json()
    peer = next(c["peer"] for c in conversations if c["kind"] == "robot")
    assert peer["is_robot"] is True
    # People carry no such field at all (frames stay as small as they were).
    assert "is_robot" not in client_for(alice).get(f"/api/v1/users/{alice.pk}/").json()
