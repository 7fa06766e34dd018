"""The bot as a whole: /start and linking, /language, then the card user's or admin's flow."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from bot import admin_flow, card_user_flow
from bot.accounts import (
    CONSOLE,
    SMS,
    Account,
    card_user_by_order_ref,
    card_users_by_phone,
    hint_for,
    hinted,
    identify,
    link_by_contact,
    link_by_token,
    linked_admin,
)
from bot.dialogue import Conversation
from models.cards import CardUser
from models.i18n import N_
from models.zone import local_day
from scheduler.actions import Command, Name, SetLanguage


class StartStep(StrEnum):
    """Where a chat stands before it is linked to an account."""

    start = "start"  # never answered (DialogueState's default)
    link = "link"  # asked who the person is
    which_card = "which_card"  # by SMS from a shared number: asked for the order reference


LANGUAGES = (("sv", "Svenska"), ("en", "English"))
SHARE_PHONE_LABEL = N_("Share my phone number")


def _ask_contact(conv: Conversation, first: str) -> None:
    conv.go(StartStep.link)
    conv.say(
        first
        + "\n\n"
        + conv._(
            "To show your card I need to know who you are. Press «{button}» below to share "
            "the phone number you gave when the card was ordered, or open the link in the "
            "text message or e-mail you got when your card arrived."
        ).format(button=conv._(SHARE_PHONE_LABEL)),
        contact_button=conv._(SHARE_PHONE_LABEL),
    )


def _greeting(conv: Conversation) -> str:
    return conv._("Hello! I am Kortkontor's bot for picking up SITHS cards.")


async def _welcome(conv: Conversation, account: Account) -> None:
    """The first reply after linking."""
    conv.state.data = {**conv.state.data, "account": hint_for(account)}
    if isinstance(account, CardUser):
        conv.locale = account.locale
        conv.say(
            conv._("Welcome, {name}! Your account is now linked.").format(name=account.given_name)
        )
        await card_user_flow.handle(conv, account, command=Command(Name.status))
    else:
        conv.locale = account.locale
        await admin_flow.welcome(conv, account)


async def _start(conv: Conversation, account: Account | None, token: str) -> None:
    """/start with a deep-link token links the account; plain /start greets or shows the menu."""
    incoming = conv.incoming
    if token:
        linked = await link_by_token(conv.session, token=token, user_id=incoming.user_id)
        if linked is not None:
            await _welcome(conv, linked)
            return
        notice = conv._("That link cannot be used (it may be old or already used).")
        if account is None:
            _ask_contact(conv, notice)
            return
        conv.say(notice)
    if account is None:
        _ask_contact(conv, _greeting(conv))
    else:
        await _dispatch(conv, account, command=Command(Name.menu))


async def _contact(conv: Conversation) -> None:
    """A shared contact: only the sender's own number, matched against card orders."""
    incoming = conv.incoming
    user = await link_by_contact(
        conv.session,
        phone=incoming.contact_phone or "",
        contact_user_id=incoming.contact_user_id,
        user_id=incoming.user_id,
    )
    if user is not None:
        await _welcome(conv, user)
        return
    _ask_contact(
        conv,
        conv._(
            "I could not link this account. Share your own number with the button, or use the "
            "link you get by text message or e-mail when your card has arrived."
        ),
    )


def _ask_language(conv: Conversation) -> None:
    conv.say(
        conv._("Choose language:"),
        [conv.button(name, SetLanguage(code)) for code, name in LANGUAGES],
    )


async def _set_language(conv: Conversation, account: Account | None, code: str) -> None:
    conv.locale = code
    if account is None:
        conv.state.data = {**conv.state.data, "locale": code}
        _ask_contact(conv, conv._("Language changed."))
        return
    account.locale = code
    conv.session.add(account)
    conv.say(conv._("Language changed."))
    await _dispatch(conv, account, command=Command(Name.menu))


async def _dispatch(
    conv: Conversation, account: Account, *, command: Command | None = None
) -> None:
    if isinstance(account, CardUser):
        await card_user_flow.handle(conv, account, command=command)
    else:
        await admin_flow.handle(conv, account, command=command)


async def _account(conv: Conversation) -> Account | None:
    """Who writes: the account the chat's hint names, checked, else a search by the sender.

    A card user comes with their cards in one query.
    """
    incoming = conv.incoming
    named = hinted(conv.state.data.get("account"))
    if incoming.channel != CONSOLE and named is not None:
        role, account_id = named
        known: Account | None = (
            await card_user_flow.linked_user(conv, account_id)
            if role == "card_user"
            else await linked_admin(conv.session, account_id, incoming.user_id)
        )
        if known is not None:
            return known
    return await identify(conv.session, channel=incoming.channel, user_id=incoming.user_id)


async def converse(conv: Conversation) -> None:
    """Everything one update can mean, for anyone who writes to the bot."""
    incoming = conv.incoming
    if incoming.channel == SMS:
        await _by_sms(conv)
        return
    account = await _account(conv)
    if account is not None:
        conv.locale = account.locale
        conv.state.data = {**conv.state.data, "account": hint_for(account)}
    command = incoming.command
    action = incoming.action
    if command is not None and command[0] == "start":
        await _start(conv, account, command[1])
    elif (command is not None and command[0] == "language") or action == Command(Name.language):
        _ask_language(conv)
    elif isinstance(action, SetLanguage):
        await _set_language(conv, account, action.code)
    elif incoming.contact_phone is not None:
        await _contact(conv)
    elif account is None:
        _ask_contact(conv, _greeting(conv))
    else:
        await _dispatch(conv, account)


# An order reference is one word: a message of one word is checked against the number's orders.
ORDER_REF_MAX = 50


async def _by_sms(conv: Conversation) -> None:
    """An SMS: the sender is the card user who gave this number. A number that several card
    users share names the card first, by its order reference; a number nobody gave is told so,
    at most once a day. The text that came before the order reference is read after it."""
    phone, text = conv.incoming.chat_key, (conv.incoming.text or "").strip()
    named = hinted(conv.state.data.get("account"))
    account: CardUser | None = None
    if text and " " not in text and len(text) <= ORDER_REF_MAX:
        account = await card_user_by_order_ref(conv.session, phone, text)
        if account is not None:
            await _sms_identified(conv, account)
            return
    if named is not None and named[0] == "card_user":
        account = await card_user_flow.linked_user(conv, named[1])
    if account is None:
        owners = await card_users_by_phone(conv.session, phone)
        if len(owners) > 1:
            _ask_order_ref(conv, text)
            return
        account = owners[0] if owners else None
    if account is None:
        _stranger_by_sms(conv)
        return
    conv.locale = account.locale
    conv.state.data = {**conv.state.data, "account": hint_for(account)}
    action = conv.incoming.action
    if action == Command(Name.language):
        _ask_language(conv)
    elif isinstance(action, SetLanguage):
        await _set_language(conv, account, action.code)
    else:
        await card_user_flow.handle(conv, account)


async def _sms_identified(conv: Conversation, account: CardUser) -> None:
    """The order reference named the card user: read what they wrote before it, or show the
    card."""
    conv.locale = account.locale
    unread = conv.get("unread") if conv.step == StartStep.which_card else None
    conv.state.data = {**conv.state.data, "account": hint_for(account)}
    conv.go(card_user_flow.CardStep.idle)
    if isinstance(unread, str) and unread:
        conv.incoming = replace(conv.incoming, text=unread)
        await card_user_flow.handle(conv, account)
    else:
        await card_user_flow.handle(conv, account, command=Command(Name.status))


def _ask_order_ref(conv: Conversation, text: str) -> None:
    """Which card: a number several card users gave says nothing about any of them."""
    asked = conv.step == StartStep.which_card
    unread = conv.get("unread") if asked else text
    conv.go(StartStep.which_card, unread=unread)
    lead = (
        conv._("I cannot find a card with that order reference for this number.")
        if asked and text
        else conv._("This number belongs to more than one card order.")
    )
    conv.say(
        lead
        + " "
        + conv._(
            "Reply with the order reference of your card. It is in the e-mail about your card."
        )
    )


def _stranger_by_sms(conv: Conversation) -> None:
    """A number nobody gave: a neutral answer, once a day; nothing about anyone's card."""
    today = local_day(conv.now).isoformat()
    if conv.state.data.get("stranger_told") == today:
        return
    conv.state.data = {**conv.state.data, "stranger_told": today}
    conv.say(
        conv._(
            "Hello! This is Kortkontor, which hands out SITHS cards. This number is not in any "
            "card order, so I cannot answer here. Write from the number you gave when your card "
            "was ordered."
        )
    )
