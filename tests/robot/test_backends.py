"""Smart backends: webhook and OpenAI-compatible, each with a deadline and a circuit breaker."""

import time

import pytest

from robot.backends import CircuitBreaker, configured_backend, reset_backends
from robot.services import robot_answer
from tests.robot.stub_server import stub_server

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_backends(settings):
    settings.ROBOT_BREAKER_FAILURES = 3
    settings.ROBOT_BREAKER_SECONDS = 30
    reset_backends()
    yield
    reset_backends()


@pytest.fixture
def webhook(settings):
    with stub_server() as stub:
        settings.ROBOT_BACKEND = "webhook"
        settings.ROBOT_WEBHOOK_URL = stub.url
        yield stub


@pytest.fixture
def openai(settings):
    with stub_server() as stub:
        settings.ROBOT_BACKEND = "openai"
        settings.ROBOT_OPENAI_URL = stub.url.removesuffix("/hook") + "/v1"
        settings.ROBOT_OPENAI_KEY = "sk-test"
        settings.ROBOT_OPENAI_MODEL = "tiny"
        yield stub


HISTORY = [{"role": "user", "text": "hi"}, {"role": "assistant", "text": "Hello!"}]


def test_webhook_gets_user_text_and_history_and_its_reply_is_used(webhook, user):
    webhook.respond = lambda body: (200, {"reply": "  Smart answer.  "}, 0)
    answer = robot_answer(user=user, text="what is love", history=HISTORY)
    assert (answer.text, answer.source) == ("Smart answer.", "webhook")
    assert webhook.requests[0]["body"] == {
        "user": "alice",
        "text": "what is love",
        "history": HISTORY,
    }


def test_openai_backend_sends_a_chat_completion_with_memory(openai, user):
    openai.respond = lambda body: (
        200,
        {"choices": [{"message": {"role": "assistant", "content": "42."}}]},
        0,
    )
    answer = robot_answer(user=user, text="meaning of life?", history=HISTORY)
    assert (answer.text, answer.source) == ("42.", "openai")
    request = openai.requests[0]
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert request["body"]["model"] == "tiny"
    assert [m["role"] for m in request["body"]["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    assert request["body"]["messages"][-1]["content"] == "meaning of life?"


def test_commands_are_answered_offline_without_asking_the_backend(webhook, user):
    assert robot_answer(user=user, text="/calc 6*7", history=[]).text == "6*7 = 42"
    assert webhook.requests == []


def test_slow_webhook_falls_back_to_offline_within_two_seconds(webhook, user, settings):
    settings.ROBOT_BACKEND_TIMEOUT = 5  # the overall deadline still applies
    webhook.respond = lambda body: (200, {"reply": "too late"}, 4.0)
    started = time.monotonic()
    answer = robot_answer(user=user, text="how do I add a friend", history=[])
    assert time.monotonic() - started < 2.0
    assert answer.source == "faq"
    assert "friend request" in answer.text


def test_backend_ignoring_its_timeout_still_cannot_hold_the_reply(settings, user):
    settings.ROBOT_BACKEND = "tests.robot.test_backends.SleepyBackend"
    started = time.monotonic()
    answer = robot_answer(user=user, text="hello", history=[])
    assert time.monotonic() - started < 2.0
    assert answer.source == "small_talk"


class SleepyBackend:
    """A backend that ignores its timeout entirely."""

    name = "sleepy"

    def reply(self, *, user, text, history, timeout):
        time.sleep(3)
        return "finally"


@pytest.mark.parametrize(
    "response",
    [(500, {"error": "boom"}, 0), (200, {"nope": 1}, 0), (200, {"reply": ""}, 0)],
    ids=["server-error", "no-reply-field", "empty-reply"],
)
def test_failing_webhook_falls_back_to_offline(webhook, user, response):
    webhook.respond = lambda body: response
    answer = robot_answer(user=user, text="hello", history=[])
    assert answer.source == "small_talk"


def test_unreachable_webhook_falls_back_to_offline(settings, user):
    from tests.servers import free_port

    settings.ROBOT_BACKEND = "webhook"
    settings.ROBOT_WEBHOOK_URL = f"http://127.0.0.1:{free_port()}/nobody-home"
    assert robot_answer(user=user, text="hello", history=[]).source == "small_talk"


def test_circuit_breaker_opens_after_repeated_failures_and_skips_the_backend(webhook, user):
    webhook.respond = lambda body: (500, {}, 0)
    for _ in range(3):
        assert robot_answer(user=user, text="hello", history=[]).source == "small_talk"
    assert len(webhook.requests) == 3
    # Open: the backend is not called at all, even once it has recovered.
    webhook.respond = lambda body: (200, {"reply": "I'm back"}, 0)
    for _ in range(5):
        assert robot_answer(user=user, text="hello", history=[]).source == "small_talk"
    assert len(webhook.requests) == 3


def test_circuit_breaker_tries_again_after_the_reset_time(webhook, user, settings):
    settings.ROBOT_BREAKER_SECONDS = 0.3
    reset_backends()
    webhook.respond = lambda body: (500, {}, 0)
    for _ in range(3):
        robot_answer(user=user, text="hello", history=[])
    webhook.respond = lambda body: (200, {"reply": "I'm back"}, 0)
    assert robot_answer(user=user, text="hello", history=[]).source == "small_talk"
    time.sleep(0.35)
    assert robot_answer(user=user, text="hello", history=[]).text == "I'm back"
    assert len(webhook.requests) == 4


def test_timeouts_count_as_failures_for_the_breaker(webhook, user, settings):
    settings.ROBOT_REPLY_DEADLINE = 0.3
    webhook.respond = lambda body: (200, {"reply": "slow"}, 1.0)
    for _ in range(3):
        assert robot_answer(user=user, text="hello", history=[]).source != "webhook"
    configured = configured_backend()
    assert configured is not None
    assert configured[1].is_open
    # Requests that timed out on our side may still be on their way to the stub (a loaded
    # machine): let them land before counting.
    deadline = time.monotonic() + 3
    while len(webhook.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    asked = len(webhook.requests)
    assert asked >= 1
    assert robot_answer(user=user, text="hello", history=[]).source != "webhook"
    time.sleep(0.3)
    assert len(webhook.requests) == asked


def test_breaker_half_open_failure_reopens_at_once():
    breaker = CircuitBreaker(failures=3, reset_seconds=0.0)
    for _ in range(3):
        breaker.record_failure()
    assert breaker.is_open
    assert breaker.allow()  # reset time passed: one trial call
    breaker.record_failure()
    assert breaker.is_open


def test_breaker_success_closes_it():
    breaker = CircuitBreaker(failures=2, reset_seconds=60)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert not breaker.allow()
