"""The understanding corpus: its cases, the context each is sent in, and how a reading is
checked against a case (see README.md here)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.understanding import Context, Intent, Reading, Speaker, Step, is_action
from bot.wish_parser import parse_wish
from models.zone import STOCKHOLM

FOLDER = Path(__file__).resolve().parent
PARTS = ("tuned", "heldout")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=STOCKHOLM)
_ROLES = {"user": Speaker.card_user, "admin": Speaker.admin}


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled message."""

    part: str
    line: int
    locale: str
    state: str
    text: str
    intents: tuple[Intent, ...]  # the right readings; the first is the label
    slots: dict[str, str]

    @property
    def context(self) -> Context:
        return context_of(self.state)

    @property
    def language(self) -> str:
        """The language the message is written in: the chat's, unless the case says."""
        return self.slots.get("written_in", self.locale)

    def __str__(self) -> str:
        return f"{self.part}:{self.line} [{self.locale} {self.state}] {self.text!r}"


def context_of(state: str) -> Context:
    """«user/confirm_cancel+meeting» as a Context."""
    role, _, rest = state.partition("/")
    step, *flags = rest.split("+")
    return Context(
        speaker=_ROLES[role],
        step=Step(step),
        has_meeting="meeting" in flags,
        pending_request="request" in flags,
    )


def _slots(written: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in written.split(";") if item.strip())
    return {key.strip(): value.strip() for key, value in pairs}


def load(part: str) -> list[Case]:
    """The cases of one part, in file order."""
    cases = []
    path = FOLDER / f"{part}.tsv"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        locale, state, text, intents, slots = line.split("\t")
        cases.append(
            Case(
                part=part,
                line=number,
                locale=locale,
                state=state,
                text=text,
                intents=tuple(Intent(i) for i in intents.split("|")),
                slots=_slots(slots),
            )
        )
    return cases


def _plain(text: str) -> str:
    """Text compared as words: casefolded, without punctuation."""
    text = unicodedata.normalize("NFC", text).casefold().replace("'", "").replace("’", "")
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def slot_problems(case: Case, reading: Reading) -> list[str]:
    """How the reading's slots differ from the case's; empty when they agree."""
    problems = []
    slots = reading.slots
    if reading.intent in (Intent.book, Intent.move, Intent.absence):
        expected = case.slots.get("when")
        wish = parse_wish(expected, now=NOW) if expected is not None else None
        if wish != slots.wish:
            problems.append(f"wish {slots.wish} != {expected!r}")
    if "refs" in case.slots and slots.refs != tuple(case.slots["refs"].split(",")):
        problems.append(f"refs {slots.refs} != {case.slots['refs']}")
    if "lang" in case.slots and slots.language != case.slots["lang"]:
        problems.append(f"language {slots.language} != {case.slots['lang']}")
    if "message" in case.slots and _plain(case.slots["message"]) not in _plain(slots.message or ""):
        problems.append(f"message {slots.message!r} lacks {case.slots['message']!r}")
    if "written_in" in case.slots and reading.written_in != case.slots["written_in"]:
        problems.append(f"written_in {reading.written_in} != {case.slots['written_in']}")
    return problems


def destructive(case: Case, reading: Reading) -> bool:
    """An action the person did not ask for."""
    return reading.intent not in case.intents and is_action(reading.intent, reading.slots)
