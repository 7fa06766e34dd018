"""Telegram's webhook: updates posted over real HTTP reach the real bot, and its replies reach the
fake Bot API; a wrong secret token is refused. Also `serve` in webhook mode, end to end."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from functools import partial
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.dialogue import Dialogue
from bot.flows import converse
from bot.telegram import build_application, feed_update, start_webhook, stop_webhook
from kortkontor.serve import start
from kortkontor.wiring import Services
from models.crypto import webhook_secret
from tests.conftest import TEST_SECRET_KEY
from tests.fakes.telegram import FakeBotApi, Sent
from tests.web.issuer_site import Site, serving
from web.telegram_webhook import SECRET_HEADER

PUBLIC = "https://kortkontor.example"
SECRET = webhook_secret(TEST_SECRET_KEY)
USER = 4242


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture
async def bot(fake: FakeBotApi, services: Services) -> AsyncIterator[Any]:
    """The real Application on the fake Bot API, started in webhook mode."""
    application = build_application(
        token=fake.token,
        base_url=fake.base_url,
        dialogue=Dialogue(services.sessions, services.vault, converse),
        rate_limited=False,
    )
    await start_webhook(application, url=f"{PUBLIC}/telegram/webhook", secret_token=SECRET)
    yield application
    await stop_webhook(application)


@pytest.fixture
async def site(services: Services, bot: Any) -> AsyncIterator[Site]:
    async with serving(services, telegram_updates=partial(feed_update, bot)) as running:
        yield running


def text_update(update_id: int, text: str, user_id: int = USER) -> dict[str, Any]:
    """What Telegram posts when a user writes in their private chat with the bot."""
    user = {"id": user_id, "is_bot": False, "first_name": "Test"}
    message = {
        "message_id": update_id,
        "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "Test"},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def post(site: Site, update: Any, secret: str | None = SECRET) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return await site.client.post("/telegram/webhook", json=update, headers=headers)


def set_webhook_calls(fake: FakeBotApi) -> list[Sent]:
    return [sent for sent in fake.all_sent() if sent.method == "setWebhook"]


async def test_start_webhook_sets_the_url_and_secret(fake: FakeBotApi, bot: Any) -> None:
    [call] = set_webhook_calls(fake)
    assert call.params["url"] == f"{PUBLIC}/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert "callback_query" in call.params["allowed_updates"]
    assert fake.commands, "post_init registered the command menu"


async def test_a_posted_update_gets_the_bots_reply(site: Site, fake: FakeBotApi) -> None:
    response = await post(site, text_update(1, "/start"))
    assert response.status_code == 204
    # The webhook answers after the update is handled: the reply is already out.
    [reply] = fake.messages(USER)
    assert reply.text is not None and reply.text.startswith("Hej!")


async def test_a_redelivered_update_is_answered_once(site: Site, fake: FakeBotApi) -> None:
    for _ in range(2):
        assert (await post(site, text_update(7, "/start"))).status_code == 204
    assert len(fake.messages(USER)) == 1


async def test_a_wrong_or_missing_secret_is_403(site: Site, fake: FakeBotApi) -> None:
    for secret in ("wrong", "", None, SECRET + "x"):
        response = await post(site, text_update(2, "/start"), secret=secret)
        assert response.status_code == 403
    assert fake.messages(USER) == []


async def test_what_is_not_an_update_is_400(site: Site, fake: FakeBotApi) -> None:
    headers = {SECRET_HEADER: SECRET}
    not_json = await site.client.post("/telegram/webhook", content=b"{", headers=headers)
    assert not_json.status_code == 400
    assert (await post(site, [1, 2])).status_code == 400
    assert (await post(site, {"message": "hello"})).status_code == 400
    assert fake.messages(USER) == []


async def test_without_the_bot_in_webhook_mode_it_is_503(services: Services) -> None:
    async with serving(services) as site:
        assert (await post(site, text_update(1, "/start"))).status_code == 503


async def test_without_a_secret_key_it_is_503(services: Services, bot: Any) -> None:
    async with serving(
        services, secret_key=None, telegram_updates=partial(feed_update, bot)
    ) as site:
        assert (await post(site, text_update(1, "/start"))).status_code == 503


async def test_serve_uses_the_webhook_when_a_public_url_is_set(
    services: Services, fake: FakeBotApi
) -> None:
    settings = services.settings.model_copy(
        update={
            "kortkontor_secret_key": SecretStr(TEST_SECRET_KEY),
            "telegram_bot_token": SecretStr(fake.token),
            "telegram_api_base_url": fake.base_url,
            "public_base_url": PUBLIC + "/",
            "web_port": 0,
        }
    )
    running = await start(replace(services, settings=settings))
    try:
        assert "telegram bot (webhook)" in running.parts
        [call] = set_webhook_calls(fake)
        assert call.params["url"] == f"{PUBLIC}/telegram/webhook"
        assert call.params["secret_token"] == SECRET
        assert "getUpdates" not in fake.calls
        assert running.web is not None
        url = f"http://127.0.0.1:{running.web.port}/telegram/webhook"
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                url, json=text_update(1, "/start"), headers={SECRET_HEADER: SECRET}
            )
        assert response.status_code == 204
        [reply] = await fake.wait_messages(USER, 1)
        assert reply.text is not None and reply.text.startswith("Hej!")
    finally:
        await running.stop()
