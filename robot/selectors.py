"""Robot reads: the FAQ and small talk (cached per process briefly), and a user's memory."""

import time
from dataclasses import dataclass

from robot.models import FaqEntry, RobotTurn, SmallTalk

# The FAQ is small and read on every answer; operators' edits show within this many seconds.
KNOWLEDGE_TTL = 10.0


@dataclass(frozen=True)
class Faq:
    language: str
    question: str
    keywords: list[str]
    answer: str


@dataclass(frozen=True)
class Talk:
    language: str
    patterns: list[str]
    reply: str


@dataclass(frozen=True)
class Knowledge:
    faq: list[Faq]
    small_talk: list[Talk]
    loaded_at: float


_cached: Knowledge | None = None


def _phrases(value: str) -> list[str]:
    from robot.engine import normalize

    return [p for p in (normalize(part) for part in value.replace("，", ",").split(",")) if p]


def knowledge_get(*, fresh: bool = False) -> Knowledge:
    """Active FAQ entries and small talk, re-read at most every KNOWLEDGE_TTL seconds."""
    global _cached
    if not fresh and _cached is not None and time.monotonic() - _cached.loaded_at < KNOWLEDGE_TTL:
        return _cached
    _cached = Knowledge(
        faq=[
            Faq(e.language, e.question, _phrases(e.keywords), e.answer)
            for e in FaqEntry.objects.filter(is_active=True)
        ],
        small_talk=[
            Talk(t.language, _phrases(t.patterns), t.reply)
            for t in SmallTalk.objects.filter(is_active=True)
        ],
        loaded_at=time.monotonic(),
    )
    return _cached


def knowledge_forget() -> None:
    """Drop the cached FAQ so the next answer reads the database (after an admin edit)."""
    global _cached
    _cached = None


def robot_memory(*, user_id: int, limit: int) -> list[dict[str, str]]:
    """The user's last `limit` turns with the robot, oldest first."""
    turns = RobotTurn.objects.filter(user_id=user_id).order_by("-id")[:limit]
    return [{"role": t.role, "text": t.text} for t in reversed(turns)]
