"""Push writes: save and delete a browser's subscription; decide and queue notifications.

The triggers (`message_committed`, `friend_request_sent`) run after commit on the
request's thread, so they only hand ids to `push.sender`'s bounded worker; the worker
decides who gets a push (offline, not muted), builds the payload and sends it.
"""

import base64
import binascii
import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from knox.models import AuthToken

from accounts.models import User
from happychat.errors import InvalidInput, NotFound
from push.models import PushSubscription

logger = logging.getLogger("happychat.push")


def _b64url_bytes(value: Any, field: str, *, length: int) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"`keys.{field}` must be a base64url string.")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"`keys.{field}` is not base64url.") from exc
    if len(raw) != length:
        raise InvalidInput(f"`keys.{field}` must decode to {length} bytes.")
    return value.rstrip("=")


def _host_allowed(host: str) -> bool:
    return any(
        host == allowed or (allowed.startswith(".") and host.endswith(allowed))
        for allowed in settings.WEBPUSH_ENDPOINT_HOSTS
    )


def _endpoint(value: Any) -> str:
    """A push service URL this server may post to (https, a known push service host)."""
    if not isinstance(value, str) or len(value) > 2000:
        raise InvalidInput("`endpoint` must be a URL of at most 2000 characters.")
    parts = urlsplit(value)
    # Plain http only for a push service on this machine (the tests play one).
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise InvalidInput("`endpoint` must be an https URL.")
    if not parts.hostname or not _host_allowed(parts.hostname):
        raise InvalidInput("`endpoint` is not the URL of a known push service.")
    return value


@transaction.atomic
def push_subscription_save(
    *,
    user: User,
    endpoint: Any,
    keys: Any,
    language: str = "",
    user_agent: str = "",
    session_key: str | None = None,
    token: AuthToken | None = None,
) -> tuple[PushSubscription, bool]:
    """Store this browser's subscription for `user` (one row per endpoint); True if new.

    A browser that subscribes again, or for another user, replaces its row, so the
    endpoint never notifies two accounts.
    """
    if not isinstance(keys, dict):
        raise InvalidInput("`keys` must be an object with `p256dh` and `auth`.")
    values = {
        "user": user,
        "p256dh": _b64url_bytes(keys.get("p256dh"), "p256dh", length=65),
        "auth": _b64url_bytes(keys.get("auth"), "auth", length=16),
        "language": language[:16],
        "user_agent": user_agent[:300],
        "session": Session.objects.filter(session_key=session_key).first() if session_key else None,
        "token": token,
    }
    return PushSubscription.objects.update_or_create(endpoint=_endpoint(endpoint), defaults=values)


def push_subscription_delete(*, user: User, endpoint: Any) -> None:
    """Forget this browser's subscription of `user`."""
    if not isinstance(endpoint, str):
        raise InvalidInput("`endpoint` must be a URL.")
    deleted, _details = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    if not deleted:
        raise NotFound("No such push subscription.")


def push_subscription_delete_by_id(*, user: User, subscription_id: int) -> None:
    """Forget one of `user`'s subscriptions (a device listed in the settings)."""
    deleted, _details = PushSubscription.objects.filter(user=user, pk=subscription_id).delete()
    if not deleted:
        raise NotFound("No such push subscription.")


def message_committed(message: Any) -> None:
    """Hook for a committed message: queue the pushes it may cause (never blocks)."""
    if not push_enabled() or message.sender.is_robot or message.kind == "system":
        return
    from push import sender

    sender.submit(sender.push_for_message, message.pk)


def friend_request_sent(request_id: int) -> None:
    """Hook for a committed friend request: queue a push to its recipient."""
    if not push_enabled():
        return
    from push import sender

    sender.submit(sender.push_for_friend_request, request_id)


def push_enabled() -> bool:
    """Whether VAPID keys are configured (without them no push service accepts a send)."""
    return bool(settings.WEBPUSH_VAPID_PUBLIC_KEY and settings.WEBPUSH_VAPID_PRIVATE_KEY)
