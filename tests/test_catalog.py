"""Every user-facing text has a Swedish translation, and each translation keeps its fields."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kortkontor", "models", "scheduler", "bot", "web", "payout")
KEYWORDS = {"_": None, "N_": None, "translate": None, "ngettext": (1, 2)}


def _source_messages() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.update([message] if isinstance(message, str) else message)
    return found


def _catalog(locale: str) -> dict[str, str]:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "kortkontor.po").open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def test_every_message_has_a_swedish_translation() -> None:
    messages = _source_messages()
    assert len(messages) > 50  # the extraction really found the texts
    swedish = _catalog("sv")
    missing = sorted(m for m in messages if not swedish.get(m))
    assert missing == [], "run `make messages` and translate these in locales/sv: " + repr(missing)


def test_translations_keep_their_placeholders() -> None:
    fields = re.compile(r"\{(\w+)\}")
    for msgid, msgstr in _catalog("sv").items():
        if msgstr:
            assert set(fields.findall(msgid)) == set(fields.findall(msgstr)), msgid
