"""Sending pushes off the request path: a small bounded worker pool.

`submit` never blocks and never raises: when the queue is full the push is dropped and
logged (a push is a courtesy; the message itself is stored and `sync` delivers it). The
worker decides who gets a push, encrypts (RFC 8291 aes128gcm, RFC 8292 VAPID, through
pywebpush) and posts to each push service with a timeout. A 404 or 410 answer means the
browser dropped the subscription, so the row is deleted; other failures are logged.
"""

import json
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import cache, partial
from typing import Any

import requests
from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import QuerySet
from django.utils import timezone
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from accounts.models import FriendRequest, Friendship
from chat import presence
from chat.models import ConversationMember, Message
from push import payloads
from push.models import PushSubscription

logger = logging.getLogger("happychat.push")

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_pending: set[Future[None]] = set()
_local = threading.local()


def submit(job: Callable[[int], None], object_id: int) -> bool:
    """Queue `job(object_id)` for a worker thread; False (and a log line) if the queue is full."""
    global _executor
    with _lock:
        if len(_pending) >= settings.WEBPUSH_QUEUE_LIMIT:
            logger.warning(
                "push queue full (%d): dropped %s(%s)", len(_pending), job.__name__, object_id
            )
            return False
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=settings.WEBPUSH_WORKERS, thread_name_prefix="webpush"
            )
        future = _executor.submit(_run, job, object_id)
        _pending.add(future)
    future.add_done_callback(_forget)
    return True


def _forget(future: Future[None]) -> None:
    with _lock:
        _pending.discard(future)


def _run(job: Callable[[int], None], object_id: int) -> None:
    close_old_connections()
    try:
        job(object_id)
    except Exception:
        logger.exception("push %s(%s) failed", job.__name__, object_id)
    finally:
        # Worker threads own their connections; do not leave one open per thread.
        connection.close()


def wait_idle(timeout: float = 10.0) -> bool:
    """Wait until every queued push has been handled (tests, graceful shutdown)."""
    with _lock:
        pending = set(_pending)
    _done, not_done = wait(pending, timeout=timeout)
    return not not_done


# --- who gets what -----------------------------------------------------------------------


def _offline(user_ids: Iterable[int]) -> list[int]:
    """Those of `user_ids` with no live socket on any server (an open tab notifies itself)."""
    ids = list(user_ids)
    if not ids:
        return []
    online = presence.store().online_sync(ids)
    return [uid for uid in ids if uid not in online]


def _mentioned_ids(message: Message, members: QuerySet[ConversationMember]) -> set[int]:
    """The members a message mentions: by id, or all of them with `@all`."""
    if message.mention_all:
        return set(members.values_list("user_id", flat=True))
    return set(message.mentions or ())


def push_for_message(message_id: int) -> None:
    """Push a new message to the members who should hear of it and have no live socket.

    Direct conversations: the peer, unless they muted it. Groups: only members the message
    mentions (`@all`: every member), even if they muted the group. Robot conversations and
    system messages: nobody.
    """
    message = (
        Message.objects.select_related("conversation", "sender", "conversation__group")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.kind == Message.Kind.SYSTEM:
        return
    conversation = message.conversation
    members = ConversationMember.objects.filter(
        conversation=conversation, is_active=True, user__is_robot=False, user__is_active=True
    ).exclude(user_id=message.sender_id)
    mentioned = _mentioned_ids(message, members)
    if conversation.kind == "direct":
        wanted = set(members.filter(muted=False).values_list("user_id", flat=True))
    elif conversation.kind == "group" and mentioned:
        wanted = set(members.filter(user_id__in=mentioned).values_list("user_id", flat=True))
    else:
        return
    recipients = _offline(wanted)
    if not recipients:
        return
    remarks = dict(
        Friendship.objects.filter(user_id__in=recipients, friend_id=message.sender_id)
        .exclude(remark="")
        .values_list("user_id", "remark")
    )
    group = getattr(conversation, "group", None)
    for uid in recipients:
        _send_to_user(
            uid,
            partial(
                payloads.message_push,
                conversation_id=conversation.pk,
                kind=conversation.kind,
                sender_name=remarks.get(uid) or message.sender.display_name,
                group_name=group.name if group is not None else None,
                message_kind=message.kind,
                body=message.body,
                sent_at=message.created_at.isoformat(),
                mentioned=uid in mentioned,
            ),
            topic=f"conv{conversation.pk}",
        )


def push_for_friend_request(request_id: int) -> None:
    """Push a pending friend request to its recipient if they have no live socket."""
    request = (
        FriendRequest.objects.select_related("from_user")
        .filter(pk=request_id, status=FriendRequest.Status.PENDING, to_user__is_active=True)
        .first()
    )
    if request is None or not _offline([request.to_user_id]):
        return
    _send_to_user(
        request.to_user_id,
        partial(
            payloads.friend_request_push,
            request_id=request.pk,
            sender_name=request.from_user.display_name,
            message=request.message,
            sent_at=request.created_at.isoformat(),
        ),
        topic="friendrequests",
    )


# --- sending ----------------------------------------------------------------------------


def _live_subscriptions(user_id: int) -> list[PushSubscription]:
    """The user's subscriptions whose login is still valid (expired sessions are dropped)."""
    subscriptions = list(PushSubscription.objects.filter(user_id=user_id).select_related("session"))
    now = timezone.now()
    expired = [s.pk for s in subscriptions if s.session and s.session.expire_date <= now]
    if expired:
        PushSubscription.objects.filter(pk__in=expired).delete()
    return [s for s in subscriptions if s.pk not in expired]


def _send_to_user(user_id: int, build: Callable[..., dict[str, Any]], *, topic: str) -> None:
    """Send `build(language=…)` to each live subscription of the user (built once a language)."""
    by_language: dict[str, bytes] = {}
    for subscription in _live_subscriptions(user_id):
        data = by_language.get(subscription.language)
        if data is None:
            payload = build(language=subscription.language)
            data = json.dumps(payload, ensure_ascii=False).encode()
            by_language[subscription.language] = data
        send_one(subscription, data, topic=topic)


@cache
def _vapid(private_key: str) -> Vapid:
    return Vapid.from_string(private_key=private_key)


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def send_one(subscription: PushSubscription, data: bytes, *, topic: str) -> bool:
    """Encrypt and post one push; delete the subscription if the service says it is gone."""
    try:
        webpush(
            subscription_info=subscription.info(),
            data=data.decode(),
            vapid_private_key=_vapid(settings.WEBPUSH_VAPID_PRIVATE_KEY),
            vapid_claims={"sub": settings.WEBPUSH_SUBJECT},  # a fresh dict: webpush adds aud/exp
            content_encoding="aes128gcm",
            ttl=settings.WEBPUSH_TTL,
            timeout=settings.WEBPUSH_TIMEOUT,
            headers={"Urgency": "high", "Topic": topic},
            requests_session=_session(),
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            PushSubscription.objects.filter(pk=subscription.pk).delete()
            logger.info("push subscription %s is gone (%s): removed", subscription.pk, status)
        else:
            logger.warning("push to subscription %s failed: %s", subscription.pk, status or exc)
        return False
    except requests.RequestException as exc:
        logger.warning("push to subscription %s failed: %s", subscription.pk, exc)
        return False
    PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
    return True
