"""The single-process channel layer, made cheap per delivered frame.

Channels' InMemoryChannelLayer walks every channel and every group membership on each
`send`, `receive` and `group_send` to expire old entries, deep-copies every message, and
starts one task per recipient: fine for a tutorial, O(sockets) per frame for a chat server.
Here expiry runs at most once a second; memberships never expire by age (the consumer
leaves its groups on disconnect, while Channels' default silently drops them after a day);
messages are passed as they are (every event HappyChat publishes is built fresh and never
mutated by a receiver); and a group send is a loop of put_nowait.

A consumer in this process may also `attach` itself: group messages for its channel are
then handed to its dispatch at once, skipping the queue, the wake-up of its receive task
and the new task Channels starts per received message.

The scale-out layer (`RedisPubSubLayer`, channels-redis' pub/sub layer) gets the same
direct delivery, deserializing a group message once for all of this process's sockets
instead of once per socket; publishes no longer queue behind each other and behind
subscriptions on one lock (the client's pool gives each its own connection), and
`group_send_many` sends a batch of group messages in one pipelined round trip.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _consistent_hash, _wrap_close, decode_hosts

CLEAN_INTERVAL = 1.0
Handler = Callable[[dict[str, Any]], Awaitable[None]]
logger = logging.getLogger("happychat.layer")


class FastInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cleaned_at = 0.0
        self.direct: dict[str, Handler] = {}

    def attach(self, channel: str, handler: Handler) -> None:
        """Deliver group messages for `channel` by awaiting `handler(message)` directly."""
        self.direct[channel] = handler

    def detach(self, channel: str) -> None:
        self.direct.pop(channel, None)
        self.channels.pop(channel, None)

    def _clean_expired(self) -> None:
        """Drop expired messages (and their channels' memberships), at most once a second."""
        now = time.monotonic()
        if now - self._cleaned_at < CLEAN_INTERVAL:
            return
        self._cleaned_at = now
        wall = time.time()
        for channel, queue in list(self.channels.items()):
            while not queue.empty() and queue._queue[0][0] < wall:
                queue.get_nowait()
                self._remove_from_groups(channel)
                if queue.empty():
                    self.channels.pop(channel, None)

    def _put(self, channel: str, message: dict[str, Any]) -> bool:
        """Queue the message for the channel; False if its queue is full."""
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        if queue.full():
            return False
        queue.put_nowait((time.time() + self.expiry, message))
        return True

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"  # noqa: S101
        self.require_valid_channel_name(channel)
        handler = self.direct.get(channel)
        if handler is not None:
            await _deliver(handler, channel, message)
            return
        if not self._put(channel, message):
            raise ChannelFull(channel)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "message is not a dict"  # noqa: S101
        self.require_valid_group_name(group)
        self._clean_expired()
        # A socket that stopped reading loses live frames when its queue is full; its
        # `sync` repairs the gap.
        for channel in list(self.groups.get(group, ())):
            handler = self.direct.get(channel)
            if handler is None:
                self._put(channel, message)
                continue
            await _deliver(handler, channel, message)

    async def group_send_many(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Send each (group, message) in order."""
        for group, message in items:
            await self.group_send(group, message)


async def _deliver(handler: Handler, channel: str, message: dict[str, Any]) -> None:
    try:
        await handler(message)
    except Exception:  # one broken socket must not stop the others' deliveries
        logger.exception("direct delivery to %s failed", channel)


class _Shard(RedisSingleShardConnection):
    """One Redis server: publishes without the shared lock, received messages dispatched by
    the loop layer (directly to attached consumers)."""

    channel_layer: "_RedisLoopLayer"

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
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    if message is not None:
                        await self.channel_layer.dispatch(message)
                else:
                    await asyncio.sleep(0.1)
            except (asyncio.CancelledError, TimeoutError, GeneratorExit):
                raise
            except Exception:
                logger.exception("receiving from Redis failed")
                await asyncio.sleep(1)


class _RedisLoopLayer(RedisPubSubLoopLayer):
    """channels-redis' per-loop pub/sub layer with direct delivery and batched publishes."""

    def __init__(self, hosts: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(hosts, *args, **kwargs)
        self._shards = [_Shard(host, self) for host in decode_hosts(hosts)]
        self.direct: dict[str, Handler] = {}

    def attach(self, channel: str, handler: Handler) -> None:
        """Deliver messages for `channel` by awaiting `handler(message)` directly."""
        self.direct[channel] = handler

    def detach(self, channel: str) -> None:
        self.direct.pop(channel, None)

    async def new_channel(self, prefix: str = "specific.") -> str:
        """A channel name, subscribed to nothing yet: an attached consumer needs no Redis
        subscription of its own (one round trip and one subscription per socket less);
        `receive` subscribes one that is read the usual way. `send` to an attached channel
        only reaches it from this process (HappyChat sends only to groups)."""
        return f"{self.prefix}{prefix}{uuid.uuid4().hex}"

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        handler = self.direct.get(channel)
        if handler is not None:
            await _deliver(handler, channel, message)
            return
        await super().send(channel, message)

    async def group_add(self, group: str, channel: str) -> None:
        if channel in self.direct and channel not in self.channels:
            # An attached channel has no queue (the parent insists on one).
            group_channel = self._get_group_channel_name(group)
            self.groups.setdefault(group_channel, set()).add(channel)
            await self._get_shard(group_channel).subscribe(group_channel)
            return
        await super().group_add(group, channel)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Hand one pub/sub message to this process's channels: attached ones directly (the
        message deserialized once for all of them), the others through their queues."""
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        data = message["data"]
        if name in self.channels:
            recipients = [name]
        elif name in self.groups:
            recipients = list(self.groups[name])
        else:
            return
        event: dict[str, Any] | None = None
        for channel in recipients:
            handler = self.direct.get(channel)
            if handler is not None:
                if event is None:
                    event = self.channel_layer.deserialize(data)
                await _deliver(handler, channel, event)
            elif channel in self.channels:
                self.channels[channel].put_nowait(data)

    async def group_send_many(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Publish each (group, message), in order, one pipelined round trip per Redis."""
        by_shard: dict[int, list[tuple[str, bytes]]] = {}
        for group, message in items:
            channel = self._get_group_channel_name(group)
            index = _consistent_hash(channel, len(self._shards))
            by_shard.setdefault(index, []).append((channel, self.channel_layer.serialize(message)))
        await asyncio.gather(
            *(self._shards[i].publish_many(batch) for i, batch in by_shard.items())
        )


class RedisPubSubLayer(RedisPubSubChannelLayer):
    """The scale-out channel layer (REDIS_URL): channels-redis' pub/sub layer made cheap per
    delivered frame (see the module docstring)."""

    def _get_layer(self) -> _RedisLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _RedisLoopLayer(
                *self._args, **self._kwargs, channel_layer=self
            )
            _wrap_close(self, loop)
        return layer
