"""The socket's transport rules: frame parsing and field checks, rate limits, Origin.

Nothing here knows about conversations or messages: the consumer (chat/consumers.py)
turns a parsed frame into one service call.
"""

import json
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host

from happychat.errors import InvalidInput

# Close codes (docs/protocol-extensions.md).
CLOSE_UNAUTHENTICATED = 4001
CLOSE_REVOKED = 4003
CLOSE_IDLE = 4008
CLOSE_ABUSE = 4029


class BadFrame(Exception):
    """A frame that is not a JSON object with a string `type`, or too large."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def parse(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
    """The frame as a dict with a string `type`, or BadFrame."""
    raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
    if len(raw.encode("utf-8")) > settings.CHAT_MAX_FRAME_BYTES:
        raise BadFrame("too_large", "Frames are limited to 64 KiB.")
    try:
        frame = json.loads(raw)
    except ValueError:
        raise BadFrame("invalid_frame", "A frame must be one JSON object.") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise BadFrame("invalid_frame", 'A frame must be a JSON object with a "type".')
    return frame


def int_field(frame: dict[str, Any], field: str, *, minimum: int = 0) -> int:
    """The integer `frame[field]` (≥ `minimum`), or InvalidInput."""
    value = frame.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"`{field}` must be an integer ≥ {minimum}.")
    return value


class TokenBucket:
    """Allow `rate` frames a second with bursts of `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def header(scope: dict[str, Any], name: bytes) -> str | None:
    """The first value of request header `name` (lower-case bytes), if present."""
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Whether the Origin of a cookie-authenticated socket is this site or an allowed one."""
    origin = header(scope, b"origin")
    if not origin:
        return False
    if origin in settings.WEBSOCKET_ALLOWED_ORIGINS:
        return True
    parsed = urlsplit(origin)
    host = header(scope, b"host")
    if host and parsed.netloc == host:
        return True
    return bool(parsed.hostname) and validate_host(parsed.hostname or "", settings.ALLOWED_HOSTS)
