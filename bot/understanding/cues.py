"""Cue phrases compiled once and found in a message's words.

Each phrase word becomes a small pattern (stems, written words, beginnings). Phrases are
indexed by what their first word can be, so a message is matched by looking up each of its
words rather than by trying every phrase.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.understanding import lexicon
from bot.understanding.lexicon import CueTable, Target
from bot.understanding.model import Speaker
from bot.understanding.text import Token, english_stem, swedish_stem

MAX_GAP = 2  # other words allowed between two words of a phrase


@dataclass(frozen=True, slots=True)
class _WordPattern:
    stems: frozenset[str]  # stems in the phrase's language
    written: frozenset[str]  # words that must be written so («=svenska»)
    beginnings: tuple[str, ...]  # «pin*»
    english: bool
    gap: int = MAX_GAP  # other words allowed before it: 0 right after the previous word

    def matches(self, token: Token) -> bool:
        stem = token.en if self.english else token.sv
        return (
            stem in self.stems
            or token.text in self.written
            or any(token.text.startswith(b) for b in self.beginnings)
        )


@dataclass(frozen=True, slots=True)
class Cue:
    """One phrase of a table."""

    target: Target
    weight: float
    words: tuple[_WordPattern, ...]
    phrase: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A cue found in a message: tokens [start, end)."""

    cue: Cue
    start: int
    end: int
    mended: bool  # a word of it was a mended typo

    @property
    def target(self) -> Target:
        return self.cue.target


def _pattern(slot: str, stem: Callable[[str], str], english: bool, gap: int) -> _WordPattern:
    stems, written, beginnings = set(), set(), []
    for word in slot.split("|"):
        if word.endswith("*"):
            beginnings.append(word[:-1])
        elif word.startswith("="):
            written.add(word[1:])
        else:
            stems.add(stem(word))
    return _WordPattern(frozenset(stems), frozenset(written), tuple(beginnings), english, gap)


def _words(phrase: str, *, english: bool) -> tuple[_WordPattern, ...]:
    """The phrase's word patterns; words joined by «_» must be adjacent."""
    stem = english_stem if english else swedish_stem
    return tuple(
        _pattern(slot, stem, english, MAX_GAP if i == 0 else 0)
        for group in phrase.split()
        for i, slot in enumerate(group.split("_"))
    )


def _compile(tables: Sequence[CueTable], *, english: bool) -> list[Cue]:
    return [
        Cue(target, weight, _words(phrase, english=english), phrase)
        for table in tables
        for target, weight, phrase in lexicon.phrases(table)
    ]


class CueIndex:
    """A role's cues, indexed by the stems and words their phrases can begin with."""

    def __init__(self, cues: list[Cue]) -> None:
        self._by_sv: dict[str, list[Cue]] = defaultdict(list)
        self._by_en: dict[str, list[Cue]] = defaultdict(list)
        self._by_written: dict[str, list[Cue]] = defaultdict(list)
        self._by_beginning: list[tuple[str, Cue]] = []
        for cue in cues:
            first = cue.words[0]
            for stem in first.stems:
                (self._by_en if first.english else self._by_sv)[stem].append(cue)
            for written in first.written:
                self._by_written[written].append(cue)
            self._by_beginning += ((b, cue) for b in first.beginnings)

    def _starting_at(self, token: Token) -> list[Cue]:
        found = [
            *self._by_sv.get(token.sv, ()),
            *self._by_en.get(token.en, ()),
            *self._by_written.get(token.text, ()),
        ]
        found += (cue for b, cue in self._by_beginning if token.text.startswith(b))
        return found

    def hits(self, tokens: Sequence[Token]) -> list[Hit]:
        """Each cue found, once, at its first place in the message."""
        found: dict[int, Hit] = {}
        for start, token in enumerate(tokens):
            for cue in self._starting_at(token):
                if id(cue) in found:
                    continue
                end = _rest_matches(cue.words[1:], tokens, start + 1)
                if end is not None:
                    mended = any(t.mended for t in tokens[start:end])
                    found[id(cue)] = Hit(cue, start, end, mended)
        return list(found.values())


def _rest_matches(words: Sequence[_WordPattern], tokens: Sequence[Token], at: int) -> int | None:
    """Where the phrase ends if its remaining words follow from `at` in order, else None."""
    for word in words:
        for position in range(at, min(at + word.gap + 1, len(tokens))):
            if word.matches(tokens[position]):
                at = position + 1
                break
        else:
            return None
    return at


def _index(speaker: Speaker) -> CueIndex:
    if speaker is Speaker.admin:
        swedish, english = (
            (lexicon.SV_SHARED, lexicon.SV_ADMIN),
            (lexicon.EN_SHARED, lexicon.EN_ADMIN),
        )
    else:
        swedish = (lexicon.SV_SHARED, lexicon.SV_CARD_USER)
        english = (lexicon.EN_SHARED, lexicon.EN_CARD_USER)
    return CueIndex([*_compile(swedish, english=False), *_compile(english, english=True)])


INDEXES = {speaker: _index(speaker) for speaker in Speaker}
