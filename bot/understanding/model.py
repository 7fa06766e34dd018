"""What the understanding layer reads a message as: the intents, the slots, the context it needs.

Pure records, no logic beyond what a field means; the flows import these to act on a reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from scheduler.wishes import TimeWish

# Rasa's FallbackClassifier in spirit: below the threshold, or with the two best readings
# closer than the margin, the flow asks «Menade du …?» instead of acting.
CONFIDENCE_THRESHOLD = 0.5
AMBIGUITY_MARGIN = 0.15


class Intent(StrEnum):
    """What a person wants; the value is the corpus's label."""

    # everyone
    greet = "greet"
    thanks = "thanks"
    goodbye = "goodbye"
    help = "help"
    language = "language"
    yes = "yes"  # agreeing when no question is open: changes nothing
    no = "no"  # refusing when no question is open: changes nothing
    confirm = "confirm"  # yes to the open question (booking summary, confirm prompt, request)
    decline = "decline"  # no to the open question
    out_of_scope = "out_of_scope"
    # card users
    status = "status"
    book = "book"
    my_meeting = "my_meeting"
    move = "move"
    cancel = "cancel"
    what_to_bring = "what_to_bring"
    where = "where"
    cant_come = "cant_come"
    keep_time = "keep_time"
    write_admin = "write_admin"
    # administrators
    today = "today"
    tomorrow = "tomorrow"
    upcoming = "upcoming"
    custody = "custody"
    picked_up = "picked_up"
    avi_arrived = "avi_arrived"
    absence = "absence"


class Speaker(StrEnum):
    """Who writes: the two roles that chat with the bot."""

    card_user = "card_user"
    admin = "admin"


class Step(StrEnum):
    """Where the conversation stands, as far as the meaning of a message depends on it.

    The flows map their own steps here: card_user_flow's «idle» is MENU, «wish» WISH, «pick»
    PICK, «summary» SUMMARY and «cancel» CONFIRM_CANCEL; admin_custody_flow's «pickup» is
    PICKUP, admin_flow's «confirm_cards» CONFIRM_CARDS and admin_settings_flow's
    «tider:absence:confirm» CONFIRM_ABSENCE.
    """

    menu = "menu"  # nothing asked: the menu, or any step without a question of its own
    wish = "wish"  # the bot asked when the person can come
    pick = "pick"  # times are proposed
    summary = "summary"  # «Boka den här tiden?»
    confirm_cancel = "confirm_cancel"  # «Vill du avboka den här tiden?»
    confirm_move = "confirm_move"  # «Vill du flytta till …?»
    confirm_absence = "confirm_absence"  # «Borta … ?»
    pickup = "pickup"  # an administrator chooses the cards fetched at the postal agent
    confirm_cards = "confirm_cards"  # «Hämtat K-1 och K-2?» (or their avi) before it is recorded
    confirm_send = "confirm_send"  # «Skicka till Anna: "…"?» before a message is passed on


# The flows' own step names (DialogueState.step) as the layer's steps; others are MENU.
FLOW_STEPS = {
    "idle": Step.menu,
    "wish": Step.wish,
    "pick": Step.pick,
    "summary": Step.summary,
    "cancel": Step.confirm_cancel,
    "pickup": Step.pickup,
    "confirm_cards": Step.confirm_cards,
    "tider:absence:confirm": Step.confirm_absence,
    "write_confirm": Step.confirm_send,
    "confirm_reply": Step.confirm_send,
}


def step_of(flow_step: str) -> Step:
    """The layer's step for a flow's step name."""
    return FLOW_STEPS.get(flow_step, Step.menu)


# Steps that end with a yes/no question: there «ja» confirms and «nej» declines.
QUESTIONS = frozenset(
    {
        Step.summary,
        Step.confirm_cancel,
        Step.confirm_move,
        Step.confirm_absence,
        Step.confirm_cards,
        Step.confirm_send,
    }
)
# Steps where the bot asked for a time: there a time wish is an answer, wherever it sits.
ASKS_TIME = frozenset({Step.wish, Step.pick, Step.summary})


@dataclass(frozen=True, slots=True)
class Context:
    """The conversation as the layer needs to know it."""

    speaker: Speaker
    step: Step = Step.menu
    has_meeting: bool = False  # the card user's card has an active (requested/confirmed) meeting
    pending_request: bool = False  # a booking request waits for this administrator's answer

    @property
    def open_question(self) -> bool:
        """Whether a yes or a no answers something: a question step, or a waiting request."""
        return self.step in QUESTIONS or (
            self.speaker is Speaker.admin and self.pending_request and self.step is Step.menu
        )


@dataclass(frozen=True, slots=True)
class Slots:
    """What a message carries besides its intent."""

    wish: TimeWish | None = None  # a time wish the wish parser understood
    refs: tuple[str, ...] = ()  # card order refs, upper case: («K-1», «SE-1001»)
    language: str | None = None  # the language asked for: "sv" or "en"
    message: str | None = None  # the words to pass to the administrator


@dataclass(frozen=True, slots=True)
class Guess:
    """A possible reading and how sure the layer is of it."""

    intent: Intent
    confidence: float


# What carries out something, rather than answers or shows: reading one of these when the
# person meant something else is a destructive misreading. A book without a wish only asks
# for a time, so it is not among them.
ACTIONS = frozenset(
    {
        Intent.cancel,
        Intent.move,
        Intent.picked_up,
        Intent.absence,
        Intent.confirm,
        Intent.decline,
    }
)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a message means in its context."""

    intent: Intent
    confidence: float
    slots: Slots = Slots()
    runners_up: tuple[Guess, ...] = ()  # the next best readings, best first
    written_in: str | None = None  # "sv" or "en" when the text clearly is; else None

    @property
    def is_action(self) -> bool:
        """Whether acting on this reading changes something (see ACTIONS)."""
        return is_action(self.intent, self.slots)

    @property
    def unsure(self) -> bool:
        """Too weak, or too close to the runner-up: ask «Menade du …?» rather than act."""
        if self.confidence < CONFIDENCE_THRESHOLD:
            return True
        return bool(self.runners_up) and (
            self.confidence - self.runners_up[0].confidence < AMBIGUITY_MARGIN
        )

    @property
    def choices(self) -> tuple[Intent, ...]:
        """The two best readings, for «Menade du …?» buttons (out of scope is no choice)."""
        best = (self.intent, *(guess.intent for guess in self.runners_up))
        return tuple(intent for intent in best if intent is not Intent.out_of_scope)[:2]


def is_action(intent: Intent, slots: Slots) -> bool:
    """Whether an intent with these slots carries out something."""
    return intent in ACTIONS or (intent is Intent.book and slots.wish is not None)
