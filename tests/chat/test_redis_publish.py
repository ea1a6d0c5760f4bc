"""The scale-out layer's publishing connection (chat/redis_layer.py `_Publisher`) without a
Redis: batches pipelined on one connection are answered in order, and a Redis that does
not answer fails them after REDIS_TIMEOUT_SECONDS instead of hanging the publisher."""

import asyncio
import logging

import pytest

import chat.redis_layer
from chat.redis_layer import ResilientRedisPubSubChannelLayer, _Publisher
from tests.servers import free_port


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def abort(self) -> None:
        self.aborted = True


@pytest.fixture
async def layer():
    layer = ResilientRedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:{free_port()}/0"])
    yield layer
    loop_layer = layer._get_layer()
    if loop_layer._healer is not None:
        loop_layer._healer.cancel()
    await layer.flush()


def connected(layer) -> tuple[_Publisher, Transport]:
    """The layer's shard with a publishing connection whose Redis we play."""
    shard = layer._get_layer()._shards[0]
    publisher = _Publisher(shard)
    transport = Transport()
    publisher.connection_made(transport)
    shard.publisher = publisher
    return publisher, transport


async def test_pipelined_batches_are_answered_in_order(layer):
    publisher, transport = connected(layer)
    loop_layer = layer._get_layer()
    first = asyncio.ensure_future(
        loop_layer.group_send_many(
            [("conv.1", {"type": "chat.message", "n": 1}), ("conv.2", {"type": "x"})]
        )
    )
    second = asyncio.ensure_future(layer.group_send("conv.1", {"type": "chat.message", "n": 2}))
    await asyncio.sleep(0)
    # Both written at once, the first batch in one write, before any reply.
    assert len(transport.written) == 2
    assert transport.written[0].count(b"PUBLISH") == 2
    assert b"asgi__group__conv.1" in transport.written[1]
    publisher.data_received(b":1\r\n")
    await asyncio.sleep(0)
    assert not first.done()
    publisher.data_received(b":0\r\n:1")  # the second batch's reply arrives split
    await asyncio.sleep(0)
    assert first.done()
    assert not second.done()
    publisher.data_received(b"\r\n")
    await asyncio.wait_for(second, 1)
    assert loop_layer.dropped == 0
    assert loop_layer.health.available


async def test_a_redis_that_does_not_answer_fails_the_publish_in_time(layer, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, "happychat.redis")
    monkeypatch.setattr(chat.redis_layer, "REDIS_TIMEOUT_SECONDS", 0.2)
    _, transport = connected(layer)
    loop_layer = layer._get_layer()
    started = asyncio.get_running_loop().time()
    await layer.group_send("conv.1", {"type": "chat.message"})
    waited = asyncio.get_running_loop().time() - started
    assert 0.2 <= waited < 0.5
    assert transport.aborted
    assert loop_layer.dropped == 1
    assert not loop_layer.health.available
    # Meanwhile publishes are dropped at once, not queued behind the hung connection.
    await layer.group_send("conv.1", {"type": "chat.message"})
    assert loop_layer.dropped == 2
    assert len(transport.written) == 1
    # Only this layer's records: another thread of the test process (the writer's WAL
    # checkpoint) may log meanwhile.
    redis_records = [r for r in caplog.records if r.name == "happychat.redis"]
    assert (
        redis_records[0].getMessage().startswith("channel layer: Redis unavailable (TimeoutError")
    )


async def test_an_error_reply_fails_its_batch_only(layer):
    publisher, _ = connected(layer)
    loop = asyncio.get_running_loop()
    first = publisher.send(b"...", 1)
    second = publisher.send(b"...", 1)
    publisher.data_received(b"-ERR no\r\n:1\r\n")
    with pytest.raises(ConnectionError, match="Redis refused"):
        await first
    await second
    assert loop.is_running()
