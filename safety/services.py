"""Safety writes and the one entry point every other app calls: `text_filter`."""

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from happychat.errors import InvalidInput, NotFound
from safety.checkers import configured_checkers
from safety.matcher import fold_word
from safety.models import Action, SafetyPolicy, SensitiveWord
from safety.selectors import policy_forget


def text_filter(*, text: str, field: str) -> str:
    """Return `text`, masked where the policy says mask, or raise ContentBlocked."""
    for check in configured_checkers():
        text = check(text=text, field=field)
    return text


def _words_changed() -> None:
    policy, _created = SafetyPolicy.objects.select_for_update().get_or_create(pk=1)
    policy.words_version = uuid.uuid4().hex
    policy.save(update_fields=["words_version", "updated_at"])
    policy_forget()


def _clean_word(word: str) -> str:
    word = word.strip()
    if not fold_word(word):
        raise InvalidInput(_("A sensitive word needs at least one letter, digit or character."))
    if len(word) > SensitiveWord._meta.get_field("word").max_length:  # type: ignore[operator]
        raise InvalidInput(_("A sensitive word is at most 100 characters."))
    return word


@transaction.atomic
def sensitive_word_save(
    *, word: str, action: str = SensitiveWord.WordAction.DEFAULT, word_id: int | None = None
) -> SensitiveWord:
    """Create a word, or change word `word_id`; every process picks the change up."""
    if action not in SensitiveWord.WordAction.values:
        raise InvalidInput(_("Unknown action."))
    word = _clean_word(word)
    if word_id is None:
        entry, _created = SensitiveWord.objects.update_or_create(
            word=word, defaults={"action": action}
        )
    else:
        found = SensitiveWord.objects.filter(pk=word_id).first()
        if found is None:
            raise NotFound()
        found.word, found.action = word, action
        found.save(update_fields=["word", "action"])
        entry = found
    _words_changed()
    return entry


@transaction.atomic
def sensitive_words_import(
    *, words: Iterable[str], action: str = SensitiveWord.WordAction.DEFAULT
) -> int:
    """Add many words at once (existing ones keep their action); return how many were new."""
    if action not in SensitiveWord.WordAction.values:
        raise InvalidInput(_("Unknown action."))
    cleaned = {_clean_word(w) for w in words if w.strip()}
    existing = set(SensitiveWord.objects.filter(word__in=cleaned).values_list("word", flat=True))
    SensitiveWord.objects.bulk_create(
        [SensitiveWord(word=w, action=action) for w in sorted(cleaned - existing)],
        batch_size=500,
    )
    _words_changed()
    return len(cleaned - existing)


@transaction.atomic
def sensitive_words_delete(*, word_ids: Iterable[int]) -> int:
    """Delete words; return how many were deleted."""
    deleted, _details = SensitiveWord.objects.filter(pk__in=list(word_ids)).delete()
    _words_changed()
    return deleted


@transaction.atomic
def safety_policy_update(*, default_action: str) -> SafetyPolicy:
    """Set the action for words that use the policy default."""
    if default_action not in Action.values:
        raise InvalidInput(_("Unknown action."))
    policy, _created = SafetyPolicy.objects.select_for_update().get_or_create(pk=1)
    policy.default_action = default_action
    policy.words_version = uuid.uuid4().hex
    policy.save()
    policy_forget()
    return policy
