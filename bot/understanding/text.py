"""Text as people type it into words the layer can match: case, emoji, colloquial spellings,
stretched letters and typos mended, each word with its Swedish and English Snowball stem.

Typos are mended with rapidfuzz against the layer's own vocabulary (its cue words and the
time words), and only for words it does not already know: a known word is never «corrected»
into a cue word. Mending keeps a word's place, so that the wish parser gets the mended text
with its punctuation and numbers («14.30», «3/12») intact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.understanding import lexicon

_SWEDISH = snowballstemmer.stemmer("swedish")
_ENGLISH = snowballstemmer.stemmer("english")

# Emoji that say something; every other symbol is dropped.
EMOJI_WORDS = {
    "👍": "ok",
    "👌": "ok",
    "✅": "ok",
    "✔": "ok",
    "🙏": "tack",
    "👎": "nej",
    "❌": "nej",
    "👋": "hej",
}
# Spellings from chat and SMS, as the words the tables are written in.
COLLOQUIAL: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("imorrn", "imorn", "imorron", "imorgn", "imoron"), ("imorgon",)),
    **dict.fromkeys(("morrn", "morn", "morron"), ("morgon",)),
    "nån": ("någon",),
    "nåt": ("något",),
    "nåra": ("några",),
    "nånstans": ("någonstans",),
    "nånting": ("någonting",),
    "ngn": ("någon",),
    "ngt": ("något",),
    "e": ("är",),
    "ä": ("är",),
    "me": ("med",),
    "va": ("vad",),
    "vart": ("var",),
    "mej": ("mig",),
    "dej": ("dig",),
    "sej": ("sig",),
    "o": ("och",),
    "sku": ("skulle",),
    "kmr": ("kommer",),
    "tis": ("tisdag",),
    "ons": ("onsdag",),
    "tors": ("torsdag",),
    "fre": ("fredag",),
    "lör": ("lördag",),
    "sön": ("söndag",),
    "em": ("eftermiddag",),
    "fm": ("förmiddag",),
    "okey": ("okej",),
    "oke": ("okej",),
    "k": ("ok",),
    "kk": ("ok",),
    "tx": ("tack",),
    # English
    "wheres": ("where", "is"),
    "whats": ("what", "is"),
    "thats": ("that", "is"),
    "hows": ("how", "is"),
    "pls": ("please",),
    "plz": ("please",),
    "u": ("you",),
    "ur": ("your",),
    "r": ("are",),
    "tmrw": ("tomorrow",),
    "tmr": ("tomorrow",),
    "tomoz": ("tomorrow",),
    "wanna": ("want", "to"),
    "gonna": ("going", "to"),
    "cannot": ("cant",),
}
# Two-word spellings joined before the words are split: «god morgon» is a greeting, not a
# wish for the morning.
_JOINED = (
    (re.compile(r"\bgod\s+(morgon|dag|kväll|eftermiddag)\b"), r"god\1"),
    (re.compile(r"\bgood\s+(morning|afternoon|evening)\b"), r"good\1"),
    (re.compile(r"\bhej\s+då\b"), "hejdå"),
    (re.compile(r"\bcan\s+not\b"), "cant"),
    # «id like» is «I'd like», not an ID document.
    (re.compile(r"\bi'?d\s+(like|love|prefer|rather)\b"), r"i would \1"),
)
_REF = re.compile(r"(?<![\w-])([a-zåäö]{1,4})\s?-\s?(\d{1,8})(?![\w-])")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_APOSTROPHES = str.maketrans({"’": "'", "`": "'", "´": "'"})
_DROPPED_CATEGORIES = frozenset({"So", "Sk", "Cs", "Co", "Cn", "Cf", "Mn", "Me"})
MIN_MENDED = 4  # shorter words have too many neighbours one typo away


@dataclass(frozen=True, slots=True)
class Token:
    """One word as understood."""

    text: str  # casefolded, colloquial spelling and typos mended
    sv: str  # Swedish stem
    en: str  # English stem
    mended: bool = False  # a typo was mended: a weaker cue


@dataclass(frozen=True, slots=True)
class Normalised:
    """A message made ready for matching."""

    tokens: tuple[Token, ...]
    wish_text: str  # for the wish parser: mended words, punctuation and numbers kept
    refs: tuple[str, ...]  # card order refs as written on the card («K-1»), in text order


@lru_cache(maxsize=16384)
def swedish_stem(word: str) -> str:
    """The Swedish Snowball stem."""
    return str(_SWEDISH.stemWord(word))


@lru_cache(maxsize=16384)
def english_stem(word: str) -> str:
    """The English Snowball stem."""
    return str(_ENGLISH.stemWord(word))


def _vocabulary() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """Known words, known word beginnings, and the words a typo may be mended into."""
    words, beginnings = lexicon.cue_words((*lexicon.SV_TABLES, *lexicon.EN_TABLES))
    targets = frozenset(w for w in words | lexicon.TIME_WORDS if len(w) >= MIN_MENDED - 1)
    known = words | lexicon.TIME_WORDS | lexicon.SV_KNOWN | lexicon.EN_KNOWN | set(COLLOQUIAL)
    return frozenset(known), beginnings, tuple(sorted(w for w in targets if " " not in w))


KNOWN, BEGINNINGS, MENDING_TARGETS = _vocabulary()
_KNOWN_SV_STEMS = frozenset(swedish_stem(w) for w in KNOWN)
_KNOWN_EN_STEMS = frozenset(english_stem(w) for w in KNOWN)
# Candidates grouped by length: a word is only compared with words one or two letters off.
_BY_LENGTH: dict[int, tuple[str, ...]] = {}
for _target in MENDING_TARGETS:
    _BY_LENGTH[len(_target)] = (*_BY_LENGTH.get(len(_target), ()), _target)


def is_known(word: str) -> bool:
    """A word the layer knows, written as is or inflected (by its stem) or by a beginning."""
    return (
        word in KNOWN
        or swedish_stem(word) in _KNOWN_SV_STEMS
        or english_stem(word) in _KNOWN_EN_STEMS
        or any(word.startswith(b) for b in BEGINNINGS)
    )


def _unstretched(word: str) -> Iterator[str]:
    """«fredaaag» as «fredaag», then «fredag»: letters typed three times or more."""
    yield _STRETCHED.sub(r"\1\1", word)
    yield _STRETCHED.sub(r"\1", word)


def _nearest(word: str) -> str | None:
    """The vocabulary word one typo away (two for long words), or None.

    Of equally near words the one sharing the most letters wins: «tosdag» is «torsdag» (a
    letter left out), not «tisdag» (a letter changed).
    """
    edits = 1 if len(word) < 8 else 2
    lengths = range(len(word) - edits, len(word) + edits + 1)
    pool = [candidate for n in lengths for candidate in _BY_LENGTH.get(n, ())]
    found = process.extract(word, pool, scorer=OSA.distance, score_cutoff=edits, limit=None)
    if not found:
        return None
    nearest = min(distance for _, distance, _ in found)
    tied = [candidate for candidate, distance, _ in found if distance == nearest]
    return max(tied, key=lambda candidate: (fuzz.ratio(word, candidate), candidate))


@lru_cache(maxsize=16384)
def mend(word: str) -> tuple[str, bool]:
    """The word with a stretch or a typo mended, and whether a typo was mended."""
    if len(word) < MIN_MENDED or not word.isalpha() or is_known(word):
        return word, False
    for shorter in _unstretched(word):
        if shorter != word and is_known(shorter):
            return shorter, False
    nearest = _nearest(next(_unstretched(word)))
    return (nearest, True) if nearest is not None else (word, False)


def _without_emoji(text: str) -> str:
    """Emoji that say something as their word; other symbols as a space."""
    out = []
    for char in text:
        if char in EMOJI_WORDS:
            out.append(f" {EMOJI_WORDS[char]} ")
        elif unicodedata.category(char) in _DROPPED_CATEGORIES:
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def _clean(text: str) -> str:
    """Casefolded NFC text without emoji, with plain apostrophes and joined greetings."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_APOSTROPHES)
    # Emoji are mostly outside the Basic Multilingual Plane: skip the scan for plain text.
    if any(ord(char) > 0x2000 for char in text):
        text = _without_emoji(text)
    for pattern, joined in _JOINED:
        text = pattern.sub(joined, text)
    return text


def _token(word: str, mended: bool) -> Token:
    return Token(word, swedish_stem(word), english_stem(word), mended)


def normalise(text: str) -> Normalised:
    """Words, the wish parser's text and the order refs of a message."""
    text = _clean(text)
    refs = tuple(f"{m.group(1).upper()}-{m.group(2)}" for m in _REF.finditer(text))
    text = _REF.sub(" ", text)
    tokens: list[Token] = []
    pieces: list[str] = []
    position = 0
    for match in _WORD.finditer(text):
        written = match.group(0).replace("'", "")
        word, mended = mend(written)
        pieces += (text[position : match.start()], word)
        position = match.end()
        tokens += (_token(part, mended) for part in COLLOQUIAL.get(word, (word,)))
    pieces.append(text[position:])
    return Normalised(tuple(tokens), "".join(pieces), refs)


def _language_words() -> tuple[frozenset[str], frozenset[str]]:
    """Words that are Swedish only and English only, for telling the two apart."""
    sv_cues, _ = lexicon.cue_words(lexicon.SV_TABLES)
    en_cues, _ = lexicon.cue_words(lexicon.EN_TABLES)
    swedish = sv_cues | lexicon.SV_KNOWN | lexicon.SV_TIME_WORDS
    english = en_cues | lexicon.EN_KNOWN | lexicon.EN_TIME_WORDS
    return frozenset(swedish - english), frozenset(english - swedish)


SWEDISH_WORDS, ENGLISH_WORDS = _language_words()


def written_in(tokens: tuple[Token, ...]) -> str | None:
    """The language the words clearly are ("sv" or "en"); None when too few or mixed."""
    swedish = sum(token.text in SWEDISH_WORDS for token in tokens)
    english = sum(token.text in ENGLISH_WORDS for token in tokens)
    if english >= 2 and english >= 3 * swedish:
        return "en"
    if swedish >= 2 and swedish >= 3 * english:
        return "sv"
    return None
