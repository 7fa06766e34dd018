"""Names and free text refuse what makes them read other than they show: bidirectional
overrides and isolates, C0 and C1 controls, zero-width characters; real names in any script
pass, and a message keeps its newlines and its emoji."""

from __future__ import annotations

import pytest

from models.errors import InvalidInput
from models.validation import hidden_character, normalize_email, require_plain, require_text

HIDDEN = [
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",
    "\u2068",
    "\u2069",
    "\x00",
    "\x07",
    "\x1b",  # ESCAPE: terminal control sequences
    "\r",
    "\t",
    "\x7f",
    "\x85",  # NEXT LINE (C1)
    "\x9b",  # CONTROL SEQUENCE INTRODUCER (C1)
    "\u200b",  # ZERO WIDTH SPACE
    "\u200c",
    "\u200d",  # ZERO WIDTH JOINER
    "\u2060",  # WORD JOINER
    "\ufeff",  # BYTE ORDER MARK
]
NAMES = ["Åsa Öberg-Lindström", "Zoë D'Arcy", "محمد علي", "שרה כהן", "Nguyễn Thị Minh", "李小龙"]


@pytest.mark.parametrize("character", HIDDEN)
def test_a_name_refuses_each_hidden_character(character: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        require_text(f"Maria{character}Ek", field="given_name")
    assert refused.value.field == "given_name"
    code = f"U+{ord(character):04X}"
    assert refused.value.translated("sv") == (
        f"innehåller {code}, ett osynligt tecken eller styrtecken som kan få texten att läsas "
        "på ett annat sätt: ta bort det"
    )


@pytest.mark.parametrize("name", NAMES)
def test_real_names_pass(name: str) -> None:
    assert require_text(name, field="family_name") == name


def test_a_one_line_field_refuses_a_newline_a_message_keeps_it() -> None:
    assert hidden_character("Rad ett\nrad två") == "U+000A"
    assert hidden_character("Rad ett\nrad två\r\nrad tre", multiline=True) is None
    # A lone carriage return rewrites a terminal's line: never.
    assert hidden_character("ok\rfake", multiline=True) == "U+000D"


@pytest.mark.parametrize("character", [c for c in HIDDEN if c != "\u200d"])
def test_a_message_refuses_the_others(character: str) -> None:
    with pytest.raises(InvalidInput):
        require_plain(f"Jag blir sen {character}", field="text", multiline=True)


def test_a_joiner_is_fine_inside_an_emoji_only() -> None:
    health_worker = "\U0001f469\u200d\u2695\ufe0f"  # woman health worker
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert hidden_character(f"Tack {health_worker} {family}!", multiline=True) is None
    assert hidden_character(f"{health_worker}", multiline=False) == "U+200D"
    assert hidden_character("ab\u200dcd", multiline=True) == "U+200D"
    assert hidden_character("\u200d\U0001f469", multiline=True) == "U+200D"


def test_the_first_hidden_character_is_named() -> None:
    assert hidden_character("a\u200bb\u202ec") == "U+200B"


def test_an_email_with_a_hidden_character_says_so() -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_email("anna\u200b@example.se", field="email")
    assert "U+200B" in refused.value.translated("sv")
    assert normalize_email(" Anna@Example.se ") == "Anna@example.se"
