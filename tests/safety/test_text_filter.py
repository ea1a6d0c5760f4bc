"""The sensitive-word filter: reject and mask, despite spacing, width, case and zero-width."""

import pytest

from happychat.errors import ContentBlocked, InvalidInput
from safety.models import SensitiveWord
from safety.selectors import policy_get
from safety.services import (
    safety_policy_update,
    sensitive_word_save,
    sensitive_words_delete,
    sensitive_words_import,
    text_filter,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def words(db):
    sensitive_word_save(word="scam", action="reject")
    sensitive_word_save(word="赌博", action="reject")
    sensitive_word_save(word="darn", action="mask")
    sensitive_word_save(word="笨蛋", action="mask")


def test_clean_text_passes_unchanged(words):
    text = "Hello, how are you? 你好"
    assert text_filter(text=text, field="message") == text


@pytest.mark.parametrize(
    "text",
    [
        "this is a scam",
        "this is a SCAM",
        "this is a s c a m",
        "this is a s.c.a.m!",
        "this is a ｓｃａｍ",  # full-width
        "this is a Ｓ Ｃ Ａ Ｍ",
        "this is a sc\u200bam",  # zero-width space
        "this is a s\u200dc\ufeffam",  # zero-width joiner, BOM
        "一起来赌博吧",
        "一起来赌 博吧",
        "一起来赌\u200b博吧",
        "一起来赌　博吧",  # ideographic space
    ],
)
def test_reject_word_with_tricks_is_blocked(words, text):
    with pytest.raises(ContentBlocked) as caught:
        text_filter(text=text, field="message")
    assert caught.value.code == "content_blocked"
    assert caught.value.extra == {"field": "message"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oh darn it", "oh *** it"),
        ("oh DARN it", "oh *** it"),
        ("oh d a r n it", "oh *** it"),
        ("oh ｄａｒｎ it", "oh *** it"),
        ("oh da\u200brn it", "oh *** it"),
        ("darn, darn!", "***, ***!"),
        ("你这个笨蛋", "你这个***"),
        ("你这个笨 蛋！", "你这个***！"),
        ("你这个笨\u200b蛋", "你这个***"),
    ],
)
def test_mask_word_with_tricks_is_masked_in_place(words, text, expected):
    assert text_filter(text=text, field="message") == expected


def test_latin_words_match_whole_words_only(words):
    assert text_filter(text="the scampi were darned good", field="message") == (
        "the scampi were darned good"
    )


def test_reject_wins_over_mask_in_the_same_text(words):
    with pytest.raises(ContentBlocked):
        text_filter(text="darn scam", field="message")


def test_default_action_follows_the_policy(db):
    sensitive_word_save(word="meh")  # action "default"
    assert policy_get().default_action == "reject"
    with pytest.raises(ContentBlocked):
        text_filter(text="so meh", field="message")
    safety_policy_update(default_action="mask")
    assert text_filter(text="so meh", field="message") == "so ***"


def test_word_edits_take_effect_at_once(db):
    assert text_filter(text="foo bar", field="message") == "foo bar"
    word = sensitive_word_save(word="foo", action="mask")
    assert text_filter(text="foo bar", field="message") == "*** bar"
    sensitive_word_save(word="foo", action="reject", word_id=word.pk)
    with pytest.raises(ContentBlocked):
        text_filter(text="foo bar", field="message")
    sensitive_words_delete(word_ids=[word.pk])
    assert text_filter(text="foo bar", field="message") == "foo bar"


def test_thousands_of_words_are_matched_quickly(db):
    import time

    sensitive_words_import(words=[f"badword{i}" for i in range(5000)] + ["毒品"], action="mask")
    assert SensitiveWord.objects.count() == 5001
    text_filter(text="warm up", field="message")  # compiles the automaton once
    started = time.perf_counter()
    for _ in range(200):
        masked = text_filter(text="say badword4321 and 毒 品 " * 20, field="message")
    assert time.perf_counter() - started < 2.0
    assert "badword4321" not in masked
    assert masked.startswith("say *** and *** ")


@pytest.mark.parametrize("word", ["", "   ", "!!!", "\u200b"])
def test_word_without_letters_is_refused_and_nothing_changes(db, word):
    with pytest.raises(InvalidInput):
        sensitive_word_save(word=word, action="reject")
    assert not SensitiveWord.objects.exists()


def test_unknown_action_is_refused(db):
    with pytest.raises(InvalidInput):
        sensitive_word_save(word="x", action="explode")
    with pytest.raises(InvalidInput):
        safety_policy_update(default_action="explode")
    assert not SensitiveWord.objects.exists()
    assert policy_get().default_action == "reject"
