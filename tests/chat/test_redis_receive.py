"""The scale-out layer's receive side (chat/redis_layer.py) without a Redis: bytes as Redis
pushes them, fed to the pub/sub connection's protocol, reach the consumers in order.
With a real redis-server (reconnecting, resubscribing): tests/system/test_redis_receive.py.
"""

import asyncio
import logging
from typing import Any

import pytest

from chat.redis_layer import ResilientRedisPubSubChannelLayer, _command, _Subscriber
from tests.servers import free_port


class Consumer:
    """Takes `chat.message` events without awaiting (as ChatConsumer.deliver_now does)
    unless told to refuse them; anything else goes through the awaited `dispatch`."""

    def __init__(self) -> None:
        self.got: list[Any] = []
        self.refuse = False
        self.awaited = 0
        self.gate: asyncio.Event | None = None

    def deliver_now(self, event: dict[str, Any]) -> bool:
        if event["type"] != "chat.message" or self.refuse:
            return False
        self.got.append(event["n"])
        return True

    async def dispatch(self, event: dict[str, Any]) -> None:
        self.awaited += 1
        if self.gate is not None:
            await self.gate.wait()
        self.got.append(event["n"])


def push(layer: ResilientRedisPubSubChannelLayer, name: str, event: dict[str, Any]) -> bytes:
    """A pub/sub message as Redis writes it (RESP2)."""
    return _command(b"message", name, layer.serialize(event))


@pytest.fixture
async def setup():
    """A layer whose Redis is away (nothing listens), one group of two direct consumers,
    and the protocol of its shard's pub/sub connection."""
    layer = ResilientRedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:{free_port()}/0"])
    loop_layer = layer._get_layer()
    consumers = [Consumer(), Consumer()]
    for consumer in consumers:
        channel = loop_layer.new_direct_channel(consumer.dispatch)
        await layer.group_add("conv.1", channel)  # kept while Redis is away
    subscriber = _Subscriber(loop_layer._shards[0])
    yield layer, loop_layer, consumers, subscriber
    if loop_layer._healer is not None:
        loop_layer._healer.cancel()
    await layer.flush()


def group(loop_layer: Any) -> str:
    return loop_layer._get_group_channel_name("conv.1")


async def test_every_message_of_one_chunk_is_delivered_in_that_call_in_order(setup):
    layer, loop_layer, consumers, subscriber = setup
    name = group(loop_layer)
    # A subscribe confirmation, five messages for the group, one for a channel not ours.
    chunk = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(name), name.encode())
    chunk += b"".join(push(layer, name, {"type": "chat.message", "n": n}) for n in range(5))
    chunk += push(layer, "asgi__group__not-ours", {"type": "chat.message", "n": 99})
    subscriber.data_received(chunk)
    # No await in between: delivered synchronously, no task per message.
    assert [c.got for c in consumers] == [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]
    assert loop_layer._drainer is None


async def test_a_message_split_across_chunks_is_delivered_once_when_complete(setup):
    layer, loop_layer, consumers, subscriber = setup
    data = push(layer, group(loop_layer), {"type": "chat.message", "n": 1})
    data += push(layer, group(loop_layer), {"type": "chat.message", "n": 2})
    for i in range(len(data) - 1):
        subscriber.data_received(data[i : i + 1])
    assert consumers[0].got == [1]
    subscriber.data_received(data[-1:])
    assert [c.got for c in consumers] == [[1, 2], [1, 2]]


async def test_messages_behind_an_awaited_delivery_wait_their_turn(setup):
    layer, loop_layer, consumers, subscriber = setup
    name = group(loop_layer)
    first, second = consumers
    second.gate = asyncio.Event()
    second.refuse = True  # message 1 must be awaited for `second`
    subscriber.data_received(push(layer, name, {"type": "chat.message", "n": 1}))
    second.refuse = False
    subscriber.data_received(
        push(layer, name, {"type": "chat.message", "n": 2})
        + push(layer, name, {"type": "chat.message", "n": 3})
    )
    await asyncio.sleep(0.01)
    # 2 and 3 wait behind the delivery of 1 to `second` (`first` took 1 at once if it
    # comes first in the group, else after `second`).
    assert first.got in ([], [1])
    assert second.got == []
    second.gate.set()
    for _ in range(100):
        if loop_layer._drainer is None:
            break
        await asyncio.sleep(0.01)
    assert first.got == [1, 2, 3]
    assert second.got == [1, 2, 3]
    assert second.awaited == 1
    # Nothing awaited any more: the next message goes straight through again.
    subscriber.data_received(push(layer, name, {"type": "chat.message", "n": 4}))
    assert [c.got for c in consumers] == [[1, 2, 3, 4], [1, 2, 3, 4]]


async def test_other_events_are_awaited_in_order_with_messages(setup):
    layer, loop_layer, consumers, subscriber = setup
    name = group(loop_layer)
    subscriber.data_received(
        push(layer, name, {"type": "chat.message", "n": 1})
        + push(layer, name, {"type": "chat.typing", "n": 2})
        + push(layer, name, {"type": "chat.message", "n": 3})
    )
    assert [c.got for c in consumers] == [[1], [1]]
    await asyncio.sleep(0.05)
    assert [c.got for c in consumers] == [[1, 2, 3], [1, 2, 3]]


async def test_a_queued_channel_gets_its_messages_through_receive(setup):
    layer, _, _, subscriber = setup
    channel = await layer.new_channel()  # made while Redis is away
    subscriber.data_received(push(layer, channel, {"type": "chat.message", "n": 7}))
    assert await asyncio.wait_for(layer.receive(channel), 1) == {"type": "chat.message", "n": 7}


async def test_an_unreadable_message_is_logged_and_the_next_one_delivered(setup, caplog):
    layer, loop_layer, consumers, subscriber = setup
    caplog.set_level(logging.ERROR, "happychat.layer")
    name = group(loop_layer)
    subscriber.data_received(
        _command(b"message", name, b"\xc1 not msgpack")
        + push(layer, name, {"type": "chat.message", "n": 2})
    )
    assert [c.got for c in consumers] == [[2], [2]]
    assert any("not delivered" in r.getMessage() for r in caplog.records)


async def test_a_pong_answers_the_oldest_ping(setup):
    *_, subscriber = setup
    written: list[bytes] = []

    class Transport:
        def write(self, data: bytes) -> None:
            written.append(data)

    subscriber.transport = Transport()  # type: ignore[assignment]
    ping = asyncio.ensure_future(subscriber.ping())
    await asyncio.sleep(0)
    assert written == [b"*1\r\n$4\r\nPING\r\n"]
    assert not ping.done()
    subscriber.data_received(b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")  # as in subscribed mode
    await asyncio.wait_for(ping, 1)
