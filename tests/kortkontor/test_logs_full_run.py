"""The whole log of a full run of `kortkontor serve`, in text and in JSON: a booking by SMS chat,
the administrator confirming it in Telegram, the outbox sending SMS, Telegram messages and
e-mail, and an operator logging in to the dashboard. No secret and no personal data appear; in
JSON every line is one object with time, level, logger, event and ids. An unknown LOG_FORMAT
stops start-up with one Swedish line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from kortkontor.wiring import Services
from models.db import transaction
from models.operators import OperatorRole, hash_password, set_operator
from models.zone import STOCKHOLM
from tests.clock import SetClock
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PERSONNUMMER
from tests.fakes.smtp import Collector, run_server
from tests.fakes.telegram import FakeBotApi
from tests.fakes.twilio import FakeTwilio
from tests.fakes.twilio_inbound import SERVICE_NUMBER, TwilioInbound
from tests.kortkontor.processes import KORTKONTOR, Served, environment, serving
from tests.sms_world import ANNA, MARIA, seed_sms_world

TIMEOUT = 120.0  # per step: serve-process tests run slowly on a loaded machine
TOKEN = "7012345678:AAHk0rtk0ntor-Secret_Token0123456789ab"
ANNA_TELEGRAM = 5151
OPERATOR = "driften@example.se"
PASSWORD = "ett långt lösenord för driften"
KEYS = {"time", "level", "logger", "event", "ids"}


def forbidden(twilio: FakeTwilio) -> list[str]:
    """What must never reach the log: secrets, and the seeded people's personal data."""
    secrets = [TOKEN, TOKEN.split(":", 1)[1], TEST_SECRET_KEY, twilio.auth_token, PASSWORD]
    personnummer = [*PERSONNUMMER["maria"], "8503121231"]
    # Maria's and Anna's numbers in every way they are written; their e-mail; their names.
    phones = [MARIA, MARIA[1:], "0701112233", "+46701234567", "46701234567", "0701234567"]
    emails = [ANNA, "user0@example.se", OPERATOR]
    names = ["Maria", "Anna Andersson", "Andersson"]
    return secrets + personnummer + phones + emails + names


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    for port in run_server(collector):
        yield collector, port


async def _sms_to(twilio: FakeTwilio, served: Served, count: int) -> list[str]:
    deadline = time.monotonic() + TIMEOUT
    while len(got := twilio.sent_to(MARIA)) < count:
        assert served.process.poll() is None, served.log
        assert time.monotonic() < deadline, f"{len(got)} SMS: {got}\n{served.log}"
        await asyncio.sleep(0.05)
    return [sms.body for sms in got]


async def _confirm_as_anna(bot: FakeBotApi, served: Served) -> None:
    """Anna presses «Bekräfta» on the request that reached her chat."""
    deadline = time.monotonic() + TIMEOUT
    while not (
        offered := [
            data
            for sent in bot.messages(ANNA_TELEGRAM)
            for label, data in bot.buttons(sent)
            if label == "Bekräfta"
        ]
    ):
        assert served.process.poll() is None, served.log
        assert time.monotonic() < deadline, f"no request reached Anna\n{served.log}"
        await asyncio.sleep(0.05)
    bot.press(ANNA_TELEGRAM, offered[0])


async def _log_in(port: int) -> None:
    """The operator logs in to the dashboard and opens the overview."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        page = await client.get("/dashboard/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = await client.post(
            "/dashboard/login",
            data={"csrf_token": token, "email": OPERATOR, "password": PASSWORD, "next": ""},
        )
        assert answer.status_code == 303, answer.text
        assert (await client.get("/dashboard")).status_code == 200


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_full_run_logs_no_secret_and_no_personal_data(
    log_format: str,
    services: Services,
    database_url: str,
    tmp_path: Path,
    smtp: tuple[Collector, int],
) -> None:
    # Monday 30 November 2026, 09:00 in Stockholm: no quiet hours hold the SMS.
    clock = SetClock(datetime(2026, 11, 30, 9, 0, tzinfo=STOCKHOLM))
    await seed_sms_world(services, now=clock.now(), admin_telegram_user_id=ANNA_TELEGRAM)
    async with transaction(services.sessions) as session:
        await set_operator(
            session,
            email=OPERATOR,
            password_hash=hash_password(PASSWORD),
            role=OperatorRole.admin,
        )
    collector, smtp_port = smtp
    with FakeTwilio(clock=clock.now) as twilio, FakeBotApi(token=TOKEN) as bot:
        settings = environment(
            database_url,
            LOG_FORMAT=log_format,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=bot.base_url,
            TWILIO_ACCOUNT_SID=twilio.account_sid,
            TWILIO_AUTH_TOKEN=twilio.auth_token,
            TWILIO_FROM=SERVICE_NUMBER,
            TWILIO_API_BASE_URL=twilio.base_url,
            TWILIO_MESSAGES_PER_SECOND="1000",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp_port),
            COOKIE_SECURE="false",
            **clock.environment(),
        )
        with serving(settings, tmp_path) as served:
            served.wait_for("kortkontor ready", timeout=120)  # a loaded machine starts slowly
            port = served.port
            async with TwilioInbound(f"http://127.0.0.1:{port}", twilio.auth_token) as inbound:
                for body in ("tisdag eftermiddag", "1", "ja"):
                    await inbound.send(MARIA, body)
                asked = (await _sms_to(twilio, served, 3))[2]
                assert "Din förfrågan är skickad" in asked, asked
                await _confirm_as_anna(bot, served)
                confirmed = (await _sms_to(twilio, served, 4))[3]
                assert "Din tid är bekräftad" in confirmed, confirmed
            await _log_in(port)
            served.wait_for("logged in", timeout=TIMEOUT)
            served.wait_for("by sms: sent", timeout=TIMEOUT)
            # The confirmation went by e-mail too, with its calendar file.
            served.wait_for("by email: sent", timeout=TIMEOUT)
            assert collector.envelopes
            assert served.stop() == 0
    log = served.log
    assert "kortkontor stopped" in log
    for needle in forbidden(twilio):
        assert needle not in log, f"{needle!r} reached the log"
    if log_format == "json":
        entries = [json.loads(line) for line in log.splitlines()]
        for entry in entries:
            assert set(entry) >= KEYS, entry
            assert entry["time"].endswith("Z")
            datetime.fromisoformat(entry["time"])
        [login] = [e for e in entries if e["event"].endswith("logged in")]
        assert set(login["ids"]) == {"operator_id"}
        sent = [e for e in entries if e["logger"] == "scheduler.dispatch"]
        assert sent and all(e["ids"]["notification_id"] for e in sent)
        assert any(e["ids"]["meeting_id"] for e in sent)
    else:
        assert all(line.split(" ", 1)[0] in {"INFO", "WARNING"} for line in log.splitlines())


def test_an_unknown_log_format_stops_start_up(env: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [*KORTKONTOR, "serve"],
        env=environment(env, LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == "LOG_FORMAT är «xml»: välj text eller json.\n"
