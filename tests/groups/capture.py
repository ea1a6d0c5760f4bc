"""Capture what services publish: every `event` frame with its recipients, after commit."""

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from happychat import events


@dataclass
class Published:
    """One `event` frame as one user's sockets receive it."""

    user_id: int
    name: str
    data: dict[str, Any]
    subscribe: int | None
    unsubscribe: int | None


@dataclass
class Recorder:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def record(self, groups: Any, event: dict[str, Any]) -> None:
        for group in groups:
            self.sent.append((group, event))

    def events(self, name: str | None = None) -> list[Published]:
        out = []
        for group, event in self.sent:
            if event.get("type") != "chat.event":
                continue
            frame = json.loads(event["frame"])
            assert frame["type"] == "event"
            assert group.startswith("user.")
            if name is None or frame["event"] == name:
                out.append(
                    Published(
                        int(group.removeprefix("user.")),
                        frame["event"],
                        frame["data"],
                        event.get("subscribe"),
                        event.get("unsubscribe"),
                    )
                )
        return out

    def recipients(self, name: str) -> list[int]:
        return sorted(p.user_id for p in self.events(name))

    def names(self) -> list[str]:
        return [p.name for p in self.events()]

    def clear(self) -> None:
        self.sent.clear()


@pytest.fixture
def published(monkeypatch, django_capture_on_commit_callbacks):
    """Record channel-layer sends; on-commit callbacks run when each `with` block ends."""
    recorder = Recorder()
    monkeypatch.setattr(events, "_group_send", recorder.record)
    return recorder


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """`with commit():` runs the on-commit callbacks registered inside, as a real commit would."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hash the factories' passwords cheaply: these tests are about the social graph."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
