"""Fuzzing the dialogue: any text or button data gets a Swedish answer, never a crash, and
never touches anyone else's card or meeting."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kortkontor.wiring import Services
from models.meetings import MeetingStatus
from tests.bot.world import Chat, Clock, World, active_meeting, build_world, card_link, new_dialogue

MARIA_TG, LENA_TG = 7001, 7003
WORDS = [
    "boka",
    "avboka",
    "ändra tid",
    "meny",
    "ja",
    "16:00",
    "tisdag",
    "/start",
    "/boka",
    "/avboka",
    "/status",
    "/language",
    "/hjalp",
    "/meny",
    "/start x",
    "snarast",
    # Free text the understanding layer reads, sent in whatever state the chat is in.
    "hej",
    "tack",
    "vad kan du göra?",
    "jag vill avboka",
    "jag kan inte komma",
    "kan jag ändra tiden?",
    "imorgon efter 15",
    "tuesday afternoon",
    "ok",
    "nej",
    "var ligger kontoret?",
    "mitt kort tid",
    "english please",
    "hämtat SE-1 och SE-2",
]
texts = st.one_of(
    st.text(max_size=300), st.sampled_from(WORDS), st.text(min_size=4000, max_size=6000)
)
buttons = st.one_of(
    st.text(max_size=64),
    st.sampled_from(
        [
            "cmd:book",
            "cmd:move",
            "cmd:cancel",
            "cmd:again",
            "cmd:wish:asap",
            "cmd:lang:sv",
            "cmd:language",
            "o:",
            "o:AAAAAAAA",
        ]
    ),
)
actions = st.lists(
    st.one_of(
        st.tuples(st.just("text"), texts),
        st.tuples(st.just("button"), buttons),
        st.tuples(st.just("shown"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("maria"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("nothing"), st.none()),
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture
async def setup(services: Services) -> tuple[Chat, Chat, World]:
    world = await build_world(services)
    clock = Clock()
    maria = Chat(new_dialogue(services, clock), MARIA_TG)
    await maria.send(f"/start {await card_link(services, world.users['maria'])}")
    await maria.book("måndag 30 november kl. 16:00")
    await maria.press("Avboka")  # Maria's latest buttons now include a live «Avboka» offer
    lena = Chat(new_dialogue(services, clock), LENA_TG)
    await lena.send(f"/start {await card_link(services, world.users['lena'])}")
    return maria, lena, world


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=actions)
async def test_anything_lena_does_gets_an_answer_and_leaves_maria_alone(
    services: Services, setup: tuple[Chat, Chat, World], steps: list[tuple[str, object]]
) -> None:
    maria, lena, world = setup
    maria_buttons = [b.data for reply in maria.last for row in reply.buttons for b in row]
    for kind, value in steps:
        if kind == "text":
            replies = await lena.send(str(value))
        elif kind == "button":
            replies = await lena.press_data(str(value))
        elif kind == "shown":
            shown = [b.data for reply in lena.last for row in reply.buttons for b in row]
            replies = await lena.press_data(shown[int(str(value)) % len(shown)] if shown else "x")
        elif kind == "maria":
            replies = await lena.press_data(maria_buttons[int(str(value)) % len(maria_buttons)])
        else:
            replies = await lena.send(None)
        assert replies, f"no answer to {kind} {value!r}"
        assert all(reply.text.strip() for reply in replies)
        assert "Maria" not in lena.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.requested
