"""The scale-out channel layer: channels-redis' pub/sub layer that rides out a Redis outage.

channels-redis raises to the consumer whenever Redis does not answer: a socket could not
even be opened (`new_channel` subscribes), joining a group failed the connect, every
group send raised and was logged, and subscriptions that failed were never made again.
With Redis away for 20 s every socket was closed and every reconnect refused, although
PostgreSQL, which holds everything that matters, was fine.

Here the channel layer is a wake-up and nothing more (the database is the truth and
`sync` repairs any gap), so while Redis is away:

- `new_channel`, `group_add` and `group_discard` never fail: memberships are kept in
  this process and made in Redis when it returns;
- `group_send` and `send` drop the wake-up at once (no wait, no log line per frame);
- a healer probes Redis every second and, once it answers, subscribes this process to
  every channel and group its sockets hold, so live delivery resumes within seconds, and
  hands each of its sockets a `chat.resync` event (the consumer asks its client to `sync`
  what was not delivered live meanwhile);
- every Redis call gives up after REDIS_TIMEOUT_SECONDS (a hung Redis hangs nothing);
- the outage is logged once when it starts and once when it ends.
"""

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts

from happychat.redis_health import (
    REDIS_TIMEOUT_SECONDS,
    RETRY_SECONDS,
    RedisHealth,
    redis_errors,
)

logger = logging.getLogger("happychat.layer")
RESYNC_SPREAD_SECONDS = 3.0
T = TypeVar("T")
# Redis not answering (and redis-py's complaints about a connection it had to drop).
_FAILURES: tuple[type[BaseException], ...] = (*redis_errors(), RuntimeError)


class ResilientRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer whose per-loop layers degrade instead of raising."""

    def _get_layer(self) -> "_LoopLayer":
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer


def _with_timeouts(hosts: Any) -> list[dict[str, Any]]:
    return [
        {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            **host,
        }
        for host in decode_hosts(hosts)
    ]


class _Shard(RedisSingleShardConnection):
    layer: "_LoopLayer"

    async def _do_receiving(self) -> None:
        # channels-redis logs a traceback a second while Redis is away, and a built-in
        # TimeoutError from a read would end this task for good: report and go on.
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.layer.unavailable(exc)
                await asyncio.sleep(RETRY_SECONDS)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts: Any = None, **kwargs: Any) -> None:
        hosts = _with_timeouts(hosts)
        super().__init__(hosts=hosts, **kwargs)
        self._shards = [_Shard(host, self) for host in hosts]
        for shard in self._shards:
            shard.layer = self
        self.health = RedisHealth("channel layer")
        self._healer: asyncio.Task[None] | None = None
        self.dropped = 0

    # --- Redis calls ---------------------------------------------------------------------

    async def _redis(self, call: Awaitable[T]) -> T | None:
        """Await a Redis call with a timeout; None (and the outage noted) if it fails."""
        try:
            return await asyncio.wait_for(call, REDIS_TIMEOUT_SECONDS)
        except _FAILURES as exc:
            self.unavailable(exc)
            return None

    def unavailable(self, exc: BaseException) -> None:
        self.health.failed(exc)
        if self._healer is None or self._healer.done():
            self._healer = asyncio.ensure_future(self._heal())

    async def _heal(self) -> None:
        """Probe Redis every second; once it answers, subscribe to everything we hold."""
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                for shard in self._shards:
                    shard._ensure_redis()
                    await asyncio.wait_for(shard._redis.ping(), REDIS_TIMEOUT_SECONDS)
                await self._resubscribe()
            except _FAILURES as exc:
                self.health.failed(exc)
                continue
            self.health.ok()
            self._tell_sockets_to_resync()
            if self.dropped:
                logger.warning("channel layer: %d wake-ups dropped while away", self.dropped)
                self.dropped = 0
            return

    async def _resubscribe(self) -> None:
        wanted = set(self.channels) | set(self.groups)
        for shard in self._shards:
            mine = {name for name in wanted if self._get_shard(name) is shard}
            async with shard._lock:
                shard._ensure_redis()
                shard._ensure_receiver()
                stale = shard._subscribed_to - mine
                if mine:
                    await asyncio.wait_for(shard._pubsub.subscribe(*mine), REDIS_TIMEOUT_SECONDS)
                if stale:
                    await asyncio.wait_for(shard._pubsub.unsubscribe(*stale), REDIS_TIMEOUT_SECONDS)
                shard._subscribed_to = mine

    def _tell_sockets_to_resync(self) -> None:
        # Spread over a few seconds: every socket re-checks its credentials and every
        # client syncs, and they need not all hit the database at once.
        event = self.channel_layer.serialize({"type": "chat.resync"})
        loop = asyncio.get_running_loop()
        for queue in self.channels.values():
            delay = random.uniform(0, RESYNC_SPREAD_SECONDS)  # noqa: S311 (jitter, not a secret)
            loop.call_later(delay, queue.put_nowait, event)

    async def _subscribe(self, name: str) -> None:
        if self.health.available:
            await self._redis(self._get_shard(name).subscribe(name))
        # else: the healer subscribes to it with everything else once Redis is back

    async def _unsubscribe(self, name: str) -> None:
        if self.health.available:
            await self._redis(self._get_shard(name).unsubscribe(name))

    # --- the channel layer API, never raising for Redis' sake ---------------------------

    async def new_channel(self, prefix: str = "specific.") -> str:
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.channels[channel] = asyncio.Queue()
        await self._subscribe(channel)
        return channel

    async def receive(self, channel: str) -> Any:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue()
            await self._subscribe(channel)
        try:
            message = await queue.get()
        except (asyncio.CancelledError, GeneratorExit):
            # The consumer is leaving (Channels cancels its receive): forget the channel.
            if self.channels.pop(channel, None) is not None:
                await self._unsubscribe(channel)
            raise
        return self.channel_layer.deserialize(message)

    async def group_add(self, group: str, channel: str) -> None:
        group_channel = self._get_group_channel_name(group)
        members = self.groups.setdefault(group_channel, set())
        members.add(channel)
        await self._subscribe(group_channel)

    async def group_discard(self, group: str, channel: str) -> None:
        group_channel = self._get_group_channel_name(group)
        members = self.groups.get(group_channel)
        if members is None or channel not in members:
            return
        members.discard(channel)
        if not members:
            del self.groups[group_channel]
            await self._unsubscribe(group_channel)

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self._publish(channel, message)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self._publish(self._get_group_channel_name(group), message)

    async def _publish(self, name: str, message: dict[str, Any]) -> None:
        # While Redis is away a wake-up is dropped at once; `sync` brings what it carried.
        if not self.health.available:
            self.dropped += 1
            return
        payload = self.channel_layer.serialize(message)
        if await self._redis(self._get_shard(name).publish(name, payload)) is None:
            self.dropped += 1
