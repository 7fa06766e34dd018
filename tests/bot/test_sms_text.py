"""A turn's dialogue replies as one SMS: numbered choices, GSM-7, and the segments they take."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.dialogue import Button, Reply, typed_choice
from bot.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_SEGMENTS,
    is_gsm7,
    render_sms,
    segments,
    to_gsm7,
)
from kortkontor.wiring import Services
from tests.bot.world import Clock, World, linked_card_user

MARIA_TG = 5101

MENU = Reply(
    "Vad vill du göra?",
    (
        (Button("Boka", "cmd:book"),),
        (Button("Var är mitt kort?", "cmd:where"), Button("Hjälp", "cmd:help")),
    ),
)


def test_buttons_become_numbered_choices_in_swedish_and_english() -> None:
    sms = render_sms([MENU], "sv")
    assert (
        sms.text == "Vad vill du göra?\n1 Boka, 2 Var är mitt kort?, 3 Hjälp\nSvara 1, 2 eller 3."
    )
    assert [b.data for b in sms.buttons] == ["cmd:book", "cmd:where", "cmd:help"]
    assert render_sms([MENU], "en").text.endswith("\nReply 1, 2 or 3.")
    one = Reply("Klart.", ((Button("Meny", "cmd:menu"),),))
    assert render_sms([one], "sv").text == "Klart.\n1 Meny\nSvara 1."
    assert render_sms([Reply("Hej!\n\nInget mer.")], "sv").text == "Hej!\nInget mer."


def test_choices_are_numbered_across_the_replies_of_a_turn() -> None:
    switch = Reply("Byta språk?", ((Button("English", "cmd:lang:en"),),))
    sms = render_sms([MENU, switch], "sv")
    assert "4 English" in sms.text and sms.text.endswith("Svara 1, 2, 3 eller 4.")
    assert typed_choice("4", sms.buttons) == Button("English", "cmd:lang:en")


def test_a_typed_number_maps_back_to_its_button() -> None:
    buttons = render_sms([MENU], "sv").buttons
    for typed in ("2", " 2 ", "2.", "nr 2", "Nr. 2", "2)"):
        assert typed_choice(typed, buttons) == buttons[1], typed
    for typed in ("12", "0", "4", "två", "2 3", "tisdag 2", "", "-2", ".2"):
        assert typed_choice(typed, buttons) is None, typed


def test_to_gsm7_replaces_typographic_characters_and_keeps_swedish() -> None:
    assert to_gsm7("«Boka» – tis\u00a010:00—11:00 … ’ok’ 👍 klart") == (
        "\"Boka\" - tis 10:00-11:00 ... 'ok' klart"
    )
    assert to_gsm7("Åsa Öberg, Ärlig, café, 5 €") == "Åsa Öberg, Ärlig, café, 5 €"
    assert to_gsm7("José Núñez") == "José Nuñez"


def test_segments_count_septets_extension_characters_and_ucs2() -> None:
    assert segments("") == 0
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("a" * 306) == 2 and segments("a" * 307) == 3
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2
    # An escape pair is never split: 152 septets, then € does not fit in the first segment.
    assert segments("a" * 152 + "€" + "a" * 152) == 3
    assert segments("å" * 160) == 1
    assert segments("«" + "a" * 69) == 1 and segments("«" + "a" * 70) == 2
    assert segments("«" + "a" * 133) == 2 and segments("«" + "a" * 134) == 3


def test_the_alphabet_has_its_128_codes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, the escape is no character
    assert len(GSM7_EXTENSION) == 10 and not GSM7_BASIC & GSM7_EXTENSION


@given(st.text())
def test_to_gsm7_output_is_always_gsm7(text: str) -> None:
    assert is_gsm7(to_gsm7(text))


@given(st.text(), st.integers(min_value=0))
def test_segments_grow_with_the_text(text: str, cut: int) -> None:
    assert segments(text[:cut]) <= segments(text)


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION)))
def test_gsm7_segments_follow_the_septets(text: str) -> None:
    septets = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
    if septets <= 160:
        assert segments(text) == (1 if text else 0)
    else:
        # 153 septets a segment, one of them lost when an escape pair would straddle two.
        assert -(-septets // 153) <= segments(text) <= -(-septets // 152)


def test_a_long_turn_loses_lines_without_digits_and_long_labels_keep_their_times() -> None:
    chatter = "\n".join(f"En mening till om kortet, nummer {n}." for n in range(1, 9))
    filler = "\n".join("En lång mening utan siffror som kan gå vid behov." for _ in range(6))
    long = Reply(
        f"Här är tiderna.\n\n{chatter}\n{filler}",
        tuple(
            (Button(f"tis {day} dec kl. 16:00 – Café Linné, Svartbäcksgatan", f"o:{day}"),)
            for day in range(1, 6)
        ),
    )
    sms = render_sms([long], "sv")
    assert sms.text.startswith("Här är tiderna.\n") and "utan siffror" not in sms.text
    assert all(f"nummer {n}." in sms.text for n in range(1, 9))
    # Shortened to 20 characters or less, the labels share one line again.
    times = ", ".join(f"{day} tis {day} dec kl. 16:00" for day in range(1, 6))
    assert sms.text.endswith(f"\n{times}\nSvara 1, 2, 3, 4 eller 5.")
    assert segments(sms.text) <= MAX_SEGMENTS and is_gsm7(sms.text)


async def test_real_dialogue_replies_fit_in_three_gsm7_segments(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    turns = {"welcome": chat.last}
    turns["menu"] = await chat.send("/meny")
    turns["where"] = await chat.press("Var")
    turns["book"] = await chat.press("Boka")
    turns["proposals"] = await chat.press("Snarast")
    turns["summary"] = await chat.press(chat.labels()[0])
    turns["booked"] = await chat.press("Bekräfta")
    turns["status"] = await chat.send("när är min tid?")
    turns["help"] = await chat.send("/hjalp")
    turns["cancel"] = await chat.press("Avboka")
    turns["cancelled"] = await chat.press(chat.labels()[0])
    measured = {}
    for name, replies in turns.items():
        sms = render_sms(replies, "sv")
        measured[name] = segments(sms.text)
        assert is_gsm7(sms.text), sms.text
        assert measured[name] <= MAX_SEGMENTS, sms.text
        assert sms.buttons == tuple(b for r in replies for row in r.buttons for b in row)
    # What a booking costs by SMS: each of its turns within two segments.
    booking = ("book", "proposals", "summary", "booked")
    assert all(measured[name] <= 2 for name in booking), measured
