"""REST for conversations: inbox, history pages, send over HTTP, read, mute, access."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Friendship
from chat.models import Message
from chat.services import conversation_member_remove, conversation_robot_ensure
from chat.services.messages import message_send
from tests.chat.conftest import befriend

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def fill(conversation, sender, n, prefix="m"):
    for i in range(n):
        message_send(
            sender=sender, conversation_id=conversation.pk, client_id=f"{prefix}{i}", body=f"{i}"
        )


def test_inbox_lists_conversations_newest_activity_first_with_unread(alice, bob, carol, direct):
    robot_conv = conversation_robot_ensure(user=alice)
    with_carol = befriend(alice, carol)
    fill(direct, bob, 3)
    fill(with_carol, carol, 1)
    rows = client_for(alice).get("/api/v1/conversations/").json()
    assert [r["id"] for r in rows] == [with_carol.pk, direct.pk, robot_conv.pk]
    by_id = {r["id"]: r for r in rows}
    assert by_id[direct.pk]["unread"] == 3
    assert by_id[direct.pk]["kind"] == "direct"
    assert by_id[direct.pk]["title"] == "Bob"
    assert by_id[direct.pk]["peer"]["id"] == bob.pk
    assert by_id[direct.pk]["last_message"]["body"] == "2"
    assert by_id[robot_conv.pk]["kind"] == "robot"
    assert by_id[robot_conv.pk]["last_message"] is None


def test_remark_replaces_nickname_in_title_and_senders(alice, bob, direct):
    Friendship.objects.filter(user=alice, friend=bob).update(remark="Bobby")
    fill(direct, bob, 1)
    client = client_for(alice)
    row = client.get("/api/v1/conversations/").json()[0]
    assert row["title"] == "Bobby"
    assert row["peer"]["remark"] == "Bobby"
    page = client.get(f"/api/v1/conversations/{direct.pk}/messages/").json()
    assert page["results"][0]["sender"]["remark"] == "Bobby"
    # Bob set no remark for Alice: none appears on his side.
    own = client_for(bob).get(f"/api/v1/conversations/{direct.pk}/messages/").json()
    assert "remark" not in own["results"][0]["sender"]


def test_history_pages_backward_and_forward_by_seq(alice, bob, direct):
    fill(direct, bob, 12)
    client = client_for(alice)
    url = f"/api/v1/conversations/{direct.pk}/messages/"
    newest = client.get(url, {"limit": 5}).json()
    assert [m["seq"] for m in newest["results"]] == [8, 9, 10, 11, 12]
    assert newest["has_more"] is True
    older = client.get(url, {"limit": 5, "before": 8}).json()
    assert [m["seq"] for m in older["results"]] == [3, 4, 5, 6, 7]
    oldest = client.get(url, {"limit": 5, "before": 3}).json()
    assert ([m["seq"] for m in oldest["results"]], oldest["has_more"]) == ([1, 2], False)
    forward = client.get(url, {"limit": 5, "after": 10}).json()
    assert ([m["seq"] for m in forward["results"]], forward["has_more"]) == ([11, 12], False)


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 500}, {"before": "x"}, {"after": -1}])
def test_bad_history_query_is_400(alice, direct, query):
    response = client_for(alice).get(f"/api/v1/conversations/{direct.pk}/messages/", query)
    assert response.status_code == 400


def test_post_message_is_201_then_200_with_the_same_message(alice, bob, direct):
    client = client_for(alice)
    url = f"/api/v1/conversations/{direct.pk}/messages/"
    first = client.post(url, {"id": "abc", "kind": "text", "body": "hello"}, format="json")
    assert first.status_code == 201
    again = client.post(url, {"id": "abc", "kind": "text", "body": "hello"}, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "text", "body": "x"}, "id"),
        ({"id": "a", "kind": "text", "body": ""}, "invalid_frame"),
        ({"id": "a", "kind": "image"}, "invalid_attachment"),
        ({"id": "a", "kind": "gif", "body": "x"}, "kind"),
    ],
)
def test_post_bad_message_is_400_and_stores_nothing(alice, direct, body, code):
    response = client_for(alice).post(
        f"/api/v1/conversations/{direct.pk}/messages/", body, format="json"
    )
    assert response.status_code == 400
    assert code in str(response.json())
    assert not Message.objects.exists()


def test_post_when_not_friends_is_403_not_friends(alice, bob, direct):
    Friendship.objects.all().delete()
    response = client_for(alice).post(
        f"/api/v1/conversations/{direct.pk}/messages/", {"id": "a", "body": "x"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_friends")


def test_stranger_gets_404_and_no_content(carol, bob, direct):
    fill(direct, bob, 1)
    client = client_for(carol)
    for url in (
        f"/api/v1/conversations/{direct.pk}/",
        f"/api/v1/conversations/{direct.pk}/messages/",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert "results" not in response.json()
    read = client.post(f"/api/v1/conversations/{direct.pk}/read/", {"seq": 1}, format="json")
    assert read.status_code == 404


def test_anonymous_is_refused(anon_client, direct):
    assert anon_client.get("/api/v1/conversations/").status_code in (401, 403)
    url = f"/api/v1/conversations/{direct.pk}/messages/"
    assert anon_client.get(url).status_code in (401, 403)


def test_ex_member_reads_history_up_to_leaving_only(alice, bob, trio):
    fill(trio, alice, 2, "a")
    conversation_member_remove(conversation=trio, user_id=bob.pk)
    fill(trio, alice, 2, "b")
    client = client_for(bob)
    page = client.get(f"/api/v1/conversations/{trio.pk}/messages/").json()
    assert [m["seq"] for m in page["results"]] == [1, 2]
    assert trio.pk not in [r["id"] for r in client.get("/api/v1/conversations/").json()]
    detail = client.get(f"/api/v1/conversations/{trio.pk}/").json()
    assert (detail["is_active"], detail["last_seq"]) == (False, 2)


def test_mark_read_updates_unread(alice, bob, direct):
    fill(direct, bob, 4)
    client = client_for(alice)
    response = client.post(f"/api/v1/conversations/{direct.pk}/read/", {"seq": 3}, format="json")
    assert response.json() == {"conversation": direct.pk, "last_read_seq": 3, "unread": 1}
    assert client.get("/api/v1/conversations/").json()[0]["unread"] == 1
    assert client_for(bob).get("/api/v1/conversations/").json()[0]["peer_last_read_seq"] == 3
    bad = client.post(f"/api/v1/conversations/{direct.pk}/read/", {"seq": -1}, format="json")
    assert bad.status_code == 400


def test_mute_is_per_user(alice, bob, direct):
    response = client_for(alice).post(
        f"/api/v1/conversations/{direct.pk}/mute/", {"muted": True}, format="json"
    )
    assert response.json() == {"conversation": direct.pk, "muted": True}
    assert client_for(bob).get(f"/api/v1/conversations/{direct.pk}/").json()["muted"] is False


def test_history_query_count_does_not_grow_with_page_size(
    alice, bob, direct, django_assert_max_num_queries
):
    fill(direct, bob, 60)
    client = client_for(alice)
    with django_assert_max_num_queries(6):
        client.get(f"/api/v1/conversations/{direct.pk}/messages/", {"limit": 50})
