"""chat/layers.py's direct delivery: consumers that can forward an event at once are not
awaited, the others are, and one failing socket does not stop the others."""

from __future__ import annotations

from typing import Any

from chat.consumers import ChatConsumer
from chat.layers import FastInMemoryChannelLayer


class Receiver:
    def __init__(self, *, now: bool | None) -> None:
        self.now = now  # None: no deliver_now at all; True/False: its answer
        self.taken: list[dict[str, Any]] = []
        self.dispatched: list[dict[str, Any]] = []

    def deliver_now(self, message: dict[str, Any]) -> bool:
        if self.now is None:
            raise RuntimeError("this socket is broken")
        if self.now:
            self.taken.append(message)
        return self.now

    async def dispatch(self, message: dict[str, Any]) -> None:
        self.dispatched.append(message)


class Plain:
    def __init__(self) -> None:
        self.dispatched: list[dict[str, Any]] = []

    async def dispatch(self, message: dict[str, Any]) -> None:
        self.dispatched.append(message)


async def test_group_messages_are_taken_at_once_or_dispatched_and_a_failure_stops_nobody():
    layer = FastInMemoryChannelLayer()
    quick, slow, broken, plain = (
        Receiver(now=True),
        Receiver(now=False),
        Receiver(now=None),
        Plain(),
    )
    for receiver in (quick, slow, broken, plain):
        await layer.group_add("room", layer.new_direct_channel(receiver.dispatch))
    message = {"type": "chat.message", "frame": "{}"}
    await layer.group_send("room", message)
    assert quick.taken == [message]
    assert quick.dispatched == []
    assert slow.taken == []
    assert slow.dispatched == [message]
    assert broken.dispatched == []  # its failure was logged, as a failing dispatch is
    assert plain.dispatched == [message]
    await layer.send(layer.new_direct_channel(quick.dispatch), message)
    assert quick.taken == [message, message]


class FakeFlow:
    def __init__(self, *, direct: bool = True) -> None:
        self.direct = direct
        self.sent: list[str] = []

    def send_text(self, text: str) -> bool:
        if self.direct:
            self.sent.append(text)
        return self.direct


def consumer(flow: FakeFlow | None) -> ChatConsumer:
    socket = ChatConsumer()
    socket._init_state({"extensions": {"happychat.flow": flow}} if flow else {})
    socket.channel_name = "me"
    socket.subscriptions = {7}
    return socket


def test_the_consumer_forwards_new_messages_and_reads_at_once_as_its_handlers_would():
    flow = FakeFlow()
    socket = consumer(flow)
    mine = {"type": "chat.message", "origin": "me", "conversation": 7, "frame": "a"}
    other_room = {"type": "chat.message", "origin": "you", "conversation": 8, "frame": "b"}
    theirs = {"type": "chat.message", "origin": "you", "conversation": 7, "frame": "c"}
    read = {"type": "chat.read", "origin": "you", "frame": "d"}
    my_read = {"type": "chat.read", "origin": "me", "frame": "e"}
    for event in (mine, other_room, theirs, read, my_read):
        assert socket.deliver_now(event) is True
    assert flow.sent == ["c", "d"]
    # Other events go through dispatch (their handlers await more than a write).
    assert socket.deliver_now({"type": "chat.presence", "user": 1, "online": True}) is False
    socket.closing = True
    assert socket.deliver_now(theirs) is True
    assert flow.sent == ["c", "d"]


def test_without_the_short_write_path_the_consumer_asks_for_dispatch():
    assert (
        consumer(None).deliver_now(
            {"type": "chat.message", "origin": "you", "conversation": 7, "frame": "c"}
        )
        is False
    )
    assert (
        consumer(FakeFlow(direct=False)).deliver_now(
            {"type": "chat.read", "origin": "you", "frame": "d"}
        )
        is False
    )
