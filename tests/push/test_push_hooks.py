"""Pushes triggered the real way: chat's and friends' after-commit hooks, the worker pool."""

import time

import pytest

from chat.services.messages import message_send
from friends.services import friend_request_send
from push import sender
from tests.chat.conftest import befriend
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sent_message_is_pushed_after_commit_without_slowing_the_send(service, subscribe):
    alice = UserFactory(username="alice", nickname="Alice")
    bob = UserFactory(username="bob")
    direct = befriend(alice, bob)
    browser = subscribe(bob)
    slow = threading_event_pause(service, seconds=1.0)

    started = time.monotonic()
    message_send(sender=alice, conversation_id=direct.pk, client_id="c1", body="Ping")
    elapsed = time.monotonic() - started
    assert elapsed < 0.5  # the push service takes a second; the send does not wait for it

    [push] = service.wait_for(1)
    assert browser.decrypt(push)["body"] == "Ping"
    assert sender.wait_idle(5)
    slow.set()


def test_a_retried_send_is_pushed_once(service, subscribe):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    direct = befriend(alice, bob)
    subscribe(bob)
    for _attempt in range(2):
        message_send(sender=alice, conversation_id=direct.pk, client_id="same", body="Once")
    assert sender.wait_idle(5)
    time.sleep(0.2)
    assert len(service.received) == 1


def test_a_friend_request_is_pushed_after_commit(service, subscribe):
    alice = UserFactory(username="alice", nickname="Alice")
    bob = UserFactory(username="bob")
    browser = subscribe(bob)
    friend_request_send(from_user=alice, to_user_id=bob.pk, message="Hello")
    [push] = service.wait_for(1)
    payload = browser.decrypt(push)
    assert payload["type"] == "friend_request"
    assert payload["body"] == "Alice wants to add you as a friend. “Hello”"


def test_without_vapid_keys_nothing_is_queued(settings, monkeypatch):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    queued = []
    monkeypatch.setattr(sender, "submit", lambda *args: queued.append(args))
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    direct = befriend(alice, bob)
    message_send(sender=alice, conversation_id=direct.pk, client_id="c1", body="Hi")
    friend_request_send(from_user=UserFactory(username="carol"), to_user_id=bob.pk)
    assert queued == []


def threading_event_pause(service, *, seconds: float):
    """Make the push service answer only after `seconds`; returns an event that ends it."""
    import threading

    done = threading.Event()
    service.delay = lambda: done.wait(seconds)
    return done
