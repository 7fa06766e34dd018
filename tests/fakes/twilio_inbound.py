"""Twilio's side of an inbound SMS: the webhook it posts to the service, signed with the account's
auth token over the URL it posts to (twilio-python's RequestValidator, as Twilio computes it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

INBOUND_PATH = "/twilio/inbound"
# The service's own number, the To of every inbound message (PTS's range for fiction).
SERVICE_NUMBER = "+46701740699"


def new_message_sid() -> str:
    """A fresh MessageSid in Twilio's shape."""
    return "SM" + secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Posted:
    """One webhook call: the MessageSid posted, the HTTP status, the TwiML's <Message> if any."""

    sid: str
    status: int
    immediate: str | None


def twiml_message(response: httpx.Response) -> str | None:
    """The text of a TwiML answer's <Message>, None for an empty <Response/>."""
    assert response.headers["content-type"].startswith("application/xml"), response.text
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response", response.text
    message = root.find("Message")
    return None if message is None else (message.text or "")


class TwilioInbound:
    """Posts inbound SMS to a service at `base_url`, as Twilio would."""

    def __init__(self, base_url: str, auth_token: str, *, account_sid: str = "AC" + "0" * 32):
        self.url = base_url.rstrip("/") + INBOUND_PATH
        self.account_sid = account_sid
        self._validator = RequestValidator(auth_token)
        self._client = httpx.AsyncClient(timeout=30)

    def form(self, sender: str, body: str, sid: str) -> dict[str, str]:
        """The fields Twilio posts for an SMS (the ones the service reads, and a few more)."""
        return {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": sender,
            "To": SERVICE_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }

    async def send(self, sender: str, body: str, *, sid: str | None = None) -> Posted:
        """Post one SMS (a fresh MessageSid unless given, to replay one); the call must be 200."""
        sid = sid or new_message_sid()
        form = self.form(sender, body, sid)
        signature = self._validator.compute_signature(self.url, form)
        response = await self._client.post(
            self.url, data=form, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200, (response.status_code, response.text)
        return Posted(sid, response.status_code, twiml_message(response))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
