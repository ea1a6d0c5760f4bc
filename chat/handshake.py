"""What a daphne WebSocket keeps once its opening handshake is done: only what it still uses.

autobahn's server protocol (daphne's WebSocketProtocol) is built for one connection and
keeps, for as long as the socket lives:

- a copy of its factory's 29 options (CONFIG_ATTRS) in every protocol's __dict__, unless
  the protocol class already has them (autobahn's own rule, "allow to set configuration
  individually"). Those 29 keys take the instance dict past 85 keys, where it doubles
  from 1.5 to 3.3 KiB; daphne has one factory per process, so the class holds them once;
- the request as received, its parsed headers (a second copy, also referenced by the
  ConnectionRequest daphne keeps), its status line, URI, path, query and host, the
  client's key and the response it sent: for the handshake and autobahn's test suite;
- a deque (760 bytes) for chopped or synchronous sends, which daphne never makes.

`share_factory_options` (once per process, at the first socket) and `release` (in each
socket's onOpen) are called by chat/flow.py's patches of daphne.
"""

from types import FunctionType, MappingProxyType
from typing import Any

# Read by autobahn's processHandshake and nothing after it (server side).
HANDSHAKE_ONLY = (
    "http_request_data",
    "http_response_data",
    "http_status_line",
    "http_headers",
    "http_request_uri",
    "http_request_path",
    "http_request_params",
    "http_request_host",
    "_wskey",
)
NO_HEADERS: MappingProxyType[str, str] = MappingProxyType({})

_shared: set[type] = set()


def share_factory_options(factory: Any, **overrides: Any) -> None:
    """Give the factory's protocol class the factory's options (and `overrides`), so that
    autobahn does not copy them into each protocol (it copies only what the protocol does
    not have). Once per class: daphne makes one factory per process."""
    protocol_class = factory.protocol
    if protocol_class in _shared:
        return
    _shared.add(protocol_class)
    for name in protocol_class.CONFIG_ATTRS:
        value = overrides.get(name, getattr(factory, name))
        if isinstance(value, FunctionType):
            # perMessageCompressionAccept: on the class a function would become a method.
            value = staticmethod(value)
        setattr(protocol_class, name, value)


class SendQueue(list[Any]):
    """autobahn's send_queue (append, popleft, len) as a list: it holds only chopped or
    synchronous sends, so under daphne it stays empty, and an empty list is 56 bytes."""

    __slots__ = ()

    def popleft(self) -> Any:
        return self.pop(0)


def release(protocol: Any) -> None:
    """Let go of what the opening handshake left on an open socket's protocol."""
    for name in HANDSHAKE_ONLY:
        if name in protocol.__dict__:
            setattr(protocol, name, None)
    request = getattr(protocol, "request", None)
    if request is not None:
        # daphne keeps the ConnectionRequest for request.path in its log lines.
        request.headers = NO_HEADERS
        request.params = NO_HEADERS
    queue = protocol.__dict__.get("send_queue")
    if queue is not None and not queue and not isinstance(queue, SendQueue):
        protocol.send_queue = SendQueue()
