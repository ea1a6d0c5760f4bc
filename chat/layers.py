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
and the new task Channels starts per received message. A consumer that can forward an
event without awaiting (`deliver_now`, see `deliver_now` below) is not even awaited: a
room's message reaches its members without four coroutines per member.

The scale-out layer (chat/redis_layer.py) offers the same direct delivery.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

CLEAN_INTERVAL = 1.0
Handler = Callable[[dict[str, Any]], Awaitable[None]]
logger = logging.getLogger("happychat.layer")


class FastInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cleaned_at = 0.0
        self.direct: dict[str, Handler] = {}

    def new_direct_channel(self, handler: Handler, prefix: str = "specific.") -> str:
        """A channel whose messages are handed to `handler` at once (no queue)."""
        channel = f"{prefix}inmemory!{uuid.uuid4().hex}"
        self.direct[channel] = handler
        return channel

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
            if not deliver_now(handler, channel, message):
                await deliver(handler, channel, message)
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
            if not deliver_now(handler, channel, message):
                await deliver(handler, channel, message)

    async def group_send_many(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Send each (group, message) in order."""
        for group, message in items:
            await self.group_send(group, message)


async def deliver(handler: Handler, channel: str, message: dict[str, Any]) -> None:
    """Await `handler(message)`; a failure is logged (one broken socket must not stop the
    other deliveries)."""
    try:
        await handler(message)
    except Exception:
        logger.exception("direct delivery to %s failed", channel)


def deliver_now(handler: Handler, channel: str, message: dict[str, Any]) -> bool:
    """Hand `message` to the handler's consumer without awaiting, if it can take it so
    (its `deliver_now(message)` returns True); False: `deliver` it instead. A failure is
    logged and counts as delivered, as in `deliver`."""
    take = getattr(getattr(handler, "__self__", None), "deliver_now", None)
    if take is None:
        return False
    try:
        return bool(take(message))
    except Exception:
        logger.exception("direct delivery to %s failed", channel)
        return True
