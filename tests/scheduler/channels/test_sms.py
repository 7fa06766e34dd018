"""TwilioSender over real HTTP against FakeTwilio, plus webhook signatures and opt-out words."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from twilio.request_validator import RequestValidator

from scheduler.channels.base import ChannelError, DeliveryState, OutgoingMessage
from scheduler.channels.sms import (
    TwilioSender,
    opt_out_command,
    rebase_url,
    signature_is_valid,
)
from scheduler.dispatch import Finder
from tests.fakes.twilio import FakeTwilio

# Numbers from PTS's range reserved for fiction (070-174 06 05 .. 99).
RECIPIENT = "+46701740605"
OTHER = "+46701740606"
SENDER_NUMBER = "+46701740699"
CALLBACK = "https://kortkontor.example/sms/status"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    """A running fake Twilio."""
    with FakeTwilio() as api:
        yield api


def make_sender(
    fake: FakeTwilio,
    *,
    account_sid: str | None = None,
    auth_token: str | None = None,
    base_url: str | None = None,
    messages_per_second: float = 1000,
    timeout: float = 15.0,
) -> TwilioSender:
    """A sender pointed at the fake (or elsewhere); fast unless a rate is given."""
    return TwilioSender(
        account_sid=account_sid or fake.account_sid,
        auth_token=auth_token or fake.auth_token,
        from_number=SENDER_NUMBER,
        base_url=base_url or fake.base_url,
        messages_per_second=messages_per_second,
        timeout=timeout,
    )


@pytest.fixture
async def sender(fake: FakeTwilio) -> AsyncIterator[TwilioSender]:
    """A TwilioSender on the fake, closed afterwards."""
    sms = make_sender(fake)
    yield sms
    await sms.close()


def sms(to: str = RECIPIENT, *, status_callback_url: str | None = None) -> OutgoingMessage:
    """An outgoing SMS."""
    text = "Ditt SITHS-kort kan hämtas."
    return OutgoingMessage(recipient=to, text=text, status_callback_url=status_callback_url)


async def refused(sender: TwilioSender, message: OutgoingMessage) -> ChannelError:
    """The ChannelError a send raises."""
    with pytest.raises(ChannelError) as caught:
        await sender.send(message, idempotency_key="n-1")
    return caught.value


# -- sending ----------------------------------------------------------------------------------


async def test_send_returns_the_sid_and_twilio_gets_the_message(
    fake: FakeTwilio, sender: TwilioSender
) -> None:
    sid = await sender.send(sms(status_callback_url=CALLBACK), idempotency_key="n-1")

    [sent] = await fake.wait_messages(1)
    assert sid == sent.sid and sid is not None and sid.startswith("SM") and len(sid) == 34
    assert (sent.to, sent.from_, sent.body) == (
        RECIPIENT,
        SENDER_NUMBER,
        "Ditt SITHS-kort kan hämtas.",
    )
    assert sent.status_callback == CALLBACK
    assert sent.status == "queued"


async def test_no_status_callback_unless_the_message_has_one(
    fake: FakeTwilio, sender: TwilioSender
) -> None:
    await sender.send(sms(), idempotency_key="n-1")
    assert fake.messages[0].status_callback is None


async def test_sender_can_be_built_outside_a_loop_and_closed_unused(fake: FakeTwilio) -> None:
    # Built in sync code (as wiring does), the sender makes its aiohttp session on first use.
    built = await asyncio.to_thread(make_sender, fake)
    await built.close()
    assert await built.send(sms(), idempotency_key="n-1")
    await built.close()
    await built.close()


async def test_many_concurrent_sends(fake: FakeTwilio, sender: TwilioSender) -> None:
    numbers = [f"+4670174{n:04d}" for n in range(50)]
    sids = await asyncio.gather(*(sender.send(sms(n), idempotency_key=n) for n in numbers))
    assert len(set(sids)) == 50
    assert sorted(m.to for m in await fake.wait_messages(50)) == numbers


# -- errors -----------------------------------------------------------------------------------


async def test_wrong_token_is_permanent(fake: FakeTwilio) -> None:
    # Every retry would fail until an operator fixes the config: fall back to another channel.
    wrong = make_sender(fake, auth_token="wrong-token")
    try:
        error = await refused(wrong, sms())
    finally:
        await wrong.close()
    assert error.permanent and error.reason == "twilio 20003"
    assert fake.messages == [] and fake.requests == 1


async def test_wrong_account_is_permanent(fake: FakeTwilio) -> None:
    other = make_sender(fake, account_sid="AC" + "f" * 32)
    try:
        error = await refused(other, sms())
    finally:
        await other.close()
    assert error.permanent and fake.messages == []


@pytest.mark.parametrize(
    ("mark", "code"),
    [("numbers_opted_out", 21610), ("undeliverable", 21614)],
)
async def test_opted_out_and_undeliverable_numbers_are_permanent(
    fake: FakeTwilio, sender: TwilioSender, mark: str, code: int
) -> None:
    getattr(fake, mark).add(RECIPIENT)
    error = await refused(sender, sms())
    assert error.permanent and error.reason == f"twilio {code}"
    assert await sender.send(sms(OTHER), idempotency_key="n-2")


async def test_a_malformed_number_is_permanent(sender: TwilioSender) -> None:
    error = await refused(sender, sms("0701740605"))
    assert error.permanent and error.reason == "twilio 21211"


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
async def test_throttling_and_server_errors_are_transient(
    fake: FakeTwilio, sender: TwilioSender, status: int, code: int
) -> None:
    fake.fail_next(status, code=code)
    error = await refused(sender, sms())
    assert not error.permanent and error.reason == f"twilio {code}"
    # The fault is used up: the retry goes through.
    assert await sender.send(sms(), idempotency_key="n-1")
    assert len(fake.messages) == 1 and fake.requests == 2


async def test_an_unreachable_api_is_transient(fake: FakeTwilio) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = make_sender(fake, base_url=f"http://127.0.0.1:{port}")
    try:
        error = await refused(down, sms())
    finally:
        await down.close()
    assert not error.permanent and error.reason.startswith("twilio unreachable")


async def test_a_message_twilio_took_whose_answer_was_lost_is_not_sent_again(
    fake: FakeTwilio,
) -> None:
    # Twilio takes the message, and the answer never comes (a timeout, a dropped connection):
    # sending again would give the recipient the message twice.
    impatient = make_sender(fake, timeout=0.5)
    fake.hold_sends(RECIPIENT, accept=True)
    try:
        sid = await impatient.send(sms(), idempotency_key="n-1")
    finally:
        fake.release_sends()
        await impatient.close()
    [taken] = fake.messages
    assert sid == taken.sid


async def test_a_message_that_never_reached_twilio_is_transient(fake: FakeTwilio) -> None:
    impatient = make_sender(fake, timeout=0.5)
    fake.hold_sends(RECIPIENT, accept=False)
    try:
        error = await refused(impatient, sms())
    finally:
        fake.release_sends()
        await impatient.close()
    assert not error.permanent and error.reason.startswith("twilio unreachable")
    assert fake.messages == []


async def test_errors_and_logs_never_name_the_number(
    fake: FakeTwilio, sender: TwilioSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.undeliverable.add(RECIPIENT)
    error = await refused(sender, sms())
    # Twilio's own message names the number; it must not ride along as the cause either.
    assert error.__suppress_context__ and error.__cause__ is None
    await sender.send(sms(OTHER), idempotency_key="n-2")
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for text in (str(error), error.reason, logged):
        assert RECIPIENT not in text and OTHER not in text and "701740" not in text


# -- lookup -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("queued", DeliveryState.queued),
        ("accepted", DeliveryState.queued),
        ("scheduled", DeliveryState.queued),
        ("sending", DeliveryState.queued),
        ("sent", DeliveryState.queued),
        ("delivered", DeliveryState.delivered),
        ("read", DeliveryState.delivered),
        ("failed", DeliveryState.failed),
        ("undelivered", DeliveryState.failed),
        ("canceled", DeliveryState.failed),
        ("partially_delivered", DeliveryState.queued),  # unexpected: keep waiting, don't resend
    ],
)
async def test_lookup_maps_twilio_statuses(
    fake: FakeTwilio, sender: TwilioSender, status: str, state: DeliveryState
) -> None:
    sid = await sender.send(sms(), idempotency_key="n-1")
    assert sid is not None
    fake.set_status(sid, status)
    assert await sender.lookup(sid) is state


async def test_lookup_of_a_fresh_message_is_queued(sender: TwilioSender) -> None:
    sid = await sender.send(sms(), idempotency_key="n-1")
    assert sid is not None and await sender.lookup(sid) is DeliveryState.queued


async def test_lookup_of_an_unknown_sid_is_unknown(fake: FakeTwilio, sender: TwilioSender) -> None:
    assert await sender.lookup("SM" + "0" * 32) is DeliveryState.unknown
    assert fake.requests == 1
    # A malformed id never reaches Twilio (the SID goes into the URL path unquoted).
    assert await sender.lookup("../Calls") is DeliveryState.unknown
    assert fake.requests == 1


async def test_lookup_errors_are_channel_errors(fake: FakeTwilio, sender: TwilioSender) -> None:
    sid = await sender.send(sms(), idempotency_key="n-1")
    assert sid is not None
    fake.fail_next(503, code=20503)
    with pytest.raises(ChannelError) as caught:
        await sender.lookup(sid)
    assert not caught.value.permanent
    assert await sender.lookup(sid) is DeliveryState.queued


# -- find -------------------------------------------------------------------------------------

TEXT = "Ditt SITHS-kort kan hämtas."


def a_minute_ago() -> datetime:
    """A moment just before the test's messages were sent."""
    return datetime.now(UTC) - timedelta(minutes=1)


def test_the_sender_is_a_finder(sender: TwilioSender) -> None:
    assert isinstance(sender, Finder)


async def test_find_returns_the_sid_of_the_message_with_this_text(
    fake: FakeTwilio, sender: TwilioSender
) -> None:
    since = a_minute_ago()
    sid = await sender.send(sms(), idempotency_key="n-1")
    # Newer messages to the same and another number do not hide it.
    await sender.send(OutgoingMessage(recipient=RECIPIENT, text="Annat"), idempotency_key="n-2")
    await sender.send(sms(OTHER), idempotency_key="n-3")

    assert sid is not None and await sender.find(RECIPIENT, TEXT, since) == sid
    [query] = fake.list_queries
    # twilio-python's names for the filters; the search reaches a minute further back.
    assert query["To"] == RECIPIENT
    assert query["DateSent>"] == (since - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_find_needs_the_exact_text(sender: TwilioSender) -> None:
    await sender.send(sms(), idempotency_key="n-1")
    since = a_minute_ago()
    assert await sender.find(RECIPIENT, TEXT + " ", since) is None
    assert await sender.find(RECIPIENT, TEXT[:-1], since) is None
    assert await sender.find(RECIPIENT, "Ditt SITHS-kort", since) is None


async def test_find_needs_the_recipient(sender: TwilioSender) -> None:
    await sender.send(sms(OTHER), idempotency_key="n-1")
    assert await sender.find(RECIPIENT, TEXT, a_minute_ago()) is None


async def test_find_on_an_empty_account_is_none(fake: FakeTwilio, sender: TwilioSender) -> None:
    assert await sender.find(RECIPIENT, TEXT, a_minute_ago()) is None
    assert fake.requests == 1


async def test_find_ignores_messages_sent_before_the_window(sender: TwilioSender) -> None:
    # Twilio filters by day only: the sender itself drops what is older than since − 1 min.
    await sender.send(sms(), idempotency_key="n-1")
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert await sender.find(RECIPIENT, TEXT, later) is None


@pytest.mark.parametrize(
    ("account_sid", "auth_token"), [(None, "wrong-token"), ("AC" + "f" * 32, None)]
)
async def test_find_is_authenticated(
    fake: FakeTwilio,
    sender: TwilioSender,
    caplog: pytest.LogCaptureFixture,
    account_sid: str | None,
    auth_token: str | None,
) -> None:
    await sender.send(sms(), idempotency_key="n-1")
    intruder = make_sender(fake, account_sid=account_sid, auth_token=auth_token)
    try:
        with pytest.raises(ChannelError) as caught:
            await intruder.find(RECIPIENT, TEXT, a_minute_ago())
    finally:
        await intruder.close()
    # Recovery tries again later: nothing is resent on a failed search.
    assert not caught.value.permanent and caught.value.reason == "twilio search failed: HTTP 401"
    assert fake.list_queries == []
    assert RECIPIENT not in caplog.text


async def test_find_errors_are_transient_and_never_name_the_number(
    fake: FakeTwilio, sender: TwilioSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = await sender.send(sms(), idempotency_key="n-1")
    fake.fail_next(503, code=20503)
    with pytest.raises(ChannelError) as caught:
        await sender.find(RECIPIENT, TEXT, a_minute_ago())
    error = caught.value
    assert not error.permanent and error.__cause__ is None and error.__suppress_context__
    assert await sender.find(RECIPIENT, TEXT, a_minute_ago()) == sid
    # twilio-python would log the query, which names the number.
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for text in (str(error), logged):
        assert "701740" not in text


async def test_find_when_twilio_is_unreachable_is_transient(fake: FakeTwilio) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = make_sender(fake, base_url=f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(ChannelError) as caught:
            await down.find(RECIPIENT, TEXT, a_minute_ago())
    finally:
        await down.close()
    assert not caught.value.permanent


# -- rate -------------------------------------------------------------------------------------


async def test_the_rate_limit_spaces_sends(fake: FakeTwilio) -> None:
    slow = make_sender(fake, messages_per_second=10)
    start = time.monotonic()
    try:
        await asyncio.gather(*(slow.send(sms(), idempotency_key=f"n-{i}") for i in range(5)))
    finally:
        await slow.close()
    # Slots at 0, 0.1, 0.2, 0.3, 0.4 s: no burst.
    assert time.monotonic() - start >= 0.35
    assert len(fake.messages) == 5


def test_the_rate_must_be_positive(fake: FakeTwilio) -> None:
    with pytest.raises(ValueError, match="positive"):
        make_sender(fake, messages_per_second=0)


# -- base URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/2010-04-01/Accounts/AC1/Messages.json",
        ),
        # TWILIO_REGION/TWILIO_EDGE in the environment must not send a test to the real Twilio.
        (
            "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1",
            "http://fake/twilio/",
            "http://fake/twilio/2010-04-01/Accounts/AC1/Messages.json?x=1",
        ),
        (
            "https://api.twilio.com/2010-04-01/Accounts.json",
            "https://api.twilio.com",
            "https://api.twilio.com/2010-04-01/Accounts.json",
        ),
        ("https://lookups.twilio.com/v2/x", "http://fake", "https://lookups.twilio.com/v2/x"),
    ],
)
def test_rebase_url(url: str, base: str, expected: str) -> None:
    assert rebase_url(url, base) == expected


# -- webhook signatures -----------------------------------------------------------------------

WEBHOOK = "https://kortkontor.example/sms/status?site=1"
PARAMS = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "To": RECIPIENT}


def test_a_signature_from_twilio_is_valid() -> None:
    signature = RequestValidator("test-token").compute_signature(WEBHOOK, PARAMS)
    assert signature_is_valid("test-token", WEBHOOK, PARAMS, signature)


def test_a_tampered_request_is_not_valid() -> None:
    signature = RequestValidator("test-token").compute_signature(WEBHOOK, PARAMS)
    assert not signature_is_valid(
        "test-token", WEBHOOK, {**PARAMS, "MessageStatus": "failed"}, signature
    )
    assert not signature_is_valid("test-token", WEBHOOK + "&x=1", PARAMS, signature)
    assert not signature_is_valid("other-token", WEBHOOK, PARAMS, signature)
    assert not signature_is_valid("test-token", WEBHOOK, PARAMS, "")


# -- opt-out words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("STOP", True),
        ("Stopp", True),
        (" avsluta. ", True),
        ("stop!!", True),
        ("\nUnsubscribe\n", True),
        ("START", False),
        ("start", False),
        ("Yes.", False),
        ("", None),
        ("...", None),
        ("stoppa inte", None),
        ("Jag vill avsluta", None),
        ("Hej!", None),
    ],
)
def test_opt_out_command(body: str, command: bool | None) -> None:
    assert opt_out_command(body) is command


# -- the fake itself --------------------------------------------------------------------------


async def post(
    fake: FakeTwilio, form: dict[str, str], token: str | None = None
) -> tuple[int, dict[str, object]]:
    """POST a raw form to the fake's Messages resource; (status, JSON)."""
    auth = {"Authorization": aiohttp.encode_basic_auth(fake.account_sid, token or fake.auth_token)}
    url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=form, headers=auth) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize(("missing", "code"), [("To", 21604), ("From", 21603), ("Body", 21602)])
async def test_fake_requires_to_from_and_body(fake: FakeTwilio, missing: str, code: int) -> None:
    form = {"To": RECIPIENT, "From": SENDER_NUMBER, "Body": "Hej"}
    del form[missing]
    status, body = await post(fake, form)
    assert (status, body["code"], body["status"]) == (400, code, 400)


async def test_fake_answers_like_twilio(fake: FakeTwilio) -> None:
    status, body = await post(fake, {"To": RECIPIENT, "From": SENDER_NUMBER, "Body": "Hej"})
    assert status == 201
    assert body["account_sid"] == fake.account_sid and body["status"] == "queued"
    assert body["error_code"] is None and str(body["date_created"]).endswith("+0000")
    status, body = await post(fake, {"To": RECIPIENT, "From": SENDER_NUMBER, "Body": "Hej"}, "nope")
    assert (status, body["code"]) == (401, 20003)


async def get(fake: FakeTwilio, query: dict[str, str]) -> tuple[int, dict[str, object]]:
    """GET the fake's Messages list with this query; (status, JSON)."""
    auth = {"Authorization": aiohttp.encode_basic_auth(fake.account_sid, fake.auth_token)}
    url = f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, params=query, headers=auth) as response,
    ):
        return response.status, await response.json()


async def test_fake_lists_newest_first_in_pages(fake: FakeTwilio) -> None:
    for body in ("1", "2", "3"):
        await post(fake, {"To": RECIPIENT, "From": SENDER_NUMBER, "Body": body})
    await post(fake, {"To": OTHER, "From": SENDER_NUMBER, "Body": "4"})

    status, first = await get(fake, {"To": RECIPIENT, "PageSize": "2"})
    assert status == 200 and (first["page"], first["page_size"]) == (0, 2)
    assert [m["body"] for m in first["messages"]] == ["3", "2"]  # type: ignore[attr-defined]
    next_uri = str(first["next_page_uri"])
    auth = {"Authorization": aiohttp.encode_basic_auth(fake.account_sid, fake.auth_token)}
    async with (
        aiohttp.ClientSession() as session,
        session.get(fake.base_url + next_uri, headers=auth) as response,
    ):
        second = await response.json()
    assert [m["body"] for m in second["messages"]] == ["1"] and second["next_page_uri"] is None


@pytest.mark.parametrize(
    ("name", "offset", "listed"),
    [
        ("DateSent>", 0, True),
        ("DateSent>", 1, False),
        ("DateSent<", -1, False),
        ("DateSent<", 0, True),
        ("DateSent", 0, True),
    ],
)
async def test_fake_filters_date_sent_by_day(
    fake: FakeTwilio, name: str, offset: int, listed: bool
) -> None:
    await post(fake, {"To": RECIPIENT, "From": SENDER_NUMBER, "Body": "Hej"})
    day = datetime.now(UTC) + timedelta(days=offset)
    # Late in the day and with a time: only the day counts.
    _, page = await get(fake, {name: day.strftime("%Y-%m-%dT23:59:59Z")})
    assert len(page["messages"]) == int(listed)  # type: ignore[arg-type]


async def test_fake_refuses_a_bad_date_filter(fake: FakeTwilio) -> None:
    status, body = await get(fake, {"DateSent>": "igår"})
    assert (status, body["code"]) == (400, 20001)


def test_fake_waits_from_sync_code(fake: FakeTwilio) -> None:
    with pytest.raises(AssertionError, match="expected 1"):
        fake.wait_messages_sync(1, timeout=0.05)
    asyncio.run(post(fake, {"To": RECIPIENT, "From": SENDER_NUMBER, "Body": "Hej"}))
    [sent] = fake.wait_messages_sync(1)
    assert sent.body == "Hej" and fake.message(sent.sid) is sent
    with pytest.raises(KeyError):
        fake.set_status("SM" + "0" * 32, "delivered")
