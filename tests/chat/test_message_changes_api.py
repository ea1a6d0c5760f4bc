"""REST and socket for recall, edit, reactions, replies, mentions, forward and search."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from rest_framework.test import APIClient

from chat import search
from chat.models import Message
from chat.services.messages import message_send
from tests.chat.conftest import drain, receive_type
from tests.factories import UserFactory


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def send(user, conversation_id, body="hello", cid=None):
    cid = cid or f"{user.pk}-{Message.objects.count()}"
    return message_send(sender=user, conversation_id=conversation_id, client_id=cid, body=body)[0]


# --- REST ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_recall_over_rest_answers_the_folded_message(alice, bob, direct):
    message = send(alice, direct.pk, "oops")
    response = client_for(alice).post(f"/api/v1/messages/{message.pk}/recall/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["recalled"], body["body"]) == (message.pk, True, "")


@pytest.mark.django_db
def test_recall_over_rest_by_someone_else_is_403(alice, bob, direct):
    message = send(alice, direct.pk)
    response = client_for(bob).post(f"/api/v1/messages/{message.pk}/recall/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_recall_after_the_limit_over_rest_is_403(alice, direct, settings):
    settings.CHAT_RECALL_SECONDS = 120
    message = send(alice, direct.pk)
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(seconds=200))
    response = client_for(alice).post(f"/api/v1/messages/{message.pk}/recall/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_changes_by_anonymous_and_strangers_are_refused(alice, direct, anon_client):
    message = send(alice, direct.pk)
    for path, method in [
        (f"/api/v1/messages/{message.pk}/recall/", "post"),
        (f"/api/v1/messages/{message.pk}/", "patch"),
        (f"/api/v1/messages/{message.pk}/reactions/", "post"),
        (f"/api/v1/messages/{message.pk}/", "get"),
    ]:
        assert getattr(anon_client, method)(path, {"body": "x", "emoji": "👍"}).status_code in (
            401,
            403,
        )
        stranger = client_for(UserFactory())
        assert (
            getattr(stranger, method)(path, {"body": "x", "emoji": "👍"}, format="json").status_code
            == 404
        )


@pytest.mark.django_db
def test_edit_over_rest(alice, bob, direct):
    message = send(alice, direct.pk, "helo")
    response = client_for(alice).patch(
        f"/api/v1/messages/{message.pk}/", {"body": "hello"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["body"], response.json()["edited"]) == ("hello", True)
    refused = client_for(bob).patch(
        f"/api/v1/messages/{message.pk}/", {"body": "mine"}, format="json"
    )
    assert refused.status_code == 403


@pytest.mark.django_db
def test_reactions_over_rest(alice, bob, direct):
    message = send(alice, direct.pk)
    path = f"/api/v1/messages/{message.pk}/reactions/"
    assert client_for(bob).post(path, {"emoji": "👍"}, format="json").json()["reactions"] == [
        {"emoji": "👍", "count": 1, "users": [bob.pk]}
    ]
    again = client_for(bob).post(path, {"emoji": "👍", "on": True}, format="json")
    assert again.json()["reactions"][0]["count"] == 1
    off = client_for(bob).post(path, {"emoji": "👍"}, format="json")
    assert off.json()["reactions"] == []
    bad = client_for(bob).post(path, {"emoji": "🦄"}, format="json")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_rest_send_accepts_reply_to_and_mentions(alice, bob, carol, trio):
    original = send(bob, trio.pk, "question")
    response = client_for(alice).post(
        f"/api/v1/conversations/{trio.pk}/messages/",
        {"id": "r1", "body": "answer", "reply_to": original.pk, "mentions": [bob.pk]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["reply_to"] == original.pk
    assert body["reply"]["body"] == "question"
    assert body["mentions"] == [bob.pk]


@pytest.mark.django_db
def test_message_detail_for_a_member_and_not_for_a_stranger(alice, bob, direct):
    message = send(alice, direct.pk)
    assert client_for(bob).get(f"/api/v1/messages/{message.pk}/").json()["seq"] == 1
    assert client_for(UserFactory()).get(f"/api/v1/messages/{message.pk}/").status_code == 404


@pytest.mark.django_db
def test_history_around_a_seq(alice, bob, direct):
    for i in range(10):
        send(alice, direct.pk, f"m{i}")
    page = client_for(bob).get(
        f"/api/v1/conversations/{direct.pk}/messages/", {"around": 5, "limit": 4}
    )
    assert [m["seq"] for m in page.json()["results"]] == [3, 4, 5, 6]
    assert page.json()["has_more"] is True


@pytest.mark.django_db
def test_forward_over_rest(alice, bob, carol, direct, trio):
    message = send(bob, direct.pk, "news")
    response = client_for(alice).post(
        "/api/v1/messages/forward/",
        {"id": "fw", "conversation": trio.pk, "messages": [message.pk]},
        format="json",
    )
    assert response.status_code == 201
    (copy,) = response.json()
    assert copy["body"] == "news"
    assert copy["data"]["forwarded_from"]["id"] == message.pk


@pytest.mark.django_db
def test_conversation_object_carries_mentioned(alice, bob, carol, trio):
    rows = client_for(bob).get("/api/v1/conversations/").json()
    assert rows[0]["mentioned"] is False


@pytest.mark.django_db(transaction=True)
def test_search_over_rest(alice, bob, direct):
    send(alice, direct.pk, "the quarterly report is ready")
    send(alice, direct.pk, "季度报告已经准备好了")
    search.warm_up()
    search.wait_idle()
    found = client_for(bob).get("/api/v1/search/messages/", {"q": "report"}).json()
    assert [m["body"] for m in found["results"]] == ["the quarterly report is ready"]
    assert found["has_more"] is False
    assert {"text": "report", "hit": True} in found["results"][0]["snippet"]
    chinese = client_for(bob).get("/api/v1/search/messages/", {"q": "报告"}).json()
    assert [m["body"] for m in chinese["results"]] == ["季度报告已经准备好了"]
    assert client_for(UserFactory()).get("/api/v1/search/messages/", {"q": "report"}).json() == {
        "results": [],
        "has_more": False,
    }
    assert client_for(bob).get("/api/v1/search/messages/").status_code == 400


# --- socket ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_socket_recall_edit_react_ack_and_reach_the_peer(alice, bob, direct, connect):
    message = await sync_to_async(send)(alice, direct.pk, "helo")
    me = await connect(alice)
    peer = await connect(bob)
    await drain(peer)
    await me.send_json_to({"type": "edit", "id": "e1", "message": message.pk, "body": "hello"})
    ack = await receive_type(me, "ack")
    assert ack["id"] == "e1"
    assert (ack["message"]["kind"], ack["message"]["target"]) == ("edit", message.pk)
    assert (ack["target"]["body"], ack["target"]["edited"]) == ("hello", True)
    seen = await receive_type(peer, "message")
    assert (seen["message"]["kind"], seen["message"]["body"], seen["message"]["seq"]) == (
        "edit",
        "hello",
        2,
    )
    await peer.send_json_to({"type": "react", "id": "r1", "message": message.pk, "emoji": "👍"})
    ack = await receive_type(peer, "ack")
    assert ack["target"]["reactions"] == [{"emoji": "👍", "count": 1, "users": [bob.pk]}]
    seen = await receive_type(me, "message")
    assert seen["message"]["data"] == {"emoji": "👍", "on": True}
    await me.send_json_to({"type": "recall", "id": "x1", "message": message.pk})
    ack = await receive_type(me, "ack")
    assert ack["target"]["recalled"] is True
    seen = await receive_type(peer, "message")
    assert (seen["message"]["kind"], seen["message"]["seq"]) == ("recall", 4)
    await me.send_json_to({"type": "recall", "id": "x2", "message": message.pk})
    again = await receive_type(me, "ack")
    assert again["message"] is None


@pytest.mark.django_db(transaction=True)
async def test_socket_change_refusals_are_error_frames(alice, bob, direct, connect):
    message = await sync_to_async(send)(alice, direct.pk, "mine")
    peer = await connect(bob)
    await peer.send_json_to({"type": "recall", "id": "x", "message": message.pk})
    error = await receive_type(peer, "error")
    assert (error["code"], error["ref"]) == ("permission_denied", "x")
    await peer.send_json_to({"type": "edit", "id": "y", "message": message.pk, "body": "z"})
    assert (await receive_type(peer, "error"))["code"] == "permission_denied"
    await peer.send_json_to({"type": "react", "id": "w", "message": "nope", "emoji": "👍"})
    assert (await receive_type(peer, "error"))["code"] == "invalid_frame"
    await peer.send_json_to({"type": "react", "message": message.pk, "emoji": "👍"})
    assert (await receive_type(peer, "error"))["code"] == "invalid_frame"


@pytest.mark.django_db(transaction=True)
async def test_socket_send_with_reply_to(alice, bob, direct, connect):
    original = await sync_to_async(send)(bob, direct.pk, "ping")
    me = await connect(alice)
    await me.send_json_to(
        {
            "type": "send",
            "id": "s1",
            "conversation": direct.pk,
            "body": "pong",
            "reply_to": original.pk,
        }
    )
    ack = await receive_type(me, "ack")
    assert ack["message"]["reply_to"] == original.pk
    assert ack["message"]["reply"]["body"] == "ping"
