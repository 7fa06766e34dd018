"""Button actions: each encodes to the wire string buttons already sent carry, decodes back to
itself, fits Telegram's 64 bytes, and anything else decodes to None without raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.actions import (
    MAX_DATA_BYTES,
    MAX_ID,
    Action,
    AddWindowOn,
    AnswerMessage,
    AnswerRequest,
    BookProposal,
    Command,
    Name,
    Offer,
    QuickWish,
    SetLanguage,
    Verb,
    WishKey,
    decode,
)

ids = st.integers(min_value=1, max_value=MAX_ID)
tokens = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    min_size=1,
    max_size=40,
)
actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(Command, st.sampled_from(Name)),
    st.builds(QuickWish, st.sampled_from(WishKey)),
    st.builds(SetLanguage, st.sampled_from(("sv", "en"))),
    st.builds(AddWindowOn, st.integers(min_value=0, max_value=6)),
    st.builds(BookProposal, ids),
    st.builds(AnswerRequest, st.sampled_from(Verb), ids),
    st.builds(AnswerMessage, ids),
    st.builds(Offer, tokens),
)


@given(actions)
def test_every_action_round_trips_within_telegrams_limit(action: Action) -> None:
    data = action.encode()
    assert decode(data) == action
    assert len(data.encode()) <= MAX_DATA_BYTES


@pytest.mark.parametrize(
    ("action", "data"),
    [
        (Command(Name.book), "cmd:book"),
        (Command(Name.move), "cmd:move"),
        (Command(Name.attend), "cmd:attend"),
        (Command(Name.language), "cmd:language"),
        (Command(Name.tider_venue_new), "cmd:tider:venue:new"),
        (QuickWish(WishKey.asap), "cmd:wish:asap"),
        (SetLanguage("en"), "cmd:lang:en"),
        (AddWindowOn(6), "cmd:tider:add:6"),
        (BookProposal(42), "p:42"),
        (AnswerMessage(5), "r:5"),
        (Command(Name.write_no), "cmd:write:no"),
        (AnswerRequest(Verb.confirm, 7), "m:confirm:7"),
        (AnswerRequest(Verb.propose, 7), "m:propose:7"),
        (AnswerRequest(Verb.decline, 7), "m:decline:7"),
        (Offer("Ab3_-x9Q"), "o:Ab3_-x9Q"),
    ],
)
def test_the_wire_strings_of_buttons_already_sent_still_work(action: Action, data: str) -> None:
    assert action.encode() == data
    assert decode(data) == action


@pytest.mark.parametrize(
    "data",
    [
        "",
        "cmd:",
        "cmd:drop_tables",
        "cmd:BOOK",
        "cmd:book ",
        "cmd:wish:",
        "cmd:wish:sat",
        "cmd:lang:de",
        "cmd:tider:add:7",
        "cmd:tider:add:-1",
        "cmd:tider:add:01",
        "p:",
        "p:abc",
        "p:-3",
        "p:0",
        "p:007",
        "r:",
        "r:0",
        "r:x1",
        f"r:{MAX_ID + 1}",
        "p:٣",
        "p:1e3",
        f"p:{MAX_ID + 1}",
        "p:" + "9" * 60,
        "m:confirm",
        "m:confirm:",
        "m:accept:7",
        "m:confirm:7:8",
        "m::7",
        "o:",
        "o:a b",
        "o:" + "A" * 41,
        "o:ÅÄÖ",
        "x:1",
        "cmd:book" + "\x00",
        "\ud800",
        "cmd:" + "a" * 100,
    ],
)
def test_malformed_data_decodes_to_none(data: str) -> None:
    assert decode(data) is None


@given(st.text(max_size=200))
def test_any_text_decodes_without_raising(data: str) -> None:
    action = decode(data)
    if action is not None:
        assert action.encode() == data


@given(st.binary(max_size=80))
def test_any_bytes_decode_without_raising(raw: bytes) -> None:
    action = decode(raw.decode("utf-8", "replace"))
    assert action is None or len(action.encode()) <= MAX_DATA_BYTES


@pytest.mark.parametrize(
    "build",
    [
        lambda: Command("drop_tables"),  # type: ignore[arg-type]
        lambda: QuickWish("sat"),  # type: ignore[arg-type]
        lambda: SetLanguage("de"),
        lambda: AddWindowOn(7),
        lambda: BookProposal(0),
        lambda: AnswerMessage(-1),
        lambda: BookProposal(MAX_ID + 1),
        lambda: AnswerRequest("accept", 1),  # type: ignore[arg-type]
        lambda: Offer("a b"),
    ],
)
def test_an_action_that_no_button_can_carry_cannot_be_built(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]
