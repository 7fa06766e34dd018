"""The process's logging: one handler on the root logger, and no secret in any line it writes.

httpx logs every request URL at INFO, and the Bot API puts the bot's token in the URL
(`…/bot123456:AAH…/getUpdates`); python-telegram-bot names a refused token in its exception.
A filter on the root handlers rewrites each record before any formatter sees it.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "[REDACTED]"
LOG_FORMAT = "%(levelname)s %(name)s %(message)s"
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
        return True


def configure_logging(level: int = logging.WARNING) -> None:
    """Lines on stderr; warnings (python-telegram-bot's among them) go through logging too."""
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    logging.captureWarnings(True)


def redact_secrets(secrets: Iterable[str]) -> RedactSecrets:
    """Put the filter on every root handler, replacing one an earlier call put there."""
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor
