"""The scale-out layer delivers a group message to this process's members when it is
published (chat/redis_layer.py `_here`), and skips that message when Redis hands it back
(the payload's tag names this process): delivered once, in order, and live here even
while Redis is away."""

import asyncio

import hiredis
import pytest

from chat.redis_layer import TAG_LENGTH, ResilientRedisPubSubChannelLayer, _command, _Subscriber
from tests.chat.test_redis_publish import Transport, connected
from tests.chat.test_redis_receive import Consumer
from tests.servers import free_port


@pytest.fixture
async def setup():
    """A layer whose Redis is away, with a group of two direct consumers."""
    layer = ResilientRedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:{free_port()}/0"])
    loop_layer = layer._get_layer()
    consumers = [Consumer(), Consumer()]
    for consumer in consumers:
        await layer.group_add("conv.1", loop_layer.new_direct_channel(consumer.dispatch))
    yield layer, loop_layer, consumers
    if loop_layer._healer is not None:
        loop_layer._healer.cancel()
    await layer.flush()


def published(transport: Transport) -> list[tuple[bytes, bytes]]:
    """(channel, payload) of every PUBLISH written to the fake connection."""
    reader = hiredis.Reader()
    for data in transport.written:
        reader.feed(data)
    commands = []
    while (command := reader.gets()) is not False:
        assert command[0] == b"PUBLISH"
        commands.append((command[1], command[2]))
    return commands


async def test_a_group_send_reaches_members_here_at_once_while_redis_is_away(setup):
    layer, loop_layer, consumers = setup
    assert not loop_layer.health.available
    await layer.group_send("conv.1", {"type": "chat.message", "n": 1})
    await loop_layer.group_send_many(
        [("conv.1", {"type": "chat.message", "n": 2}), ("conv.9", {"type": "chat.message"})]
    )
    assert [c.got for c in consumers] == [[1, 2], [1, 2]]
    assert loop_layer.dropped == 3  # the wake-ups for other processes


async def test_our_publish_coming_back_from_redis_is_not_delivered_twice(setup):
    layer, loop_layer, consumers = setup
    loop_layer.health.ok()
    _, transport = connected(layer)
    sending = asyncio.ensure_future(layer.group_send("conv.1", {"type": "chat.message", "n": 1}))
    await asyncio.sleep(0)
    assert [c.got for c in consumers] == [[1], [1]]  # before Redis answered
    [(name, payload)] = published(transport)
    assert payload.startswith(loop_layer.tag)
    sending.cancel()

    subscriber = _Subscriber(loop_layer._shards[0])
    subscriber.data_received(_command(b"message", name, payload))
    assert [c.got for c in consumers] == [[1], [1]]
    # Another process's publish (another tag), and one of a version that did not tag.
    other = b"\xc1" + b"elsewher" + payload[TAG_LENGTH:]
    untagged = layer.serialize({"type": "chat.message", "n": 3})
    subscriber.data_received(
        _command(b"message", name, other) + _command(b"message", name, untagged)
    )
    assert [c.got for c in consumers] == [[1, 1, 3], [1, 1, 3]]


async def test_local_messages_wait_behind_an_awaited_delivery_in_order(setup):
    layer, loop_layer, consumers = setup
    first, second = consumers
    second.gate = asyncio.Event()
    second.refuse = True
    subscriber = _Subscriber(loop_layer._shards[0])
    name = loop_layer._get_group_channel_name("conv.1")
    subscriber.data_received(
        _command(b"message", name, layer.serialize({"type": "chat.message", "n": 1}))
    )
    second.refuse = False
    await layer.group_send("conv.1", {"type": "chat.message", "n": 2})
    subscriber.data_received(
        _command(b"message", name, layer.serialize({"type": "chat.message", "n": 3}))
    )
    assert second.got == []
    assert 2 not in first.got
    second.gate.set()
    for _ in range(100):
        if loop_layer._drainer is None:
            break
        await asyncio.sleep(0.01)
    assert [c.got for c in consumers] == [[1, 2, 3], [1, 2, 3]]
