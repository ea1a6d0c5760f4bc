"""Push fixtures: VAPID keys, a loopback push service, browsers subscribed for a user."""

from collections.abc import Callable, Iterator

import pytest
from asgiref.sync import async_to_sync

from accounts.models import User
from chat import presence
from push import services
from push.management.commands.webpush_keys import generate_vapid_keys
from tests.push.push_service import Browser, PushService, push_service


@pytest.fixture
def vapid(settings) -> str:
    """Configure fresh VAPID keys and a push service on loopback; returns the public key."""
    public, private = generate_vapid_keys()
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_SUBJECT = "mailto:ops@happychat.test"
    settings.WEBPUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    settings.WEBPUSH_PREVIEW = "text"
    return public


@pytest.fixture
def service(vapid) -> Iterator[PushService]:
    with push_service() as running:
        yield running


@pytest.fixture
def subscribe(service) -> Callable[..., Browser]:
    """Subscribe a new browser of `user` (through the service, as the REST view does)."""
    count = 0

    def make(user: User, *, language: str = "en") -> Browser:
        nonlocal count
        count += 1
        browser = Browser(endpoint=f"{service.base}/push/{user.username}-{count}")
        info = browser.subscription()
        services.push_subscription_save(
            user=user, endpoint=info["endpoint"], keys=info["keys"], language=language
        )
        return browser

    return make


@pytest.fixture
def online() -> Iterator[Callable[[User], None]]:
    """Mark users as having a live socket in this process's presence store."""
    presence.reset()
    added: list[tuple[int, str]] = []

    def mark(user: User) -> None:
        socket_id = f"test-socket-{user.pk}"
        async_to_sync(presence.store().add)(user.pk, socket_id)
        added.append((user.pk, socket_id))

    yield mark
    for user_id, socket_id in added:
        async_to_sync(presence.store().remove)(user_id, socket_id)
    presence.reset()
