"""The understanding layer: the labelled corpus (tests/bot/understanding_corpus) and its parts,
normalising and typo mending, what the context makes a word mean, and safety."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.understanding import (
    ACTIONS,
    Context,
    Intent,
    Reading,
    Speaker,
    Step,
    step_of,
    understand,
)
from bot.understanding.home_delivery import asks_for_home_delivery
from bot.understanding.slots import in_parser_words, message_for_admin
from bot.understanding.text import mend, normalise
from bot.wish_parser import parse_wish
from tests.bot.understanding_corpus import (
    NOW,
    Case,
    context_of,
    destructive,
    load,
    slot_problems,
)

TUNED = load("tuned")
HELDOUT = load("heldout")
HELDOUT_BAR = 0.95

USER = Context(Speaker.card_user)
USER_WITH_MEETING = Context(Speaker.card_user, has_meeting=True)
ADMIN = Context(Speaker.admin)


def read(text: str, context: Context = USER, locale: str = "sv") -> Reading:
    return understand(text, context, locale=locale, now=NOW)


def words(text: str) -> list[str]:
    return [token.text for token in normalise(text).tokens]


# ---------------------------------------------------------------- the corpus


def test_the_corpus_has_500_messages_in_both_languages_and_a_held_out_third() -> None:
    cases = TUNED + HELDOUT
    assert len(cases) >= 500
    assert {case.language for case in cases} == {"sv", "en"}
    assert {case.context.speaker for case in cases} == set(Speaker)
    assert 0.25 <= len(HELDOUT) / len(cases) <= 0.35


@pytest.mark.parametrize("case", TUNED, ids=lambda case: f"tuned:{case.line}")
def test_a_tuned_message_is_read_as_labelled(case: Case) -> None:
    reading = understand(case.text, case.context, locale=case.locale, now=NOW)
    assert reading.intent in case.intents, f"{case} read as {reading}"
    assert slot_problems(case, reading) == []


def test_the_held_out_messages_meet_the_bar() -> None:
    right = [
        understand(case.text, case.context, locale=case.locale, now=NOW).intent in case.intents
        for case in HELDOUT
    ]
    assert sum(right) / len(right) >= HELDOUT_BAR


@pytest.mark.parametrize("part", ["tuned", "heldout"])
def test_no_message_is_read_as_an_action_it_does_not_ask_for(part: str) -> None:
    misread = [
        str(case)
        for case in load(part)
        if destructive(case, understand(case.text, case.context, locale=case.locale, now=NOW))
    ]
    assert misread == []


def test_a_corpus_state_is_a_context() -> None:
    assert context_of("user/confirm_cancel+meeting") == Context(
        Speaker.card_user, Step.confirm_cancel, has_meeting=True
    )
    assert context_of("admin/menu+request") == Context(Speaker.admin, pending_request=True)


# ---------------------------------------------------------------- normalising


def test_case_punctuation_and_emoji_are_dropped_and_meaningful_emoji_kept() -> None:
    assert words("Har mitt KORT kommit?!! 😂😂") == ["har", "mitt", "kort", "kommit"]
    assert words("👍") == ["ok"]
    assert words("🙏") == ["tack"]
    assert normalise("😂😂😂").tokens == ()


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("imorrn", "imorgon"),
        ("nån", "någon"),
        ("nåt", "något"),
        ("e", "är"),
        ("tis", "tisdag"),
        ("em", "eftermiddag"),
        ("fm", "förmiddag"),
        ("wheres", "where is"),
    ],
)
def test_colloquial_spellings_are_read_as_the_words_they_stand_for(
    written: str, meant: str
) -> None:
    assert words(written) == meant.split()


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("tisdga", "tisdag"),  # two letters swapped
        ("tosdag", "torsdag"),  # a letter left out: not «tisdag», one letter changed
        ("avbokaa", "avbokaa"),  # known by its beginning («avbok…»): left as typed
        ("hämtst", "hämtat"),
        ("tomorow", "tomorrow"),
        ("fredaaag", "fredag"),  # stretched
    ],
)
def test_typos_are_mended_against_the_vocabulary(typed: str, meant: str) -> None:
    assert words(typed) == [meant]


@pytest.mark.parametrize("word", ["bytt", "kaffe", "hej", "bka", "covid"])
def test_known_and_short_words_are_never_mended_into_cue_words(word: str) -> None:
    assert mend(word) == (word, False)


def test_a_mended_wish_reaches_the_wish_parser_with_its_punctuation() -> None:
    assert normalise("tisdga kl 14.30, tack").wish_text == "tisdag kl 14.30, tack"


def test_order_refs_are_read_in_upper_case_in_text_order() -> None:
    assert normalise("hämtat k-2, SE-1001 och K - 3").refs == ("K-2", "SE-1001", "K-3")


@pytest.mark.parametrize(
    ("english", "swedish"),
    [
        ("tuesday afternoon", "tisdag eftermiddag"),
        ("tomorrow after 3", "imorgon efter 3"),
        ("monday or friday morning", "måndag eller fredag förmiddag"),
        ("not friday", "inte fredag"),
        ("wednesday at 3pm", "onsdag kl 15:00"),
        ("december 10th", "10 december"),
        ("next week", "nästa vecka"),
        ("asap", "snarast"),
        ("tmrw after 5", "imorgon efter 5"),
    ],
)
def test_an_english_wish_is_read_like_the_swedish_one(english: str, swedish: str) -> None:
    assert parse_wish(in_parser_words(english, english=True), now=NOW) == parse_wish(
        swedish, now=NOW
    )


def test_swedish_text_keeps_words_that_are_also_english() -> None:
    assert in_parser_words("fri parkering på fredag", english=False) == "fri parkering på fredag"


# ---------------------------------------------------------------- the context decides


@pytest.mark.parametrize(
    ("step", "intent"),
    [
        (Step.menu, Intent.yes),
        (Step.summary, Intent.confirm),
        (Step.confirm_cancel, Intent.confirm),
    ],
)
def test_ja_confirms_only_where_a_question_is_open(step: Step, intent: Intent) -> None:
    assert read("ja", Context(Speaker.card_user, step, has_meeting=True)).intent is intent


def test_nej_at_the_cancel_prompt_declines_and_keeps_the_meeting() -> None:
    context = Context(Speaker.card_user, Step.confirm_cancel, has_meeting=True)
    assert read("nej", context).intent is Intent.decline


def test_ok_at_the_booking_summary_confirms_the_time() -> None:
    assert read("ok", Context(Speaker.card_user, Step.summary)).intent is Intent.confirm


def test_another_wish_at_the_summary_replaces_the_proposal() -> None:
    reading = read("hellre torsdag", Context(Speaker.card_user, Step.summary))
    assert reading.intent is Intent.book
    assert reading.slots.wish == parse_wish("torsdag", now=NOW)


def test_a_time_wish_books_without_a_meeting_and_moves_with_one() -> None:
    assert read("tisdag eftermiddag").intent is Intent.book
    moved = read("tisdag eftermiddag", USER_WITH_MEETING)
    assert moved.intent is Intent.move
    assert moved.slots.wish == parse_wish("tisdag eftermiddag", now=NOW)


def test_when_can_i_fetch_my_card_is_the_status_or_the_meeting() -> None:
    assert read("när kan jag hämta mitt kort").intent is Intent.status
    assert read("när kan jag hämta mitt kort", USER_WITH_MEETING).intent is Intent.my_meeting


def test_an_administrator_answers_the_waiting_request() -> None:
    waiting = Context(Speaker.admin, pending_request=True)
    assert read("ok", waiting).intent is Intent.confirm
    assert read("nej det passar inte", waiting).intent is Intent.decline
    assert read("ok", ADMIN).intent is Intent.yes


def test_an_administrators_report_of_a_day_is_not_the_agenda_of_that_day() -> None:
    assert read("vad har jag idag", ADMIN).intent is Intent.today
    sick = read("sjuk idag", ADMIN)
    assert sick.intent is Intent.absence
    assert sick.slots.wish == parse_wish("idag", now=NOW)


def test_picked_up_carries_the_refs() -> None:
    reading = read("hämtat K-1 och K-2", ADMIN)
    assert (reading.intent, reading.slots.refs) == (Intent.picked_up, ("K-1", "K-2"))


def test_the_flows_step_names_map_to_the_layers_steps() -> None:
    assert step_of("idle") is Step.menu
    assert step_of("cancel") is Step.confirm_cancel
    assert step_of("tider:absence:confirm") is Step.confirm_absence
    assert step_of("tider:hours") is Step.menu


# ---------------------------------------------------------------- safety and uncertainty


@pytest.mark.parametrize(
    "text",
    ["nej", "tack", "ok", "ja", "nej tack", "avboka inte", "jag vill inte avboka", "ändra inget",
     "dont cancel it", "tack, ses på torsdag!", "vilken tid var det imorgon", "hej"],
)  # fmt: skip
def test_vague_words_at_the_menu_never_cancel_or_move(text: str) -> None:
    assert read(text, USER_WITH_MEETING).intent not in (Intent.cancel, Intent.move)


def test_a_vague_message_is_not_an_action_at_all() -> None:
    for text in ("hmm", "asdfgh", "😂", "?", "vad blir det för väder imorgon"):
        reading = read(text, USER_WITH_MEETING)
        assert not reading.is_action, (text, reading)


def test_two_close_readings_are_unsure_and_offer_both() -> None:
    reading = read("tack ok", USER_WITH_MEETING)
    assert reading.unsure
    assert set(reading.choices) == {Intent.thanks, Intent.yes}


def test_a_clear_reading_is_sure() -> None:
    reading = read("jag vill avboka min tid", USER_WITH_MEETING)
    assert (reading.intent, reading.unsure) == (Intent.cancel, False)


def test_out_of_scope_is_never_a_choice_to_offer() -> None:
    assert Intent.out_of_scope not in read("kan du beställa en taxi").choices


def test_clearly_english_text_in_a_swedish_chat_says_so() -> None:
    assert read("where is my card").written_in == "en"
    assert read("var är mitt kort").written_in == "sv"
    assert read("ok").written_in is None


def test_the_language_asked_for_is_the_last_one_named() -> None:
    reading = read("kan vi byta från svenska till engelska")
    assert (reading.intent, reading.slots.language) == (Intent.language, "en")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("säg till admin att jag blir 10 min sen", "jag blir 10 min sen"),
        ("skriv till administratören: jag står vid entrén!", "jag står vid entrén"),
        ("tell the admin I'm outside", "I'm outside"),
        ("jag hittar inte caféet", "jag hittar inte caféet"),
        ("kan jag skicka ett meddelande till administratören?", None),
    ],
)
def test_the_message_for_the_administrator(text: str, message: str | None) -> None:
    assert message_for_admin(text) == message


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=600), step=st.sampled_from(Step), meeting=st.booleans())
def test_any_text_is_read_without_failing(text: str, step: Step, meeting: bool) -> None:
    reading = read(text, Context(Speaker.card_user, step, has_meeting=meeting))
    assert 0.0 < reading.confidence <= 1.0
    assert all(0.0 < guess.confidence <= reading.confidence for guess in reading.runners_up)


def test_a_long_message_is_read_from_its_beginning() -> None:
    reading = read("jag vill avboka " + "bla " * 2000, USER_WITH_MEETING)
    assert reading.intent is Intent.cancel
    assert Intent.cancel in ACTIONS


HOME_DELIVERY_WISHES = (
    "kan du komma hem till mig?",
    "Hemleverans tack",
    "kan ni leverera kortet hem till mig",
    "går det att skicka hem kortet",
    "kan du lämna det hemma hos mig",
    "can you deliver it to my home",
    "could you come to my place",
)


@pytest.mark.parametrize("text", HOME_DELIVERY_WISHES)
def test_a_wish_for_home_delivery_is_read(text: str) -> None:
    assert asks_for_home_delivery(text)


def test_no_message_of_the_corpus_reads_as_a_wish_for_home_delivery() -> None:
    # The cue comes before the general reading: it must take nothing else people write.
    cases = [*TUNED, *HELDOUT]
    assert len(cases) > 800
    assert [case.text for case in cases if asks_for_home_delivery(case.text)] == []
