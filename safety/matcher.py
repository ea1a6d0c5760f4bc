"""Find sensitive words in text despite spacing, full-width, case and zero-width tricks.

Text and words are folded the same way: each character is NFKC-normalized and casefolded,
and separators (spaces, punctuation, symbols, control and zero-width characters) are
dropped. An Aho-Corasick automaton runs over the folded text in one pass, whatever the
number of words, and every folded character remembers its index in the original text,
so a match can be masked where it really is.
"""

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

# Unicode categories dropped before matching: separators, punctuation, symbols, controls
# and format characters (zero-width space/joiner, BOM, bidi marks).
_DROPPED = ("Z", "P", "S", "C")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).casefold()
    return "".join(c for c in folded if not unicodedata.category(c).startswith(_DROPPED))


def fold(text: str) -> tuple[str, list[int]]:
    """Return the folded text and, for each folded character, its index in `text`."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for c in _fold_char(char):
            chars.append(c)
            origin.append(index)
    return "".join(chars), origin


def fold_word(word: str) -> str:
    return fold(word)[0]


def _is_word_char(char: str) -> bool:
    folded = _fold_char(char)
    return bool(folded) and folded.isascii() and folded.isalnum()


@dataclass(frozen=True)
class Hit:
    start: int  # index in the original text, inclusive
    end: int  # index in the original text, exclusive
    word: str
    action: str


class WordMatcher:
    """An immutable automaton over folded words, each with its action."""

    def __init__(self, words: dict[str, str]) -> None:
        self.size = 0
        self._automaton = ahocorasick.Automaton()
        for word, action in words.items():
            folded = fold_word(word)
            if folded:
                # Latin words match whole words only ("ass" is not in "class"); CJK has no
                # word boundaries to respect.
                whole = folded.isascii() and folded.isalnum()
                self._automaton.add_word(folded, (folded, action, whole))
                self.size += 1
        if self.size:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Hit]:
        """Every occurrence of a word in `text`, in original coordinates."""
        if not self.size or not text:
            return []
        folded, origin = fold(text)
        hits = []
        for end, (word, action, whole) in self._automaton.iter(folded):
            start_index = origin[end - len(word) + 1]
            end_index = origin[end] + 1
            if whole and (
                (start_index > 0 and _is_word_char(text[start_index - 1]))
                or (end_index < len(text) and _is_word_char(text[end_index]))
            ):
                continue
            hits.append(Hit(start=start_index, end=end_index, word=word, action=action))
        return hits


def mask(text: str, hits: list[Hit], replacement: str = "***") -> str:
    """Replace each hit (overlapping hits merged) with `replacement`."""
    spans = sorted((hit.start, hit.end) for hit in hits)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, cursor = [], 0
    for start, end in merged:
        out.append(text[cursor:start])
        out.append(replacement)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
