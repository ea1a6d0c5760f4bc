"""The /ws/chat/ consumer through WebsocketCommunicator: every frame and error code."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts.models import Friendship
from chat.models import Message
from chat.services import conversation_group_create, conversation_member_remove
from chat.services.messages import message_send
from happychat import events
from happychat.asgi import application
from tests.chat.conftest import drain, receive_type

pytestmark = pytest.mark.django_db(transaction=True)


async def test_token_header_gets_hello_with_user_and_heartbeat(alice, connect):
    ws = await connect(alice, hello=False)
    hello = await ws.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    assert hello["user"]["username"] == "alice"
    assert hello["heartbeat"] == 25
    assert "server_time" in hello


async def test_hello_tells_the_limits_a_client_ui_needs(alice, connect, settings):
    settings.CHAT_RECALL_SECONDS = 90
    settings.CHAT_EDIT_SECONDS = 600
    settings.CHAT_FILE_MAX_BYTES = 1234
    ws = await connect(alice, hello=False)
    hello = await ws.receive_json_from(timeout=5)
    assert hello["limits"] == {
        "recall_seconds": 90,
        "edit_seconds": 600,
        "text_max_chars": 5000,
        "image_max_bytes": 10 * 1024 * 1024,
        "file_max_bytes": 1234,
        "forward_max": 50,
        "reactions": ["👍", "❤️", "😂", "😮", "😢", "🙏"],
    }


async def test_bad_token_is_closed_with_4001(db):
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", b"Token nope")]
    )
    await ws.connect()
    assert (await ws.receive_output(timeout=5))["code"] == 4001
    await ws.disconnect()


async def test_first_frame_auth(alice):
    from knox.models import AuthToken

    _, token = await sync_to_async(AuthToken.objects.create)(alice)
    ws = WebsocketCommunicator(application, "/ws/chat/")
    await ws.connect()
    await ws.send_json_to({"type": "auth", "token": token})
    assert (await receive_type(ws, "hello"))["user"]["id"] == alice.pk
    await ws.disconnect()


async def test_frames_before_auth_are_refused_and_silence_closes_4001(db, settings):
    settings.CHAT_AUTH_TIMEOUT_SECONDS = 0.3
    ws = WebsocketCommunicator(application, "/ws/chat/")
    await ws.connect()
    await ws.send_json_to({"type": "sync", "cursors": {}})
    assert (await ws.receive_json_from(timeout=2))["code"] == "unauthenticated"
    assert (await ws.receive_output(timeout=2))["code"] == 4001
    await ws.disconnect()


async def _session_socket(user, origin: bytes | None) -> WebsocketCommunicator:
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"cookie", cookie), (b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    ws = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    await ws.connect()
    return ws


async def test_session_cookie_from_our_origin_is_accepted(alice, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    ws = await _session_socket(alice, b"http://testserver")
    assert (await receive_type(ws, "hello"))["user"]["id"] == alice.pk
    await ws.disconnect()


async def test_session_cookie_from_a_foreign_origin_is_not_trusted(alice, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.CHAT_AUTH_TIMEOUT_SECONDS = 0.3
    ws = await _session_socket(alice, b"https://evil.example")
    assert (await ws.receive_output(timeout=2))["code"] == 4001
    await ws.disconnect()


async def test_ping_gets_pong(alice, connect):
    ws = await connect(alice)
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from())["type"] == "pong"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_frame"),
        ("[1, 2]", "invalid_frame"),
        ('{"no": "type"}', "invalid_frame"),
        ('{"type": "launch_missiles"}', "unknown_type"),
        ('{"type": "send", "conversation": 1, "body": "x"}', "invalid_frame"),
        ('{"type": "send", "id": "a", "body": "x"}', "invalid_frame"),
        ('{"type": "read", "conversation": "x", "seq": 1}', "invalid_frame"),
        ('{"type": "sync", "cursors": [1]}', "invalid_frame"),
        ('{"type": "sync", "cursors": {"a": 1}}', "invalid_frame"),
        ('{"type": "typing"}', "invalid_frame"),
        ('{"type": "send", "id": "a", "conversation": 99999, "body": "x"}', "not_found"),
        ('{"type": "typing", "conversation": 99999}', "not_member"),
    ],
)
async def test_bad_frames_get_error_and_socket_stays_open(alice, connect, raw, code):
    ws = await connect(alice)
    await ws.send_to(text_data=raw)
    error = await ws.receive_json_from()
    assert (error["type"], error["code"]) == ("error", code)
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from())["type"] == "pong"


async def test_frame_over_64_kib_is_too_large(alice, direct, connect):
    ws = await connect(alice)
    body = "x" * (64 * 1024)
    await ws.send_json_to({"type": "send", "id": "big", "conversation": direct.pk, "body": body})
    assert (await ws.receive_json_from())["code"] == "too_large"
    assert await sync_to_async(Message.objects.count)() == 0


async def test_garbage_flood_closes_with_4029(alice, connect):
    ws = await connect(alice)
    for _ in range(25):
        await ws.send_to(text_data="garbage")
    codes = []
    while True:
        out = await ws.receive_output(timeout=2)
        if out["type"] == "websocket.close":
            codes.append(out["code"])
            break
    assert codes == [4029]


async def test_send_acks_sender_and_delivers_to_peer_and_own_other_device(
    alice, bob, direct, connect
):
    phone, laptop, peer = await connect(alice), await connect(alice), await connect(bob)
    await drain(peer)
    await phone.send_json_to(
        {"type": "send", "id": "m1", "conversation": direct.pk, "kind": "text", "body": "hi 😀"}
    )
    ack = await receive_type(phone, "ack")
    assert ack["id"] == "m1"
    assert (ack["message"]["seq"], ack["message"]["body"]) == (1, "hi 😀")
    for other in (laptop, peer):
        frame = await receive_type(other, "message")
        assert frame["message"] == ack["message"]
    # The sending socket gets its ack, not a second copy.
    assert [f for f in await drain(phone) if f["type"] == "message"] == []


async def test_retried_send_gets_the_same_ack_and_peer_gets_one_message(
    alice, bob, direct, connect
):
    ws, peer = await connect(alice), await connect(bob)
    frame = {"type": "send", "id": "retry-me", "conversation": direct.pk, "body": "once"}
    await ws.send_json_to(frame)
    first = await receive_type(ws, "ack")
    await ws.send_json_to(frame)
    second = await receive_type(ws, "ack")
    assert first == second
    received = [f for f in await drain(peer, 0.5) if f["type"] == "message"]
    assert len(received) == 1
    assert await sync_to_async(Message.objects.count)() == 1


async def test_not_friends_error_refers_to_the_client_id(alice, bob, direct, connect):
    await sync_to_async(Friendship.objects.filter(user=alice).delete)()
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "id": "m1", "conversation": direct.pk, "body": "x"})
    error = await ws.receive_json_from()
    assert (error["code"], error["ref"]) == ("not_friends", "m1")


async def test_sync_returns_exactly_the_missing_messages_then_synced(alice, bob, direct, connect):
    for i in range(5):
        await sync_to_async(message_send)(
            sender=bob, conversation_id=direct.pk, client_id=f"b{i}", body=f"m{i}"
        )
    ws = await connect(alice)
    await ws.send_json_to({"type": "sync", "cursors": {str(direct.pk): 2}})
    seqs = []
    while (frame := await ws.receive_json_from())["type"] == "message":
        seqs.append(frame["message"]["seq"])
    assert seqs == [3, 4, 5]
    assert frame == {"type": "synced", "cursors": {str(direct.pk): 5}, "has_more": []}


async def test_sync_long_gap_says_has_more_and_continues(alice, bob, direct, connect):
    for i in range(7):
        await sync_to_async(message_send)(
            sender=bob, conversation_id=direct.pk, client_id=f"b{i}", body="m"
        )
    ws = await connect(alice)
    cursor, seen = 0, []
    while True:
        await ws.send_json_to({"type": "sync", "cursors": {str(direct.pk): cursor}, "limit": 3})
        while (frame := await ws.receive_json_from())["type"] == "message":
            seen.append(frame["message"]["seq"])
        cursor = seen[-1]
        if direct.pk not in frame["has_more"]:
            break
    assert seen == [1, 2, 3, 4, 5, 6, 7]


async def test_sync_without_cursor_sends_newest_and_flags_older(alice, bob, direct, connect):
    for i in range(4):
        await sync_to_async(message_send)(
            sender=bob, conversation_id=direct.pk, client_id=f"b{i}", body="m"
        )
    ws = await connect(alice)
    await ws.send_json_to({"type": "sync", "cursors": {}, "limit": 2})
    seqs = []
    while (frame := await ws.receive_json_from())["type"] == "message":
        seqs.append(frame["message"]["seq"])
    assert seqs == [3, 4]
    assert frame["has_more"] == [direct.pk]


async def test_read_goes_to_peer_and_own_other_devices_not_back(alice, bob, direct, connect):
    await sync_to_async(message_send)(
        sender=bob, conversation_id=direct.pk, client_id="1", body="x"
    )
    phone, laptop, peer = await connect(alice), await connect(alice), await connect(bob)
    await phone.send_json_to({"type": "read", "conversation": direct.pk, "seq": 1})
    expected = {"type": "read", "conversation": direct.pk, "user": alice.pk, "seq": 1}
    assert await receive_type(peer, "read") == expected
    assert await receive_type(laptop, "read") == expected
    assert [f for f in await drain(phone) if f["type"] == "read"] == []


async def test_typing_reaches_others_once_per_interval(alice, bob, direct, connect):
    ws, peer = await connect(alice), await connect(bob)
    await ws.send_json_to({"type": "typing", "conversation": direct.pk})
    await ws.send_json_to({"type": "typing", "conversation": direct.pk})
    frames = [f for f in await drain(peer, 0.4) if f["type"] == "typing"]
    assert frames == [{"type": "typing", "conversation": direct.pk, "user": alice.pk}]
    assert [f for f in await drain(ws) if f["type"] == "typing"] == []


async def test_presence_counts_devices(alice, bob, direct, connect):
    peer = await connect(bob)
    phone = await connect(alice)
    assert await receive_type(peer, "presence") == {
        "type": "presence",
        "user": alice.pk,
        "online": True,
    }
    laptop = await connect(alice)
    await phone.disconnect()
    assert [f for f in await drain(peer, 0.3) if f["type"] == "presence"] == []
    await laptop.disconnect()
    assert await receive_type(peer, "presence") == {
        "type": "presence",
        "user": alice.pk,
        "online": False,
    }


async def test_new_socket_learns_which_peers_are_online(alice, bob, direct, connect):
    await connect(bob)
    ws = await connect(alice, hello=False)
    await receive_type(ws, "hello")
    assert await receive_type(ws, "presence") == {
        "type": "presence",
        "user": bob.pk,
        "online": True,
    }


async def test_event_with_subscribe_makes_live_socket_follow_new_conversation(
    alice, bob, carol, connect
):
    ws = await connect(alice)

    def create_group():
        conv = conversation_group_create(user_ids=[alice.pk, bob.pk])
        events.user_event(
            [alice.pk, bob.pk], "conversation_created", {"id": conv.pk}, subscribe=conv.pk
        )
        return conv

    conv = await sync_to_async(create_group)()
    event = await receive_type(ws, "event")
    assert event == {"type": "event", "event": "conversation_created", "data": {"id": conv.pk}}
    await sync_to_async(message_send)(sender=bob, conversation_id=conv.pk, client_id="1", body="yo")
    assert (await receive_type(ws, "message"))["message"]["body"] == "yo"


async def test_removed_member_stops_receiving_at_once(alice, bob, trio, connect):
    ws = await connect(bob)

    def remove():
        conversation_member_remove(conversation=trio, user_id=bob.pk)
        events.user_event([bob.pk], "group_left", {"conversation": trio.pk}, unsubscribe=trio.pk)

    await sync_to_async(remove)()
    await receive_type(ws, "event")
    await sync_to_async(message_send)(
        sender=alice, conversation_id=trio.pk, client_id="1", body="x"
    )
    assert [f for f in await drain(ws, 0.3) if f["type"] == "message"] == []


async def test_silent_socket_is_closed_after_two_and_a_half_heartbeats(alice, connect, settings):
    settings.CHAT_HEARTBEAT_SECONDS = 0.2
    ws = await connect(alice)
    assert (await ws.receive_output(timeout=3))["code"] == 4008


async def test_flooding_sender_is_rate_limited(alice, bob, direct, connect, settings):
    settings.CHAT_SEND_RATE = 1
    settings.CHAT_SEND_BURST = 3
    ws = await connect(alice)
    for i in range(5):
        await ws.send_json_to(
            {"type": "send", "id": f"m{i}", "conversation": direct.pk, "body": "x"}
        )
    frames = [await ws.receive_json_from() for _ in range(5)]
    assert [f["type"] for f in frames].count("ack") == 3
    limited = [f for f in frames if f["type"] == "error"]
    assert {f["code"] for f in limited} == {"rate_limited"}
    assert {f["ref"] for f in limited} == {"m3", "m4"}


async def test_revoked_token_socket_is_closed(alice, connect):
    from knox.models import AuthToken

    _, token = await sync_to_async(AuthToken.objects.create)(alice)
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {token}".encode())]
    )
    await ws.connect()
    await receive_type(ws, "hello")
    key = token[:15]

    def revoke():
        events.sessions_revoked(user_id=alice.pk, token_key=key)

    await sync_to_async(revoke)()
    out = await ws.receive_output(timeout=2)
    while out["type"] != "websocket.close":
        out = await ws.receive_output(timeout=2)
    assert out["code"] == 4003
    await ws.disconnect()


def test_frames_are_encoded_compactly():
    assert events.encode({"a": "你好"}) == json.dumps(
        {"a": "你好"}, ensure_ascii=False, separators=(",", ":")
    )


async def test_heartbeat_renews_lost_channel_layer_memberships(
    alice, bob, direct, connect, monkeypatch
):
    from channels.layers import get_channel_layer

    import chat.consumers

    peer = await connect(bob)
    layer = get_channel_layer()
    # What a Redis restart does to every membership.
    layer.groups.clear()
    await sync_to_async(message_send)(
        sender=alice, conversation_id=direct.pk, client_id="1", body="a"
    )
    assert [f for f in await drain(peer, 0.3) if f["type"] == "message"] == []
    monkeypatch.setattr(chat.consumers, "RESUBSCRIBE_SECONDS", 0.0)
    await peer.send_json_to({"type": "ping"})
    await receive_type(peer, "pong")
    await sync_to_async(message_send)(
        sender=alice, conversation_id=direct.pk, client_id="2", body="b"
    )
    assert (await receive_type(peer, "message"))["message"]["seq"] == 2


async def test_locked_storage_answers_busy_retryable_and_stores_nothing(
    alice, bob, direct, connect, monkeypatch
):
    from django.db import OperationalError

    import chat.services.messages

    def locked(**kwargs):  # the storing steps, failing at their first
        raise OperationalError("database is locked")
        yield

    monkeypatch.setattr(chat.services.messages, "_store_steps", locked)
    ws = await connect(alice)
    await ws.send_json_to({"type": "send", "id": "m1", "conversation": direct.pk, "body": "x"})
    error = await receive_type(ws, "error")
    assert error["code"] == "busy"
    assert error["ref"] == "m1"
    assert error["retryable"] is True
    assert await sync_to_async(Message.objects.count)() == 0


async def test_blocked_word_is_refused_on_the_socket(alice, bob, direct, connect):
    from safety.services import sensitive_word_save

    await sync_to_async(sensitive_word_save)(word="forbidden", action="reject")
    ws, peer = await connect(alice), await connect(bob)
    frame = {"type": "send", "id": "m1", "conversation": direct.pk, "body": "f o r b i d d e n"}
    await ws.send_json_to(frame)
    error = await receive_type(ws, "error")
    assert (error["code"], error["ref"]) == ("content_blocked", "m1")
    assert [f for f in await drain(peer, 0.3) if f["type"] == "message"] == []
    assert await sync_to_async(Message.objects.count)() == 0
