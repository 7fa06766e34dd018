"""E-mail by SMTP: plain text, optional HTML, and a calendar invitation mail clients recognise."""

from __future__ import annotations

import hashlib
import html
import logging
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from scheduler.channels.base import CalendarAttachment, ChannelError, DeliveryState, OutgoingMessage

logger = logging.getLogger(__name__)

# An enhanced status code ("5.1.1") says what went wrong without quoting the server's text,
# which usually repeats the address.
_ENHANCED_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


class SmtpSender:
    """Sends messages to e-mail addresses through one SMTP server."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30,
    ) -> None:
        self._host = host
        self._port = port
        self._from_address = from_address
        self._envelope_sender = parseaddr(from_address)[1] or from_address
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout

    async def send(self, message: OutgoingMessage, *, idempotency_key: str) -> str:
        """Send one e-mail; return its Message-ID, the same for every try with the same key."""
        message_id = message_id_for(idempotency_key, self._envelope_sender)
        mime = build_email(message, from_address=self._from_address, message_id=message_id)
        try:
            refused, _reply = await aiosmtplib.send(
                mime,
                sender=self._envelope_sender,
                recipients=[message.recipient],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password if self._username is not None else None,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = channel_error(exc)
            logger.warning("e-mail %s not sent: %s", message_id, error.reason)
            # `from None`: the server's text in the cause names the recipient, and
            # tracebacks end up in logs.
            raise error from None
        if refused:
            # Only when some recipients were accepted; with a single one SMTP raises instead.
            error = _recipient_error([response.code for response in refused.values()])
            logger.warning("e-mail %s not sent: %s", message_id, error.reason)
            raise error
        logger.info("e-mail %s accepted by the SMTP server", message_id)
        return message_id

    async def lookup(self, provider_message_id: str) -> DeliveryState:
        """Always `unknown`: SMTP has no way to ask a server about a message sent earlier."""
        # A resend after a crash carries the same Message-ID, so receiving systems that
        # deduplicate on it (Gmail does) show the message once.
        return DeliveryState.unknown


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """A Message-ID derived from the idempotency key, so a resend carries the same one."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = from_address.rpartition("@")[2] or "kortkontor"
    return f"<{digest}@{domain}>"


def build_email(
    message: OutgoingMessage,
    *,
    from_address: str,
    message_id: str,
    now: datetime | None = None,
) -> EmailMessage:
    """The MIME message: mixed[alternative[text, html?, calendar?], .ics?]."""
    mime = EmailMessage()
    if message.subject is not None:
        mime["Subject"] = message.subject
    mime["From"] = from_address
    mime["To"] = message.recipient
    mime["Date"] = format_datetime(now or datetime.now(UTC))
    mime["Message-ID"] = message_id
    # RFC 3834: keeps out-of-office replies away from a sender nobody reads.
    mime["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps å, ä, ö 7-bit safe for servers without 8BITMIME.
    mime.set_content(message.text, cte="quoted-printable")
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html", cte="quoted-printable")
    if message.calendar is not None:
        _add_calendar(mime, message.calendar)
    return mime


def _add_calendar(mime: EmailMessage, calendar: CalendarAttachment) -> None:
    """Add the invitation twice, as Google Calendar does: inline for clients, .ics for people."""
    # The text/calendar alternative with a METHOD parameter is what makes Outlook and Gmail
    # show accept/decline-style invitation cards; base64 keeps the ICS bytes exact.
    mime.add_alternative(
        calendar.content,
        maintype="text",
        subtype="calendar",
        params={"method": calendar.method, "charset": "utf-8"},
    )
    mime.add_attachment(
        calendar.content,
        maintype="application",
        subtype="ics",
        filename=calendar.filename,
    )


def channel_error(exc: BaseException) -> ChannelError:
    """Map an SMTP failure to a ChannelError whose reason carries no address."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return _recipient_error([refusal.code for refusal in exc.recipients])
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return _recipient_error([exc.code])
    if isinstance(exc, TimeoutError):
        return ChannelError("smtp timeout")
    if isinstance(exc, aiosmtplib.SMTPDataError):
        # Refused at DATA: the server will refuse this same message again.
        return ChannelError(
            f"message refused: {_status(exc.code, exc.message)}", permanent=exc.code >= 500
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # Sender, login or greeting refused: our configuration, not the recipient's
        # address, so the recipient must not be given up on.
        return ChannelError(f"smtp server refused: {_status(exc.code, exc.message)}")
    return ChannelError(f"smtp failed: {type(exc).__name__}")


def _recipient_error(codes: list[int]) -> ChannelError:
    """Refused recipient: 5xx is final (no such mailbox), 4xx may pass later (greylisting)."""
    code = max(codes, default=0)
    return ChannelError(f"recipient refused: {code}", permanent=code >= 500)


def _status(code: int, server_text: str) -> str:
    """The reply code plus the enhanced status code, without the server's free text."""
    match = _ENHANCED_STATUS.match(server_text)
    return f"{code} {match.group(1)}" if match else str(code)


def render_html(text: str) -> str:
    """A minimal, escaped HTML version of plain text: blank lines part paragraphs."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [part for part in _BLANK_LINES.split(normalised) if part.strip()]
    body = "\n".join(_paragraph(part) for part in paragraphs)
    return (
        '<!DOCTYPE html>\n<html lang="sv">\n<head><meta charset="utf-8"></head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _paragraph(part: str) -> str:
    """One <p>, its line breaks kept as <br>."""
    lines = [html.escape(line.strip()) for line in part.split("\n")]
    return "<p>" + "<br>\n".join(lines) + "</p>"
