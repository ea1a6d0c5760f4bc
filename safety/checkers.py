"""Pluggable text checkers, run in the order of settings.SAFETY_CHECKERS (dotted paths).

A checker is any callable `check(*, text: str, field: str) -> str` returning the text to
keep (perhaps masked) or raising `happychat.errors.ContentBlocked`. The built-in word filter
comes first by default; an external moderation service can be appended by settings.
"""

import logging
from typing import Protocol

import httpx
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from happychat.errors import ContentBlocked

logger = logging.getLogger("happychat.safety")


class Checker(Protocol):
    def __call__(self, *, text: str, field: str) -> str: ...


def sensitive_words(*, text: str, field: str) -> str:
    """Reject or mask the sensitive words from the admin-edited list."""
    from safety.matcher import mask
    from safety.selectors import policy_matcher

    matcher = policy_matcher()
    hits = matcher.find(text)
    if not hits:
        return text
    if any(hit.action == "reject" for hit in hits):
        raise ContentBlocked(field=field)
    return mask(text, hits)


def http_moderation(*, text: str, field: str) -> str:
    """Ask SAFETY_MODERATION_URL: POST {"text", "field"} → {"allowed": bool, "text"?}.

    On a timeout or any failure the text passes (fail open) unless SAFETY_FAIL_CLOSED.
    """
    url = settings.SAFETY_MODERATION_URL
    if not url:
        return text
    try:
        response = httpx.post(
            url,
            json={"text": text, "field": field},
            timeout=settings.SAFETY_MODERATION_TIMEOUT,
        )
        response.raise_for_status()
        verdict = response.json()
        allowed = verdict["allowed"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        logger.warning("moderation service %s failed", url, exc_info=True)
        if settings.SAFETY_FAIL_CLOSED:
            raise ContentBlocked(
                _("The text could not be checked right now; try again later."), field=field
            ) from None
        return text
    if not allowed:
        raise ContentBlocked(field=field)
    replaced = verdict.get("text")
    return replaced if isinstance(replaced, str) else text


def wechat_text_check(*, text: str, field: str) -> str:
    """Ask WeChat's text security check (msgSecCheck); risky text is blocked.

    Uses the mini-program's WECHAT_APP_ID/SECRET (access token cached until it expires,
    refreshed once when WeChat says it expired) and waits at most SAFETY_WECHAT_TIMEOUT.
    When WeChat cannot answer, the text passes (fail open) unless SAFETY_FAIL_CLOSED.
    """
    from happychat import wechat

    if not text.strip():
        return text
    try:
        safe = wechat.text_is_safe(text, wait=min(settings.SAFETY_WECHAT_TIMEOUT, 5.0))
    except wechat.WeChatError as exc:
        logger.warning("WeChat text check failed: %s", type(exc).__name__)
        if settings.SAFETY_FAIL_CLOSED:
            raise ContentBlocked(
                _("The text could not be checked right now; try again later."), field=field
            ) from None
        return text
    if not safe:
        raise ContentBlocked(field=field)
    return text


_checkers: tuple[tuple[str, ...], list[Checker]] | None = None


def configured_checkers() -> list[Checker]:
    """settings.SAFETY_CHECKERS imported, once per value of the setting (every message
    sent runs them: importing the paths each time was ~4 % of the writer thread)."""
    global _checkers
    paths = tuple(settings.SAFETY_CHECKERS)
    if _checkers is None or _checkers[0] != paths:
        _checkers = (paths, [import_string(path) for path in paths])
    return _checkers[1]
