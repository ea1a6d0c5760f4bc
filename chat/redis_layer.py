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
- publishing does not go through redis-py's client (a pool checkout, a retry wrapper and a
  timeout context per call): each shard has one connection of our own (`_Publisher`)
  on which PUBLISH commands are written as they come, pipelined with those in flight,
  each batch waiting for its share of Redis' in-order replies; one watchdog timer gives
  up on a batch not answered within REDIS_TIMEOUT_SECONDS. `group_send_many` sends a
  batch of group messages in one write;
- the receive side is not redis-py's `PubSub.get_message` (a handful of coroutines, a
  timeout context and a retry wrapper per message): each shard's pub/sub connection is
  our own asyncio.Protocol (`_Subscriber`) that parses every complete push of a TCP chunk
  with hiredis and hands each message to `_LoopLayer.on_message` in the same call. A
  consumer that can take an event without awaiting (`deliver_now`) gets it there and
  then; the first that needs awaiting starts one drain task, and every later message
  waits behind it in order (`_backlog`), so per-channel order holds;
- a group message published here reaches this process's members at once (`_here`, in
  order with what is being received; live here even while Redis is away), and its
  payload starts with this layer's tag, so when Redis hands it back it is skipped with
  one bytes-prefix compare instead of being deserialized and offered to every member.

Both connections are hand-written on hiredis' parser because they are the hot path of
every delivered message; redis-py's client is kept for the healer's probe only.
The pub/sub connection follows the layer's own state: on (re)connect it subscribes to
every channel and group this process holds on its shard and waits for Redis' PONG (the
subscriptions are then in force); a lost connection is an outage, and the healer
replaces the connection (subscribing everything afresh) once Redis answers again. A
lost publishing connection fails what it had in flight (an outage if it was a publish's)
and the next publish opens another.
"""

import asyncio
import logging
import random
import ssl
import uuid
from collections import deque
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import hiredis
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _consistent_hash, _wrap_close, create_pool, decode_hosts
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection

from chat.layers import Handler, deliver, deliver_now
from happychat.redis_health import (
    REDIS_TIMEOUT_SECONDS,
    RETRY_SECONDS,
    RedisHealth,
    redis_errors,
)

logger = logging.getLogger("happychat.layer")
RESYNC_SPREAD_SECONDS = 3.0
# Received messages waiting behind an awaited delivery before we stop reading from Redis
# (it then buffers them, up to its pub/sub client output limit).
BACKLOG_PAUSE = 10_000
# A payload published by this layer starts with TAG_BYTE and 8 bytes naming its process
# (TAG_LENGTH in all). 0xC1 is never the first byte of msgpack nor of a Fernet token, so
# an untagged payload (another version's) is still read as it is.
TAG_BYTE = 0xC1
TAG_LENGTH = 9
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


def _command(*args: str | bytes) -> bytes:
    """One Redis command in RESP."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Subscriber(asyncio.Protocol):
    """One shard's pub/sub connection: hiredis parses what Redis pushes, and each message
    goes to the layer in the same call (no task, no coroutine per message)."""

    def __init__(self, shard: "_Shard") -> None:
        self.shard = shard
        self.on_message = shard.layer.on_message
        self.reader = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        self.pongs: deque[asyncio.Future[None]] = deque()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 (a stream connection)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        on_message = self.on_message
        while True:
            try:
                reply = reader.gets()
            except hiredis.ProtocolError as exc:
                logger.error("channel layer: bad reply from Redis (%s); reconnecting", exc)
                self.close()
                return
            if reply is False:
                return
            if type(reply) is list and reply[0] == b"message":
                try:
                    on_message(reply[1], reply[2])
                except Exception:
                    # A message we cannot read must not end the connection (asyncio would
                    # close it on an exception out of data_received).
                    logger.exception("channel layer: message on %r not delivered", reply[1])
            else:
                self._reply(reply)

    def _reply(self, reply: Any) -> None:
        # (un)subscribe confirmations and AUTH's OK need nothing; a PONG (a list in
        # subscribed mode) answers the oldest PING.
        if reply == b"PONG" or (type(reply) is list and reply[0] == b"pong"):
            if self.pongs:
                future = self.pongs.popleft()
                if not future.done():
                    future.set_result(None)
        elif isinstance(reply, hiredis.ReplyError):
            logger.error("channel layer: Redis refused the pub/sub connection: %s", reply)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        while self.pongs:
            future = self.pongs.popleft()
            if not future.done():
                future.set_exception(ConnectionError("Redis closed the pub/sub connection"))
        self.shard.lost(self, exc)

    def command(self, *args: str | bytes) -> None:
        """Write one command (nothing if the connection is gone: reconnecting resends)."""
        if self.transport is not None:
            self.transport.write(_command(*args))

    async def ping(self) -> None:
        """Return once Redis answered a PING, so everything written before is in force."""
        future = asyncio.get_running_loop().create_future()
        self.pongs.append(future)
        self.command(b"PING")
        await future

    def close(self) -> None:
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.abort()  # not close(): a hung Redis would never take the buffer


class _Publisher(asyncio.Protocol):
    """One shard's connection for PUBLISH: commands are written as they come, pipelined
    with whatever is in flight, and as Redis answers in order, each batch waits for its
    share of the replies (no pool, no task, no timeout context per publish). A batch not
    answered within REDIS_TIMEOUT_SECONDS fails with everything in flight and closes
    the connection (the next publish opens another)."""

    def __init__(self, shard: "_Shard") -> None:
        self.shard = shard
        self.reader = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        # [replies still due, the batch's future, when it was sent, a ReplyError or None]
        self.waiting: deque[list[Any]] = deque()
        self.watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 (a stream connection)
        self.transport = transport

    def send(self, data: bytes, replies: int) -> asyncio.Future[None]:
        """Write `data` (`replies` commands); the future is done once all are answered."""
        if self.transport is None:
            raise ConnectionError("Redis closed the publishing connection")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.append([replies, future, loop.time(), None])
        self.transport.write(data)
        if self.watchdog is None:
            self.watchdog = loop.call_at(loop.time() + REDIS_TIMEOUT_SECONDS, self._watch)
        return future

    def _watch(self) -> None:
        self.watchdog = None
        if not self.waiting:
            return
        loop = asyncio.get_running_loop()
        due = self.waiting[0][2] + REDIS_TIMEOUT_SECONDS
        if loop.time() >= due:
            self.close(TimeoutError("Redis did not answer a publish in time"))
        else:
            self.watchdog = loop.call_at(due, self._watch)

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        waiting = self.waiting
        while True:
            try:
                reply = reader.gets()
            except hiredis.ProtocolError as exc:
                self.close(ConnectionError(f"bad reply from Redis: {exc}"))
                return
            if reply is False:
                return
            if not waiting:
                self.close(ConnectionError(f"unexpected reply from Redis: {reply!r}"))
                return
            batch = waiting[0]
            if isinstance(reply, hiredis.ReplyError):
                batch[3] = reply
            batch[0] -= 1
            if batch[0] == 0:
                waiting.popleft()
                future = batch[1]
                if not future.done():
                    if batch[3] is None:
                        future.set_result(None)
                    else:
                        future.set_exception(ConnectionError(f"Redis refused: {batch[3]}"))

    def close(self, exc: BaseException | None = None) -> None:
        self._fail(exc or ConnectionError("the publishing connection was closed"))
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.abort()  # not close(): a hung Redis would never take the buffer

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(exc or ConnectionError("Redis closed the publishing connection"))
        self.shard.publisher_lost(self)

    def _fail(self, exc: BaseException) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        while self.waiting:
            future = self.waiting.popleft()[1]
            if not future.done():
                future.set_exception(exc)


def _publish_command(channel: str, message: bytes) -> bytes:
    name = channel.encode()
    return b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(name),
        name,
        len(message),
        message,
    )


class _Shard(RedisSingleShardConnection):
    """Publishes through a `_Publisher`, receives through a `_Subscriber` (redis-py's
    client is left for the healer's probe)."""

    def __init__(self, host: dict[str, Any], layer: "_LoopLayer") -> None:
        super().__init__(host, layer)
        self.layer = layer
        self.subscriber: _Subscriber | None = None
        self.publisher: _Publisher | None = None
        self._publisher_lock = asyncio.Lock()
        self._endpoint: tuple[dict[str, Any], list[bytes]] | None = None

    async def publish(self, channel: str, message: bytes) -> None:
        await self.publish_many([(channel, message)])

    async def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        """PUBLISH each (channel, message), in order, in one write; return once Redis has
        answered them all (raises if it did not within REDIS_TIMEOUT_SECONDS)."""
        publisher = self.publisher
        if publisher is None or publisher.transport is None:
            publisher = await asyncio.wait_for(self._open_publisher(), REDIS_TIMEOUT_SECONDS)
        data = b"".join([_publish_command(channel, message) for channel, message in items])
        await publisher.send(data, len(items))

    async def _open_publisher(self) -> _Publisher:
        async with self._publisher_lock:
            publisher = self.publisher
            if publisher is not None and publisher.transport is not None:
                return publisher
            publisher = _Publisher(self)
            await self._open(publisher)
            try:
                _, auth = self._where()
                if auth:
                    await publisher.send(_command(b"AUTH", *auth), 1)
            except BaseException:
                publisher.close()
                raise
            self.publisher = publisher
            return publisher

    def publisher_lost(self, publisher: _Publisher) -> None:
        if publisher is self.publisher:
            self.publisher = None  # the next publish connects again

    def drop_publisher(self) -> None:
        publisher, self.publisher = self.publisher, None
        if publisher is not None:
            publisher.close()

    async def _open(self, protocol: asyncio.Protocol) -> None:
        kwargs, _ = self._where()
        loop = asyncio.get_running_loop()
        if "path" in kwargs:
            await loop.create_unix_connection(lambda: protocol, **kwargs)
        else:
            await loop.create_connection(lambda: protocol, **kwargs)

    def connected(self) -> _Subscriber | None:
        subscriber = self.subscriber
        if subscriber is None or subscriber.transport is None:
            return None
        return subscriber

    async def subscribe(self, channel: str) -> None:
        subscriber = self.connected()
        if subscriber is None:
            await self.connect()  # subscribes to everything held, `channel` too
        else:
            subscriber.command(b"SUBSCRIBE", channel)

    async def unsubscribe(self, channel: str) -> None:
        subscriber = self.connected()
        if subscriber is not None:
            subscriber.command(b"UNSUBSCRIBE", channel)
        # else: the next connection subscribes only to what is held then

    async def connect(self, *, fresh: bool = False) -> None:
        """Open the pub/sub connection unless one is open (`fresh`: replace it), subscribe
        to every channel and group the layer holds on this shard, and return once Redis
        has taken them."""
        async with self._lock:
            if not fresh and self.connected() is not None:
                return
            self.drop()
            _, auth = self._where()
            subscriber = _Subscriber(self)
            try:
                await self._open(subscriber)
                self.subscriber = subscriber
                if auth:
                    subscriber.command(b"AUTH", *auth)
                names = self.layer.held(self)
                if names:
                    subscriber.command(b"SUBSCRIBE", *names)
                await subscriber.ping()
            except BaseException:
                if self.subscriber is subscriber:
                    self.drop()
                else:
                    subscriber.close()
                raise

    def drop(self) -> None:
        """Close the pub/sub connection on purpose (not an outage)."""
        subscriber, self.subscriber = self.subscriber, None
        if subscriber is not None:
            subscriber.close()

    def lost(self, subscriber: _Subscriber, exc: Exception | None) -> None:
        if subscriber is self.subscriber:  # not one we dropped
            self.subscriber = None
            self.layer.unavailable(exc or ConnectionError("Redis closed the pub/sub connection"))

    def _where(self) -> tuple[dict[str, Any], list[bytes]]:
        """Where the configured Redis is (redis-py's reading of the URL) and AUTH's args."""
        if self._endpoint is None:
            if "master_name" in self.host:
                raise ValueError("the channel layer does not support Redis Sentinel hosts")
            pool = create_pool(self.host)
            options = pool.connection_kwargs
            kwargs: dict[str, Any]
            if issubclass(pool.connection_class, UnixDomainSocketConnection):
                kwargs = {"path": options["path"]}
            else:
                kwargs = {
                    "host": options.get("host", "localhost"),
                    "port": options.get("port", 6379),
                }
                if issubclass(pool.connection_class, SSLConnection):
                    context = pool.make_connection().ssl_context.get()
                    assert isinstance(context, ssl.SSLContext)  # noqa: S101
                    kwargs["ssl"] = context
            auth: list[bytes] = []
            if options.get("password"):
                if options.get("username"):
                    auth.append(str(options["username"]).encode())
                auth.append(str(options["password"]).encode())
            self._endpoint = (kwargs, auth)
        return self._endpoint

    async def flush(self) -> None:
        async with self._lock:
            self.drop()
        self.drop_publisher()
        await super().flush()


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
        # Messages received while a delivery is awaited (None: nothing awaited): (channel,
        # payload, the event if it is already deserialized).
        self._backlog: deque[tuple[str, bytes, dict[str, Any] | None]] | None = None
        # What our publishes start with: Redis hands them back, delivered here already.
        self.tag = bytes([TAG_BYTE]) + uuid.uuid4().bytes[:8]
        self._drainer: asyncio.Future[None] | None = None

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
            if any(shard.connected() is None for shard in self._shards):
                continue  # lost again while we subscribed
            self.health.ok()
            self._tell_sockets_to_resync()
            if self.dropped:
                logger.warning("channel layer: %d wake-ups dropped while away", self.dropped)
                self.dropped = 0
            return

    async def _resubscribe(self) -> None:
        # A fresh connection per shard: subscribed to exactly what is held now (what was
        # left while Redis was away is dropped with the old one), confirmed by a PONG.
        for shard in self._shards:
            shard.drop_publisher()  # what it held in flight was given up on already
            await asyncio.wait_for(shard.connect(fresh=True), REDIS_TIMEOUT_SECONDS)

    def held(self, shard: _Shard) -> list[str]:
        """The channels (with queues) and groups of this process that live on `shard`."""
        names: Iterable[str] = [*self.channels, *self.groups]
        if len(self._shards) > 1:
            names = [name for name in names if self._get_shard(name) is shard]
        return list(names)

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

    # --- receiving ------------------------------------------------------------------------

    def on_message(self, name: bytes, data: bytes) -> None:
        """Hand one pub/sub message to this process's channels (but not one this layer
        published: `_here` delivered it when it was sent)."""
        if data and data[0] == TAG_BYTE:
            if data.startswith(self.tag):
                return
            data = data[TAG_LENGTH:]
        self._here(name.decode(), data, None)

    def _here(self, name: str, data: bytes, event: dict[str, Any] | None) -> None:
        """Deliver a message for channel or group `name` to this process's channels, in
        the order of these calls: direct ones at once where they can take it without
        awaiting (`event`, or `data` deserialized once for all of them), queued ones
        through their queues. Behind a delivery that must be awaited, it waits its turn
        in the backlog."""
        backlog = self._backlog
        if backlog is not None:
            backlog.append((name, data, event))
            if len(backlog) == BACKLOG_PAUSE:
                self._pause_reading(True)
            return
        stop = self._deliver(self._recipients(name), data, event, 0)
        if stop is not None:
            self._backlog = deque()
            self._drainer = asyncio.ensure_future(self._drain(*stop))

    def _recipients(self, channel: str) -> list[str]:
        members = self.groups.get(channel)
        if members is not None:
            return list(members)
        if channel in self.direct or channel in self.channels:
            return [channel]
        return []

    def _deliver(
        self, recipients: list[str], data: bytes, event: dict[str, Any] | None, start: int
    ) -> tuple[list[str], bytes, dict[str, Any], int] | None:
        """Deliver to recipients[start:] what needs no awaiting; stop at the first that
        does and return where (recipients, data, event, its index), else None."""
        direct = self.direct
        for index in range(start, len(recipients)):
            channel = recipients[index]
            handler = direct.get(channel)
            if handler is None:
                queue = self.channels.get(channel)
                if queue is not None:
                    queue.put_nowait(data)
                continue
            if event is None:
                event = self.channel_layer.deserialize(data)
            if not deliver_now(handler, channel, event):
                return recipients, data, event, index
        return None

    async def _drain(
        self, recipients: list[str], data: bytes, event: dict[str, Any], index: int
    ) -> None:
        """Await the delivery `_here` could not make at once, then deliver what
        arrived meanwhile, in order, until nothing is left."""
        backlog = self._backlog
        assert backlog is not None  # noqa: S101
        try:
            while True:
                handler = self.direct.get(recipients[index])
                if handler is not None:
                    await deliver(handler, recipients[index], event)
                stop = self._deliver(recipients, data, event, index + 1)
                while stop is None and backlog:
                    name, data, known = backlog.popleft()
                    stop = self._deliver(self._recipients(name), data, known, 0)
                if stop is None:
                    return
                recipients, data, event, index = stop
        finally:
            self._backlog = None
            self._drainer = None
            self._pause_reading(False)

    def _pause_reading(self, pause: bool) -> None:
        for shard in self._shards:
            subscriber = shard.connected()
            if subscriber is not None:
                assert subscriber.transport is not None  # noqa: S101
                if pause:
                    subscriber.transport.pause_reading()
                elif not subscriber.transport.is_reading():
                    subscriber.transport.resume_reading()

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
        """Deliver each (group, message) to this process's members at once and publish
        it for the others, in order, one pipelined round trip per Redis."""
        by_shard: dict[int, list[tuple[str, bytes]]] = {}
        serialize = self.channel_layer.serialize
        tag = self.tag
        for group, message in items:
            name = self._get_group_channel_name(group)
            payload = serialize(message)
            if name in self.groups:
                self._here(name, payload, message)
            index = _consistent_hash(name, len(self._shards))
            by_shard.setdefault(index, []).append((name, tag + payload))
        # While Redis is away the other processes' wake-ups are dropped at once; `sync`
        # brings what they carried.
        if not self.health.available:
            self.dropped += len(items)
            return
        try:
            if len(by_shard) == 1:
                index, batch = by_shard.popitem()
                await self._shards[index].publish_many(batch)
            else:
                await asyncio.gather(
                    *(self._shards[i].publish_many(b) for i, b in by_shard.items())
                )
        except _FAILURES as exc:
            self.unavailable(exc)
            self.dropped += len(items)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self.group_send_many([(group, message)])

    async def _publish(self, name: str, message: dict[str, Any]) -> None:
        # While Redis is away a wake-up is dropped at once; `sync` brings what it carried.
        if not self.health.available:
            self.dropped += 1
            return
        payload = self.channel_layer.serialize(message)
        try:
            await self._get_shard(name).publish(name, payload)
        except _FAILURES as exc:
            self.unavailable(exc)
            self.dropped += 1
