"""What an idle socket holds (issue 12): state made on first use still works when first
used, and daphne's protocol lets go of its handshake but keeps working (chat/handshake.py).
End to end through daphne: tests/system (every socket there runs these paths)."""

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.testing import StringTransport

from chat import handshake
from chat.consumers import NOBODY, ChatConsumer
from chat.transport import Strikes, TokenBucket

UPGRADE = (
    b"GET /ws/chat/?x=1 HTTP/1.1\r\nHost: localhost:9000\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)


class Protocol(WebSocketServerProtocol):
    def onConnect(self, request):
        self.request = request  # as daphne keeps it

    def onOpen(self):
        handshake.release(self)


def open_socket(factory: WebSocketServerFactory) -> tuple[Protocol, StringTransport]:
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(UPGRADE)
    assert transport.value().startswith(b"HTTP/1.1 101 ")
    transport.clear()
    return protocol, transport


def test_shared_factory_options_are_not_copied_into_each_protocol_and_still_apply():
    class Shared(Protocol):
        pass

    factory = WebSocketServerFactory("ws://localhost:9000")
    factory.protocol = Shared
    factory.setProtocolOptions(maxMessagePayloadSize=1234)
    handshake.share_factory_options(factory, failByDrop=False)
    protocol, _ = open_socket(factory)
    assert not [name for name in Shared.CONFIG_ATTRS if name in vars(protocol)]
    assert protocol.maxMessagePayloadSize == 1234
    assert protocol.failByDrop is False
    # A function option stays the factory's function (on a class it would become a method).
    assert protocol.perMessageCompressionAccept is factory.perMessageCompressionAccept
    assert len(vars(protocol)) <= 85  # the dict's small size class (1.5 KiB, not 3.3)


def test_an_open_socket_lets_go_of_its_handshake_and_still_sends_and_receives():
    factory = WebSocketServerFactory("ws://localhost:9000")
    factory.protocol = Protocol
    protocol, transport = open_socket(factory)
    assert protocol.http_headers is None
    assert protocol.http_request_data is None
    assert protocol.request.path == "/ws/chat/"  # daphne's log lines read it
    assert dict(protocol.request.headers) == {}
    assert isinstance(protocol.send_queue, handshake.SendQueue)

    protocol.sendMessage(b"hi")
    assert transport.value() == b"\x81\x02hi"
    transport.clear()
    protocol.sendMessage(b"chopped", sync=True)  # the path that uses send_queue
    assert transport.value() == b"\x81\x07chopped"
    assert len(protocol.send_queue) == 0

    received: list[bytes] = []
    protocol.onMessage = lambda payload, binary: received.append(payload)  # type: ignore[method-assign]
    mask = b"\x01\x02\x03\x04"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"ping"))
    protocol.dataReceived(b"\x81\x84" + mask + payload)
    assert received == [b"ping"]


def test_send_queue_is_first_in_first_out():
    queue = handshake.SendQueue()
    queue.append(1)
    queue.append(2)
    assert len(queue) == 2
    assert queue.popleft() == 1
    assert queue.popleft() == 2
    assert not queue


def test_state_made_on_first_use_belongs_to_its_own_socket():
    one, other = ChatConsumer(), ChatConsumer()
    for consumer in (one, other):
        consumer._init_state({})
    one.typing_sent[7] = 1.0
    one.presence_seen[8] = True
    one.deferred_reads[9] = 3
    one.hidden = one.hidden | {5}
    assert isinstance(one.send_bucket, TokenBucket)
    assert isinstance(one.bad_frames, Strikes)
    assert one.send_bucket is one.send_bucket  # made once, then kept
    assert other.typing_sent == {}
    assert other.presence_seen == {}
    assert other.deferred_reads == {}
    assert other.hidden is NOBODY
    assert other.send_bucket is not one.send_bucket
    # The class keeps its "not yet made" defaults.
    assert ChatConsumer._typing_sent is None
    assert ChatConsumer.hidden is NOBODY
    assert ChatConsumer._send_bucket is None
    assert ChatConsumer.jobs is None
