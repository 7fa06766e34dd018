"""The process's logging: one handler on the root logger, one line per event, and no secret in
any line it writes.

httpx logs every request URL at INFO, and the Bot API puts the bot's token in the URL
(`…/bot123456:AAH…/getUpdates`); python-telegram-bot names a refused token in its exception.
A filter on the root handlers rewrites each record before any formatter sees it.

`LOG_FORMAT=json` writes each event as one JSON object: time (ISO 8601, UTC), level, logger,
event (the message) and ids (what the code passed as `extra=`, e.g. `{"notification_id": 7}`).
A small stdlib formatter rather than python-json-logger: the keys are a fixed contract with the
extras nested under `ids`, which that library would have to be overridden for (it puts them at
the top level), and it would be one more dependency in a process that handles personal data.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from models.errors import DomainError
from models.i18n import N_

REDACTED = "[REDACTED]"
LOG_FORMAT = "%(levelname)s %(name)s %(message)s"
LOG_FORMATS = ("text", "json")
# What every LogRecord carries; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
# Shorter values are not searched for: a short test password would blank out ordinary words.
MIN_SECRET_LENGTH = 8
# Any Bot API token in a URL path, configured or not (a second bot's, an old one's).
BOT_TOKEN_IN_URL = re.compile(r"(?i)\b(bot)\d+:[A-Za-z0-9_-]+")


class RedactSecrets(logging.Filter):
    """Replaces the given secrets, and any Bot API token in a URL, in message and traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        variants = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                variants |= {secret, quote(secret, safe="")}
        # Longest first, so that a secret containing another is replaced whole.
        self._secrets = sorted(variants, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """The text without the secrets."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return BOT_TOKEN_IN_URL.sub(lambda found: f"{found.group(1)}{REDACTED}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (every handler then writes the clean one); keep it."""
        try:
            message = record.getMessage()
        except Exception:  # logging itself reports a record whose arguments do not fit
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text once set, so the traceback is cleaned once, here.
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in extras(record).items():
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class UnknownLogFormat(DomainError):
    """LOG_FORMAT names no format this version writes."""

    code = "unknown_log_format"


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """What the code passed with `extra=`: the event's ids."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", "\\n")


class TextLines(logging.Formatter):
    """`LEVEL logger message`; a traceback's lines joined with a written `\\n`, so that one
    event stays one line (journald and `docker logs` take each line for an event)."""

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """The record on one line."""
        return _one_line(super().format(record))


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, event, ids (and exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            "ids": extras(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        # default=str: an id given as a UUID or a date still makes valid JSON.
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter LOG_FORMAT names; UnknownLogFormat for any other value."""
    name = log_format.strip().lower()
    if name == "json":
        return JsonLines()
    if name == "text":
        return TextLines()
    raise UnknownLogFormat(N_("LOG_FORMAT is «{value}»: use text or json."), value=log_format)


# The handlers configure_logging made: LOG_FORMAT is theirs to follow (not, say, pytest's).
_OWN_HANDLERS: list[logging.Handler] = []


def configure_logging(level: int = logging.WARNING) -> None:
    """Text lines on stderr; warnings (python-telegram-bot's among them) go through logging
    too."""
    root = logging.getLogger()
    before = list(root.handlers)
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    for handler in root.handlers:
        if handler not in before:
            handler.setFormatter(TextLines())
            _OWN_HANDLERS.append(handler)
    logging.captureWarnings(True)


def use_log_format(log_format: str) -> None:
    """The process's own handlers write LOG_FORMAT's lines; UnknownLogFormat leaves them as
    they are."""
    chosen = formatter(log_format)
    for handler in _OWN_HANDLERS:
        handler.setFormatter(chosen)


def redact_secrets(secrets: Iterable[str]) -> RedactSecrets:
    """Put the filter on every root handler, replacing one an earlier call put there."""
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor
