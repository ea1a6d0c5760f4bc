"""Whether Redis answers, as one part of this process sees it: logged once per change.

On the scale-out path Redis carries the channel layer, presence and the cache. PostgreSQL
holds everything that matters, so while Redis is away those parts degrade (see
docs/faults.md) instead of failing every frame: each keeps a RedisHealth, skips Redis
for a second after a failure (so a dead Redis costs one fast failure a second, not one
per frame), and logs the outage once when it starts and once when it ends.
"""

import logging
import time

logger = logging.getLogger("happychat.redis")

# Each Redis call gives up after this long: a hung Redis must not hang a socket.
REDIS_TIMEOUT_SECONDS = 1.0
# While Redis is away, try it again at most this often.
RETRY_SECONDS = 1.0

ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError)


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "Redis is not answering" (not a bug of ours)."""
    import redis.exceptions

    return (*ERRORS, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisHealth:
    """Up or down, since when, and when to try again."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.down_since: float | None = None
        self.retry_at = 0.0

    @property
    def available(self) -> bool:
        return self.down_since is None

    def worth_trying(self) -> bool:
        """True when up, or when down and a second has passed since the last attempt."""
        return self.down_since is None or time.monotonic() >= self.retry_at

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self.retry_at = now + RETRY_SECONDS
        if self.down_since is None:
            self.down_since = now
            logger.warning("%s: Redis unavailable (%r); degrading until it returns", self.part, exc)

    def ok(self) -> None:
        if self.down_since is not None:
            logger.warning(
                "%s: Redis back after %.1f s", self.part, time.monotonic() - self.down_since
            )
            self.down_since = None
