"""No secret in any log line: `serve`'s whole log in polling and in webhook mode, httpx's
request lines and python-telegram-bot's errors included; and the filter on its own."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import httpx
import pytest

from kortkontor.logs import REDACTED, JsonLines, RedactSecrets, TextLines
from models.crypto import webhook_secret
from tests.conftest import TEST_SECRET_KEY
from tests.fakes.telegram import FakeBotApi
from tests.kortkontor.processes import environment, serving
from web.telegram_webhook import SECRET_HEADER

# Shaped like a real token: the bot's id, a colon, 35 characters of secret.
TOKEN = "7012345678:AAHk0rtk0ntor-Secret_Token0123456789ab"
SECRET_PART = TOKEN.split(":", 1)[1]
USER = 4242


def _assert_clean(log: str) -> None:
    assert SECRET_PART not in log
    assert TOKEN.replace(":", "%3A") not in log
    assert REDACTED in log  # the token was there to take out


def _wait_calls(fake: FakeBotApi, method: str, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while fake.calls.count(method) < count:
        assert time.monotonic() < deadline, f"{method} called {fake.calls.count(method)} times"
        time.sleep(0.05)


def test_polling_log_has_no_token(env: str, tmp_path: Path) -> None:
    with FakeBotApi(token=TOKEN) as fake:
        # A failed poll: python-telegram-bot logs the error, and retries.
        fake.fail_next("getUpdates", status=502)
        settings = environment(env, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url)
        with serving(settings, tmp_path) as served:
            assert "telegram bot (polling)" in served.wait_for("kortkontor ready")
            fake.send_text(USER, "/start")
            assert fake.wait_messages_sync(USER, 1, timeout=15)
            _wait_calls(fake, "getUpdates", 3)
            assert served.stop() == 0
    log = served.log
    assert "/getUpdates" in log and "/sendMessage" in log  # httpx's lines were written
    _assert_clean(log)


def test_webhook_log_has_no_token(env: str, tmp_path: Path) -> None:
    with FakeBotApi(token=TOKEN) as fake:
        settings = environment(
            env,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            PUBLIC_BASE_URL="https://kortkontor.example",
        )
        with serving(settings, tmp_path) as served:
            assert "telegram bot (webhook)" in served.wait_for("kortkontor ready")
            assert "setWebhook" in fake.calls
            message = {
                "message_id": 1,
                "from": {"id": USER, "is_bot": False, "first_name": "Test"},
                "chat": {"id": USER, "type": "private", "first_name": "Test"},
                "date": int(time.time()),
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            }
            answer = httpx.post(
                f"http://127.0.0.1:{served.port}/telegram/webhook",
                json={"update_id": 1, "message": message},
                headers={SECRET_HEADER: webhook_secret(TEST_SECRET_KEY)},
                timeout=15,
            )
            assert answer.status_code == 204
            assert fake.wait_messages_sync(USER, 1, timeout=15)
            assert served.stop() == 0
    log = served.log
    assert "/setWebhook" in log and "/sendMessage" in log
    _assert_clean(log)


def test_a_refused_token_is_not_printed(env: str, tmp_path: Path) -> None:
    """python-telegram-bot names the token in InvalidToken; start-up fails without showing it."""
    with FakeBotApi(token="123456:SOME-OTHER-TOKEN") as fake:
        settings = environment(env, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url)
        with serving(settings, tmp_path) as served:
            assert served.process.wait(timeout=30) == 1
            served.wait_for("InvalidToken")
    _assert_clean(served.log)


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, message, args, None)


@pytest.mark.parametrize(
    ("message", "args", "expected"),
    [
        (
            'HTTP Request: POST %s "HTTP/1.1 200 OK"',
            (f"http://127.0.0.1:8081/bot{TOKEN}/getMe",),
            'HTTP Request: POST http://127.0.0.1:8081/bot[REDACTED]/getMe "HTTP/1.1 200 OK"',
        ),
        # Another bot's token, not configured here, is taken out by its shape.
        (
            "GET https://api.telegram.org/bot42:abc-DEF_9/getMe",
            (),
            "GET https://api.telegram.org/bot[REDACTED]/getMe",
        ),
        ("token %s in a sentence", (TOKEN.replace(":", "%3A"),), "token [REDACTED] in a sentence"),
        ("the secret key is twilio-auth-0123456789", (), "the secret key is [REDACTED]"),
        ("robot42:not-a-token and 10:30:45 stay", (), "robot42:not-a-token and 10:30:45 stay"),
    ],
)
def test_the_filter_redacts_messages(message: str, args: tuple[object, ...], expected: str) -> None:
    record = _record(message, *args)
    RedactSecrets([TOKEN, "twilio-auth-0123456789", "short"]).filter(record)
    assert record.getMessage() == expected


def test_the_filter_redacts_tracebacks() -> None:
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    RedactSecrets([TOKEN]).filter(record)
    text = logging.Formatter().format(record)
    assert "RuntimeError: The token `[REDACTED]` was rejected" in text
    assert SECRET_PART not in text


def test_json_lines_carry_the_ids_redacted_and_the_traceback_on_one_line() -> None:
    try:
        raise RuntimeError(f"refused {TOKEN}")
    except RuntimeError:
        record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "update %s", (7,), None)
        record.exc_info = sys.exc_info()
    record.update_id = 7
    record.note = f"bot{TOKEN}"
    RedactSecrets([TOKEN]).filter(record)
    line = JsonLines().format(record)
    assert "\n" not in line and SECRET_PART not in line
    entry = json.loads(line)
    assert entry["ids"] == {"update_id": 7, "note": "bot[REDACTED]"}
    assert (entry["level"], entry["logger"], entry["event"]) == ("ERROR", "bot.x", "update 7")
    assert entry["time"].endswith("Z") and "RuntimeError: refused [REDACTED]" in entry["exception"]


def test_text_lines_keep_a_traceback_on_one_line() -> None:
    try:
        raise RuntimeError("two\nlines")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    line = TextLines().format(record)
    assert "\n" not in line
    assert line.startswith("ERROR x failed\\nTraceback") and "RuntimeError: two\\nlines" in line
