"""Smart backends the robot may ask first, each behind a timeout and a circuit breaker.

`ROBOT_BACKEND` picks one: "offline" (none: the offline chain answers alone), "webhook",
"openai", or the dotted path of a class with the same interface. A backend that fails,
times out or is switched off by its breaker returns None, and the offline chain answers.
"""

import threading
import time
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.utils.module_loading import import_string


class BackendError(Exception):
    """The backend did not produce a usable reply."""


class Backend(Protocol):
    name: str

    def reply(self, *, user: str, text: str, history: list[dict[str, str]], timeout: float) -> str:
        """Return the reply text or raise BackendError (or any exception) within `timeout`."""
        ...


class CircuitBreaker:
    """After `failures` failures in a row, refuse calls for `reset_seconds`, then try one."""

    def __init__(self, *, failures: int, reset_seconds: float) -> None:
        self.threshold = failures
        self.reset_seconds = reset_seconds
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at >= self.reset_seconds:
                # Half-open: let this call through; one more failure reopens at once.
                self.opened_at = None
                self.failures = self.threshold - 1
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = time.monotonic()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self.opened_at is not None


class WebhookBackend:
    """POST {"user", "text", "history"} to ROBOT_WEBHOOK_URL; expect {"reply": "..."}."""

    name = "webhook"

    def __init__(self) -> None:
        self.url = settings.ROBOT_WEBHOOK_URL

    def reply(self, *, user: str, text: str, history: list[dict[str, str]], timeout: float) -> str:
        response = httpx.post(
            self.url, json={"user": user, "text": text, "history": history}, timeout=timeout
        )
        response.raise_for_status()
        return _text(response.json().get("reply"))


class OpenAIBackend:
    """An OpenAI-compatible /chat/completions endpoint with the user's recent turns."""

    name = "openai"
    system_prompt = (
        "You are HappyBot, the friendly assistant inside the HappyChat messenger. "
        "Answer briefly, in the language of the user."
    )

    def __init__(self) -> None:
        self.url = settings.ROBOT_OPENAI_URL.rstrip("/")
        if not self.url.endswith("/chat/completions"):
            self.url += "/chat/completions"
        self.key = settings.ROBOT_OPENAI_KEY
        self.model = settings.ROBOT_OPENAI_MODEL

    def reply(self, *, user: str, text: str, history: list[dict[str, str]], timeout: float) -> str:
        messages: list[dict[str, Any]] = [{"role": "system", "content": self.system_prompt}]
        messages += [{"role": turn["role"], "content": turn["text"]} for turn in history]
        messages.append({"role": "user", "content": text})
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        response = httpx.post(
            self.url,
            json={"model": self.model, "messages": messages, "max_tokens": 300},
            headers=headers,
            timeout=timeout,
        )
        response.raise_for_status()
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise BackendError("malformed completion") from None
        return _text(content)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BackendError("empty reply")
    return value.strip()[: settings.CHAT_MAX_BODY_CHARS]


BUILTIN = {"webhook": WebhookBackend, "openai": OpenAIBackend}

_lock = threading.Lock()
# One backend and breaker per configuration, kept for the life of the process so the
# breaker remembers failures across messages.
_configured: dict[tuple[str, ...], tuple[Backend, CircuitBreaker]] = {}


def configured_backend() -> tuple[Backend, CircuitBreaker] | None:
    """The smart backend in settings with its breaker, or None for offline only."""
    choice = settings.ROBOT_BACKEND
    if not choice or choice == "offline":
        return None
    key = (
        choice,
        settings.ROBOT_WEBHOOK_URL,
        settings.ROBOT_OPENAI_URL,
        settings.ROBOT_OPENAI_MODEL,
        str(settings.ROBOT_BREAKER_FAILURES),
        str(settings.ROBOT_BREAKER_SECONDS),
    )
    with _lock:
        if key not in _configured:
            backend_class: Any = BUILTIN.get(choice) or import_string(choice)
            backend: Backend = backend_class()
            _configured[key] = (
                backend,
                CircuitBreaker(
                    failures=settings.ROBOT_BREAKER_FAILURES,
                    reset_seconds=settings.ROBOT_BREAKER_SECONDS,
                ),
            )
        return _configured[key]


def reset_backends() -> None:
    """Forget backends and breakers (after a settings change; used by tests)."""
    with _lock:
        _configured.clear()
