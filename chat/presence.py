"""Who is online, counted across devices and processes.

One machine: a per-process count of sockets. Scale-out (REDIS_URL): a Redis sorted set
per user of socket ids scored by expiry, refreshed by heartbeats, so a killed process's
sockets expire on their own instead of keeping their user online forever.

Presence is an extra: while Redis is away every call gives up within a second (and for a
second after a failure, at once), nobody is announced, `online` knows no one, and `add`
says None so the socket tries again on a later heartbeat (docs/faults.md).
"""

import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from django.conf import settings

from happychat.redis_health import REDIS_TIMEOUT_SECONDS, RedisHealth, redis_errors

T = TypeVar("T")


class PresenceStore(Protocol):
    async def add(self, user_id: int, socket_id: str) -> bool | None: ...
    async def touch(self, user_id: int, socket_id: str) -> None: ...
    async def remove(self, user_id: int, socket_id: str) -> bool: ...
    async def online(self, user_ids: list[int]) -> set[int]: ...
    def online_sync(self, user_ids: list[int]) -> set[int]: ...


class LocalPresence:
    """Sockets of this process only: right for the single-process default."""

    def __init__(self) -> None:
        self.sockets: dict[int, set[str]] = {}

    async def add(self, user_id: int, socket_id: str) -> bool | None:
        """Register a socket; True if the user just came online (None: unknown, retry)."""
        held = self.sockets.setdefault(user_id, set())
        held.add(socket_id)
        return len(held) == 1

    async def touch(self, user_id: int, socket_id: str) -> None:
        return None

    async def remove(self, user_id: int, socket_id: str) -> bool:
        """Forget a socket; True if the user just went offline."""
        held = self.sockets.get(user_id)
        if not held or socket_id not in held:
            return False
        held.discard(socket_id)
        if not held:
            del self.sockets[user_id]
            return True
        return False

    async def online(self, user_ids: list[int]) -> set[int]:
        return self.online_sync(user_ids)

    def online_sync(self, user_ids: list[int]) -> set[int]:
        """Who has a socket, from any thread (reads only; the loop owns the writes)."""
        return {uid for uid in user_ids if self.sockets.get(uid)}


class RedisPresence:
    """Sockets of every process, in Redis, expiring after 2.5 heartbeats of silence."""

    def __init__(self, url: str, ttl: float) -> None:
        import redis.asyncio as redis

        self.redis = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        self.url = url
        self.ttl = ttl
        self._sync_client: object | None = None
        self.health = RedisHealth("presence")

    async def _try(self, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        """`call()`, or `fallback` if Redis does not answer (or did not a moment ago)."""
        if not self.health.worth_trying():
            return fallback
        try:
            result = await call()
        except redis_errors() as exc:
            self.health.failed(exc)
            return fallback
        self.health.ok()
        return result

    def _key(self, user_id: int) -> str:
        return f"happychat:presence:{user_id}"

    # Each call is one round trip: its commands go in one MULTI/EXEC pipeline, which also
    # makes "was anyone else online?" and the change it answers for one atomic step.

    async def add(self, user_id: int, socket_id: str) -> bool | None:
        async def add() -> bool:
            key, now = self._key(user_id), time.time()
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zcard(key)
                pipe.zadd(key, {socket_id: now + self.ttl})
                pipe.expire(key, int(self.ttl) + 60)
                _, before, _, _ = await pipe.execute()
            return int(before) == 0

        return await self._try(add, None)

    async def touch(self, user_id: int, socket_id: str) -> None:
        async def touch() -> None:
            # Plain ZADD, not XX: after a Redis restart the heartbeat puts the socket back.
            key = self._key(user_id)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(key, {socket_id: time.time() + self.ttl})
                pipe.expire(key, int(self.ttl) + 60)
                await pipe.execute()

        await self._try(touch, None)

    async def remove(self, user_id: int, socket_id: str) -> bool:
        async def remove() -> bool:
            key = self._key(user_id)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(key, socket_id)
                pipe.zremrangebyscore(key, "-inf", time.time())
                pipe.zcard(key)
                removed, _, left = await pipe.execute()
            return bool(removed) and int(left) == 0

        return await self._try(remove, False)

    async def online(self, user_ids: list[int]) -> set[int]:
        async def online() -> set[int]:
            if not user_ids:
                return set()
            now = time.time()
            async with self.redis.pipeline(transaction=False) as pipe:
                for uid in user_ids:
                    pipe.zcount(self._key(uid), now, "+inf")
                counts = await pipe.execute()
            return {uid for uid, count in zip(user_ids, counts, strict=True) if count}

        return await self._try(online, set())

    def online_sync(self, user_ids: list[int]) -> set[int]:
        """Who has a live socket anywhere, for threads outside the event loop (one round trip).

        The asyncio client belongs to the server's loop; a worker thread uses its own.
        While Redis is away nobody is known to be online (so push notifies everyone).
        """
        import redis

        if self._sync_client is None:
            self._sync_client = redis.Redis.from_url(
                self.url,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
        client: redis.Redis = self._sync_client  # type: ignore[assignment]
        now = time.time()
        pipe = client.pipeline(transaction=False)
        for uid in user_ids:
            pipe.zcount(self._key(uid), now, "+inf")
        try:
            counts = pipe.execute()
        except redis_errors():
            return set()
        return {uid for uid, count in zip(user_ids, counts, strict=True) if count}


_store: PresenceStore | None = None


def store() -> PresenceStore:
    """The process's presence store, chosen by the same setting as the channel layer."""
    global _store
    if _store is None:
        ttl = settings.CHAT_HEARTBEAT_SECONDS * 2.5
        _store = RedisPresence(settings.REDIS_URL, ttl) if settings.REDIS_URL else LocalPresence()
    return _store


def reset() -> None:
    """Forget the store (tests switch settings)."""
    global _store
    _store = None
