"""Flow control for daphne's WebSockets: what one socket may hold in memory is bounded.

daphne (4.x) has no setting for it: it reads a client's frames as fast as they arrive
into an unbounded queue for the application, and writes whatever the application sends
into Twisted's write buffer, which grows without limit while the client does not read
(the HTTP channel that stays registered as the buffer's producer after the upgrade never
pauses reading, because to it the upgrade request is still being handled). A client that
writes and never reads therefore grew a daphne by hundreds of megabytes.

`install()` (called from happychat/asgi.py, so only in a daphne process) patches daphne's
WebSocket protocol so that each socket gets a `Flow`:

- **Backpressure**: the Flow is the transport's streaming producer. Twisted pauses it when
  the socket's unsent output passes the buffer size (64 KiB): the server then stops
  reading that socket, so a client that does not read cannot make it work either. Reading
  also stops while more than INBOUND_MAX_FRAMES frames wait for the application.
- **A frame budget**: a socket's frames are read at most CHAT_SOCKET_FRAME_RATE a second
  (bursts of CHAT_SOCKET_FRAME_BURST); past it the server stops reading that socket until
  the budget refills, so a flood costs the process a bounded share of its time whatever
  the frames are (they wait in the client's own buffers).
- **Slow readers**: a socket whose unsent output would pass OUTBOUND_MAX_BYTES (other
  people's messages keep coming while it does not read) is closed with 4009 and dropped
  if the close is not answered within a second; what it missed comes back with `sync`.
- The application sees the Flow as `scope["extensions"]["happychat.flow"]`: bulk output
  (a `sync` page) waits for `drained()` instead of piling up.
- Protocol errors (a text frame that is not UTF-8) close with their code (1007) instead
  of dropping the TCP connection.
- **A short write path** (`Flow.send_text`, the consumer's way to send a text frame):
  the frame (server frames are unmasked: a 2-, 4- or 10-byte header and the UTF-8 bytes)
  goes straight into the transport's write buffer, skipping the ASGI send coroutine,
  daphne's and autobahn's generic layers (per-frame log formatting, compression and
  fragmentation checks). The buffers written in one turn of the event loop are sent by
  one callback in the next turn, each with one `send` while the kernel takes it all, so
  a socket's writes no longer register and unregister an epoll writer (two epoll_ctl)
  per turn; what the kernel does not take is left to Twisted as before. Everything
  else stays as daphne does it: the same buffer (so ordering with autobahn's own
  frames, pings and closes holds), the same producer pausing at 64 KiB, the same
  slow-reader close. Sockets where that cannot hold (permessage-deflate negotiated,
  TLS terminated in daphne, not open) take daphne's path.
- **Unmasking small client frames** (every client frame is masked) in Python instead of
  autobahn's native masker, whose setup per frame (an import, two cffi allocations)
  costs more than the work below ~1 KiB; and autobahn's debug line per read, whose
  arguments (`hltype`, `hlval`) are formatted even though the log is off, is skipped.
"""

import asyncio
import logging
from functools import partial
from typing import Any

from chat import handshake
from chat.inbox import Inbox
from chat.transport import CLOSE_SLOW_READER

logger = logging.getLogger("happychat.flow")

INBOUND_MAX_FRAMES = 64
INBOUND_POLL_SECONDS = 0.01
OUTBOUND_MAX_BYTES = 1024 * 1024
# Set from settings by install() (CHAT_SOCKET_FRAME_RATE, CHAT_SOCKET_FRAME_BURST).
FRAME_RATE = 200.0
FRAME_BURST = 200.0
ASGI_VERSION = {"version": "3.0"}  # every socket's scope["asgi"] (read, never written)
# autobahn's WebSocketProtocol states (read from it by install()).
OPEN = 3
ENDED = frozenset({0, 2})  # closed, closing


# Headers of unmasked, final text frames (RFC 6455 §5.2) of 0..125 bytes.
_SHORT_HEADERS = tuple(bytes((0x81, n)) for n in range(126))


def text_frame_header(size: int) -> bytes:
    """The header of an unmasked, final text frame carrying `size` bytes."""
    if size <= 125:
        return _SHORT_HEADERS[size]
    if size <= 0xFFFF:
        return b"\x81\x7e" + size.to_bytes(2, "big")
    return b"\x81\x7f" + size.to_bytes(8, "big")


SMALL_FRAME = 1024  # bytes: up to this, _SmallXorMasker unmasks faster than autobahn's


class _SmallXorMasker:
    """autobahn's XOR masker interface (RFC 6455 §5.3) for a small payload, which may
    arrive in pieces: the payload XOR the repeated mask, as one integer operation."""

    __slots__ = ("_mask", "_pointer")

    def __init__(self, mask: bytes) -> None:
        self._mask = mask
        self._pointer = 0

    def pointer(self) -> int:
        return self._pointer

    def reset(self) -> None:
        self._pointer = 0

    def process(self, data: bytes) -> bytes:
        size = len(data)
        if not size:
            return b""
        mask = self._mask
        shift = self._pointer & 3
        if shift:
            mask = mask[shift:] + mask[:shift]
        self._pointer += size
        key = (mask * ((size >> 2) + 1))[:size]
        return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(
            size, "little"
        )


def _masker_factory(native: Any) -> Any:
    def create_xor_masker(mask: bytes, length: int | None = None) -> Any:
        if length is not None and length <= SMALL_FRAME:
            return _SmallXorMasker(mask)
        return native(mask, length)

    return create_xor_masker


class _Flusher:
    """Send, once per event-loop turn, the transports written by `Flow.send_text`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, reactor: Any) -> None:
        self.loop = loop
        self.reactor = reactor
        self.dirty: list[Any] = []

    def add(self, transport: Any) -> None:
        if not self.dirty:
            self.loop.call_soon(self.flush)
        self.dirty.append(transport)

    def flush(self) -> None:
        dirty, self.dirty = self.dirty, []
        writers = self.reactor._writers
        for transport in dirty:
            # Already registered (an earlier write was only partly taken): Twisted sends
            # it when the socket is writable. Closed: nothing to send.
            if not transport.connected or transport in writers:
                continue
            # The reactor's own call for a writable socket: doWrite sends what the kernel
            # takes, resumes a paused producer once all is sent, and a failure drops the
            # connection as it would there.
            self.reactor._readOrWrite(transport, False)
            if transport.connected and (
                transport._tempDataLen or transport.offset < len(transport.dataBuffer)
            ):
                transport.startWriting()  # the rest when the socket is writable


_flusher: _Flusher | None = None


class Flow:
    """One socket's flow state; the IPushProducer of its transport."""

    __slots__ = (
        "_waiters",
        "budget",
        "budget_at",
        "closed",
        "closing",
        "direct",
        "inbound_full",
        "outbound_full",
        "over_budget",
        "protocol",
        "reading_paused",
    )

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.outbound_full = False
        self.inbound_full = False
        self.over_budget = False
        self.budget = FRAME_BURST
        self.budget_at = 0.0
        self.reading_paused = False
        self.closing = False
        self.closed = False
        self._waiters: list[asyncio.Future[None]] = []
        # The transport `send_text` writes into, once the socket is open and the short
        # path can hold (see `attach`); None: daphne's path.
        self.direct: Any = None

    def attach(self) -> None:
        """Become the transport's producer (replacing the HTTP channel's stale one)."""
        transport = self.protocol.transport
        if getattr(transport, "producer", None) is not None:
            transport.unregisterProducer()
        transport.registerProducer(self, True)
        protocol = self.protocol
        if (
            _flusher is not None
            and getattr(protocol, "_perMessageCompress", None) is None
            and not getattr(protocol, "autoFragmentSize", 0)
            and not getattr(protocol, "maskServerFrames", False)
            # A plain TCP transport (Twisted's buffer, its socket): not TLS in daphne.
            and hasattr(transport, "_tempDataBuffer")
            and hasattr(transport, "socket")
        ):
            self.direct = transport

    # --- the short write path ----------------------------------------------------------

    def send_text(self, text: str) -> bool:
        """Write `text` as one text frame, or return False for daphne's path (the socket
        is not open yet, or the short path does not apply to it).

        A frame refused by `admit` (a slow reader being closed) or sent after the socket
        began closing is dropped and counts as handled, as daphne's path drops it.
        """
        transport = self.direct
        protocol = self.protocol
        if transport is None or protocol.send_queue:
            return False
        if protocol.state != OPEN:
            return protocol.state in ENDED  # closing or closed: dropped
        payload = text.encode()
        size = len(payload)
        limit = protocol.maxMessagePayloadSize
        if 0 < limit < size:
            return False  # autobahn refuses it with its error
        if not self.admit(size) or not transport.connected or transport._writeDisconnected:
            return True
        # Twisted's FileDescriptor.write, but the send waits for the flusher (one per turn)
        # instead of registering an epoll writer.
        if not transport._tempDataLen and transport.offset >= len(transport.dataBuffer):
            _flusher.add(transport)  # type: ignore[union-attr]
        header = text_frame_header(size)
        if size <= 4096:
            transport._tempDataBuffer.append(header + payload)
        else:  # not copied once more here; doWrite joins the buffer anyway
            transport._tempDataBuffer += (header, payload)
        transport._tempDataLen += len(header) + size
        transport._maybePauseProducer()
        return True

    # --- IPushProducer: Twisted calls these as the write buffer fills and drains -------

    def pauseProducing(self) -> None:
        self.outbound_full = True
        self._apply()

    def resumeProducing(self) -> None:
        self.outbound_full = False
        self._apply()
        self._wake()

    def stopProducing(self) -> None:
        self.on_closed()

    # --- inbound ------------------------------------------------------------------------

    def frame_queued(self) -> None:
        """A frame went to the application: stop reading while too many wait, or while the
        socket is over its frame budget."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.budget = min(FRAME_BURST, self.budget + (now - self.budget_at) * FRAME_RATE) - 1
        self.budget_at = now
        if self.budget < 0 and not self.over_budget:
            self.over_budget = True
            self._apply()
            loop.call_later(-self.budget / FRAME_RATE, self._budget_refilled)
        if not self.inbound_full and self._inbound() >= INBOUND_MAX_FRAMES:
            self.inbound_full = True
            self._apply()
            asyncio.get_running_loop().call_later(INBOUND_POLL_SECONDS, self._poll_inbound)

    def _budget_refilled(self) -> None:
        self.over_budget = False
        if not self.closed:
            self._apply()

    def _inbound(self) -> int:
        queue = getattr(self.protocol, "application_queue", None)
        return queue.qsize() if queue is not None else 0

    def _poll_inbound(self) -> None:
        if self.closed:
            return
        if self._inbound() > INBOUND_MAX_FRAMES // 2:
            asyncio.get_running_loop().call_later(INBOUND_POLL_SECONDS, self._poll_inbound)
            return
        self.inbound_full = False
        self._apply()

    # --- outbound -----------------------------------------------------------------------

    def buffered(self) -> int:
        """Bytes written to the socket and not yet taken by the kernel."""
        transport = self.protocol.transport
        try:
            return int(len(transport.dataBuffer) - transport.offset + transport._tempDataLen)
        except AttributeError:  # not a plain TCP transport (TLS in daphne): unknown
            return 0

    def admit(self, size: int) -> bool:
        """Whether a frame of `size` bytes may be written; close a slow reader if not."""
        if self.closing:
            return False
        if self.buffered() + size <= OUTBOUND_MAX_BYTES:
            return True
        self.closing = True
        logger.info("closing a slow reader (%d bytes unsent)", self.buffered())
        # The close frame queues behind what is unsent; autobahn drops the connection
        # (discarding the buffer) if the close is not answered within its 1 s timeout.
        self.protocol.sendClose(code=CLOSE_SLOW_READER, reason="Too much unread; sync.")
        self._wake()
        return False

    async def drained(self) -> None:
        """Return once the socket's output is below the buffer size again (or it closed)."""
        while self.outbound_full and not self.closed and not self.closing:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def on_closed(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _apply(self) -> None:
        pause = self.outbound_full or self.inbound_full or self.over_budget
        if pause == self.reading_paused or self.closed:
            return
        self.reading_paused = pause
        transport = self.protocol.transport
        if pause:
            transport.pauseProducing()
        else:
            transport.resumeProducing()


_installed = False


def install() -> None:
    """Give every daphne WebSocket a Flow (idempotent; a no-op outside daphne)."""
    global _installed, FRAME_RATE, FRAME_BURST, OPEN, ENDED, _flusher
    if _installed:
        return
    _installed = True
    from django.conf import settings

    FRAME_RATE = float(settings.CHAT_SOCKET_FRAME_RATE)
    FRAME_BURST = float(settings.CHAT_SOCKET_FRAME_BURST)
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import reactor

    OPEN = WebSocketProtocol.STATE_OPEN
    ENDED = frozenset({WebSocketProtocol.STATE_CLOSED, WebSocketProtocol.STATE_CLOSING})
    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is not None and hasattr(reactor, "_readOrWrite") and hasattr(reactor, "_writers"):
        _flusher = _Flusher(loop, reactor)
    from autobahn.websocket import protocol as autobahn_protocol

    autobahn_protocol.create_xor_masker = _masker_factory(autobahn_protocol.create_xor_masker)

    def data_received(protocol: Any, data: bytes) -> None:
        protocol._dataReceived(data)  # autobahn's, minus its debug line (see above)

    WebSocketProtocol.dataReceived = data_received

    create_application = Server.create_application

    def create_application_with_flow(server: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        if scope.get("type") != "websocket":
            return create_application(server, protocol, scope)
        # failByDrop off: a protocol error closes with its code (1007 …), not a dropped TCP.
        handshake.share_factory_options(server.ws_factory, failByDrop=False)
        protocol.happychat_flow = Flow(protocol)
        scope.setdefault("extensions", {})["happychat.flow"] = protocol.happychat_flow
        # daphne's Server.create_application (4.x), with an Inbox for its asyncio.Queue and
        # one shared "asgi" entry: what every idle socket would otherwise hold (chat/inbox.py).
        assert "application_instance" not in server.connections[protocol]  # noqa: S101
        inbox = Inbox()
        scope.setdefault("asgi", ASGI_VERSION)
        instance = server.application(
            scope=scope, receive=inbox.get, send=partial(server.handle_reply, protocol)
        )
        if protocol not in server.connections:
            instance.close()
            return None
        server.connections[protocol]["application_instance"] = asyncio.ensure_future(instance)
        return inbox

    on_open = WebSocketProtocol.onOpen

    def on_open_with_flow(protocol: Any) -> None:
        if protocol.failByDrop:  # a socket made before share_factory_options ran
            protocol.failByDrop = False
        protocol.happychat_flow.attach()
        on_open(protocol)
        handshake.release(protocol)

    on_message = WebSocketProtocol.onMessage

    def on_message_with_flow(protocol: Any, payload: bytes, is_binary: bool) -> None:
        on_message(protocol, payload, is_binary)
        protocol.happychat_flow.frame_queued()

    on_close = WebSocketProtocol.onClose

    def on_close_with_flow(protocol: Any, was_clean: bool, code: int, reason: str) -> None:
        flow = getattr(protocol, "happychat_flow", None)
        if flow is not None:
            flow.on_closed()
        on_close(protocol, was_clean, code, reason)

    handle_reply = WebSocketProtocol.handle_reply

    def handle_reply_with_flow(protocol: Any, message: dict[str, Any]) -> None:
        flow = getattr(protocol, "happychat_flow", None)
        if flow is not None and message.get("type") == "websocket.send":
            data = message.get("text") or message.get("bytes") or ""
            # A character takes 1 to 4 bytes; len() is the cheap lower bound.
            if not flow.admit(len(data)):
                return
        handle_reply(protocol, message)

    Server.create_application = create_application_with_flow
    WebSocketProtocol.onOpen = on_open_with_flow
    WebSocketProtocol.onMessage = on_message_with_flow
    WebSocketProtocol.onClose = on_close_with_flow
    WebSocketProtocol.handle_reply = handle_reply_with_flow
