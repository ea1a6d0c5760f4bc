"""Hostile frames: whatever a client sends gets an error from the contract or a clean close,
never 1011; the write worker survives; clean-up runs however the socket ends."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from chat import writer
from chat.models import Message
from happychat import events
from tests.chat.conftest import drain, receive_type

pytestmark = pytest.mark.django_db(transaction=True)

CONTRACT_ERRORS = {
    "invalid_frame",
    "too_large",
    "unknown_type",
    "not_member",
    "not_friends",
    "not_found",
    "rate_limited",
    "content_blocked",
    "invalid_attachment",
    "unauthenticated",
    "conflict",
    "busy",
}
BIG = 2**63


def send(client_id, conversation, body="hello", **extra):
    return {
        "type": "send",
        "id": client_id,
        "conversation": conversation,
        "kind": "text",
        "body": body,
        **extra,
    }


async def assert_alive(ws, conversation, client_id="alive"):
    """A valid send on the same socket still gets its ack (the write worker lives)."""
    await ws.send_json_to(send(client_id, conversation))
    ack = await receive_type(ws, "ack")
    assert ack["id"] == client_id


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("[" * 100_000 + "]" * 100_000, "too_large"),
        ("[" * 30_000 + "]" * 30_000, "invalid_frame"),  # RecursionError in the parser
        ('{"type": "send", "a": ' + "[" * 20_000 + "]" * 20_000 + "}", "invalid_frame"),
        ('{"type": "read", "id": "\\ud800", "conversation": 1, "seq": 1}', "invalid_frame"),
        ('{"type": "send", "id": "w\\ud800", "conversation": 1, "body": "x"}', "invalid_frame"),
        ('{"type": "send", "id": "a", "conversation": 1, "body": "\\udfff"}', "invalid_frame"),
        ('{"type": "send", "id": "a", "conversation": 1, "body": "nul\\u0000"}', "invalid_frame"),
        ('{"type": "\\ud800"}', "invalid_frame"),
        ('{"\\ud800": 1, "type": "ping"}', "invalid_frame"),
        ('{"type": "sync", "cursors": {"1": 1}, "x": ["\\udc00"]}', "invalid_frame"),
        (
            '{"type": "send", "id": "a", "conversation": 9223372036854775808, "body": "x"}',
            "not_found",
        ),
        ('{"type": "send", "id": "a", "conversation": -1, "body": "x"}', "not_found"),
        ('{"type": "send", "id": "a", "conversation": 0, "body": "x"}', "not_found"),
        ('{"type": "send", "id": "a", "conversation": 1.0, "body": "x"}', "invalid_frame"),
        ('{"type": "send", "id": "a", "conversation": 1e400, "body": "x"}', "invalid_frame"),
        ('{"type": "send", "id": "a", "conversation": NaN, "body": "x"}', "invalid_frame"),
        ('{"type": "send", "id": "a", "conversation": "1", "body": "x"}', "invalid_frame"),
        ('{"type": "send", "id": 7, "conversation": 1, "body": "x"}', "invalid_frame"),
        ('{"type": "send", "id": "", "conversation": 1, "body": "x"}', "invalid_frame"),
        ('{"type": "send", "id": ["a"], "conversation": 1, "body": "x"}', "invalid_frame"),
        ('{"type": "read", "conversation": 1, "seq": 9223372036854775808}', "invalid_frame"),
        ('{"type": "read", "conversation": 99999999999999999999999, "seq": 1}', "not_found"),
        ('{"type": "read", "conversation": true, "seq": 1}', "invalid_frame"),
        ('{"type": "typing", "conversation": 9223372036854775808}', "not_found"),
        ('{"type": "sync", "cursors": {"1": 9223372036854775808}}', "invalid_frame"),
        ('{"type": "sync", "cursors": {"²": 1}}', "invalid_frame"),
        ('{"type": "sync", "cursors": {"1": 1.5}}', "invalid_frame"),
        ('{"type": "sync", "cursors": {}, "limit": 1e9}', "invalid_frame"),
        ('{"type": "sync", "cursors": "all"}', "invalid_frame"),
        ('{"type": 1}', "invalid_frame"),
        ('{"type": null}', "invalid_frame"),
        ('"send"', "invalid_frame"),
        ("1" * 5000, "invalid_frame"),  # past Python's int-digits limit
        ("", "invalid_frame"),
        ('{"type": "' + "x" * 1000 + '"}', "unknown_type"),
    ],
)
async def test_malformed_frame_is_answered_and_the_socket_keeps_working(
    alice, bob, direct, connect, raw, code
):
    ws = await connect(alice)
    text = raw.replace('"conversation": 1,', f'"conversation": {direct.pk},')
    await ws.send_input({"type": "websocket.receive", "text": text})
    error = await receive_type(ws, "error")
    assert error["code"] == code
    await assert_alive(ws, direct.pk)


async def test_send_with_out_of_range_attachment_is_invalid_attachment(alice, direct, connect):
    ws = await connect(alice)
    for attachment in (BIG, 0, -5):
        frame = send(f"img-{attachment}", direct.pk, kind="image", attachment=attachment)
        await ws.send_json_to(frame)
        error = await receive_type(ws, "error")
        assert (error["code"], error["ref"]) == ("invalid_attachment", f"img-{attachment}")
    await assert_alive(ws, direct.pk)


async def test_binary_frames_are_read_as_utf8_text_or_refused(alice, direct, connect):
    ws = await connect(alice)
    await ws.send_to(bytes_data=json.dumps({"type": "ping"}).encode())
    assert (await receive_type(ws, "pong"))["type"] == "pong"
    await ws.send_to(bytes_data=b'{"type": "ping", "x": "\xff\xfe"}')
    assert (await receive_type(ws, "error"))["code"] == "invalid_frame"
    await assert_alive(ws, direct.pk)


async def test_raw_lone_surrogate_in_text_is_refused(alice, direct, connect):
    # Only an in-process client can hand us such a str; daphne only passes valid UTF-8.
    ws = await connect(alice)
    await ws.send_to(text_data='{"type": "send", "id": "w\ud800", "conversation": 1}')
    assert (await receive_type(ws, "error"))["code"] == "invalid_frame"
    await assert_alive(ws, direct.pk)


async def test_a_send_the_old_worker_died_on_leaves_later_sends_acked(alice, direct, connect):
    ws = await connect(alice)
    await ws.send_to(text_data=json.dumps(send("w\ud800", direct.pk), ensure_ascii=True))
    assert (await receive_type(ws, "error"))["code"] == "invalid_frame"
    for n in range(3):
        await assert_alive(ws, direct.pk, f"after-{n}")
    assert await sync_to_async(Message.objects.count)() == 3


async def test_an_unexpected_error_in_a_write_is_busy_and_the_worker_lives_on(
    alice, direct, connect, monkeypatch
):
    import chat.consumers

    real = chat.consumers.message_send
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(chat.consumers, "message_send", flaky)
    ws = await connect(alice)
    await ws.send_json_to(send("m1", direct.pk))
    error = await receive_type(ws, "error")
    assert (error["code"], error["ref"], error["retryable"]) == ("busy", "m1", True)
    await ws.send_json_to(send("m1", direct.pk))  # the retry, same id
    assert (await receive_type(ws, "ack"))["message"]["seq"] == 1


async def test_an_unexpected_error_in_a_handler_is_busy_and_the_socket_stays_open(
    alice, direct, connect, monkeypatch
):
    import chat.consumers

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(chat.consumers.selectors, "sync_batch", broken)
    ws = await connect(alice)
    await ws.send_json_to({"type": "sync", "cursors": {}})
    error = await receive_type(ws, "error")
    assert (error["code"], error["retryable"]) == ("busy", True)
    await assert_alive(ws, direct.pk)


async def test_a_failing_event_handler_does_not_end_the_socket(alice, bob, direct, connect):
    ws = await connect(alice)
    layer = get_channel_layer()
    # A malformed event (no "frame") reaching the socket's group.
    await layer.group_send(events.user_group(alice.pk), {"type": "chat.event"})
    await layer.group_send(events.user_group(alice.pk), {"type": "chat.unknown_thing"})
    await assert_alive(ws, direct.pk)


async def test_cleanup_runs_when_the_consumer_is_cancelled_without_disconnect(
    alice, bob, direct, connect
):
    from channels.testing import WebsocketCommunicator
    from knox.models import AuthToken

    from happychat.asgi import application

    peer = await connect(bob)
    _, token = await sync_to_async(AuthToken.objects.create)(alice)
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {token}".encode())]
    )
    await ws.connect()
    await receive_type(ws, "hello")
    assert (await receive_type(peer, "presence"))["online"] is True
    layer = get_channel_layer()
    group = events.conversation_group(direct.pk)
    assert len(layer.groups[group]) == 2
    # What daphne does at shutdown, or to an application that ignores the disconnect.
    ws.future.cancel()
    offline = await receive_type(peer, "presence")
    assert (offline["user"], offline["online"]) == (alice.pk, False)
    assert len(layer.groups[group]) == 1
    assert not layer.groups.get(events.user_group(alice.pk))
    with pytest.raises(asyncio.CancelledError):
        await ws.future


async def test_garbage_then_valid_sends_before_the_limit_keep_the_socket(alice, direct, connect):
    ws = await connect(alice)
    for _ in range(10):
        await ws.send_to(text_data="garbage")
    assert [f["code"] for f in await drain(ws)] == ["invalid_frame"] * 10
    await assert_alive(ws, direct.pk)


async def test_a_send_flood_past_rate_limited_is_closed_with_4029(
    alice, direct, connect, settings, monkeypatch
):
    import chat.consumers

    settings.CHAT_SEND_RATE = 1
    settings.CHAT_SEND_BURST = 2
    monkeypatch.setattr(chat.consumers, "MAX_REFUSED_SENDS", 30)
    ws = await connect(alice)
    for n in range(40):
        await ws.send_json_to(send(f"f{n}", direct.pk))
    codes = []
    while True:
        out = await ws.receive_output(timeout=5)
        if out["type"] == "websocket.close":
            break
        codes.append(json.loads(out["text"]).get("code"))
    assert out["code"] == 4029
    assert codes.count("rate_limited") == 30


async def test_after_a_4029_the_same_user_is_closed_at_once_for_the_cool_down(
    alice, bob, direct, connect, settings, monkeypatch
):
    import chat.consumers

    settings.CHAT_ABUSE_COOLDOWN_SECONDS = 0.5
    monkeypatch.setattr(chat.consumers, "MAX_REFUSED_SENDS", 5)
    settings.CHAT_SEND_BURST = 1
    ws = await connect(alice)
    for n in range(10):
        await ws.send_json_to(send(f"f{n}", direct.pk))
    while (out := await ws.receive_output(timeout=5))["type"] != "websocket.close":
        pass
    assert out["code"] == 4029
    # Reconnecting at once: closed before anything is set up (no hello, not online).
    again = await connect(alice, hello=False)
    out = await again.receive_output(timeout=5)
    assert (out["type"], out.get("code")) == ("websocket.close", 4029)
    # Someone else is not affected, and after the cool-down alice is welcome again.
    await assert_alive(await connect(bob), direct.pk, "bob-ok")
    await asyncio.sleep(0.6)
    await assert_alive(await connect(alice), direct.pk, "alice-back")


async def test_syncs_over_the_rate_are_answered_late_not_refused(alice, direct, connect, settings):
    settings.CHAT_SYNC_RATE = 20
    settings.CHAT_SYNC_BURST = 2
    ws = await connect(alice)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(6):  # one at a time, waiting for each answer, as clients do
        await ws.send_json_to({"type": "sync", "cursors": {}})
        await receive_type(ws, "synced")
    # 2 at once, then 4 more at 20/s.
    assert loop.time() - started >= 0.15
    assert [f for f in await drain(ws) if f["type"] == "error"] == []


async def test_a_sync_is_counted_in_pages_of_the_default_size(
    alice, bob, direct, connect, settings
):
    from chat.services.messages import message_send

    settings.CHAT_SYNC_RATE = 10
    settings.CHAT_SYNC_BURST = 1
    settings.CHAT_SYNC_DEFAULT_LIMIT = 10
    for n in range(40):
        await sync_to_async(message_send)(
            sender=bob, conversation_id=direct.pk, client_id=f"b{n}", body=f"m{n}"
        )
    ws = await connect(alice)
    loop = asyncio.get_running_loop()

    async def sync(limit: int) -> tuple[float, int]:
        started = loop.time()
        await ws.send_json_to({"type": "sync", "cursors": {str(direct.pk): 0}, "limit": limit})
        got = 0
        while True:
            frame = await ws.receive_json_from(timeout=5)
            if frame["type"] == "synced":
                return loop.time() - started, got
            got += frame["type"] == "message"

    # One page of the default size costs one token; the next sync waits a tenth of a second.
    assert (await sync(10))[1] == 10
    assert (await sync(10))[0] >= 0.08
    # Forty messages cost four: the sync after them waits about 0.4 s, not 0.1 s.
    assert (await sync(40))[1] == 40
    waited, got = await sync(10)
    assert got == 10
    assert waited >= 0.3


async def test_a_pipelined_sync_flood_is_closed_with_4029(alice, direct, connect, settings):
    settings.CHAT_SYNC_RATE = 50
    settings.CHAT_SYNC_BURST = 5
    ws = await connect(alice)
    for _ in range(200):
        await ws.send_json_to({"type": "sync", "cursors": {}})
    synced = 0
    while True:
        out = await ws.receive_output(timeout=10)
        if out["type"] == "websocket.close":
            break
        frame = json.loads(out["text"])
        assert frame["type"] != "error", frame
        synced += frame["type"] == "synced"
    assert out["code"] == 4029
    assert synced < 60  # the burst, then about 20 late ones


async def test_reads_over_the_rate_are_merged_and_stored(alice, bob, direct, connect, settings):
    from chat.models import ConversationMember
    from chat.services.messages import message_send

    settings.CHAT_READ_RATE = 20
    settings.CHAT_READ_BURST = 1
    for n in range(30):
        await sync_to_async(message_send)(
            sender=bob, conversation_id=direct.pk, client_id=f"b{n}", body="x"
        )
    ws, peer = await connect(alice), await connect(bob)
    for seq in range(1, 31):
        await ws.send_json_to({"type": "read", "conversation": direct.pk, "seq": seq})
    reads = []
    while not reads or reads[-1] < 30:
        reads.append((await receive_type(peer, "read"))["seq"])
    assert (reads[0], reads[-1]) == (1, 30)
    assert len(reads) < 5
    member = await sync_to_async(ConversationMember.objects.get)(conversation=direct, user=alice)
    assert member.last_read_seq == 30
    assert [f for f in await drain(ws) if f["type"] == "error"] == []


async def test_writes_past_the_process_bound_are_busy_and_retryable(
    alice, direct, connect, settings, monkeypatch
):
    settings.CHAT_MAX_PENDING_WRITES = 5
    monkeypatch.setattr(writer, "_reserved", 5)  # five writes from other sockets wait
    ws = await connect(alice)
    await ws.send_json_to(send("m1", direct.pk))
    error = await receive_type(ws, "error")
    assert (error["code"], error["ref"], error["retryable"]) == ("busy", "m1", True)
    monkeypatch.setattr(writer, "_reserved", 0)
    await assert_alive(ws, direct.pk)
    assert writer.pending() == 0


async def test_cursors_no_conversation_can_have_are_ignored(alice, bob, direct, connect):
    ws = await connect(alice)
    cursors = {"0": 5, str(BIG): 1, "1" * 30: 2, str(direct.pk): 0}
    await ws.send_json_to({"type": "sync", "cursors": cursors})
    synced = await receive_type(ws, "synced")
    assert synced["cursors"] == {str(direct.pk): 0}
