"""The scale-out layer's pub/sub connection (chat/redis_layer.py) against a real
redis-server: it subscribes to what the process holds, and after losing its connection
(killed by Redis, or Redis restarted with its memory lost) it reconnects and subscribes
to everything again, groups and queued channels alike; the outage is logged once when it
starts and once when it ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from chat.redis_layer import ResilientRedisPubSubChannelLayer
from tests.servers import Redis

BACK_WITHIN_SECONDS = 5.0


class Consumer:
    def __init__(self) -> None:
        self.got: list[int] = []

    def deliver_now(self, event: dict[str, Any]) -> bool:
        self.got.append(event["n"])
        return True

    async def dispatch(self, event: dict[str, Any]) -> None:
        if event["type"] != "chat.resync":
            self.got.append(event["n"])


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[Redis]:
    server = Redis(tmp_path / "redis.log").start()
    yield server
    server.stop()


async def until(check: Any, seconds: float = BACK_WITHIN_SECONDS) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time allowed")


async def live(admin: Any, layer: Any, group_member: Consumer, channel: str) -> None:
    """Publish (as another process would) to the group and to the queued channel until
    both arrive."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    group = layer._get_layer()._get_group_channel_name("conv.1")
    n = 1000 * len(group_member.got) + 1
    while loop.time() - started < BACK_WITHIN_SECONDS:
        n += 1
        with contextlib.suppress(redis.exceptions.ConnectionError):
            await admin.publish(group, layer.serialize({"type": "chat.message", "n": n}))
        if n in group_member.got:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("group messages not delivered again")
    await admin.publish(channel, layer.serialize({"type": "chat.message", "n": -1}))
    while True:
        message = await asyncio.wait_for(layer.receive(channel), BACK_WITHIN_SECONDS)
        if message["type"] == "chat.message" and message["n"] == -1:
            return


def outage_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "happychat.redis" and r.getMessage().startswith("channel layer")
    ]


async def test_a_lost_pub_sub_connection_is_made_again_with_every_subscription(
    own_redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "happychat.redis")
    layer = ResilientRedisPubSubChannelLayer(hosts=[own_redis.url])
    admin = aioredis.from_url(own_redis.url)
    try:
        consumer = Consumer()
        await layer.group_add("conv.1", layer._get_layer().new_direct_channel(consumer.dispatch))
        channel = await layer.new_channel()
        await live(admin, layer, consumer, channel)
        assert outage_logs(caplog) == []

        # Redis drops the connection (as it does a pub/sub client over its output limit).
        assert await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
        await live(admin, layer, consumer, channel)
        await until(lambda: len(outage_logs(caplog)) == 2)
        assert outage_logs(caplog)[0].startswith("channel layer: Redis unavailable")
        assert outage_logs(caplog)[1].startswith("channel layer: Redis back")

        # Redis restarted, its memory (and every subscription) lost.
        own_redis.kill()
        own_redis.start()
        await admin.aclose()
        admin = aioredis.from_url(own_redis.url)
        await live(admin, layer, consumer, channel)
        await until(lambda: len(outage_logs(caplog)) == 4)

        # One subscriber connection, subscribed to exactly the group and the channel.
        group = layer._get_layer()._get_group_channel_name("conv.1")
        assert sorted(await admin.pubsub_channels()) == sorted([group.encode(), channel.encode()])
        assert await admin.pubsub_numsub(group) == [(group.encode(), 1)]
    finally:
        if layer._get_layer()._healer is not None:
            layer._get_layer()._healer.cancel()
        await layer.flush()
        await admin.aclose()


async def test_leaving_a_group_unsubscribes_when_the_last_member_leaves(own_redis: Redis) -> None:
    layer = ResilientRedisPubSubChannelLayer(hosts=[own_redis.url])
    admin = aioredis.from_url(own_redis.url)
    try:
        loop_layer = layer._get_layer()
        group = loop_layer._get_group_channel_name("conv.1")
        a = loop_layer.new_direct_channel(Consumer().dispatch)
        b = loop_layer.new_direct_channel(Consumer().dispatch)
        await layer.group_add("conv.1", a)
        await layer.group_add("conv.1", b)
        assert await admin.pubsub_numsub(group) == [(group.encode(), 1)]
        await layer.group_discard("conv.1", a)
        await asyncio.sleep(0.1)
        assert await admin.pubsub_numsub(group) == [(group.encode(), 1)]
        await layer.group_discard("conv.1", b)
        for _ in range(50):
            if await admin.pubsub_numsub(group) == [(group.encode(), 0)]:
                break
            await asyncio.sleep(0.02)
        assert await admin.pubsub_numsub(group) == [(group.encode(), 0)]
    finally:
        await layer.flush()
        await admin.aclose()


async def test_publishes_from_another_process_resume_after_redis_restarts(
    own_redis: Redis,
) -> None:
    layer = ResilientRedisPubSubChannelLayer(hosts=[own_redis.url])
    publisher = ResilientRedisPubSubChannelLayer(hosts=[own_redis.url])
    try:
        consumer = Consumer()
        await layer.group_add("conv.1", layer._get_layer().new_direct_channel(consumer.dispatch))

        async def delivered(n: int) -> None:
            loop = asyncio.get_running_loop()
            started = loop.time()
            while n not in consumer.got:
                assert loop.time() - started < BACK_WITHIN_SECONDS, "not delivered again"
                await publisher._get_layer().group_send_many(
                    [("conv.1", {"type": "chat.message", "n": n})]
                )
                await asyncio.sleep(0.1)

        await delivered(1)
        # In order, on one pipelined connection, as fast as they are sent.
        sends = [{"type": "chat.message", "n": n} for n in range(2, 200)]
        await asyncio.gather(*(publisher.group_send("conv.1", event) for event in sends))
        await until(lambda: 199 in consumer.got)
        assert consumer.got == list(range(1, 200))
        own_redis.kill()
        own_redis.start()
        await delivered(1000)
        assert publisher._get_layer().health.available
    finally:
        for one in (layer, publisher):
            if one._get_layer()._healer is not None:
                one._get_layer()._healer.cancel()
            await one.flush()


async def test_a_group_message_reaches_members_here_and_elsewhere_once(own_redis: Redis) -> None:
    here = ResilientRedisPubSubChannelLayer(hosts=[own_redis.url])
    there = ResilientRedisPubSubChannelLayer(hosts=[own_redis.url])
    try:
        local, remote = Consumer(), Consumer()
        await here.group_add("conv.1", here._get_layer().new_direct_channel(local.dispatch))
        await there.group_add("conv.1", there._get_layer().new_direct_channel(remote.dispatch))
        for n in range(1, 51):
            await here.group_send("conv.1", {"type": "chat.message", "n": n})
        await until(lambda: len(remote.got) == 50)
        await here.group_send("conv.1", {"type": "chat.message", "n": 51})  # after the echoes
        await until(lambda: len(remote.got) == 51)
        await asyncio.sleep(0.1)
        assert local.got == list(range(1, 52))
        assert remote.got == list(range(1, 52))
    finally:
        await here.flush()
        await there.flush()
