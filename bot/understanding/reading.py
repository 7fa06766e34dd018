"""From a message's cues, wish and refs to one reading in its context, with a confidence.

Evidence is weighed per target (an intent, or a sense that the context turns into one), the
context resolves the senses («ja» at a question confirms), and a softmax over the weights,
against a constant weight for «none of these», gives each reading its confidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from bot.understanding import slots as slot_readers
from bot.understanding.cues import INDEXES, Hit
from bot.understanding.lexicon import NEGATIONS, TIME_WORDS, Sense, Target
from bot.understanding.model import (
    ASKS_TIME,
    Context,
    Guess,
    Intent,
    Reading,
    Slots,
    Speaker,
    Step,
    is_action,
)
from bot.understanding.text import Normalised, Token, normalise, written_in
from scheduler.wishes import TimeWish

# Only so much is read: the dialogue cuts longer texts to the same length (bot/dialogue.py).
MAX_TEXT = 500
# The weight of «none of these»: a message whose cues weigh less is out of scope.
OUT_OF_SCOPE_WEIGHT = 1.0
MENDED_FACTOR = 0.85  # a cue found only through a mended typo counts a little less
# A time wish alone is a booking (or a move) where the bot asked for a time, or when the
# message is little besides the wish; next to booking words it is what they ask for; inside
# other talk («tack, ses på torsdag») it is only a hint.
WISH_ALONE = 3.0
WISH_WITH_BOOKING = 2.0
WISH_IN_TALK = 0.5
BOOKING_WORD = 1.5  # the weight of a word that asks for a time («hämta»), not only names one
WISH_COVERAGE = 0.6  # share of a message's words that are time words for it to be a wish
REFS_WEIGHT = 2.0
ANSWER_FIRST = 2.0  # «nej, …» at a question answers it, whatever follows
COMING_FIRST = 1.0  # «jag kommer …» opening a message is mostly that answer too
ABSENCE_WITHOUT_DAYS = 0.6
MAX_RUNNERS_UP = 3
MIN_RUNNER_UP = 0.05
# Cues that carry out something: a negation next to them («avboka inte») refuses instead.
_REFUSABLE = frozenset({Intent.cancel, Intent.move})
NEGATION_REACH = 3
# Cues that leave a time wish its own meaning: booking words, and answers.
_BOOKING = frozenset({Intent.book, Intent.move})
_WITH_WISH = _BOOKING | {Intent.cancel, Sense.no_word}
# An administrator's report of what happened or will happen: its day words are its days,
# not a question about the agenda («sjuk idag», «hämtade rek idag»).
_REPORTS = frozenset({Intent.absence, Intent.picked_up, Intent.avi_arrived})
_AGENDA_DAYS = (Intent.today, Intent.tomorrow)
_WISH_INTENTS = frozenset({Intent.book, Intent.move, Intent.absence})
_Evidence = dict[Target, float]


def _negated(hit: Hit, tokens: tuple[Token, ...], reach: int = NEGATION_REACH) -> bool:
    """A negation just before the cue, or right after it: «vill inte avboka», «avboka inte»,
    «dont want to cancel»."""
    near = tokens[max(0, hit.start - reach) : hit.start] + tokens[hit.end : hit.end + 1]
    return any(token.text in NEGATIONS for token in near)


def _negated_agreement(hit: Hit, tokens: tuple[Token, ...]) -> bool:
    """A yes word or «jag kommer» right next to a negation: «inte bra», «funkar inte», «jag
    kommer inte», «kommer nog inte». Only the word just before counts: in «vill inte avboka,
    jag kommer» the «jag kommer» still agrees."""
    if hit.target is Sense.yes_word:
        return _negated(hit, tokens, reach=1)
    if hit.target is Sense.coming:
        after = tokens[hit.end : hit.end + 2]
        return _negated(hit, tokens, reach=1) or any(t.text in NEGATIONS for t in after)
    return False


def _agreeing(hits: list[Hit], tokens: tuple[Token, ...], step: Step) -> list[Hit]:
    """The hits without the agreement a message takes back. A negated yes says no yes (the no
    words and «kommer inte» read those); «jag kommer inte» takes back a «ja» beside it too («ja
    men jag kommer inte»); and «jag kommer» answers «Vill du avboka?» with a no, whatever yes
    comes with it («ja jag kommer»)."""
    negated = [hit for hit in hits if _negated_agreement(hit, tokens)]
    kept = [hit for hit in hits if hit not in negated]
    coming = any(hit.target is Sense.coming for hit in kept)
    if any(hit.target is Sense.coming for hit in negated) or (
        coming and step is Step.confirm_cancel
    ):
        kept = [hit for hit in kept if hit.target is not Sense.yes_word]
    return kept


def _cue_evidence(hits: Iterable[Hit], tokens: tuple[Token, ...]) -> _Evidence:
    """Each target's weight: the strongest cues first, each word counted once per target,
    so that «nej tack» is not also «nej», nor a Swedish «ok» also an English one."""
    evidence: _Evidence = defaultdict(float)
    used: dict[Target, set[int]] = defaultdict(set)
    for hit in sorted(hits, key=lambda h: (-h.cue.weight, h.start - h.end)):
        target: Target = hit.target
        if target in _REFUSABLE and _negated(hit, tokens):
            target = Sense.no_word
        span = set(range(hit.start, hit.end))
        if span & used[target]:
            continue
        used[target] |= span
        evidence[target] += hit.cue.weight * (MENDED_FACTOR if hit.mended else 1.0)
    return evidence


def _coverage(tokens: tuple[Token, ...]) -> float:
    """The share of words that are time words or numbers («10th», «14.30»)."""
    timely = sum(t.text in TIME_WORDS or any(c.isdigit() for c in t.text) for t in tokens)
    return timely / len(tokens) if tokens else 0.0


def _wish_weight(evidence: _Evidence, tokens: tuple[Token, ...], step: Step) -> float:
    """How much a time wish says «book this» (see WISH_ALONE)."""
    if step in ASKS_TIME:
        return WISH_ALONE
    if any(evidence.get(target, 0.0) >= BOOKING_WORD for target in _BOOKING):
        return WISH_WITH_BOOKING
    talk = any(weight > 0 for target, weight in evidence.items() if target not in _WITH_WISH)
    return WISH_ALONE if not talk and _coverage(tokens) >= WISH_COVERAGE else WISH_IN_TALK


def _add_wish(evidence: _Evidence, wish: TimeWish, tokens: tuple[Token, ...], step: Step) -> None:
    weight = _wish_weight(evidence, tokens, step)
    evidence[Sense.time_wish] += weight if slot_readers.is_substantial(wish) else weight / 2
    if step in (Step.wish, Step.pick):
        # The bot asked when: «ja imorgon funkar» agrees only with its own wish.
        evidence.pop(Sense.yes_word, None)


def _add_answer_first(evidence: _Evidence, hits: list[Hit]) -> None:
    """A message that opens with yes or no is that answer: «nej jag är ledig då» declines the
    request, «ja det stämmer, fredag kl 14» confirms the time rather than moving it; one that
    opens with «jag kommer» says so, less strongly."""
    first = [hit for hit in hits if hit.start == 0]
    if first:
        longest = max(first, key=lambda hit: (hit.end, hit.cue.weight))
        if longest.target in (Sense.yes_word, Sense.no_word):
            evidence[longest.target] += ANSWER_FIRST
        elif longest.target is Sense.coming:
            evidence[longest.target] += COMING_FIRST


def _resolve(target: Target, context: Context, wish: TimeWish | None, moving: bool) -> Intent:
    """The intent a target means in this context."""
    if target is Sense.time_wish:
        return Intent.move if context.has_meeting else Intent.book
    if target is Sense.yes_word:
        return Intent.confirm if context.open_question else Intent.yes
    if target is Sense.no_word:
        return Intent.decline if context.open_question else Intent.no
    if target is Sense.coming:
        # Coming answers the reminder; at a question it is a no only to cancelling.
        return Intent.decline if context.step is Step.confirm_cancel else Intent.yes
    if target is Sense.when_card:
        return Intent.my_meeting if context.has_meeting else Intent.status
    assert isinstance(target, Intent)
    return _in_step(target, context, wish, moving)


def _in_step(intent: Intent, context: Context, wish: TimeWish | None, moving: bool) -> Intent:
    """What a card user's booking words mean where the conversation stands."""
    step = context.step
    if intent is Intent.book and context.has_meeting and (wish is not None or moving):
        return Intent.move  # «kan jag få en annan tid», «boka en ny tid på måndag»
    if intent is Intent.book and wish is None and step is Step.summary:
        return Intent.confirm  # «boka den»
    if intent is Intent.cancel and step is Step.confirm_cancel:
        return Intent.confirm  # «ja avboka»
    if intent is Intent.move and wish is None and step is Step.confirm_move:
        return Intent.confirm
    if intent is Intent.move and not context.has_meeting and step in ASKS_TIME:
        return Intent.book  # «hellre torsdag» while choosing a first time
    if intent is Intent.cancel and not context.has_meeting and step in ASKS_TIME:
        # Nothing booked yet: «cancel» while choosing a time stops the choosing.
        return Intent.decline if step is Step.summary else Intent.no
    return intent


def _weights(
    normalised: Normalised, context: Context, wish: TimeWish | None
) -> dict[Intent, float]:
    """Each intent's weight of evidence in this message and context."""
    tokens = normalised.tokens
    hits = _agreeing(INDEXES[context.speaker].hits(tokens), tokens, context.step)
    evidence = _cue_evidence(hits, tokens)
    if wish is not None and context.speaker is Speaker.card_user:
        _add_wish(evidence, wish, tokens, context.step)
    if normalised.refs and context.speaker is Speaker.admin:
        evidence[Intent.picked_up] += REFS_WEIGHT * (1.5 if context.step is Step.pickup else 1)
    if context.open_question or context.step is Step.menu:
        # Not where the bot asked for a time: there «ja imorgon funkar» is the wish.
        _add_answer_first(evidence, hits)
    if any(evidence.get(report) for report in _REPORTS):
        for day in _AGENDA_DAYS:
            evidence.pop(day, None)
    moving = bool(evidence.get(Intent.move))
    weights: dict[Intent, float] = defaultdict(float)
    for target, weight in evidence.items():
        weights[_resolve(target, context, wish, moving)] += weight
    if Intent.absence in weights and wish is None:
        weights[Intent.absence] *= ABSENCE_WITHOUT_DAYS
    weights[Intent.out_of_scope] = max(weights[Intent.out_of_scope], OUT_OF_SCOPE_WEIGHT)
    return weights


def _confidences(weights: dict[Intent, float], wish: TimeWish | None) -> list[Guess]:
    """A softmax over the weights, best first; of tied readings one that changes nothing
    goes first, then the intent listed first."""
    top = max(weights.values())
    exps = {intent: math.exp(weight - top) for intent, weight in weights.items()}
    total = sum(exps.values())
    order = list(Intent)
    guesses = [Guess(intent, value / total) for intent, value in exps.items()]

    def rank(guess: Guess) -> tuple[float, bool, int]:
        acts = is_action(guess.intent, Slots(wish=wish))
        return (-round(guess.confidence, 9), acts, order.index(guess.intent))

    return sorted(guesses, key=rank)


def _slots(intent: Intent, text: str, normalised: Normalised, wish: TimeWish | None) -> Slots:
    return Slots(
        wish=wish if intent in _WISH_INTENTS else None,
        refs=normalised.refs,
        language=slot_readers.language_asked(normalised.tokens)
        if intent is Intent.language
        else None,
        message=slot_readers.message_for_admin(text[:MAX_TEXT])
        if intent is Intent.write_admin
        else None,
    )


def understand(text: str, context: Context, *, locale: str, now: datetime) -> Reading:
    """Read a message as an intent with slots, in its context and the chat's language.

    `locale` is the chat's language ("sv" or "en"); `now` (aware) dates the time wish.
    """
    normalised = normalise(text[:MAX_TEXT])
    language = written_in(normalised.tokens)
    if not normalised.tokens and not normalised.refs:
        return Reading(Intent.out_of_scope, 1.0)
    english = language == "en" or (locale == "en" and language != "sv")
    wish = slot_readers.read_wish(normalised.wish_text, english=english, now=now)
    guesses = _confidences(_weights(normalised, context, wish), wish)
    best, rest = guesses[0], guesses[1:]
    runners_up = tuple(g for g in rest if g.confidence >= MIN_RUNNER_UP)[:MAX_RUNNERS_UP]
    return Reading(
        intent=best.intent,
        confidence=best.confidence,
        slots=_slots(best.intent, text, normalised, wish),
        runners_up=runners_up,
        written_in=language,
    )
