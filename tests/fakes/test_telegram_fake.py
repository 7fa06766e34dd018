"""The fake Telegram Bot API, driven through python-telegram-bot's real `telegram.Bot`."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, InvalidToken, RetryAfter

from tests.fakes.telegram import FakeBotApi

USER = 4242
pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    """A running fake without flood limits."""
    with FakeBotApi(username="fake_test_bot") as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    """An initialized python-telegram-bot client pointed at the fake."""
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


def msg(update: Update) -> Message:
    """The update's message, which must be there."""
    assert update.message is not None
    return update.message


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    """One inline button per row."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_get_me_and_a_wrong_token(fake: FakeBotApi, bot: Bot) -> None:
    assert bot.username == "fake_test_bot" and bot.id == 123456
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG", base_url=fake.base_url):
            pass


async def test_updates_follow_telegrams_offset_semantics(fake: FakeBotApi, bot: Bot) -> None:
    first = fake.send_text(USER, "/start abc", first_name="Anna")
    second = fake.send_text(USER, "hej")
    assert (first, second) == (1, 2)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [1, 2]
    start = msg(updates[0])
    assert start.text == "/start abc" and start.chat.id == USER
    assert start.from_user is not None and start.from_user.first_name == "Anna"
    assert start.parse_entities() == {start.entities[0]: "/start"}
    assert [u.update_id for u in await bot.get_updates(offset=2)] == [2]
    assert fake.confirmed_offset == 2
    assert await bot.get_updates(offset=3) == ()
    redelivered = updates[0].to_dict()
    assert fake.enqueue(redelivered) == 1
    assert [u.update_id for u in await bot.get_updates(offset=3)] == [1]
    assert await bot.get_updates(offset=3) == ()
    assert fake.send_text(USER, "ny") == 3


async def test_long_poll_waits_and_wakes(fake: FakeBotApi, bot: Bot) -> None:
    start = time.monotonic()
    assert await bot.get_updates(timeout=timedelta(seconds=0.3)) == ()
    assert 0.25 < time.monotonic() - start < 2
    threading.Timer(0.2, fake.send_text, (USER, "sent later")).start()
    start = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    assert [msg(u).text for u in updates] == ["sent later"]
    assert time.monotonic() - start < 1.5


async def test_messages_keyboards_presses_and_edits(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(USER, "Välj", reply_markup=keyboard(("Ja", "yes"), ("Nej", "no")))
    assert sent.reply_markup == keyboard(("Ja", "yes"), ("Nej", "no"))
    [record] = await fake.wait_messages(USER, 1)
    assert record.text == "Välj" and record.message_id == sent.message_id
    assert fake.buttons(record) == [("Ja", "yes"), ("Nej", "no")]

    fake.press(USER, "yes")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    assert query.data == "yes" and query.from_user.id == USER
    assert query.message.message_id == sent.message_id and query.message.from_user == bot.bot
    assert await query.answer("OK")
    assert fake.answered_callbacks == [query.id]

    edited = await query.edit_message_text("Valt: ja")
    assert isinstance(edited, Message) and edited.text == "Valt: ja" and edited.reply_markup is None
    assert [e.method for e in fake.edits] == ["editMessageText"]
    assert fake.message(USER, sent.message_id)["text"] == "Valt: ja"  # type: ignore[index]
    with pytest.raises(BadRequest, match="not modified"):
        await query.edit_message_text("Valt: ja")
    assert await bot.delete_message(USER, sent.message_id)
    assert fake.message(USER, sent.message_id) is None


async def test_user_payloads_deserialize(fake: FakeBotApi, bot: Bot) -> None:
    reply = ReplyKeyboardMarkup([[KeyboardButton("Dela nummer", request_contact=True)]])
    asked = await bot.send_message(USER, "Nummer?", reply_markup=reply)
    assert asked.reply_markup is None
    record = fake.messages(USER)[-1]
    assert fake.requests_contact(record) and fake.buttons(record) == [("Dela nummer", "")]
    fake.share_contact(USER, "+46701234567", contact_user_id=USER)
    fake.send_sticker(USER)
    fake.send_photo(USER)
    contact, sticker, photo = (msg(u) for u in await bot.get_updates())
    assert contact.contact is not None and contact.contact.user_id == USER
    assert contact.contact.phone_number == "+46701234567"
    assert sticker.sticker is not None and sticker.sticker.type == "regular"
    assert photo.photo[-1].width == 800


async def test_commands_and_webhook_methods(fake: FakeBotApi, bot: Bot) -> None:
    assert await bot.set_my_commands([BotCommand("start", "Börja")])
    assert fake.commands == [{"command": "start", "description": "Börja"}]
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert {"setMyCommands", "getWebhookInfo", "deleteWebhook"} <= set(fake.calls)


async def test_injected_faults(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=3)
    fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(USER, "1")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(USER, "2")
    await bot.send_message(USER, "3")
    assert [m.text for m in fake.messages(USER)] == ["3"] and fake.too_many_requests == 1


async def test_flood_limits_per_chat() -> None:
    with FakeBotApi(enforce_limits=True) as fake:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.send_message(USER, "1")
            await bot.send_message(USER, "2")
            with pytest.raises(RetryAfter):
                await bot.send_message(USER, "3")
            await bot.send_message(USER + 1, "other chat")
    assert fake.too_many_requests == 1


def test_wait_messages_sync_and_its_failure_message(fake: FakeBotApi) -> None:
    async def send() -> None:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.send_message(USER, "från tråd")

    threading.Timer(0.1, asyncio.run, (send(),)).start()
    assert [m.text for m in fake.wait_messages_sync(USER, 1)] == ["från tråd"]
    with pytest.raises(AssertionError, match="expected 2 message"):
        fake.wait_messages_sync(USER, 2, timeout=0.1)
