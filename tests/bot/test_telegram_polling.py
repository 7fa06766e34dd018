"""A second poller with the same token: Telegram answers 409 Conflict to getUpdates, and the bot
says so in one clear warning line instead of a traceback every few seconds, and polls on."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from telegram.error import Conflict

from bot.telegram import PollingErrors, build_application, start_polling, stop_polling
from kortkontor.wiring import Services
from tests.bot.world import Clock, World, new_dialogue
from tests.fakes.telegram import FakeBotApi

CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
MARIA = 6001


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


async def test_a_second_poller_is_one_warning_and_polling_goes_on(
    fake: FakeBotApi, services: Services, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("getUpdates", status=409, times=3, description=CONFLICT)
    application = build_application(
        token=fake.token, base_url=fake.base_url, dialogue=new_dialogue(services, Clock())
    )
    await start_polling(application)
    try:
        fake.send_text(MARIA, "hej")
        await fake.wait_messages(MARIA, 1, timeout=15)
    finally:
        await stop_polling(application)
    assert fake.calls.count("getUpdates") >= 4
    warnings = [r for r in caplog.records if "another process polls Telegram" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert warnings[0].levelno == logging.WARNING and warnings[0].exc_info is None
    assert "PUBLIC_BASE_URL" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_a_lasting_conflict_is_told_again_every_ten_minutes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    errors = PollingErrors(clock=lambda: now[0])
    for moment in (0.0, 1.0, 100.0, 599.0, 600.0, 601.0):
        now[0] = moment
        errors(Conflict(CONFLICT))
    told = [r.getMessage() for r in caplog.records if "another process polls" in r.getMessage()]
    assert len(told) == 2 and "5 so far" in told[1]
