"""Every text the dashboard shows, as gettext message ids; templates read them as `t.<key>`.

The texts live here rather than in the templates so that the catalog extraction (Python only)
finds them, and so that a template asking for an unknown key fails loudly (StrictUndefined).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from models.cards import CardStatus
from models.i18n import N_, translate
from models.meetings import MEETING_STATUS_NAMES, MeetingStatus
from models.network import VenueKind

LOCALE = "sv"

TEXTS: Final[Mapping[str, str]] = {
    # frame
    "app_name": N_("Kortkontor"),
    "nav_overview": N_("Overview"),
    "nav_payouts": N_("Payouts"),
    "nav_operators": N_("Operators"),
    "log_out": N_("Log out"),
    "signed_in_as": N_("Signed in as {email} ({role})"),
    # login
    "login_title": N_("Log in"),
    "login_intro": N_("The operator dashboard is for the issuer's staff."),
    "email": N_("E-mail"),
    "password": N_("Password"),
    "login_button": N_("Log in"),
    # The same answer for a wrong password, an unknown e-mail and too many attempts.
    "login_failed": N_(
        "Wrong e-mail address or password, or too many attempts. Try again in a while."
    ),
    # errors
    "csrf_title": N_("The form has expired"),
    "csrf_text": N_("Reload the page and try again."),
    "role_required_title": N_("Not allowed"),
    "role_required": N_(
        "Your role, {role}, does not allow this: it takes the role {needed} or higher."
    ),
    "not_found_title": N_("Not found"),
    "card_not_found": N_("There is no card with order reference «{order_ref}»."),
    "office_not_found": N_("No office has code «{code}»."),
    "back_to_overview": N_("Back to the overview"),
    # an administrator's calendar link
    "calendar_link_since": N_("Calendar link: made {since}."),
    "calendar_link_older": N_("Calendar link: the link from before stored links."),
    "calendar_link_none": N_("Calendar link: none (the administrator gets a new one in the chat)."),
    "calendar_link_revoke": N_("End the calendar link"),
    "admin_not_found": N_("There is no such administrator."),
    # overview
    "overview_title": N_("Overview"),
    "as_of": N_("As of {moment}"),
    "cards_per_status": N_("Cards per status"),
    "status": N_("Status"),
    "count": N_("Count"),
    "oldest_days": N_("Longest in this status (days)"),
    "total": N_("Total"),
    "custody_ages": N_("Age of the cards in custody"),
    "custody_ages_note": N_(
        "Days since the administrator picked the card up, for cards in custody, booked or not."
    ),
    "age_days": N_("Age (days)"),
    "handouts_per_week": N_("Handouts per week"),
    "handouts_per_week_note": N_("Cards handed out per ISO week, the last 12 weeks."),
    "stuck_cards": N_("Stuck cards"),
    "stuck_cards_note": N_(
        "Cards kept for 30 days or more without a booking: follow them up, or have them returned."
    ),
    "no_stuck_cards": N_("No card is stuck."),
    "order_ref": N_("Order reference"),
    "office": N_("Office"),
    "in_custody_since": N_("In custody since"),
    "days": N_("Days"),
    "meetings_title": N_("Meetings today and the coming 7 days"),
    "no_meetings": N_("No meetings today or in the coming 7 days."),
    "today": N_("Today"),
    "coming_days": N_("The coming 7 days"),
    "none_today": N_("No meetings today."),
    "none_coming": N_("No meetings in the coming 7 days."),
    "time": N_("Time"),
    "card": N_("Card"),
    "admin": N_("ID administrator"),
    "place": N_("Venue"),
    "attendance": N_("Attendance"),
    "attendance_confirmed": N_("confirmed by the card user"),
    "attendance_not_confirmed": N_("not confirmed"),
    "offices_title": N_("Offices"),
    "city": N_("City"),
    "admins_count": N_("ID administrators"),
    "kept_count": N_("Cards in custody"),
    "notice_column": N_("Notice"),
    "notice_ends": N_("ends {date}"),
    # office
    "office_settings": N_("Booking rules"),
    "slot_minutes": N_("Meeting length: {minutes} min"),
    "buffer_minutes": N_("Buffer between meetings: {minutes} min"),
    "min_notice_hours": N_("Minimum notice: {hours} h"),
    "horizon_days": N_("Bookable: {days} days ahead"),
    "termination": N_("Termination"),
    "no_notice": N_("The office is open: at least one administrator has not given notice."),
    "office_closing": N_("Every administrator has given notice: the office closes after {ends}."),
    "notice_given": N_("Notice given on {given}; the notice period ends on {ends}."),
    "admin_no_notice": N_("No notice given."),
    "admin_notice_on": N_("Notice given on (YYYY-MM-DD; empty: today)"),
    "admin_notice_submit": N_("Record the notice"),
    "admin_notice_refused": N_("The notice was not recorded"),
    "handover": N_("Custody hand-over"),
    "handover_held": N_("Cards kept by administrators who have given notice"),
    "handover_none": N_("No cards to hand over."),
    "handover_waiting": N_("Under hand-over, waiting for the receiver to confirm in the chat"),
    "handover_waiting_none": N_("No hand-over is waiting."),
    "handover_to": N_("Hand over to"),
    "handover_submit": N_("Mark as handed over"),
    "handover_refused": N_("The card was not handed over"),
    "handover_line": N_("{card}: from {giver} to {receiver} ({office}), {days} days ago"),
    "venues": N_("Venues"),
    "no_venues": N_("The office has no venues."),
    "name": N_("Name"),
    "address": N_("Address"),
    "kind": N_("Kind"),
    "admins": N_("ID administrators"),
    "no_admins": N_("The office has no ID administrators."),
    "home_delivery": N_("Home delivery"),
    "auto_confirm": N_("Confirms bookings automatically"),
    "yes": N_("yes"),
    "no": N_("no"),
    "weekly_windows": N_("Weekly times"),
    "no_windows": N_("No weekly times."),
    "weekday": N_("Weekday"),
    "absences": N_("Absences"),
    "no_absences": N_("No absences."),
    "absence_days": N_("{first} – {last}"),
    "office_cards": N_("Cards at the office"),
    # an administrator's onboarding
    "onboarding": N_("Onboarding"),
    "admin_state": N_("State: {state}"),
    "born": N_("Born"),
    "home_address": N_("Home address"),
    "town": N_("Town"),
    "payee": N_("Payee"),
    "checklist_item": N_("Item"),
    "done_on": N_("Done on"),
    "onboarding_missing": N_("Missing before card users are offered this administrator: {items}"),
    "onboarding_complete": N_("Every item is done."),
    "not_recorded": N_("Not recorded yet: {fields} (load the network file with them)."),
    "set_item_date": N_("Set the date of an item"),
    "save_date": N_("Save the date"),
    "onboarding_refused": N_("The date was not saved: {item} {reason}"),
    # coverage
    "coverage_title": N_("Offices without bookable time"),
    "coverage_note": N_(
        "Absences leave these offices with no bookable time for more than 14 days: card users "
        "can book nothing there on these days."
    ),
    "coverage_gap": N_("{first} – {last} ({days} days)"),
    "no_coverage_gaps": N_("No office is without bookable time for more than 14 days."),
    "period": N_("Period"),
    # card
    "card_title": N_("Card {order_ref}"),
    "ordered_at": N_("Ordered"),
    "status_since": N_("In this status since"),
    "no_personnummer": N_(
        "Personal data of the card user is not shown here; the order reference identifies the card."
    ),
    "meetings": N_("Meetings"),
    "no_card_meetings": N_("The card has had no meetings."),
    "meeting": N_("Meeting"),
    "outcome": N_("Outcome"),
    "timeline": N_("Timeline"),
    "no_events": N_("No events recorded."),
    "when": N_("When"),
    "who": N_("Who"),
    "what": N_("What"),
    "home_delivery_place": N_("home delivery"),
    # payouts
    "payouts_title": N_("Payouts"),
    "month": N_("Month"),
    "show": N_("Show"),
    "payouts_for": N_("Statements for {month}"),
    "locked_at": N_("Locked {moment}: the statements are as they were exported."),
    "open_month": N_("Open: nothing is locked yet."),
    "month_not_over": N_(
        "{month} is not over yet: later lines of the month go into the next statement."
    ),
    "no_payouts": N_("There are no payouts for this month."),
    "handouts": N_("Handouts"),
    "extra_meetings": N_("Extra meetings"),
    "adjustments": N_("Adjustments"),
    "sum": N_("Sum"),
    "month_total": N_("Total for the month"),
    "lock_csv": N_("Lock and export CSV"),
    "lock_pdf": N_("Lock and export PDF"),
    "download_csv": N_("Download CSV"),
    "download_pdf": N_("Download PDF"),
    "unknown_format": N_("Unknown export format."),
    "payee_frilansfinans": N_("Salary through frilansfinans (gross, holiday pay included)"),
    "payee_company": N_("Own company, org. no. {org_number} (invoice basis)"),
    "payee_unset": N_("Payee not set up"),
    # the issuer's monthly report
    "report_heading": N_("Monthly report"),
    "report_title": N_("Monthly report for {month}"),
    "report_note": N_(
        "Per office: handouts, failed meetings by reason, extra meetings, attendance answers, "
        "cards in custody by age and stuck cards. Nothing is locked."
    ),
    "report_csv": N_("Download the report as CSV"),
    "report_pdf": N_("Download the report as PDF"),
    "lock_note": N_(
        "Exporting locks the month: the statements can no longer change, and later corrections "
        "become adjustment lines in the next open month."
    ),
    # operators
    "operators_title": N_("Operators"),
    "operators_note": N_(
        "Operators are added, and their passwords set, with `kortkontor operator add`. "
        "A new password ends all of the operator's sessions."
    ),
    "role": N_("Role"),
    "last_login": N_("Last login"),
    "never": N_("never"),
    "open_sessions": N_("Open sessions"),
    "actions": N_("Actions"),
    "role_of": N_("Role of {email}"),
    "change_role": N_("Change role"),
    "end_sessions": N_("Log out everywhere"),
    "end_sessions_of": N_("Log {email} out everywhere"),
    "roles_note": N_(
        "A viewer sees the dashboard; a payroll officer also locks and exports payouts; an "
        "operator administrator also manages the operators."
    ),
    "own_role": N_("You cannot change your own role: another operator administrator can."),
    "operator_not_found": N_("There is no such operator."),
    # charts
    "week_label": N_("w. {week}"),
    "chart_handouts_title": N_("Cards handed out per week"),
    "chart_ages_title": N_("Cards in custody by age in days"),
}

CARD_STATUS_NAMES: Final[Mapping[CardStatus, str]] = {
    CardStatus.ordered: N_("ordered"),
    CardStatus.shipped: N_("shipped (REK on its way)"),
    CardStatus.notified: N_("notice received"),
    CardStatus.in_custody: N_("in custody at the office"),
    CardStatus.booked: N_("booked"),
    CardStatus.in_transfer: N_("in transfer between administrators"),
    CardStatus.handed_out: N_("handed out"),
    CardStatus.returned: N_("returned to the issuer"),
    CardStatus.revoked: N_("revoked"),
}

VENUE_KIND_NAMES: Final[Mapping[VenueKind, str]] = {
    VenueKind.cafe: N_("Café"),
    VenueKind.hotel_lobby: N_("Hotel lobby"),
    VenueKind.workplace: N_("Workplace"),
    VenueKind.other: N_("Other"),
}


def tr(message: str) -> str:
    """One message in the dashboard's language."""
    return translate(message, LOCALE)


class Texts:
    """The page texts in one language, by key: `t.overview_title`."""

    def __init__(self, locale: str = LOCALE) -> None:
        self._locale = locale

    def __getattr__(self, key: str) -> str:
        try:
            message = TEXTS[key]
        except KeyError:
            raise AttributeError(key) from None
        return translate(message, self._locale)


def card_status_name(status: str) -> str:
    """A card status in Swedish words; an unknown one as it is stored."""
    try:
        return tr(CARD_STATUS_NAMES[CardStatus(status)])
    except ValueError:
        return status


def meeting_status_name(status: str) -> str:
    """A meeting status in Swedish words; an unknown one as it is stored."""
    try:
        return tr(MEETING_STATUS_NAMES[MeetingStatus(status)])
    except ValueError:
        return status
