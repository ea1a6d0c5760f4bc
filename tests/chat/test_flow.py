"""chat/flow.py's decisions with a fake transport (daphne end to end: tests/system)."""

import asyncio

from chat import flow
from chat.flow import Flow


class FakeTransport:
    def __init__(self) -> None:
        self.dataBuffer = b""
        self.offset = 0
        self._tempDataLen = 0
        self.producer = "the http channel"
        self.reading = True

    def unregisterProducer(self) -> None:
        self.producer = None

    def registerProducer(self, producer, streaming) -> None:
        assert self.producer is None
        assert streaming
        self.producer = producer

    def pauseProducing(self) -> None:
        self.reading = False

    def resumeProducing(self) -> None:
        self.reading = True


class FakeProtocol:
    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.application_queue: asyncio.Queue = asyncio.Queue()
        self.closes: list[int] = []

    def sendClose(self, code, reason) -> None:
        self.closes.append(code)


async def test_the_flow_replaces_the_stale_producer_and_pauses_reading_while_output_waits():
    protocol = FakeProtocol()
    socket_flow = Flow(protocol)
    socket_flow.attach()
    assert protocol.transport.producer is socket_flow
    socket_flow.pauseProducing()  # Twisted: the write buffer passed 64 KiB
    assert protocol.transport.reading is False
    socket_flow.resumeProducing()
    assert protocol.transport.reading is True


async def test_reading_stops_while_too_many_frames_wait_and_resumes_when_they_are_taken():
    protocol = FakeProtocol()
    socket_flow = Flow(protocol)
    for n in range(flow.INBOUND_MAX_FRAMES):
        protocol.application_queue.put_nowait(n)
        socket_flow.frame_queued()
    assert protocol.transport.reading is False
    while protocol.application_queue.qsize() > flow.INBOUND_MAX_FRAMES // 2:
        protocol.application_queue.get_nowait()
    await asyncio.sleep(flow.INBOUND_POLL_SECONDS * 5)
    assert protocol.transport.reading is True


async def test_paused_output_and_inbound_are_both_needed_to_be_clear_before_reading_again():
    protocol = FakeProtocol()
    socket_flow = Flow(protocol)
    socket_flow.pauseProducing()
    for n in range(flow.INBOUND_MAX_FRAMES):
        protocol.application_queue.put_nowait(n)
        socket_flow.frame_queued()
    socket_flow.resumeProducing()
    assert protocol.transport.reading is False  # frames still wait
    while not protocol.application_queue.empty():
        protocol.application_queue.get_nowait()
    await asyncio.sleep(flow.INBOUND_POLL_SECONDS * 5)
    assert protocol.transport.reading is True


async def test_a_frame_past_the_outbound_bound_closes_a_slow_reader_with_4009():
    protocol = FakeProtocol()
    socket_flow = Flow(protocol)
    protocol.transport.dataBuffer = b"x" * (flow.OUTBOUND_MAX_BYTES - 10)
    assert socket_flow.admit(10)
    assert not socket_flow.admit(11)
    assert protocol.closes == [4009]
    assert not socket_flow.admit(1)  # nothing more is written once closing
    assert protocol.closes == [4009]


async def test_drained_waits_for_the_output_to_drain_or_the_socket_to_close():
    protocol = FakeProtocol()
    socket_flow = Flow(protocol)
    await asyncio.wait_for(socket_flow.drained(), 0.1)  # nothing waits: at once
    socket_flow.pauseProducing()
    waiter = asyncio.ensure_future(socket_flow.drained())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    socket_flow.resumeProducing()
    await asyncio.wait_for(waiter, 1)
    socket_flow.pauseProducing()
    waiter = asyncio.ensure_future(socket_flow.drained())
    await asyncio.sleep(0.01)
    socket_flow.on_closed()
    await asyncio.wait_for(waiter, 1)


async def test_reading_stops_while_too_many_frames_wait_in_the_sockets_inbox():
    """The same bound with the queue daphne's sockets get under flow.install (chat/inbox.py)."""
    from chat.inbox import Inbox

    protocol = FakeProtocol()
    protocol.application_queue = Inbox()  # type: ignore[assignment]
    socket_flow = Flow(protocol)
    for n in range(flow.INBOUND_MAX_FRAMES):
        protocol.application_queue.put_nowait(n)
        socket_flow.frame_queued()
    assert protocol.transport.reading is False
    while protocol.application_queue.qsize() > flow.INBOUND_MAX_FRAMES // 2:
        protocol.application_queue.get_nowait()
    await asyncio.sleep(flow.INBOUND_POLL_SECONDS * 5)
    assert protocol.transport.reading is True


def test_text_frame_headers_use_the_shortest_length_encoding():
    # RFC 6455 §5.2: FIN + text opcode, no mask bit (server to client), then 7-bit length,
    # 126 + 16-bit length, or 127 + 64-bit length.
    assert flow.text_frame_header(0) == b"\x81\x00"
    assert flow.text_frame_header(125) == b"\x81\x7d"
    assert flow.text_frame_header(126) == b"\x81\x7e\x00\x7e"
    assert flow.text_frame_header(65535) == b"\x81\x7e\xff\xff"
    assert flow.text_frame_header(65536) == b"\x81\x7f" + (65536).to_bytes(8, "big")


async def test_without_a_plain_tcp_transport_frames_take_daphnes_path():
    protocol = FakeProtocol()
    socket_flow = Flow(protocol)
    socket_flow.attach()  # the fake transport has no Twisted write buffer
    assert socket_flow.send_text("hello") is False


def test_small_frames_are_unmasked_as_autobahns_native_masker_does_even_in_pieces():
    import random

    from autobahn.websocket.xormasker import create_xor_masker

    unmask = flow._masker_factory(create_xor_masker)
    rng = random.Random(12)
    for size in [0, 1, 3, 4, 5, 125, 126, 1000, flow.SMALL_FRAME, flow.SMALL_FRAME + 1, 5000]:
        mask = rng.randbytes(4)
        payload = rng.randbytes(size)
        expected = create_xor_masker(mask, size).process(payload)
        assert bytes(a ^ mask[i % 4] for i, a in enumerate(payload)) == expected
        whole = unmask(mask, size)
        assert whole.process(payload) == expected
        assert whole.pointer() == size
        # A frame read in pieces (TCP segments) continues the mask where it stopped.
        pieces = unmask(mask, size)
        cuts = sorted(rng.sample(range(size + 1), min(size + 1, 4)))
        parts = [payload[a:b] for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
        assert b"".join(pieces.process(part) for part in parts) == expected
        pieces.reset()
        assert pieces.pointer() == 0
