"""The real python-telegram-bot Application against a fake Bot API over HTTP: every card-user
flow end to end, commands, stale buttons, errors, retries and a restart mid-booking."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.dialogue import Conversation, Dialogue
from bot.telegram import SORRY, build_application, start_polling, stop_polling
from kortkontor.settings import Settings
from kortkontor.wiring import Services, build_services
from models.i18n import translate
from models.meetings import MeetingStatus
from tests.bot.world import NOW, Clock, World, active_meeting, card_link, new_dialogue
from tests.conftest import TEST_SECRET_KEY
from tests.fakes.telegram import FakeBotApi, Sent

MARIA, AHMED = 6001, 6002
Application = Any


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


async def running(
    fake: FakeBotApi, dialogue: Dialogue, *, rate_limited: bool = False
) -> Application:
    application = build_application(
        token=fake.token, base_url=fake.base_url, dialogue=dialogue, rate_limited=rate_limited
    )
    await start_polling(application)
    return application


@pytest.fixture
async def bot(fake: FakeBotApi, services: Services, world: World) -> AsyncIterator[Application]:
    application = await running(fake, new_dialogue(services, Clock()))
    yield application
    await stop_polling(application)


class TgUser:
    """A person in the Telegram app: writes, presses, and reads what the bot sent."""

    def __init__(self, fake: FakeBotApi, user_id: int) -> None:
        self.fake = fake
        self.user_id = user_id
        self.seen = 0
        self.last: Sent | None = None

    async def _replies(self, count: int) -> list[Sent]:
        got = await self.fake.wait_messages(self.user_id, self.seen + count)
        new, self.seen = got[self.seen :], len(got)
        self.last = new[-1]
        return new

    async def send(self, text: str, replies: int = 1) -> list[Sent]:
        self.fake.send_text(self.user_id, text)
        return await self._replies(replies)

    def data(self, label: str, message: Sent | None = None) -> str:
        shown = message or self.last
        assert shown is not None
        for text, data in self.fake.buttons(shown):
            if text.casefold().startswith(label.casefold()):
                return data
        raise AssertionError(f"no {label!r} in {self.fake.buttons(shown)}")

    async def press(self, label: str, message: Sent | None = None, replies: int = 1) -> list[Sent]:
        shown = message or self.last
        assert shown is not None
        self.fake.press(self.user_id, self.data(label, shown), message_id=shown.message_id)
        return await self._replies(replies)

    async def book(self, slot: str) -> list[Sent]:
        """Book as soon as possible: Boka, Snarast, the time labelled `slot`, Bekräfta."""
        for label in ("Boka", "Snarast", slot):
            await self.press(label)
        return await self.press("Bekräfta")

    @property
    def text(self) -> str:
        assert self.last is not None and self.last.text is not None
        return self.last.text


async def linked(
    fake: FakeBotApi, services: Services, world: World, name: str, user_id: int
) -> TgUser:
    user = TgUser(fake, user_id)
    await user.send(f"/start {await card_link(services, world.users[name])}", replies=2)
    return user


async def test_commands_are_registered(bot: Application, fake: FakeBotApi) -> None:
    names = {command["command"] for command in fake.commands}
    assert {"meny", "status", "boka", "avboka", "hjalp", "language"} <= names
    assert all(
        c["command"].replace("_", "").isalnum() and c["command"].islower() for c in fake.commands
    )


async def test_book_over_telegram(
    bot: Application, fake: FakeBotApi, services: Services, world: World
) -> None:
    maria = await linked(fake, services, world, "maria", MARIA)
    assert "Välkommen, Maria!" in fake.messages(MARIA)[0].text  # type: ignore[operator]
    assert "Uppsala centrum" in maria.text
    await maria.press("Boka")
    assert "När passar det dig?" in maria.text
    await maria.send("tisdag efter 17")
    labels = [text for text, _ in fake.buttons(maria.last)]  # type: ignore[arg-type]
    assert labels[0] == "tisdag 1 december kl. 17:00 · Café Linné"
    await maria.press("tisdag 1 december kl. 17:00")
    assert "Plats: Café Linné, Svartbäcksgatan 22" in maria.text and "PIN-brev" in maria.text
    summary = maria.last
    await maria.press("Bekräfta")
    assert "Din förfrågan är skickad" in maria.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.requested
    # Every press was answered, and the pressed message lost its buttons.
    assert len(fake.answered_callbacks) == 3
    assert summary is not None and summary.message_id is not None
    stored = fake.message(MARIA, summary.message_id)
    assert stored is not None and not stored.get("reply_markup", {}).get("inline_keyboard")


async def test_contact_link_move_and_cancel(
    bot: Application, fake: FakeBotApi, services: Services, world: World
) -> None:
    maria = TgUser(fake, MARIA)
    await maria.send("/start")
    assert maria.last is not None and fake.requests_contact(maria.last)
    fake.share_contact(MARIA, "+46701112233", contact_user_id=MARIA)
    await maria._replies(2)
    assert "finns hos Uppsala centrum" in maria.text
    await maria.book("måndag 30 november kl. 16:00")
    await maria.press("Ändra tid")
    await maria.press("Tor")
    await maria.press("torsdag 3 december kl. 16:00")
    await maria.press("Bekräfta")
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.starts_at.day == 3
    await maria.send("/avboka")
    await maria.press("Avboka")
    assert "Din tid är avbokad" in maria.text
    assert await active_meeting(services, world.cards["maria"]) is None


async def test_stale_buttons_odd_messages_and_help(
    bot: Application, fake: FakeBotApi, services: Services, world: World
) -> None:
    maria = await linked(fake, services, world, "maria", MARIA)
    await maria.press("Boka")
    wish_prompt = maria.last
    await maria.send("/hjalp")
    assert "/boka" in maria.text
    await maria.press("Snarast", message=wish_prompt)
    assert "gäller inte längre" in maria.text and fake.answered_callbacks
    fake.send_sticker(MARIA)
    await maria._replies(1)
    assert "bara läsa text" in maria.text
    fake.send_photo(MARIA)
    await maria._replies(1)
    assert "bara läsa text" in maria.text
    await maria.send("x" * 5000)
    assert "inte riktigt" in maria.text
    await maria.send("/language")
    changed, menu = await maria.press("English", replies=2)
    assert changed.text == "Language changed." and menu.text == "What would you like to do?"


async def test_a_stranger_learns_nothing(bot: Application, fake: FakeBotApi, world: World) -> None:
    stranger = TgUser(fake, 6999)
    await stranger.send("/start not-a-real-token")
    assert "går inte att använda" in stranger.text
    fake.share_contact(6999, "+46701112233", contact_user_id=MARIA)  # Maria's number, forged
    await stranger._replies(1)
    assert "kunde inte koppla" in stranger.text and "Maria" not in stranger.text
    fake.press(6999, "cmd:book")
    await stranger._replies(1)
    assert "dela" in stranger.text.lower()


async def test_a_redelivered_update_is_answered_once(
    bot: Application, fake: FakeBotApi, services: Services, world: World
) -> None:
    maria = await linked(fake, services, world, "maria", MARIA)
    update_id = fake.send_text(MARIA, "/status")
    await maria._replies(1)
    fake.enqueue(
        {
            "update_id": update_id,
            "message": {
                "message_id": 999,
                "date": int(time.time()),
                "chat": {"id": MARIA, "type": "private", "first_name": "Maria"},
                "from": {"id": MARIA, "is_bot": False, "first_name": "Maria"},
                "text": "/status",
                "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            },
        }
    )
    await maria.send("/meny")  # answered after the redelivered one would have been
    assert "Vad vill du göra?" in maria.text
    assert sum("finns hos" in (m.text or "") for m in fake.messages(MARIA)) == 2  # welcome + once


async def test_a_restart_mid_booking(fake: FakeBotApi, services: Services, world: World) -> None:
    first = await running(fake, new_dialogue(services, Clock()))
    maria = await linked(fake, services, world, "maria", MARIA)
    await maria.press("Boka")
    await maria.send("fredag")
    await maria.press("fredag 4 december kl. 16:00")
    await stop_polling(first)

    restarted = build_services(
        Settings(database_url=services.settings.database_url), secret_key=TEST_SECRET_KEY
    )
    second = await running(fake, new_dialogue(restarted, Clock()))
    try:
        await maria.press("Bekräfta")
        assert "Din förfrågan är skickad" in maria.text
    finally:
        await stop_polling(second)
        await restarted.close()
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.starts_at.day == 4


async def test_errors_get_a_polite_answer_and_a_log_without_personal_data(
    fake: FakeBotApi, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(conv: Conversation) -> None:
        raise RuntimeError("the database is on fire")

    application = await running(fake, Dialogue(services.sessions, services.vault, broken))
    try:
        user = TgUser(fake, AHMED)
        await user.send("Hej, jag heter Ahmed och mitt nummer är 0702223344")
        assert user.text == translate(SORRY, "sv")
    finally:
        await stop_polling(application)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all(
        "0702223344" not in r.getMessage() and "Ahmed" not in r.getMessage() for r in errors
    )


async def test_429_and_5xx_from_the_bot_api_are_retried(
    fake: FakeBotApi, services: Services, world: World
) -> None:
    application = await running(fake, new_dialogue(services, Clock()), rate_limited=True)
    try:
        maria = await linked(fake, services, world, "maria", MARIA)
        fake.fail_next("sendMessage", status=429, retry_after=1)
        await maria.send("/status")
        fake.fail_next("sendMessage", status=502, times=2)
        await maria.send("/meny")
        assert "Vad vill du göra?" in maria.text
    finally:
        await stop_polling(application)
    assert fake.too_many_requests == 1


async def test_set_my_commands_failing_is_logged_and_the_bot_works(
    fake: FakeBotApi, services: Services, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("setMyCommands", status=400, description="Bad Request: nope")
    application = await running(fake, new_dialogue(services, Clock()))
    try:
        maria = await linked(fake, services, world, "maria", MARIA)
        assert "Uppsala centrum" in maria.text
    finally:
        await stop_polling(application)
    assert "setMyCommands failed" in caplog.text


def test_now_is_a_monday_morning() -> None:
    # The flows above name dates relative to this; keep them honest if NOW moves.
    assert NOW.isoformat() == "2026-11-30T08:00:00+00:00"


async def test_free_text_over_telegram(
    bot: Application, fake: FakeBotApi, services: Services, world: World
) -> None:
    maria = await linked(fake, services, world, "maria", MARIA)
    await maria.send("hej")
    assert "Hej, Maria!" in maria.text
    await maria.send("när kan jag hämta mitt kort?")
    assert "väntar på dig" in maria.text
    await maria.send("vad ska jag ta med mig?")
    assert "PIN-brev" in maria.text
    await maria.send("var ligger kontoret?")
    assert "google.com/maps" in maria.text
    await maria.send("tisdag eftermiddag")
    await maria.press("tisdag 1 december kl. 16:00")
    await maria.send("ok")
    assert "Din förfrågan är skickad" in maria.text
    await maria.send("när är min tid?")
    assert "tisdag 1 december kl. 16:00" in maria.text
    await maria.send("jag vill avboka")
    assert "Vill du avboka den här tiden?" in maria.text
    await maria.send("nej")
    assert "inte avbokad" in maria.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.requested
    await maria.send("kan jag ändra tiden?")
    assert "När passar det dig?" in maria.text
    await maria.send("tisdga")
    assert "tisdag" in maria.text or "tisdag" in str(fake.buttons(maria.last))  # type: ignore[arg-type]


async def test_english_over_telegram(
    bot: Application, fake: FakeBotApi, services: Services, world: World
) -> None:
    maria = await linked(fake, services, world, "maria", MARIA)
    await maria.send("tuesday afternoon", replies=2)
    offers = [label for label, _ in fake.buttons(fake.messages(MARIA)[-2])]
    assert offers[0] == "Tuesday 1 December at 16:00 · Café Linné"
    assert "write in English" in maria.text
    await maria.press("English", replies=2)
    assert "Language changed." in (fake.messages(MARIA)[-2].text or "")
    await maria.send("where is my card?")
    assert "waits for you" in maria.text


async def test_errors_are_answered_in_the_chats_language(
    fake: FakeBotApi, services: Services
) -> None:
    async def english_then_broken(conv: Conversation) -> None:
        if conv.state.data.get("answered_in") == "en":
            raise RuntimeError("broken")
        conv.locale = "en"
        conv.say("Hello")

    application = await running(
        fake, Dialogue(services.sessions, services.vault, english_then_broken)
    )
    try:
        user = TgUser(fake, AHMED)
        await user.send("hello")
        await user.send("hello again")
        assert user.text == translate(SORRY, "en") != translate(SORRY, "sv")
    finally:
        await stop_polling(application)


async def test_did_you_mean_over_telegram(
    bot: Application, fake: FakeBotApi, services: Services, world: World
) -> None:
    maria = await linked(fake, services, world, "maria", MARIA)
    await maria.send("mitt kort tid")
    assert maria.text == "Menade du …?"
    assert [label for label, _ in fake.buttons(maria.last)] == [  # type: ignore[arg-type]
        "Var är mitt kort?",
        "Boka en tid",
        "Meny",
    ]
    await maria.press("Boka en tid")
    assert "När passar det dig?" in maria.text
    await maria.send("xyzzy")
    first = maria.text
    await maria.send("plugh")
    assert maria.text != first and "fortfarande inte" in maria.text
