"""Web Push end to end on loopback: who gets a push, what it says, how it is sent.

A local HTTP server plays the push service; each test browser decrypts what arrives with
its own keys (RFC 8291) and checks the VAPID signature (RFC 8292).
"""

import time

import pytest

from accounts.models import FriendRequest, Friendship
from chat.models import ConversationMember
from chat.services.messages import message_send
from push import sender
from push.models import PushSubscription
from tests.chat.conftest import befriend
from tests.factories import UserFactory
from tests.push.push_service import vapid_claims

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", nickname="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", nickname="Bob")


@pytest.fixture
def direct(alice, bob):
    return befriend(alice, bob)


def send(sender_user, conversation, body="Lunch at noon?", client_id="m1"):
    message, _created = message_send(
        sender=sender_user, conversation_id=conversation.pk, client_id=client_id, body=body
    )
    return message


def test_direct_message_reaches_an_offline_peer_encrypted_and_signed(
    alice, bob, direct, service, subscribe, vapid
):
    browser = subscribe(bob)
    message = send(alice, direct)
    sender.push_for_message(message.pk)

    [push] = service.wait_for(1)
    assert push.path == browser.path
    assert browser.decrypt(push) == {
        "type": "message",
        "title": "Alice",
        "body": "Lunch at noon?",
        "url": f"/chats/{direct.pk}/",
        "tag": f"conversation-{direct.pk}",
        "conversation": direct.pk,
        "mention": False,
        "lang": "en",
        "sent_at": message.created_at.isoformat(),
    }
    claims = vapid_claims(push, vapid)
    assert claims["aud"] == service.base
    assert claims["sub"] == "mailto:ops@happychat.test"
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert push.headers["ttl"] == "86400"
    assert push.headers["urgency"] == "high"
    assert push.headers["topic"] == f"conv{direct.pk}"
    assert PushSubscription.objects.get().last_success_at is not None


def test_every_device_of_the_peer_gets_the_push_and_the_sender_none(
    alice, bob, direct, service, subscribe
):
    phone, laptop = subscribe(bob), subscribe(bob)
    subscribe(alice)
    sender.push_for_message(send(alice, direct).pk)
    pushes = service.wait_for(2)
    time.sleep(0.2)
    assert sorted(p.path for p in service.received) == sorted([phone.path, laptop.path])
    assert len(pushes) == 2


def test_the_title_is_the_remark_the_recipient_gave_the_sender(
    alice, bob, direct, service, subscribe
):
    Friendship.objects.filter(user=bob, friend=alice).update(remark="Sister")
    browser = subscribe(bob)
    sender.push_for_message(send(alice, direct).pk)
    [push] = service.wait_for(1)
    assert browser.decrypt(push)["title"] == "Sister"


def test_no_push_to_a_user_with_a_live_socket(alice, bob, direct, service, subscribe, online):
    subscribe(bob)
    online(bob)
    sender.push_for_message(send(alice, direct).pk)
    time.sleep(0.3)
    assert service.received == []


def test_no_push_for_a_muted_conversation(alice, bob, direct, service, subscribe):
    subscribe(bob)
    ConversationMember.objects.filter(conversation=direct, user=bob).update(muted=True)
    sender.push_for_message(send(alice, direct).pk)
    time.sleep(0.3)
    assert service.received == []


def test_group_messages_without_a_mention_are_not_pushed(alice, bob, service, subscribe):
    from chat.services.conversations import conversation_group_create

    group = conversation_group_create(user_ids=[alice.pk, bob.pk])
    subscribe(bob)
    sender.push_for_message(send(alice, group).pk)
    time.sleep(0.3)
    assert service.received == []


@pytest.fixture
def hiking(alice, bob):
    from groups.services import group_create

    carol = UserFactory(username="carol", nickname="Carol")
    befriend(alice, bob)
    befriend(alice, carol)
    group = group_create(owner=alice, name="Hiking", member_ids=[bob.pk, carol.pk])
    ConversationMember.objects.filter(conversation_id=group.conversation_id).exclude(
        user=alice
    ).update(muted=True)
    return group, carol


def test_a_mention_reaches_only_the_mentioned_member_even_in_a_muted_group(
    alice, bob, hiking, service, subscribe
):
    group, carol = hiking
    bob_browser, carol_browser = subscribe(bob), subscribe(carol)
    message, _created = message_send(
        sender=alice,
        conversation_id=group.conversation_id,
        client_id="m-mention",
        body="@Bob bring the map",
        mentions=[bob.pk],
    )
    sender.push_for_message(message.pk)

    [push] = service.wait_for(1)
    time.sleep(0.3)
    assert len(service.received) == 1
    assert push.path == bob_browser.path != carol_browser.path
    payload = bob_browser.decrypt(push)
    assert payload["mention"] is True
    assert payload["conversation"] == group.conversation_id


def test_at_all_from_the_owner_reaches_every_member_even_in_a_muted_group(
    alice, bob, hiking, service, subscribe
):
    group, carol = hiking
    browsers = {subscribe(bob).path: bob, subscribe(carol).path: carol}
    message, _created = message_send(
        sender=alice,
        conversation_id=group.conversation_id,
        client_id="m-all",
        body="Leaving at eight",
        mention_all=True,
    )
    assert message.mention_all
    sender.push_for_message(message.pk)

    pushes = service.wait_for(2)
    assert {p.path for p in pushes} == set(browsers)


@pytest.mark.parametrize("gone", [404, 410])
def test_a_subscription_the_push_service_calls_gone_is_removed(
    alice, bob, direct, service, subscribe, gone
):
    stale, fresh = subscribe(bob), subscribe(bob)
    service.status[stale.path] = gone
    sender.push_for_message(send(alice, direct).pk)
    service.wait_for(2)
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [fresh.endpoint]


def test_other_failures_keep_the_subscription(alice, bob, direct, service, subscribe, caplog):
    browser = subscribe(bob)
    service.status[browser.path] = 500
    sender.push_for_message(send(alice, direct).pk)
    service.wait_for(1)
    assert PushSubscription.objects.filter(endpoint=browser.endpoint).exists()
    assert "failed: 500" in caplog.text


def test_an_unreachable_push_service_is_logged_not_raised(alice, bob, direct, vapid, caplog):
    from push.services import push_subscription_save
    from tests.push.push_service import Browser
    from tests.servers import free_port

    browser = Browser(endpoint=f"http://127.0.0.1:{free_port()}/push/nobody-home")
    info = browser.subscription()
    push_subscription_save(user=bob, endpoint=info["endpoint"], keys=info["keys"])
    sender.push_for_message(send(alice, direct).pk)
    assert PushSubscription.objects.count() == 1
    assert "failed" in caplog.text


def test_an_expired_login_gets_no_push_and_loses_its_subscription(
    client, alice, bob, direct, service
):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from tests.push.push_service import Browser

    client.force_login(bob)
    browser = Browser(endpoint=f"{service.base}/push/bob-session")
    assert (
        client.post(
            "/api/v1/push/subscriptions/", browser.subscription(), content_type="application/json"
        ).status_code
        == 201
    )
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    sender.push_for_message(send(alice, direct).pk)
    time.sleep(0.3)
    assert service.received == []
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("preview", "title", "body"),
    [
        ("text", "Alice", "Lunch at noon?"),
        ("sender", "Alice", "New message"),
        ("none", "HappyChat", "You have a new message."),
    ],
)
def test_the_preview_setting_decides_what_the_lock_screen_shows(
    settings, alice, bob, direct, service, subscribe, preview, title, body
):
    settings.WEBPUSH_PREVIEW = preview
    browser = subscribe(bob)
    sender.push_for_message(send(alice, direct).pk)
    [push] = service.wait_for(1)
    payload = browser.decrypt(push)
    assert (payload["title"], payload["body"]) == (title, body)
    assert "Lunch" not in push.body.decode("latin-1")  # ciphertext either way


def test_an_image_message_says_image(alice, bob, direct, service, subscribe):
    from chat.models import Message

    browser = subscribe(bob)
    message = send(alice, direct)
    Message.objects.filter(pk=message.pk).update(kind="image", body="")
    sender.push_for_message(message.pk)
    [push] = service.wait_for(1)
    assert browser.decrypt(push)["body"] == "[Image]"


def test_a_long_message_is_shortened(alice, bob, direct, service, subscribe):
    browser = subscribe(bob)
    sender.push_for_message(send(alice, direct, body="word " * 100).pk)
    [push] = service.wait_for(1)
    body = browser.decrypt(push)["body"]
    assert len(body) == 120
    assert body.endswith("…")


def test_a_chinese_subscription_reads_chinese(alice, bob, service, subscribe):
    browser = subscribe(bob, language="zh-hans")
    request = FriendRequest.objects.create(from_user=alice, to_user=bob, message="我是 Alice")
    sender.push_for_friend_request(request.pk)
    [push] = service.wait_for(1)
    payload = browser.decrypt(push)
    assert payload["lang"] == "zh-hans"
    assert payload["title"] == "好友申请"
    assert payload["body"].startswith("Alice 想添加你为好友")


def test_a_friend_request_is_pushed_to_its_offline_recipient(alice, bob, service, subscribe):
    browser = subscribe(bob)
    request = FriendRequest.objects.create(from_user=alice, to_user=bob, message="Hi, it's Alice")
    sender.push_for_friend_request(request.pk)
    [push] = service.wait_for(1)
    assert browser.decrypt(push) == {
        "type": "friend_request",
        "title": "Friend request",
        "body": "Alice wants to add you as a friend. “Hi, it's Alice”",
        "url": "/contacts/requests/",
        "tag": "friend-requests",
        "request": request.pk,
        "lang": "en",
        "sent_at": request.created_at.isoformat(),
    }


def test_no_friend_request_push_when_online_or_already_answered(
    alice, bob, service, subscribe, online
):
    subscribe(bob)
    answered = FriendRequest.objects.create(
        from_user=alice, to_user=bob, status=FriendRequest.Status.REJECTED
    )
    sender.push_for_friend_request(answered.pk)
    pending = FriendRequest.objects.create(from_user=UserFactory(), to_user=bob)
    online(bob)
    sender.push_for_friend_request(pending.pk)
    time.sleep(0.3)
    assert service.received == []


def test_the_queue_drops_work_beyond_its_limit(settings, caplog):
    import threading

    settings.WEBPUSH_QUEUE_LIMIT = 2
    release = threading.Event()

    def slow(_object_id: int) -> None:
        release.wait(5)

    try:
        assert sender.submit(slow, 1)
        assert sender.submit(slow, 2)
        assert not sender.submit(slow, 3)
        assert "push queue full" in caplog.text
    finally:
        release.set()
        assert sender.wait_idle(5)
