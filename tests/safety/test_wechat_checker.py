"""WeChat's text security check as a pluggable checker, against a fake WeChat on loopback."""

import time

import pytest
from django.core.cache import cache

from chat.models import Conversation, Message
from chat.services.conversations import conversation_robot_ensure
from chat.services.messages import message_send
from happychat.errors import ContentBlocked
from safety.services import text_filter
from tests.wechat_stub import APP_ID, APP_SECRET, fake_wechat

pytestmark = pytest.mark.django_db

CHECKERS = ["safety.checkers.sensitive_words", "safety.checkers.wechat_text_check"]


@pytest.fixture
def wechat(settings):
    cache.clear()
    with fake_wechat() as stub:
        settings.WECHAT_APP_ID = APP_ID
        settings.WECHAT_APP_SECRET = APP_SECRET
        settings.WECHAT_API_BASE = stub.url
        settings.SAFETY_CHECKERS = CHECKERS
        settings.SAFETY_WECHAT_TIMEOUT = 0.3
        yield stub
    cache.clear()


def test_off_by_default(settings):
    assert "safety.checkers.wechat_text_check" not in settings.SAFETY_CHECKERS


def test_safe_text_passes_and_risky_text_is_blocked(wechat):
    assert text_filter(text="hello there", field="message") == "hello there"
    with pytest.raises(ContentBlocked) as blocked:
        text_filter(text="something risky", field="nickname")
    assert blocked.value.extra["field"] == "nickname"
    checks = wechat.of_path("/wxa/msg_sec_check")
    assert [c["body"] for c in checks] == [
        {"content": "hello there"},
        {"content": "something risky"},
    ]


def test_access_token_is_fetched_once_and_cached(wechat):
    for n in range(3):
        text_filter(text=f"hello {n}", field="message")
    assert len(wechat.of_path("/cgi-bin/token")) == 1
    assert {c["query"]["access_token"] for c in wechat.of_path("/wxa/msg_sec_check")} == {
        "access-1"
    }
    [token_call] = wechat.of_path("/cgi-bin/token")
    assert token_call["query"] == {
        "grant_type": "client_credential",
        "appid": APP_ID,
        "secret": APP_SECRET,
    }


def test_cached_token_expires_with_wechat_lifetime(wechat):
    wechat.token_lifetime = 301  # cached for lifetime minus a 300 s margin: one second
    text_filter(text="one", field="message")
    time.sleep(1.1)
    text_filter(text="two", field="message")
    assert len(wechat.of_path("/cgi-bin/token")) == 2


def test_expired_token_is_refreshed_once_and_the_check_retried(wechat):
    text_filter(text="warm the cache", field="message")
    wechat.expired_tokens.add("access-1")
    assert text_filter(text="still fine", field="message") == "still fine"
    assert len(wechat.of_path("/cgi-bin/token")) == 2
    last = wechat.of_path("/wxa/msg_sec_check")[-2:]
    assert [c["query"]["access_token"] for c in last] == ["access-1", "access-2"]
    # The new token is the cached one now.
    text_filter(text="again", field="message")
    assert len(wechat.of_path("/cgi-bin/token")) == 2


def test_a_token_refused_twice_is_a_failure_not_a_loop(wechat, settings):
    settings.SAFETY_FAIL_CLOSED = True
    wechat.expired_tokens.update({"access-1", "access-2", "access-3"})
    with pytest.raises(ContentBlocked):
        text_filter(text="hello", field="message")
    assert len(wechat.of_path("/wxa/msg_sec_check")) == 2


def test_version_2_verdict_risky_is_blocked(wechat):
    wechat.sec_check_answer = (200, {"errcode": 0, "result": {"suggest": "risky"}}, 0)
    with pytest.raises(ContentBlocked):
        text_filter(text="looks harmless", field="message")
    wechat.sec_check_answer = (200, {"errcode": 0, "result": {"suggest": "pass"}}, 0)
    assert text_filter(text="looks harmless", field="message") == "looks harmless"


FAILURES = [
    (200, {"errcode": 0}, 3.0),
    (500, "oops", 0),
    (200, {"errcode": -1}, 0),
    (200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"}, 0),
]
FAILURE_IDS = ["timeout", "server-error", "busy", "rate-limit"]


@pytest.mark.parametrize("answer", FAILURES, ids=FAILURE_IDS)
def test_failing_check_fails_open_by_default(wechat, answer):
    wechat.sec_check_answer = answer
    started = time.monotonic()
    assert text_filter(text="hello", field="message") == "hello"
    # Bounded by SAFETY_WECHAT_TIMEOUT (0.3 s a call), far below the 3 s slow answer.
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("answer", FAILURES, ids=FAILURE_IDS)
def test_failing_check_fails_closed_when_configured(wechat, settings, answer):
    settings.SAFETY_FAIL_CLOSED = True
    wechat.sec_check_answer = answer
    with pytest.raises(ContentBlocked):
        text_filter(text="hello", field="message")


def test_unconfigured_app_fails_open(wechat, settings):
    settings.WECHAT_APP_ID = ""
    assert text_filter(text="hello", field="message") == "hello"
    assert wechat.requests == []


def test_a_message_send_goes_through_the_check_and_stores_nothing_when_refused(
    wechat, settings, user
):
    chat = conversation_robot_ensure(user=user)
    with pytest.raises(ContentBlocked):
        message_send(sender=user, conversation_id=chat.pk, client_id="w1", body="a risky one")
    settings.SAFETY_FAIL_CLOSED = True
    wechat.sec_check_answer = (500, "oops", 0)
    with pytest.raises(ContentBlocked):
        message_send(sender=user, conversation_id=chat.pk, client_id="w2", body="hello")
    assert not Message.objects.exists()
    assert Conversation.objects.get(pk=chat.pk).last_seq == 0
    wechat.sec_check_answer = None  # WeChat answers again: the same text is stored
    _message, created = message_send(
        sender=user, conversation_id=chat.pk, client_id="w2", body="hello"
    )
    assert created
    assert Message.objects.get().body == "hello"
