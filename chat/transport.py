"""The socket's transport rules: frame parsing and field checks, rate limits, Origin, and
the deadlines (authenticate in time, keep the heartbeat) checked by one sweep per process.

Nothing here knows about conversations or messages: the consumer (chat/consumers.py)
turns a parsed frame into one service call.
"""

import asyncio
import json
import logging
import time
from importlib import import_module
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host

from happychat.errors import InvalidInput, NotFound
from happychat.validators import MAX_ID, text_problem

logger = logging.getLogger("happychat.consumer")

# Close codes (docs/protocol.md §2.5).
CLOSE_UNAVAILABLE = 1013  # "try again later": storage failed while setting the socket up
CLOSE_UNAUTHENTICATED = 4001
CLOSE_REVOKED = 4003
CLOSE_IDLE = 4008
CLOSE_SLOW_READER = 4009  # more than 1 MiB unsent: the client does not read (chat/flow.py)
CLOSE_ABUSE = 4029


class BadFrame(Exception):
    """A frame that is not a JSON object with a string `type`, or too large."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def parse(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
    """The frame as a dict with a string `type` and only valid text in it, or BadFrame.

    Whatever a client sends ends here as a dict or a BadFrame, never another exception:
    binary frames must be UTF-8, nesting too deep for the parser is refused, and strings
    holding NUL or a lone surrogate (`"\\ud800"`, which no UTF-8 encoder accepts, so echoing
    it back in `ref` would fail) are refused anywhere in the frame.
    """
    try:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8")
        size = len(raw.encode("utf-8"))
    except UnicodeError:
        raise BadFrame("invalid_frame", "A frame must be UTF-8 text.") from None
    if size > settings.CHAT_MAX_FRAME_BYTES:
        raise BadFrame("too_large", "Frames are limited to 64 KiB.")
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadFrame("invalid_frame", "A frame must be one JSON object.") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise BadFrame("invalid_frame", 'A frame must be a JSON object with a "type".')
    # Only a \\u escape can put NUL or a lone surrogate into parsed text.
    if "\\u" in raw and _has_bad_text(frame):
        raise BadFrame("invalid_frame", "Text in a frame must not hold NUL or lone surrogates.")
    return frame


def _has_bad_text(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if text_problem(item) is not None:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def int_field(frame: dict[str, Any], field: str) -> int:
    """The integer `frame[field]` in 0 … MAX_ID (a seq), or InvalidInput."""
    value = frame.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise InvalidInput(f"`{field}` must be an integer from 0 to 2^63-1.")
    return value


def id_field(frame: dict[str, Any], field: str) -> int:
    """The id `frame[field]`: InvalidInput if not an integer, NotFound outside 1 … MAX_ID.

    Like an id the database does not hold, an id it could not hold is "not found" (the
    same answer REST gives), never a storage error.
    """
    value = frame.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"`{field}` must be an integer id.")
    if not 1 <= value <= MAX_ID:
        raise NotFound("No such conversation.")
    return value


def cursors_field(frame: dict[str, Any]) -> dict[int, int]:
    """`sync.cursors` as {conversation id: seq}, or InvalidInput."""
    raw = frame.get("cursors", {})
    if not isinstance(raw, dict):
        raise InvalidInput("`cursors` must be an object of conversation id → seq.")
    cursors: dict[int, int] = {}
    for key, value in raw.items():
        if not (key.isascii() and key.isdigit()):
            raise InvalidInput("`cursors` keys must be conversation ids.")
        if isinstance(value, bool) or not isinstance(value, int) or value > MAX_ID:
            raise InvalidInput("`cursors` must map conversation ids to integer seqs.")
        # Like a conversation the user is not in, an id no conversation can have is ignored.
        if len(key) <= 19 and 1 <= int(key) <= MAX_ID:
            cursors[int(key)] = max(0, value)
    return cursors


class Strikes:
    """A leaky count of a socket's offences: `hit` says when it passes `limit`."""

    __slots__ = ("count", "leak", "limit", "stamp")

    def __init__(self, limit: float, leak_per_second: float) -> None:
        self.limit, self.leak = limit, leak_per_second
        self.count, self.stamp = 0.0, time.monotonic()

    def hit(self) -> bool:
        """Count one offence; True once the count is over the limit."""
        now = time.monotonic()
        self.count = max(0.0, self.count - (now - self.stamp) * self.leak) + 1
        self.stamp = now
        return self.count > self.limit


class TokenBucket:
    """Allow `rate` frames a second with bursts of `burst`."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> bool:
        """Take a token if there is one."""
        self._refill()
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def reserve(self) -> float:
        """Take a token, in advance if need be: the seconds to wait until it is there."""
        self._refill()
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def charge(self, tokens: float) -> None:
        """Count `tokens` more for what was just done (paid by waiting on the next one)."""
        self._refill()
        self.tokens -= tokens


def header(scope: dict[str, Any], name: bytes) -> str | None:
    """The first value of request header `name` (lower-case bytes), if present."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def cookie_session(scope: dict[str, Any]) -> SessionBase | None:
    """The (lazily loaded) session named by the request's session cookie, if it has one.

    Read here rather than by Channels' Cookie and Session middlewares, which wrap every
    socket (token clients too) in two more coroutines and two more copies of its scope.
    """
    raw = header(scope, b"cookie")
    if not raw:
        return None
    key = parse_cookie(raw).get(settings.SESSION_COOKIE_NAME)
    if not key:
        return None
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    return store


DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Whether a cookie-authenticated socket comes from this site or an allowed origin.

    Exact matching on (scheme, host, port), default ports filled in: the site's own origin
    is the request's Host (itself allowed by ALLOWED_HOSTS) with https if the socket came
    over TLS (or the proxy says so, SECURE_PROXY_SSL_HEADER), else http; other origins must
    be listed in WEBSOCKET_ALLOWED_ORIGINS. An ALLOWED_HOSTS wildcard such as `.example.com`
    lets any subdomain be the Host, but the Origin must still be that very host.
    """
    origin = header(scope, b"origin")
    seen = parse_origin(origin) if origin else None
    if seen is None:
        return False
    if any(parse_origin(allowed) == seen for allowed in settings.WEBSOCKET_ALLOWED_ORIGINS):
        return True
    return seen == site_origin(scope)


def parse_origin(origin: str) -> Origin | None:
    """(scheme, host, port) of an http(s) origin, or None ("null", paths, garbage)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


def site_origin(scope: dict[str, Any]) -> Origin | None:
    """The origin of the page that should be opening this socket: this site as requested."""
    host = header(scope, b"host")
    if not host:
        return None
    domain, port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if _secure(scope) else "http"
    return scheme, domain.strip("[]"), int(port) if port else DEFAULT_PORTS[scheme]


def _secure(scope: dict[str, Any]) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    if not proxy_header:
        return False
    name, secure_value = proxy_header
    value = header(scope, name.removeprefix("HTTP_").lower().replace("_", "-").encode())
    return value is not None and value.split(",")[0].strip() == secure_value


# --- deadlines: one sweep per event loop, not a timer per socket ---------------------------


class Watched(Protocol):
    def check_deadlines(self, now: float) -> int | None: ...
    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None: ...


SWEEP_SECONDS = 1.0
_watched: dict[asyncio.AbstractEventLoop, set[Watched]] = {}
_sweepers: set["asyncio.Future[None]"] = set()  # held so they are not collected mid-run


def watch(socket: Watched) -> None:
    """Close `socket` when its `check_deadlines` names a close code (checked by a sweep)."""
    loop = asyncio.get_running_loop()
    sockets = _watched.get(loop)
    if sockets is None:
        for old in [lp for lp in _watched if lp.is_closed()]:
            del _watched[old]
        sockets = _watched[loop] = set()
        task = loop.create_task(_sweep(sockets))
        _sweepers.add(task)
        task.add_done_callback(_sweepers.discard)
    sockets.add(socket)


def unwatch(socket: Watched) -> None:
    for sockets in _watched.values():
        sockets.discard(socket)


def _sweep_interval() -> float:
    # A tenth of the shortest deadline (tests shorten them), at most a second.
    shortest = min(settings.CHAT_AUTH_TIMEOUT_SECONDS, settings.CHAT_HEARTBEAT_SECONDS * 2.5)
    return max(0.02, min(SWEEP_SECONDS, shortest / 10))


async def _sweep(sockets: set[Watched]) -> None:
    while True:
        await asyncio.sleep(_sweep_interval())
        now = time.monotonic()
        for socket in list(sockets):
            code = socket.check_deadlines(now)
            if code is not None:
                sockets.discard(socket)
                closing = asyncio.ensure_future(_close(socket, code))
                _sweepers.add(closing)
                closing.add_done_callback(_sweepers.discard)


async def _close(socket: Watched, code: int) -> None:
    try:
        await socket.close(code=code)
    except Exception:  # the socket may already be gone
        logger.exception("closing a socket past its deadline failed")
