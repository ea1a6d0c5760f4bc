"""The /ws/chat/ socket: one per device, carrying every conversation of its user.

The consumer authenticates, dispatches each frame through a table of handlers to one
service, and forwards channel-layer events (pre-encoded frames) to the socket. Frame
parsing, rate limits and the Origin rule live in chat/transport.py; the database writer
in chat/writer.py. See docs/protocol.md §2 for the contract.
"""

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from channels.auth import get_user
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from accounts.serializers import user_payload
from chat import events as chat_events
from chat import presence, selectors
from chat.serializers import message_payload
from chat.services.messages import conversation_mark_read, message_send
from chat.transport import (
    CLOSE_ABUSE,
    CLOSE_IDLE,
    CLOSE_REVOKED,
    CLOSE_UNAUTHENTICATED,
    BadFrame,
    TokenBucket,
    header,
    int_field,
    origin_allowed,
    parse,
)
from chat.writer import db_read, db_write
from happychat import events
from happychat.errors import DomainError, InvalidInput, NotMember, RateLimited

logger = logging.getLogger("happychat.consumer")

MAX_BAD_FRAMES = 20
MAX_PENDING_WRITES = 100
RESUBSCRIBE_SECONDS = 120.0
TYPING_INTERVAL = 2.0


@database_sync_to_async
def _user_for_token(token: str) -> tuple[Any, str] | None:
    from knox.auth import TokenAuthentication
    from rest_framework.exceptions import AuthenticationFailed

    try:
        user, auth_token = TokenAuthentication().authenticate_credentials(token.encode())
    except AuthenticationFailed:
        return None
    return user, auth_token.token_key


class ChatConsumer(AsyncWebsocketConsumer):
    """Authenticate, then dispatch client frames through an explicit table of handlers."""

    handlers = {
        "auth": "handle_auth",
        "ping": "handle_ping",
        "send": "handle_send",
        "sync": "handle_sync",
        "read": "handle_read",
        "typing": "handle_typing",
    }
    # Frames allowed before authentication; everything else waits for `auth`.
    anonymous_types = frozenset({"auth", "ping"})

    user: Any = None
    session_key: str | None = None
    token_key: str | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Call the handler for a frame or event, with no thread hop.

        Channels' own dispatch first hops to a worker thread to close stale database
        connections, once per message: per delivered frame. This consumer touches the
        database only through DatabaseSyncToAsync, which does that in its own thread.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        events.bind_loop(asyncio.get_running_loop())
        self.bad_frames = 0
        self.last_seen = time.monotonic()
        self.subscriptions: set[int] = set()
        self.watchdog: asyncio.Task[None] | None = None
        self.online_registered = False
        self.typing_sent: dict[int, float] = {}
        self.presence_seen: dict[int, bool] = {}
        self.send_bucket = TokenBucket(settings.CHAT_SEND_RATE, settings.CHAT_SEND_BURST)
        self.jobs: asyncio.Queue[tuple[Coroutine[Any, Any, None], Any]] = asyncio.Queue(
            maxsize=MAX_PENDING_WRITES
        )
        self.worker: asyncio.Future[None] | None = None
        self.subscribed_at = time.monotonic()
        await self.accept()
        attach = getattr(self.channel_layer, "attach", None)
        if attach is not None:
            attach(self.channel_name, self.dispatch)
        user = await get_user(self.scope)
        if user.is_authenticated and origin_allowed(self.scope):
            self.session_key = self.scope["session"].session_key
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
        self.watchdog = asyncio.ensure_future(self.auth_deadline())

    async def auth_deadline(self) -> None:
        await asyncio.sleep(settings.CHAT_AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def start(self, user: Any) -> None:
        """Bind the socket to `user`: subscribe, greet, and watch the heartbeat."""
        self.user = user
        await self.channel_layer.group_add(events.user_group(user.pk), self.channel_name)
        await self.on_authenticated()
        await self.send_hello()
        if self.watchdog is not None:
            self.watchdog.cancel()
        self.watchdog = asyncio.ensure_future(self.idle_watch())
        await self.after_hello()

    async def on_authenticated(self) -> None:
        """Follow every conversation of the user and announce them online."""
        ids = await db_read(selectors.active_conversation_ids, user_id=self.user.pk)
        for cid in ids:
            await self.subscribe(cid)
        self.online_registered = True
        if await presence.store().add(self.user.pk, self.channel_name):
            await chat_events.presence(conversation_ids=ids, user_id=self.user.pk, online=True)

    async def after_hello(self) -> None:
        """Tell the new socket which of its direct peers are online now."""
        peers = await db_read(selectors.direct_peer_ids, user_id=self.user.pk)
        for uid in sorted(await presence.store().online(peers)):
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
            }
        )

    async def idle_watch(self) -> None:
        limit = settings.CHAT_HEARTBEAT_SECONDS * 2.5
        while True:
            await asyncio.sleep(max(0.05, limit - (time.monotonic() - self.last_seen)))
            if time.monotonic() - self.last_seen >= limit:
                await self.close(code=CLOSE_IDLE)
                return

    async def disconnect(self, code: int) -> None:
        detach = getattr(self.channel_layer, "detach", None)
        if detach is not None:
            detach(self.channel_name)
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.worker is not None:
            # Writes already handed to the database finish; their acks are lost with the
            # socket, and the client's retry with the same id gets them back.
            self.worker.cancel()
        while not self.jobs.empty():
            self.jobs.get_nowait()[0].close()
        if self.user is None:
            return
        await self.channel_layer.group_discard(events.user_group(self.user.pk), self.channel_name)
        conversation_ids = list(self.subscriptions)
        for cid in conversation_ids:
            await self.unsubscribe(cid)
        if self.online_registered and await presence.store().remove(
            self.user.pk, self.channel_name
        ):
            await chat_events.presence(
                conversation_ids=conversation_ids, user_id=self.user.pk, online=False
            )

    # --- inbound ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_seen = time.monotonic()
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
        except DomainError as exc:
            await self.send_error(exc.code, exc.detail, ref=frame.get("id"), **exc.extra)

    async def reject(self, code: str, detail: str, ref: Any = None) -> None:
        """Answer a bad frame; close a socket that keeps sending them."""
        self.bad_frames += 1
        await self.send_error(code, detail, ref=ref)
        if self.bad_frames > MAX_BAD_FRAMES:
            await self.close(code=CLOSE_ABUSE)

    async def send_error(self, code: str, detail: str, ref: Any = None, **extra: Any) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail, **extra}
        if ref is not None:
            frame["ref"] = ref
        await self.send_json(frame)

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=events.encode(frame))

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
        if self.online_registered:
            await presence.store().touch(self.user.pk, self.channel_name)
        await self.send_json({"type": "pong", "server_time": timezone.now().isoformat()})
        if self.user is not None and time.monotonic() - self.subscribed_at > RESUBSCRIBE_SECONDS:
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
        conversation_id = int_field(frame, "conversation", minimum=1)
        if not self.send_bucket.take():
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
            origin=self.channel_name,
        )
        await self.send_json({"type": "ack", "id": client_id, "message": message_payload(message)})

    def enqueue(self, job: Coroutine[Any, Any, None], *, ref: Any = None) -> None:
        """Run a database write after this socket's earlier ones, off the receive loop.

        The receive loop also forwards other people's messages to this socket: if it
        waited for each write, deliveries would queue behind the sender's own traffic.
        """
        if self.jobs.full():
            job.close()
            raise RateLimited("Too many frames waiting; retry shortly.")
        self.jobs.put_nowait((job, ref))
        if self.worker is None:
            self.worker = asyncio.ensure_future(self.work())

    async def work(self) -> None:
        while True:
            job, ref = await self.jobs.get()
            try:
                await job
            except DomainError as exc:
                await self.send_error(exc.code, exc.detail, ref=ref, **exc.extra)
            except Exception:
                # The transaction rolled back; the worker lives on for the next frames.
                logger.exception("write for %s failed", ref)
                await self.send_error(
                    "busy", "The server could not store this; retry.", ref=ref, retryable=True
                )

    async def handle_sync(self, frame: dict[str, Any]) -> None:
        raw = frame.get("cursors", {})
        if not isinstance(raw, dict):
            raise InvalidInput("`cursors` must be an object of conversation id → seq.")
        cursors: dict[int, int] = {}
        for key, value in raw.items():
            if not str(key).isdigit() or isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput("`cursors` must map conversation ids to integer seqs.")
            cursors[int(key)] = max(0, value)
        limit = frame.get("limit", settings.CHAT_SYNC_DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInput("`limit` must be a positive integer.")
        batch = await db_read(
            selectors.sync_batch,
            user=self.user,
            cursors=cursors,
            limit=min(limit, settings.CHAT_SYNC_MAX_LIMIT),
        )
        for message in batch.messages:
            await self.send(
                text_data=events.encode({"type": "message", "message": message_payload(message)})
            )
        await self.send_json(
            {"type": "synced", "cursors": batch.cursors, "has_more": batch.has_more}
        )

    async def handle_read(self, frame: dict[str, Any]) -> None:
        self.enqueue(
            db_write(
                conversation_mark_read,
                user=self.user,
                conversation_id=int_field(frame, "conversation", minimum=1),
                seq=int_field(frame, "seq"),
                origin=self.channel_name,
            )
        )

    async def handle_typing(self, frame: dict[str, Any]) -> None:
        conversation_id = int_field(frame, "conversation", minimum=1)
        if conversation_id not in self.subscriptions:
            raise NotMember()
        now = time.monotonic()
        if now - self.typing_sent.get(conversation_id, 0.0) < TYPING_INTERVAL:
            return
        self.typing_sent[conversation_id] = now
        await chat_events.typing(conversation_id=conversation_id, user_id=self.user.pk)

    # --- channel layer: forward only -------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event["origin"] != self.channel_name and event["conversation"] in self.subscriptions:
            await self.send(text_data=event["frame"])

    async def chat_read(self, event: dict[str, Any]) -> None:
        if event["origin"] != self.channel_name:
            await self.send(text_data=event["frame"])

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["user"] != self.user.pk:
            await self.send(text_data=event["frame"])

    async def chat_presence(self, event: dict[str, Any]) -> None:
        uid = event["user"]
        # Someone sharing several conversations with us is announced once per change.
        if uid != self.user.pk and self.presence_seen.get(uid) != event["online"]:
            self.presence_seen[uid] = event["online"]
            await self.send(text_data=event["frame"])

    async def chat_event(self, event: dict[str, Any]) -> None:
        if "subscribe" in event:
            await self.subscribe(event["subscribe"])
        if "unsubscribe" in event:
            await self.unsubscribe(event["unsubscribe"])
        await self.send(text_data=event["frame"])

    async def chat_revoke(self, event: dict[str, Any]) -> None:
        if (
            event.get("all")
            or (self.session_key is not None and event.get("session_key") == self.session_key)
            or (self.token_key is not None and event.get("token_key") == self.token_key)
        ):
            await self.close(code=CLOSE_REVOKED)
