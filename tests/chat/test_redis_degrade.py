"""Redis-backed extras degrade when Redis does not answer (nothing listens on the port):
fast, without raising, logged once. The outage with real servers: tests/system."""

import logging
import time

import pytest

from chat.presence import RedisPresence
from chat.redis_layer import ResilientRedisPubSubChannelLayer
from happychat.cache import ResilientRedisCache
from tests.servers import free_port


@pytest.fixture
def dead_redis() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def outage_logs(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "happychat.redis"]


async def test_presence_without_redis_answers_at_once_and_logs_once(dead_redis, caplog):
    caplog.set_level(logging.WARNING, "happychat.redis")
    store = RedisPresence(dead_redis, ttl=60)
    started = time.monotonic()
    assert await store.add(1, "socket-a") is None  # unknown: the socket tries again later
    await store.touch(1, "socket-a")
    assert await store.remove(1, "socket-a") is False
    assert await store.online([1, 2]) == set()
    assert store.online_sync([1, 2]) == set()
    assert time.monotonic() - started < 1.0
    logs = outage_logs(caplog)
    assert len(logs) == 1
    assert logs[0].startswith("presence: Redis unavailable")


async def test_the_channel_layer_without_redis_never_raises(dead_redis, caplog):
    caplog.set_level(logging.WARNING, "happychat.redis")
    layer = ResilientRedisPubSubChannelLayer(hosts=[dead_redis])
    channel = await layer.new_channel()
    await layer.group_add("conv.1", channel)
    for _ in range(50):
        await layer.group_send("conv.1", {"type": "chat.message", "frame": "{}"})
    await layer.group_discard("conv.1", channel)
    loop_layer = layer._get_layer()
    assert loop_layer.dropped == 50
    assert not loop_layer.health.available
    assert len(outage_logs(caplog)) == 1
    loop_layer._healer.cancel()
    await layer.flush()


def test_the_cache_without_redis_counts_in_this_process(dead_redis, caplog):
    caplog.set_level(logging.WARNING, "happychat.redis")
    cache = ResilientRedisCache(dead_redis, {})
    started = time.monotonic()
    cache.set("throttle", [1.0, 2.0], 60)
    assert cache.get("throttle") == [1.0, 2.0]
    assert cache.add("once", 1) is True
    assert cache.add("once", 2) is False
    assert cache.incr("once") == 2
    cache.delete("once")
    assert cache.get("once", "gone") == "gone"
    assert time.monotonic() - started < 1.0
    assert len(outage_logs(caplog)) == 1


def test_the_cache_goes_back_to_redis_when_it_answers(dead_redis, monkeypatch):
    cache = ResilientRedisCache(dead_redis, {})
    cache.set("k", "local")
    answers = {"k": "shared"}
    monkeypatch.setattr(
        "django.core.cache.backends.redis.RedisCache.get",
        lambda self, key, default=None, version=None: answers.get(key, default),
    )
    cache.health.retry_at = 0  # a second has passed
    assert cache.get("k") == "shared"
    assert cache.health.available


@pytest.mark.django_db(transaction=True)
async def test_a_socket_whose_presence_failed_registers_on_a_later_heartbeat(
    alice, bob, direct, connect, monkeypatch
):
    import chat.consumers
    from chat import presence
    from tests.chat.conftest import drain, receive_type

    store = presence.store()
    real_add = store.add
    answers: list[bool | None] = []

    async def add(user_id, socket_id):
        if answers:
            return answers.pop()
        return await real_add(user_id, socket_id)

    monkeypatch.setattr(store, "add", add)
    monkeypatch.setattr(chat.consumers, "PRESENCE_TOUCH_SECONDS", 0.0)
    peer = await connect(bob)
    answers.append(None)  # alice's socket finds Redis away
    ws = await connect(alice)
    assert [f for f in await drain(peer, 0.3) if f["type"] == "presence"] == []
    await ws.send_json_to({"type": "ping"})
    await receive_type(ws, "pong")
    assert await receive_type(peer, "presence") == {
        "type": "presence",
        "user": alice.pk,
        "online": True,
    }


async def _resync(user) -> None:
    from channels.layers import get_channel_layer

    from happychat import events

    # What the Redis layer hands every socket of its process once Redis is back.
    await get_channel_layer().group_send(events.user_group(user.pk), {"type": "chat.resync"})


@pytest.mark.django_db(transaction=True)
async def test_after_an_outage_a_socket_is_asked_to_sync(alice, connect):
    from tests.chat.conftest import receive_type

    ws = await connect(alice)
    await _resync(alice)
    assert await receive_type(ws, "event") == {"type": "event", "event": "resync", "data": {}}


@pytest.mark.django_db(transaction=True)
async def test_after_an_outage_a_socket_whose_token_was_revoked_meanwhile_is_closed(alice):
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from knox.models import AuthToken

    from happychat.asgi import application
    from tests.chat.conftest import receive_type

    _, key = await sync_to_async(AuthToken.objects.create)(alice)
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Token {key}".encode())]
    )
    await ws.connect()
    await receive_type(ws, "hello")
    # Revoked while the channel layer was down: the closing event never came.
    await sync_to_async(AuthToken.objects.filter(token_key=key[:15]).delete)()
    await _resync(alice)
    out = await ws.receive_output(timeout=5)
    while out["type"] != "websocket.close":
        out = await ws.receive_output(timeout=5)
    assert out["code"] == 4003
    await ws.disconnect()


@pytest.mark.django_db
def test_socket_credentials_follow_the_session_the_token_and_the_account(alice):
    from django.test import Client
    from knox.models import AuthToken

    from accounts.selectors_auth import socket_credentials_valid

    token, _ = AuthToken.objects.create(alice)
    client = Client()
    client.force_login(alice)
    session_key = client.session.session_key
    assert socket_credentials_valid(user_id=alice.pk, token_key=token.token_key)
    assert socket_credentials_valid(user_id=alice.pk, session_key=session_key)
    assert not socket_credentials_valid(user_id=alice.pk, token_key="nope")
    assert not socket_credentials_valid(user_id=alice.pk + 1, session_key=session_key)
    alice.set_password("a new password 42")
    alice.save()
    assert not socket_credentials_valid(user_id=alice.pk, session_key=session_key)
    alice.is_active = False
    alice.save()
    assert not socket_credentials_valid(user_id=alice.pk, token_key=token.token_key)
