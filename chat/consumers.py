"""The /ws/chat/ socket: one per device, carrying every conversation of its user.

The consumer authenticates, dispatches each frame through a table of handlers to one
service, and forwards channel-layer events (pre-encoded frames) to the socket. Frame
parsing, rate limits and the Origin rule live in chat/transport.py; the database writer
in chat/writer.py. See docs/protocol.md §2 for the contract.

Nothing a client sends may end the consumer with an exception (daphne would close with
1011 and `disconnect` would never run): every frame ends in a handler's answer, an
`error` frame or a clean close, and clean-up runs however the socket ends.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from channels.auth import get_user
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from accounts.selectors_auth import socket_credentials_valid
from accounts.serializers import user_payload
from chat import events as chat_events
from chat import presence, selectors, transport, writer
from chat.serializers import message_payload
from chat.services.changes import REACTIONS, message_edit, message_react, message_recall
from chat.services.messages import conversation_mark_read, message_send, message_send_steps
from chat.transport import (
    CLOSE_ABUSE,
    CLOSE_IDLE,
    CLOSE_REVOKED,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNAVAILABLE,
    BadFrame,
    Strikes,
    TokenBucket,
    cursors_field,
    header,
    id_field,
    int_field,
    origin_allowed,
    parse,
)
from chat.writer import db_read, db_write
from happychat import events
from happychat.errors import (
    Busy,
    DomainError,
    InvalidAttachment,
    InvalidInput,
    NotMember,
    RateLimited,
)
from happychat.validators import MAX_ID

logger = logging.getLogger("happychat.consumer")

# Every write of these is inside their own transaction.atomic() (chat/writer.py).
writer.self_contained(message_send, conversation_mark_read)
# On PostgreSQL a batch's plain sends are one round trip and one commit (chat/statements.py).
writer.in_steps(message_send, message_send_steps)

# Offences before a socket is closed with 4029, and how fast they are forgiven.
MAX_BAD_FRAMES = 20  # unparsable, unknown or invalid frames
BAD_FRAMES_FORGIVEN_PER_SECOND = 1 / 60
MAX_REFUSED_SENDS = 500  # `send`s answered `rate_limited`, sent on regardless
REFUSED_SENDS_FORGIVEN_PER_SECOND = 10.0
MAX_PIPELINED_SYNCS = 20  # syncs over the rate sent without waiting for `synced`
PIPELINED_SYNCS_FORGIVEN_PER_SECOND = 0.2
MAX_PENDING_WRITES = 100  # per socket: sends and reads waiting for the writer
RESUBSCRIBE_SECONDS = 120.0
SYNC_SLICE = 20  # messages of a sync page sent before letting other sockets' work run
PRESENCE_TOUCH_SECONDS = 5.0
TYPING_INTERVAL = 2.0

_Job = tuple[Coroutine[Any, Any, None], Any]
NOBODY: frozenset[int] = frozenset()
RESYNC_FRAME = events.encode({"type": "event", "event": "resync", "data": {}})


def _change_payloads(*, service: Any, **kwargs: Any) -> tuple[dict[str, Any] | None, Any]:
    """Run a change service on the writer thread and encode its entry and folded target there
    (they read related rows, which the event loop must not)."""
    target, entry = service(**kwargs)
    return (message_payload(entry) if entry is not None else None), message_payload(target)


@database_sync_to_async
def _user_for_token(token: str) -> tuple[Any, str] | None:
    from knox.auth import TokenAuthentication
    from rest_framework.exceptions import AuthenticationFailed

    try:
        user, auth_token = TokenAuthentication().authenticate_credentials(token.encode())
    except AuthenticationFailed:
        return None
    return user, auth_token.token_key


def limits_payload() -> dict[str, Any]:
    """The server's limits a client's UI needs to know (docs/protocol.md §2.3 `hello`)."""
    return {
        "recall_seconds": settings.CHAT_RECALL_SECONDS,
        "edit_seconds": settings.CHAT_EDIT_SECONDS,
        "text_max_chars": settings.CHAT_MAX_BODY_CHARS,
        "image_max_bytes": settings.UPLOAD_MAX_BYTES,
        "file_max_bytes": settings.CHAT_FILE_MAX_BYTES,
        "forward_max": settings.CHAT_FORWARD_MAX,
        "reactions": list(REACTIONS),
    }


# Users whose socket this process closed with 4029 → until when their new sockets are closed
# at once (the flooder that reconnects gets no fresh burst of frame and send budget).
_cooling_down: dict[int, float] = {}


def _cool_down(user_id: int) -> None:
    now = time.monotonic()
    if len(_cooling_down) > 10_000:
        for uid in [u for u, until in _cooling_down.items() if until <= now]:
            del _cooling_down[uid]
    _cooling_down[user_id] = now + settings.CHAT_ABUSE_COOLDOWN_SECONDS


def _cooling(user_id: int) -> bool:
    until = _cooling_down.get(user_id)
    return until is not None and until > time.monotonic()


class ChatConsumer(AsyncWebsocketConsumer):
    """Authenticate, then dispatch client frames through an explicit table of handlers."""

    handlers = {
        "auth": "handle_auth",
        "ping": "handle_ping",
        "send": "handle_send",
        "sync": "handle_sync",
        "read": "handle_read",
        "typing": "handle_typing",
        "recall": "handle_recall",
        "edit": "handle_edit",
        "react": "handle_react",
    }
    # Frames allowed before authentication; everything else waits for `auth`.
    anonymous_types = frozenset({"auth", "ping"})

    user: Any = None
    session_key: str | None = None
    token_key: str | None = None
    _inbound: Any = None
    _cleaned = False
    user_id_started: int | None = None
    # Per-socket state until first set on the instance (_init_state says why).
    online_registered = False
    presence_pending = False
    touched_at = 0.0
    closing = False
    # People blocked either way: neither side sees the other's presence or typing.
    hidden: frozenset[int] = NOBODY
    _typing_sent: dict[int, float] | None = None
    _presence_seen: dict[int, bool] | None = None
    _deferred_reads: dict[int, int] | None = None
    _send_bucket: TokenBucket | None = None
    _sync_bucket: TokenBucket | None = None
    _read_bucket: TokenBucket | None = None
    _bad_frames: Strikes | None = None
    _refused_sends: Strikes | None = None
    _pipelined_syncs: Strikes | None = None
    read_flusher: asyncio.Task[None] | None = None
    jobs: asyncio.Queue[_Job] | None = None
    worker: asyncio.Future[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # daphne and the test communicator hand us `queue.get`: its queue is this socket's
        # inbound frames waiting to be handled (read to tell a pipelined flood).
        self._inbound = getattr(receive, "__self__", None)
        self._init_state(scope)
        try:
            layer = get_channel_layer(self.channel_layer_alias)
            if getattr(layer, "new_direct_channel", None) is None:
                await super().__call__(scope, receive, send)
            else:
                await self._serve(scope, receive, send)
        finally:
            transport.unwatch(self)
            await self.cleanup()

    async def _serve(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' consumer loop, for a layer that hands this socket's events to
        `dispatch` itself (HappyChat's layers): only the client's frames are awaited here.

        Channels' own loop also waits on the layer for the socket's channel: a queue and a
        task per socket, and a new task and `asyncio.wait` per frame.
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = self.channel_layer.new_direct_channel(self.dispatch)
        self.base_send = send
        try:
            inbound = self._inbound
            while True:
                await self.dispatch(await receive())
                if inbound is not None and inbound.qsize():
                    # More of this socket's frames wait: let other sockets' work run first,
                    # so one socket's burst does not hold up everyone's deliveries.
                    await asyncio.sleep(0)
        except StopConsumer:
            return  # the consumer closed: Channels' way of ending its loop

    def _init_state(self, scope: Any) -> None:
        # Kept small: an idle socket is most sockets. What only some sockets use (a write
        # queue, rate limits of rarer frames, typing and presence memory) is made on first
        # use, and its "not yet" is a class attribute (above), not an entry in every
        # socket's __dict__ (at 30 entries it takes 1.5 KiB, at 17 0.2); timers are one
        # sweep per process (transport.watch), not one per socket.
        self.last_seen = self.connected_at = self.subscribed_at = time.monotonic()
        self.subscriptions: set[int] = set()
        # daphne's flow control (chat/flow.py); None in tests without daphne.
        self.flow: Any = scope.get("extensions", {}).get("happychat.flow")

    # Per-socket state made on first use.

    @property
    def typing_sent(self) -> dict[int, float]:
        if self._typing_sent is None:
            self._typing_sent = {}
        return self._typing_sent

    @property
    def presence_seen(self) -> dict[int, bool]:
        if self._presence_seen is None:
            self._presence_seen = {}
        return self._presence_seen

    @property
    def deferred_reads(self) -> dict[int, int]:
        if self._deferred_reads is None:
            self._deferred_reads = {}
        return self._deferred_reads

    @property
    def send_bucket(self) -> TokenBucket:
        if self._send_bucket is None:
            self._send_bucket = TokenBucket(settings.CHAT_SEND_RATE, settings.CHAT_SEND_BURST)
        return self._send_bucket

    @property
    def sync_bucket(self) -> TokenBucket:
        if self._sync_bucket is None:
            self._sync_bucket = TokenBucket(settings.CHAT_SYNC_RATE, settings.CHAT_SYNC_BURST)
        return self._sync_bucket

    @property
    def read_bucket(self) -> TokenBucket:
        if self._read_bucket is None:
            self._read_bucket = TokenBucket(settings.CHAT_READ_RATE, settings.CHAT_READ_BURST)
        return self._read_bucket

    @property
    def bad_frames(self) -> Strikes:
        if self._bad_frames is None:
            self._bad_frames = Strikes(MAX_BAD_FRAMES, BAD_FRAMES_FORGIVEN_PER_SECOND)
        return self._bad_frames

    @property
    def refused_sends(self) -> Strikes:
        if self._refused_sends is None:
            self._refused_sends = Strikes(MAX_REFUSED_SENDS, REFUSED_SENDS_FORGIVEN_PER_SECOND)
        return self._refused_sends

    @property
    def pipelined_syncs(self) -> Strikes:
        if self._pipelined_syncs is None:
            self._pipelined_syncs = Strikes(
                MAX_PIPELINED_SYNCS, PIPELINED_SYNCS_FORGIVEN_PER_SECOND
            )
        return self._pipelined_syncs

    def check_deadlines(self, now: float) -> int | None:
        """The close code this socket is due for now (transport.watch's sweep), if any."""
        if self.user is None:
            if now - self.connected_at >= settings.CHAT_AUTH_TIMEOUT_SECONDS:
                return CLOSE_UNAUTHENTICATED
        elif now - self.last_seen >= settings.CHAT_HEARTBEAT_SECONDS * 2.5:
            return CLOSE_IDLE
        return None

    def inbound_waiting(self) -> int:
        """How many frames from this client wait behind the one being handled."""
        qsize: Callable[[], int] | None = getattr(self._inbound, "qsize", None)
        return qsize() if qsize is not None else 0

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Call the handler for a frame or event, with no thread hop; never raise.

        Channels' own dispatch first hops to a worker thread to close stale database
        connections, once per message: per delivered frame. This consumer touches the
        database only through DatabaseSyncToAsync, which does that in its own thread.
        A failing handler is logged; the socket lives on (an exception here would end
        the consumer, and daphne would close the socket with 1011).
        """
        handler: Callable[[dict[str, Any]], Awaitable[None]] | None = getattr(
            self, get_handler_name(message), None
        )
        if handler is None:
            logger.error("no handler for %r", message.get("type"))
            return
        try:
            await handler(message)
        except StopConsumer:
            raise
        except Exception:
            logger.exception("%s failed on %s", message.get("type"), self.channel_name)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Close once; frames after the close are not sent."""
        if self.closing:
            return
        self.closing = True
        if code == CLOSE_ABUSE and self.user_id_started is not None:
            _cool_down(self.user_id_started)
        await super().close(code=code, reason=reason)

    async def connect(self) -> None:
        events.bind_loop(asyncio.get_running_loop())
        await self.accept()
        transport.watch(self)
        try:
            await self.authenticate()
        except Exception:
            # The database (or the channel layer) failed us: say "try again later".
            logger.exception("socket set-up failed")
            await self.close(code=CLOSE_UNAVAILABLE)

    async def authenticate(self) -> None:
        """Authenticate by session cookie (from an allowed Origin) or token header, or wait."""
        session = self.scope.get("session") or transport.cookie_session(self.scope)
        if session is not None:
            user = await get_user({"session": session})
            if user.is_authenticated and origin_allowed(self.scope):
                self.session_key = session.session_key
                await self.start(user)
                return
        authorization = header(self.scope, b"authorization") or ""
        if authorization.startswith("Token "):
            found = await _user_for_token(authorization.removeprefix("Token ").strip())
            if found is None:
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            self.token_key = found[1]
            await self.start(found[0])
            return

    async def start(self, user: Any) -> None:
        """Bind the socket to `user`: subscribe, greet, and watch the heartbeat."""
        if _cooling(user.pk):
            # Closed for abuse moments ago: not another socket's worth of budget yet.
            await self.close(code=CLOSE_ABUSE)
            return
        self.user = user
        self.user_id_started = user.pk
        await self.channel_layer.group_add(events.user_group(user.pk), self.channel_name)
        await self.on_authenticated()
        await self.send_hello()
        await self.after_hello()

    async def on_authenticated(self) -> None:
        """Follow every conversation of the user and announce them online."""
        view = await db_read(selectors.socket_view, user_id=self.user.pk)
        if view.hidden_user_ids:
            self.hidden = frozenset(view.hidden_user_ids)
        for cid in view.conversation_ids:
            await self.subscribe(cid)
        self.online_registered = True
        await self.register_presence()

    async def register_presence(self) -> None:
        """Count this socket online, announcing the user if they just came online.

        Redis may be away (presence degrades, docs/faults.md): then a later heartbeat
        tries again.
        """
        self.touched_at = time.monotonic()
        added = await presence.store().add(self.user.pk, self.channel_name)
        self.presence_pending = added is None
        if added:
            await chat_events.presence(
                conversation_ids=list(self.subscriptions), user_id=self.user.pk, online=True
            )

    async def after_hello(self) -> None:
        """Tell the new socket which of its direct peers are online now."""
        peers = await db_read(selectors.direct_peer_ids, user_id=self.user.pk)
        visible = [uid for uid in peers if uid not in self.hidden]
        for uid in sorted(await presence.store().online(visible)):
            self.presence_seen[uid] = True
            await self.send_json({"type": "presence", "user": uid, "online": True})

    async def subscribe(self, conversation_id: int) -> None:
        self.subscriptions.add(conversation_id)
        await self.channel_layer.group_add(
            events.conversation_group(conversation_id), self.channel_name
        )

    async def unsubscribe(self, conversation_id: int) -> None:
        self.subscriptions.discard(conversation_id)
        await self.channel_layer.group_discard(
            events.conversation_group(conversation_id), self.channel_name
        )

    async def send_hello(self) -> None:
        await self.send_json(
            {
                "type": "hello",
                "user": user_payload(self.user),
                "heartbeat": settings.CHAT_HEARTBEAT_SECONDS,
                "server_time": timezone.now().isoformat(),
                "limits": limits_payload(),
            }
        )

    async def disconnect(self, code: int) -> None:
        await self.cleanup()

    async def cleanup(self) -> None:
        """Leave the layer, stop this socket's tasks, and go offline: once, on every end.

        Runs from `disconnect` and again (as a no-op) when the consumer ends, so a socket
        that ends any other way (cancelled at shutdown, a crash) is cleaned up too.
        """
        if self._cleaned:
            return
        self._cleaned = True
        self.closing = True
        transport.unwatch(self)
        channel = getattr(self, "channel_name", None)
        detach = getattr(self.channel_layer, "detach", None)
        if detach is not None and channel is not None:
            detach(channel)
        for task in (self.read_flusher, self.worker):
            if task is not None:
                # Writes already handed to the database finish; their acks are lost with
                # the socket, and the client's retry with the same id gets them back.
                task.cancel()
        while self.jobs is not None and not self.jobs.empty():
            self.jobs.get_nowait()[0].close()
            writer.release()
        if self.user is None or channel is None:
            return
        conversation_ids = list(self.subscriptions)
        try:
            await self.channel_layer.group_discard(events.user_group(self.user.pk), channel)
            for cid in conversation_ids:
                await self.unsubscribe(cid)
        except Exception:
            logger.exception("leaving the channel layer groups failed")
        try:
            if self.online_registered and await presence.store().remove(self.user.pk, channel):
                await chat_events.presence(
                    conversation_ids=conversation_ids, user_id=self.user.pk, online=False
                )
        except Exception:
            logger.exception("going offline failed")

    # --- inbound ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_seen = time.monotonic()
        if self.closing:
            return
        try:
            frame = parse(text_data, bytes_data)
        except BadFrame as exc:
            await self.reject(exc.code, exc.detail)
            return
        kind = frame["type"]
        handler_name = self.handlers.get(kind)
        if handler_name is None:
            await self.reject("unknown_type", f"Unknown frame type {kind[:40]!r}.")
            return
        if self.user is None and kind not in self.anonymous_types:
            await self.reject("unauthenticated", "Authenticate first with an auth frame.")
            return
        try:
            await getattr(self, handler_name)(frame)
        except InvalidInput as exc:
            await self.reject(exc.code, exc.detail, ref=frame.get("id"))
        except DomainError as exc:
            await self.send_error(exc.code, exc.detail, ref=frame.get("id"), **exc.extra)
        except Exception:
            # Not the client's doing (every input is checked before use): storage or the
            # channel layer failed. Nothing was stored; the same frame may be sent again.
            logger.exception("%s frame failed", kind)
            await self.send_error(
                "busy",
                "The server could not handle this; retry.",
                ref=frame.get("id"),
                retryable=True,
            )

    async def reject(self, code: str, detail: str, ref: Any = None) -> None:
        """Answer a bad frame; close a socket that keeps sending them."""
        await self.send_error(code, detail, ref=ref)
        if self.bad_frames.hit():
            await self.close(code=CLOSE_ABUSE)

    async def send_error(self, code: str, detail: str, ref: Any = None, **extra: Any) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail, **extra}
        if ref is not None:
            frame["ref"] = ref
        await self.send_json(frame)

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=events.encode(frame))

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        if self.closing and not close:
            return
        flow = self.flow
        if text_data is not None and not close and flow is not None and flow.send_text(text_data):
            return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def forward(self, text: str) -> None:
        """Send a frame encoded by the publisher: the channel-layer handlers' path to the
        socket, once per delivered frame, so straight to daphne's transport (chat/flow.py)
        or else to the ASGI send."""
        if not self.closing:
            flow = self.flow
            if flow is None or not flow.send_text(text):
                await self.base_send({"type": "websocket.send", "text": text})

    async def handle_auth(self, frame: dict[str, Any]) -> None:
        if self.user is not None:
            await self.send_hello()
            return
        token = frame.get("token")
        found = await _user_for_token(token) if isinstance(token, str) and token else None
        if found is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.token_key = found[1]
        await self.start(found[0])

    async def handle_ping(self, frame: dict[str, Any]) -> None:
        now = time.monotonic()
        if self.online_registered and now - self.touched_at >= PRESENCE_TOUCH_SECONDS:
            if self.presence_pending:
                await self.register_presence()
            else:
                self.touched_at = now
                await presence.store().touch(self.user.pk, self.channel_name)
        await self.send_json({"type": "pong", "server_time": timezone.now().isoformat()})
        if self.user is not None and now - self.subscribed_at > RESUBSCRIBE_SECONDS:
            await self.resubscribe()

    async def resubscribe(self) -> None:
        """Renew this socket's channel-layer groups.

        A channel layer may lose memberships (channels-redis' core layer drops them after
        `group_expiry` and on a Redis restart); renewing them on a heartbeat brings live
        delivery back on its own (what was missed meanwhile comes with the next `sync`).
        """
        self.subscribed_at = time.monotonic()
        await self.channel_layer.group_add(events.user_group(self.user.pk), self.channel_name)
        for cid in self.subscriptions:
            await self.channel_layer.group_add(events.conversation_group(cid), self.channel_name)

    async def handle_send(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("id")
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= 64:
            raise InvalidInput("`id` must be a string of 1 to 64 characters.")
        conversation_id = id_field(frame, "conversation")
        attachment = frame.get("attachment")
        if (
            isinstance(attachment, int)
            and not isinstance(attachment, bool)
            and not 1 <= attachment <= MAX_ID
        ):
            raise InvalidAttachment("No such upload.")
        if not self.send_bucket.take():
            if self.refused_sends.hit():
                await self.close(code=CLOSE_ABUSE)
            raise RateLimited("Sending too fast; retry this message shortly.")
        self.enqueue(self.store(frame, client_id, conversation_id), ref=client_id)

    async def store(self, frame: dict[str, Any], client_id: str, conversation_id: int) -> None:
        message, _ = await db_write(
            message_send,
            sender=self.user,
            conversation_id=conversation_id,
            client_id=client_id,
            kind=frame.get("kind", "text"),
            body=frame.get("body", ""),
            attachment_id=frame.get("attachment"),
            reply_to=frame.get("reply_to"),
            mentions=frame.get("mentions"),
            mention_all=frame.get("mention_all", False),
            origin=self.channel_name,
        )
        encoded = message.encoded_payload or events.encode(message_payload(message))
        await self.send(
            text_data=events.frame_with_message({"type": "ack", "id": client_id}, encoded)
        )

    # Changes to a message (docs/message-changes.md): one service each, through the same
    # writer as sends. The ack carries the entry appended to the sequence (null when the
    # frame changed nothing, e.g. a repeated recall) and the folded target.

    async def _change(self, frame: dict[str, Any], service: Any, **kwargs: Any) -> None:
        ref = frame.get("id")
        if not isinstance(ref, str) or not 1 <= len(ref) <= 64:
            raise InvalidInput("`id` must be a string of 1 to 64 characters.")
        message_id = id_field(frame, "message")
        if not self.send_bucket.take():
            if self.refused_sends.hit():
                await self.close(code=CLOSE_ABUSE)
            raise RateLimited("Sending too fast; retry shortly.")
        self.enqueue(self.change(ref, service, message_id=message_id, **kwargs), ref=ref)

    async def change(self, ref: str, service: Any, **kwargs: Any) -> None:
        entry, target = await db_write(
            _change_payloads, service=service, user=self.user, origin=self.channel_name, **kwargs
        )
        await self.send_json({"type": "ack", "id": ref, "message": entry, "target": target})

    async def handle_recall(self, frame: dict[str, Any]) -> None:
        await self._change(frame, message_recall)

    async def handle_edit(self, frame: dict[str, Any]) -> None:
        await self._change(frame, message_edit, body=frame.get("body"))

    async def handle_react(self, frame: dict[str, Any]) -> None:
        await self._change(frame, message_react, emoji=frame.get("emoji"), on=frame.get("on"))

    def enqueue(self, job: Coroutine[Any, Any, None], *, ref: Any = None) -> None:
        """Run a database write after this socket's earlier ones, off the receive loop.

        The receive loop also forwards other people's messages to this socket: if it
        waited for each write, deliveries would queue behind the sender's own traffic.
        Bounded twice: per socket (`rate_limited`) and per process (`busy`).
        """
        if self.jobs is None:
            self.jobs = asyncio.Queue(maxsize=MAX_PENDING_WRITES)
        if self.jobs.full():
            job.close()
            raise RateLimited("Too many frames waiting; retry shortly.")
        if not writer.reserve():
            job.close()
            raise Busy("The server has too many writes waiting; retry shortly.", retryable=True)
        self.jobs.put_nowait((job, ref))
        if self.worker is None:
            self.worker = asyncio.ensure_future(self.work())

    async def work(self) -> None:
        """Run this socket's writes in order; nothing a write does can stop the loop."""
        assert self.jobs is not None  # noqa: S101 - made by enqueue, which starts this
        while True:
            job, ref = await self.jobs.get()
            try:
                await job
            except DomainError as exc:
                await self.answer_failed_write(exc.code, exc.detail, ref, exc.extra)
            except Exception:
                # The transaction rolled back; the worker lives on for the next frames.
                logger.exception("write for %r failed", ref)
                await self.answer_failed_write(
                    "busy", "The server could not store this; retry.", ref, {"retryable": True}
                )
            finally:
                writer.release()

    async def answer_failed_write(
        self, code: str, detail: str, ref: Any, extra: dict[str, Any]
    ) -> None:
        try:
            await self.send_error(code, detail, ref=ref, **extra)
        except Exception:
            logger.exception("could not answer the failed write %r", ref)

    async def handle_sync(self, frame: dict[str, Any]) -> None:
        cursors = cursors_field(frame)
        limit = frame.get("limit", settings.CHAT_SYNC_DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput("`limit` must be a positive integer.")
        wait = self.sync_bucket.reserve()
        if wait > 0:
            # Over the rate: the sync is served late rather than refused (a client paging
            # through a long gap never sees an error). One sent without waiting for the
            # last `synced` is a flood; a socket that keeps doing it is closed.
            if self.inbound_waiting() and self.pipelined_syncs.hit():
                await self.close(code=CLOSE_ABUSE)
                return
            await asyncio.sleep(wait)
        batch = await db_read(
            selectors.sync_batch,
            user=self.user,
            cursors=cursors,
            limit=min(limit, settings.CHAT_SYNC_MAX_LIMIT),
        )
        # The rate counts pages of the default size: a sync that brought 200 messages costs
        # four, so a socket cannot make the process serialize more than the rate's worth.
        pages = len(batch.messages) / settings.CHAT_SYNC_DEFAULT_LIMIT
        self.sync_bucket.charge(max(0.0, pages - 1))
        for n, message in enumerate(batch.messages, 1):
            if self.flow is not None and self.flow.outbound_full:
                await self.flow.drained()  # a page waits for the client to read, not in RAM
            await self.send(
                text_data=events.encode({"type": "message", "message": message_payload(message)})
            )
            if n % SYNC_SLICE == 0:
                await asyncio.sleep(0)  # others' deliveries go out between slices of a page
        await self.send_json(
            {"type": "synced", "cursors": batch.cursors, "has_more": batch.has_more}
        )

    async def handle_read(self, frame: dict[str, Any]) -> None:
        conversation_id = id_field(frame, "conversation")
        seq = int_field(frame, "seq")
        if not self.read_bucket.take():
            if conversation_id not in self.subscriptions:
                raise RateLimited("Marking read too fast.")
            # Over the rate: keep only the furthest seq per conversation and store it
            # shortly (read cursors only move forward, so nothing is lost).
            self.deferred_reads[conversation_id] = max(
                seq, self.deferred_reads.get(conversation_id, 0)
            )
            if self.read_flusher is None:
                self.read_flusher = asyncio.ensure_future(self.flush_reads())
            return
        self.enqueue(self.mark_read(conversation_id, seq))

    async def mark_read(self, conversation_id: int, seq: int) -> None:
        await db_write(
            conversation_mark_read,
            user=self.user,
            conversation_id=conversation_id,
            seq=seq,
            origin=self.channel_name,
        )

    async def flush_reads(self) -> None:
        """Store the reads deferred by the rate limit, as the rate allows."""
        try:
            while self.deferred_reads:
                await asyncio.sleep(max(self.read_bucket.reserve(), 0.0))
                conversation_id, seq = self.deferred_reads.popitem()
                try:
                    self.enqueue(self.mark_read(conversation_id, seq))
                except DomainError:  # the writer is full: try again on the next turn
                    self.deferred_reads.setdefault(conversation_id, seq)
        finally:
            self.read_flusher = None

    async def handle_typing(self, frame: dict[str, Any]) -> None:
        conversation_id = id_field(frame, "conversation")
        if conversation_id not in self.subscriptions:
            raise NotMember()
        now = time.monotonic()
        if now - self.typing_sent.get(conversation_id, 0.0) < TYPING_INTERVAL:
            return
        self.typing_sent[conversation_id] = now
        await chat_events.typing(conversation_id=conversation_id, user_id=self.user.pk)

    # --- channel layer: forward only -------------------------------------------------

    def deliver_now(self, event: dict[str, Any]) -> bool:
        """Forward a `chat.message` or `chat.read` event without awaiting (chat/layers.py's
        per-delivery path): True if handled, False to `dispatch` it instead (other events,
        or no short write path on this socket)."""
        kind = event["type"]
        if kind == "chat.message":
            if not self.wants_message(event):
                return True
        elif kind == "chat.read":
            if event["origin"] == self.channel_name:
                return True
        else:
            return False
        if self.closing:
            return True
        flow = self.flow
        return flow is not None and flow.send_text(event["frame"])

    def wants_message(self, event: dict[str, Any]) -> bool:
        """A new message is forwarded to the other sockets subscribed to its conversation."""
        return event["origin"] != self.channel_name and event["conversation"] in self.subscriptions

    async def chat_message(self, event: dict[str, Any]) -> None:
        if self.wants_message(event):
            await self.forward(event["frame"])

    async def chat_read(self, event: dict[str, Any]) -> None:
        if event["origin"] != self.channel_name:
            await self.forward(event["frame"])

    async def chat_typing(self, event: dict[str, Any]) -> None:
        uid = event["user"]
        if self.user is not None and uid != self.user.pk and uid not in self.hidden:
            await self.forward(event["frame"])

    async def chat_presence(self, event: dict[str, Any]) -> None:
        uid = event["user"]
        # Someone sharing several conversations with us is announced once per change.
        if (
            self.user is not None
            and uid != self.user.pk
            and uid not in self.hidden
            and self.presence_seen.get(uid) != event["online"]
        ):
            self.presence_seen[uid] = event["online"]
            await self.forward(event["frame"])

    async def chat_visibility(self, event: dict[str, Any]) -> None:
        """A block between this user and another began or ended (chat.events)."""
        if self.user is None or self.user.pk not in event["users"]:
            return
        other = next((u for u in event["users"] if u != self.user.pk), None)
        if other is None:
            return
        if event["hidden"]:
            self.hidden = self.hidden | {other}
            online = False  # as far as this socket is concerned, from now on
        else:
            self.hidden = self.hidden - {other}
            online = other in await presence.store().online([other])
        if self.presence_seen.get(other, False) != online:
            self.presence_seen[other] = online
            await self.send_json({"type": "presence", "user": other, "online": online})

    async def chat_event(self, event: dict[str, Any]) -> None:
        if "subscribe" in event:
            await self.subscribe(event["subscribe"])
        if "unsubscribe" in event:
            await self.unsubscribe(event["unsubscribe"])
        await self.forward(event["frame"])

    async def chat_resync(self, event: dict[str, Any]) -> None:
        """The channel layer may have dropped events (Redis was away): a revocation that
        never came is applied now, and the client is asked to sync what it missed."""
        if self.user is None:
            return
        valid = await db_read(
            socket_credentials_valid,
            user_id=self.user.pk,
            session_key=self.session_key,
            token_key=self.token_key,
        )
        if not valid:
            await self.close(code=CLOSE_REVOKED)
            return
        await self.send(text_data=RESYNC_FRAME)

    async def chat_revoke(self, event: dict[str, Any]) -> None:
        if (
            event.get("all")
            or (self.session_key is not None and event.get("session_key") == self.session_key)
            or (self.token_key is not None and event.get("token_key") == self.token_key)
        ):
            await self.close(code=CLOSE_REVOKED)
