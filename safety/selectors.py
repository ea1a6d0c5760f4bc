"""Safety reads: the policy and the compiled word matcher."""

import threading
import time

from django.conf import settings

from safety.matcher import WordMatcher
from safety.models import SafetyPolicy, SensitiveWord

_lock = threading.Lock()
# (words_version, default_action, matcher), rebuilt when the version in the database moves.
_compiled: tuple[str, str, WordMatcher] | None = None


def policy_get() -> SafetyPolicy:
    """The policy row, or an unsaved default one before any operator has saved it."""
    return SafetyPolicy.objects.filter(pk=1).first() or SafetyPolicy(pk=1)


_checked_at = 0.0


def policy_forget() -> None:
    """Drop this process's cached matcher (after an edit here; others recheck on their own)."""
    global _compiled, _checked_at
    _compiled, _checked_at = None, 0.0


def policy_matcher() -> WordMatcher:
    """The matcher for the current word list, compiled once per process per version.

    The version is read at most every SAFETY_RECHECK_SECONDS, so sending a message costs
    no query; another process's edit applies here within that time.
    """
    global _compiled, _checked_at
    now = time.monotonic()
    current = _compiled
    if current is not None and now - _checked_at < settings.SAFETY_RECHECK_SECONDS:
        return current[2]
    policy = policy_get()
    _checked_at = now
    if current is not None and current[:2] == (policy.words_version, policy.default_action):
        return current[2]
    with _lock:
        words = {
            word: policy.default_action if action == SensitiveWord.WordAction.DEFAULT else action
            for word, action in SensitiveWord.objects.values_list("word", "action")
        }
        matcher = WordMatcher(words)
        _compiled = (policy.words_version, policy.default_action, matcher)
    return matcher
