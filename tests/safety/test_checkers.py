"""Pluggable checkers: an external moderation service by settings, failing open or closed."""

import pytest

from happychat.errors import ContentBlocked
from safety.services import sensitive_word_save, text_filter
from tests.robot.stub_server import stub_server

pytestmark = pytest.mark.django_db

BOTH = ["safety.checkers.sensitive_words", "safety.checkers.http_moderation"]


@pytest.fixture
def moderation(settings):
    with stub_server() as stub:
        settings.SAFETY_CHECKERS = BOTH
        settings.SAFETY_MODERATION_URL = stub.url
        settings.SAFETY_MODERATION_TIMEOUT = 0.3
        yield stub


def test_moderation_service_sees_text_and_field_and_may_allow(moderation):
    moderation.respond = lambda body: (200, {"allowed": True}, 0)
    assert text_filter(text="hello there", field="nickname") == "hello there"
    assert moderation.requests[0]["body"] == {"text": "hello there", "field": "nickname"}


def test_moderation_service_may_reject(moderation):
    moderation.respond = lambda body: (200, {"allowed": False}, 0)
    with pytest.raises(ContentBlocked):
        text_filter(text="something it dislikes", field="message")


def test_moderation_service_may_rewrite_the_text(moderation):
    moderation.respond = lambda body: (200, {"allowed": True, "text": "[removed]"}, 0)
    assert text_filter(text="call me at 555", field="message") == "[removed]"


def test_moderation_service_gets_text_already_masked_by_words(moderation):
    sensitive_word_save(word="darn", action="mask")
    moderation.respond = lambda body: (200, {"allowed": True}, 0)
    assert text_filter(text="darn it", field="message") == "*** it"
    assert moderation.requests[0]["body"]["text"] == "*** it"


@pytest.mark.parametrize(
    "response",
    [(200, {"allowed": True}, 1.0), (500, {}, 0), (200, "not an object", 0)],
    ids=["timeout", "server-error", "malformed"],
)
def test_failing_moderation_fails_open_by_default(moderation, response):
    moderation.respond = lambda body: response
    assert text_filter(text="hello", field="message") == "hello"


@pytest.mark.parametrize(
    "response",
    [(200, {"allowed": True}, 1.0), (500, {}, 0), (200, "not an object", 0)],
    ids=["timeout", "server-error", "malformed"],
)
def test_failing_moderation_fails_closed_when_configured(moderation, settings, response):
    settings.SAFETY_FAIL_CLOSED = True
    moderation.respond = lambda body: response
    with pytest.raises(ContentBlocked):
        text_filter(text="hello", field="message")


def test_moderation_timeout_is_bounded(moderation):
    import time

    moderation.respond = lambda body: (200, {"allowed": True}, 2.0)
    started = time.monotonic()
    text_filter(text="hello", field="message")
    assert time.monotonic() - started < 1.0


def test_custom_checker_from_settings_runs(settings):
    settings.SAFETY_CHECKERS = ["tests.safety.test_checkers.shouting_checker"]
    assert text_filter(text="quiet please", field="remark") == "QUIET PLEASE"


def shouting_checker(*, text: str, field: str) -> str:
    return text.upper()
