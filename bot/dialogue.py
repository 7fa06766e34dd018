"""The channel-agnostic dialogue engine: one update in, replies out, state in the database.

Each update is handled in one transaction on the chat's DialogueState row: read and locked, or
taken from the copy this process committed last and checked by the row's version when it is
written. Either way the row serialises a chat's updates across processes, and the update ids
it keeps make a redelivered update a no-op. Adapters (Telegram, console) only translate to and
from these types.

A refused action (a DomainError out of the flow) rolls back the whole transaction, so nothing
the update wrote stays, and flows nest no savepoints of their own. The update is then handled
again in a new transaction, where the flow that met the refusal answers it
(`Conversation.on_refusal`, `Conversation.answer_refusal`). The transaction is the update's
one rollback point; a savepoint around every update would cost two more statements each.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crypto import PersonnummerVault
from models.db import transaction
from models.dialogue import DialogueState
from models.errors import DomainError
from models.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, translate
from models.payouts import Tariffs
from models.types import utcnow
from scheduler.actions import Action, Command, Name, Offer, decode

logger = logging.getLogger(__name__)

# Longer texts are cut before any parsing: nobody writes a time wish of a page.
MAX_TEXT = 500
# Step data that outlives a step: the shown offers, a stranger's chosen language, the linked
# account, the update ids handled last, how many messages in a row were not understood, the
# language of the last answer (for an error message when an update fails), and on a channel
# without buttons the buttons that the last reply's numbers stand for.
KEPT = ("offers", "locale", "account", "seen", "misses", "answered_in", "choices")
# Telegram redelivers only recent updates; its ids may restart lower after a quiet week, so a
# duplicate is an id among the last ones handled, not any id below the newest.
SEEN_UPDATES = 32
# How many chats' states a process keeps a copy of between their updates (RecentStates).
RECENT_STATES = 10_000
# A number typed a day after the choices were shown no longer picks one of them.
CHOICES_LAST = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Button:
    """A labelled choice; `data` is opaque to the user: an encoded `scheduler.actions` action
    (a command, or a stored offer …)."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to one chat (None: the chat the update came from)."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    # The label of a button that shares the user's own phone number (Telegram's contact).
    contact_button: str | None = None
    chat_key: str | None = None


def numbered_buttons(replies: Sequence[Reply]) -> list[Button]:
    """The buttons of one turn's replies in the order a text channel numbers them (from 1):
    reply by reply, row by row."""
    return [button for reply in replies for row in reply.buttons for button in row]


def button_at(number: int, buttons: Sequence[Button]) -> Button | None:
    """The button numbered `number` (from 1) among numbered buttons, if there is one."""
    return buttons[number - 1] if 1 <= number <= len(buttons) else None


_TYPED_NUMBER = re.compile(r"(?:(?:nr|nummer|number)\.?\s*)?([0-9]{1,3})\s*[.)]?", re.IGNORECASE)


def typed_choice(text: str, buttons: Sequence[Button]) -> Button | None:
    """The button a typed number stands for («2», « 2 », «2.», «nr 2»); None for anything else
    and for a number without a button («12» among three)."""
    match = _TYPED_NUMBER.fullmatch(text.strip())
    return button_at(int(match.group(1)), buttons) if match is not None else None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update from a chat: text, a button press, a shared contact or something else."""

    channel: str
    chat_key: str
    user_id: int
    update_id: int | None = None
    text: str | None = None
    button: str | None = None
    contact_phone: str | None = None
    contact_user_id: int | None = None
    first_name: str | None = None
    # The channel shows buttons as numbered choices (SMS): a typed number picks one.
    numbered: bool = False

    @property
    def action(self) -> Action | None:
        """What the pressed button asks for; None for no button, or for data no button of ours
        carries (forged or from an older version)."""
        return decode(self.button) if self.button is not None else None

    @property
    def command(self) -> tuple[str, str] | None:
        """(`start`, `token`) for «/start token»; a bot mention (/meny@bot) is dropped."""
        if not self.text or not self.text.startswith("/"):
            return None
        word, _, argument = self.text[1:].strip().partition(" ")
        return word.split("@", 1)[0].lower(), argument.strip()


@dataclass
class Conversation:
    """What a flow sees of one update: the session, the chat's state and the replies so far."""

    session: AsyncSession
    state: DialogueState
    incoming: Incoming
    vault: PersonnummerVault
    now: datetime
    locale: str = DEFAULT_LOCALE
    tariffs: Tariffs = field(default_factory=Tariffs)
    # A calendar feed token's address, when the service has a public address.
    calendar_url: Callable[[str], str] | None = None
    replies: list[Reply] = field(default_factory=list)
    # Rows read once per update (the card's meeting, …); cleared when an action changes them.
    memo: dict[Any, Any] = field(default_factory=dict)
    _offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # How the flow handling the update answers a refused action: set by the flow, and used
    # when the update is handled again with all it wrote undone.
    on_refusal: RefusalAnswer | None = None
    # The refusal the first attempt at this update met, and the flow's answer to it.
    refused: tuple[DomainError, RefusalAnswer] | None = None

    @property
    def step(self) -> str:
        """Where the chat stands."""
        return self.state.step

    def go(self, step: str, **data: Any) -> None:
        """Move to a step; its data replaces the previous step's (offers and locale stay)."""
        self.state.step = step
        kept = {key: self.state.data[key] for key in KEPT if key in self.state.data}
        self.state.data = {**data, **kept}

    def get(self, key: str) -> Any:
        """A value the current step stored."""
        return self.state.data.get(key)

    def _(self, message: str) -> str:
        """The message in the chat's language."""
        return translate(message, self.locale)

    def button(self, label: str, action: Action) -> Button:
        """A button for an action that carries all it needs (a command, a language …)."""
        return Button(label, action.encode())

    def command(self, label: str, name: Name) -> Button:
        """A button for a stateless command (menu, status, book …)."""
        return Button(label, Command(name).encode())

    def offer(self, label: str, action: str, **payload: Any) -> Button:
        """A button for a concrete object; its data is a random token kept in this chat only."""
        token = secrets.token_urlsafe(6)
        self._offers[token] = {"action": action, **payload}
        return Button(label, Offer(token).encode())

    def offered(self, action: Action | None) -> dict[str, Any] | None:
        """The offer behind a pressed button, if it is among this chat's current ones."""
        if not isinstance(action, Offer):
            return None
        found = self.state.data.get("offers", {}).get(action.token)
        return dict(found) if isinstance(found, dict) else None

    def current_offers(self) -> list[dict[str, Any]]:
        """The offers of the last reply, in the order they were shown."""
        return [dict(o) for o in self.state.data.get("offers", {}).values()]

    def say(
        self,
        text: str,
        *rows: Sequence[Button],
        contact_button: str | None = None,
        chat_key: str | None = None,
    ) -> None:
        """Queue a reply; rows of buttons go under it."""
        self.replies.append(
            Reply(
                text=text,
                buttons=tuple(tuple(row) for row in rows if row),
                contact_button=contact_button,
                chat_key=chat_key,
            )
        )

    def keep_offers(self) -> None:
        """Keep the buttons shown last valid (a question answered in passing)."""
        self._offers = {**self.state.data.get("offers", {}), **self._offers}

    def discard(self) -> None:
        """Forget the replies and offers made so far (an action was refused midway)."""
        self.replies.clear()
        self._offers.clear()

    async def answer_refusal(self, account: Any) -> bool:
        """On the second attempt at a refused update, answer the refusal instead of acting
        again (`account`: the card user or admin the flow serves); whether it was answered."""
        if self.refused is None:
            return False
        refusal, answer = self.refused
        self.refused = None
        await answer(self, account, refusal)
        return True

    def own_replies(self) -> list[Reply]:
        """The replies to the chat the update came from."""
        return [reply for reply in self.replies if reply.chat_key is None]

    def finish(self) -> None:
        """Store the offers of this update's replies, and on a numbered channel what their
        numbers stand for; older buttons become stale."""
        own = self.own_replies()
        if own:
            self.state.data = {**self.state.data, "offers": self._offers}
            if self.incoming.numbered:
                choices = [button.data for button in numbered_buttons(own)]
                self.state.data = {**self.state.data, "choices": choices}

    def chosen(self) -> Incoming:
        """The update, with a typed number that picks one of the last reply's numbered choices
        read as that button."""
        incoming = self.incoming
        choices = self.state.data.get("choices")
        if not (incoming.numbered and incoming.text and choices):
            return incoming
        if self.now - self.state.updated_at > CHOICES_LAST:
            return incoming
        button = typed_choice(incoming.text, [Button("", str(data)) for data in choices])
        return incoming if button is None else replace(incoming, text=None, button=button.data)


Flow = Callable[[Conversation], Awaitable[None]]
# What an adapter does with a handled update's replies inside its transaction (the SMS adapter
# writes them to the outbox, so that they are sent if and only if the update's changes stand).
Within = Callable[[AsyncSession, Conversation], Awaitable[None]]
# A flow's answer to a refused action: (conversation, the account it serves, the refusal).
RefusalAnswer = Callable[[Conversation, Any, DomainError], Awaitable[None]]


class _Refused(Exception):
    """A flow refused the action: roll everything back, then let the flow answer."""

    def __init__(self, refusal: DomainError, answer: RefusalAnswer) -> None:
        super().__init__(refusal)
        self.refusal = refusal
        self.answer = answer


async def _locked_state(session: AsyncSession, incoming: Incoming) -> DialogueState:
    """The chat's state row, locked; created on first contact."""
    query = select(DialogueState).where(
        DialogueState.channel == incoming.channel, DialogueState.chat_key == incoming.chat_key
    )
    state = (await session.exec(query.with_for_update())).one_or_none()
    if state is not None:
        return state
    try:
        async with session.begin_nested():
            state = DialogueState(channel=incoming.channel, chat_key=incoming.chat_key)
            session.add(state)
            await session.flush()
    except IntegrityError:
        # Another worker created it first; take theirs.
        state = (await session.exec(query.with_for_update())).one()
    return state


class RecentStates:
    """Copies of the chat states this process committed last, so as not to read them again.

    The database stays the truth. A copy stands in for the row only as the version it
    expects: if another worker has written the row since, the UPDATE at the end of the
    update finds a newer version and fails, and the update is handled again from the row.
    """

    def __init__(self, size: int = RECENT_STATES) -> None:
        self.size = size
        self._copies: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()

    def attach(self, session: AsyncSession, incoming: Incoming) -> DialogueState | None:
        """The chat's state as last committed here, in `session` without a query; or None."""
        copy = self._copies.get((incoming.channel, incoming.chat_key))
        if copy is None:
            return None
        state = DialogueState(**{**copy, "data": json.loads(copy["data"])})
        make_transient_to_detached(state)
        session.add(state)
        return state

    def keep(self, state: DialogueState) -> None:
        """Remember the state as just committed; the oldest copy goes when there are too many."""
        key = (state.channel, state.chat_key)
        # As JSON, the column's own form: a copy no flow can change in place, and cheap.
        self._copies[key] = {**state.model_dump(), "data": json.dumps(state.data)}
        self._copies.move_to_end(key)
        if len(self._copies) > self.size:
            self._copies.popitem(last=False)

    def forget(self, incoming: Incoming) -> None:
        """Drop the chat's copy: the next update reads the row."""
        self._copies.pop((incoming.channel, incoming.chat_key), None)


class Dialogue:
    """Runs one update through a flow inside one transaction and returns the replies."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: PersonnummerVault,
        flow: Flow,
        *,
        clock: Callable[[], datetime] = utcnow,
        after_commit: Callable[[], None] | None = None,
        tariffs: Tariffs | None = None,
        calendar_url: Callable[[str], str] | None = None,
    ) -> None:
        self.tariffs = tariffs or Tariffs()
        self.calendar_url = calendar_url
        self.sessions = sessions
        self.vault = vault
        self.flow = flow
        self.clock = clock
        # Told after each handled update, e.g. to dispatch what the update wrote to the outbox.
        self.after_commit = after_commit
        # Told each update's channel and handling time in seconds (the metrics).
        self.observe: Callable[[str, float], None] | None = None
        self.recent = RecentStates()

    async def locale_of(self, channel: str, chat_key: str) -> str:
        """The language the chat was last answered in (for an apology when an update fails)."""
        async with self.sessions() as session:
            query = select(DialogueState).where(
                DialogueState.channel == channel, DialogueState.chat_key == chat_key
            )
            state = (await session.exec(query)).one_or_none()
        answered_in = state.data.get("answered_in") if state is not None else None
        return str(answered_in) if answered_in in SUPPORTED_LOCALES else DEFAULT_LOCALE

    async def handle(self, incoming: Incoming, *, within: Within | None = None) -> list[Reply]:
        """Handle one update; a redelivered update_id changes nothing and answers nothing.

        `within` runs in the update's transaction once the flow has answered."""
        started = time.perf_counter()
        try:
            return await self._handle_once(incoming, within=within)
        finally:
            if self.observe is not None:
                self.observe(incoming.channel, time.perf_counter() - started)

    async def _handle_once(self, incoming: Incoming, *, within: Within | None) -> list[Reply]:
        """The update handled from the copy of its chat's state, or again from the row."""
        if incoming.text is not None and len(incoming.text) > MAX_TEXT:
            incoming = replace(incoming, text=incoming.text[:MAX_TEXT])
        try:
            replies = await self._attempt(incoming, from_copy=True, within=within)
        except StaleDataError:
            # Another worker handled this chat since our copy: do it again from the row, locked.
            logger.info(
                "update %s: the chat state changed elsewhere, read again",
                incoming.update_id,
                extra={"update_id": incoming.update_id},
            )
            self.recent.forget(incoming)
            replies = await self._attempt(incoming, from_copy=False, within=within)
        except BaseException:
            self.recent.forget(incoming)
            raise
        return replies

    async def _attempt(
        self, incoming: Incoming, *, from_copy: bool, within: Within | None
    ) -> list[Reply]:
        """The update in one transaction; if the flow refuses the action, everything is rolled
        back and the flow answers the refusal in a second one."""
        try:
            return await self._handle(incoming, from_copy=from_copy, within=within)
        except _Refused as refused:
            logger.info(
                "update %s: refused (%s)",
                incoming.update_id,
                refused.refusal.code,
                extra={"update_id": incoming.update_id},
            )
            return await self._handle(
                incoming,
                from_copy=from_copy,
                within=within,
                refused=(refused.refusal, refused.answer),
            )

    async def _handle(
        self,
        incoming: Incoming,
        *,
        from_copy: bool,
        within: Within | None = None,
        refused: tuple[DomainError, RefusalAnswer] | None = None,
    ) -> list[Reply]:
        """One attempt in one transaction; StaleDataError if the copy of the state was stale,
        _Refused if the flow refused the action."""
        async with transaction(self.sessions) as session:
            state = self.recent.attach(session, incoming) if from_copy else None
            if state is None:
                state = await _locked_state(session, incoming)
            seen = list(state.data.get("seen", []))
            if incoming.update_id is not None and incoming.update_id in seen:
                logger.info(
                    "update %s already handled for chat %s",
                    incoming.update_id,
                    state.id,
                    extra={"update_id": incoming.update_id, "chat_state_id": state.id},
                )
                return []
            conversation = Conversation(
                session=session,
                state=state,
                incoming=incoming,
                vault=self.vault,
                now=self.clock(),
                locale=state.data.get("locale", DEFAULT_LOCALE),
                tariffs=self.tariffs,
                calendar_url=self.calendar_url,
                refused=refused,
            )
            conversation.incoming = conversation.chosen()
            try:
                await self.flow(conversation)
            except DomainError as refusal:
                if conversation.on_refusal is None or refused is not None:
                    raise
                # Rows the refusal names (meetings in the way …) stay readable, as read, once
                # the rollback has expired what the session holds.
                session.expunge_all()
                raise _Refused(refusal, conversation.on_refusal) from refusal
            conversation.finish()
            if conversation.locale != state.data.get("answered_in", DEFAULT_LOCALE):
                state.data = {**state.data, "answered_in": conversation.locale}
            if incoming.update_id is not None:
                state.last_update_id = incoming.update_id
                state.data = {**state.data, "seen": [*seen, incoming.update_id][-SEEN_UPDATES:]}
            state.updated_at = conversation.now
            session.add(state)
            if within is not None:
                await within(session, conversation)
        self.recent.keep(state)
        if self.after_commit is not None:
            self.after_commit()
        return conversation.replies
