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

And it is cheap per delivered frame (issue 12):

- a consumer in this process gets its channel from `new_direct_channel(handler)`: its
  messages are handed to `handler` (the consumer's dispatch) as they arrive, deserialized
  once for all of this process's members of a group, with no queue, no task and no Redis
  subscription per socket (`send` to such a channel reaches it from this process only;
  HappyChat sends to groups);
- publishes do not wait for each other or for subscriptions on one lock (the client's
  pool gives each its own connection), and `group_send_many` sends a batch of group
  messages in one pipelined round trip.
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
from channels_redis.utils import _consistent_hash, _wrap_close, decode_hosts

from chat.layers import Handler, deliver, deliver_now
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

    async def publish(self, channel: str, message: bytes) -> None:
        # The lock guards the one pub/sub connection (subscribe, unsubscribe); publishes
        # use the client's pool, so they need not wait for each other or for subscriptions.
        self._ensure_redis()
        await self._redis.publish(channel, message)

    async def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        """PUBLISH each (channel, message), in order, in one round trip."""
        self._ensure_redis()
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel, message in items:
                pipe.publish(channel, message)
            await pipe.execute()

    async def _do_receiving(self) -> None:
        # channels-redis logs a traceback a second while Redis is away, and a built-in
        # TimeoutError from a read would end this task for good: report and go on.
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    if message is not None:
                        await self.layer.dispatch(message)
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
        self.direct: dict[str, Handler] = {}
        self._resyncs: set[asyncio.Future[None]] = set()

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
        for channel in list(self.direct):
            delay = random.uniform(0, RESYNC_SPREAD_SECONDS)  # noqa: S311 (jitter, not a secret)
            loop.call_later(delay, self._resync_direct, channel)

    def _resync_direct(self, channel: str) -> None:
        handler = self.direct.get(channel)
        if handler is not None:
            task = asyncio.ensure_future(deliver(handler, channel, {"type": "chat.resync"}))
            self._resyncs.add(task)
            task.add_done_callback(self._resyncs.discard)

    async def _subscribe(self, name: str) -> None:
        if self.health.available:
            await self._redis(self._get_shard(name).subscribe(name))
        # else: the healer subscribes to it with everything else once Redis is back

    async def _unsubscribe(self, name: str) -> None:
        if self.health.available:
            await self._redis(self._get_shard(name).unsubscribe(name))

    # --- the channel layer API, never raising for Redis' sake ---------------------------

    def new_direct_channel(self, handler: Handler, prefix: str = "specific.") -> str:
        """A channel whose messages are handed to `handler` as they arrive (no queue, no
        Redis subscription of its own); `detach` forgets it."""
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.direct[channel] = handler
        return channel

    def attach(self, channel: str, handler: Handler) -> None:
        """Deliver messages for `channel` (made by `new_channel`) to `handler` directly."""
        self.direct[channel] = handler

    def detach(self, channel: str) -> None:
        self.direct.pop(channel, None)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Hand one pub/sub message to this process's channels: direct ones at once (the
        message deserialized once for all of them), the others through their queues."""
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        data = message["data"]
        if name in self.groups:
            recipients = list(self.groups[name])
        elif name in self.channels or name in self.direct:
            recipients = [name]
        else:
            return
        event: dict[str, Any] | None = None
        for channel in recipients:
            handler = self.direct.get(channel)
            if handler is not None:
                if event is None:
                    event = self.channel_layer.deserialize(data)
                if not deliver_now(handler, channel, event):
                    await deliver(handler, channel, event)
            else:
                queue = self.channels.get(channel)
                if queue is not None:
                    queue.put_nowait(data)

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
        handler = self.direct.get(channel)
        if handler is not None:
            if not deliver_now(handler, channel, message):
                await deliver(handler, channel, message)
            return
        await self._publish(channel, message)

    async def group_send_many(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish each (group, message), in order, one pipelined round trip per Redis."""
        if not self.health.available:
            self.dropped += len(items)
            return
        by_shard: dict[int, list[tuple[str, bytes]]] = {}
        for group, message in items:
            name = self._get_group_channel_name(group)
            index = _consistent_hash(name, len(self._shards))
            by_shard.setdefault(index, []).append((name, self.channel_layer.serialize(message)))
        sent = await self._redis(
            asyncio.gather(*(self._shards[i].publish_many(batch) for i, batch in by_shard.items()))
        )
        if sent is None:
            self.dropped += len(items)

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
