"""Words the chat, the notifications and the reminders share: a meeting's time («torsdag 3
december kl. 14:00», through Babel), place and host, and what to bring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date, format_time
from sqlmodel.ext.asyncio.session import AsyncSession

from models.i18n import N_, translate
from models.meetings import FailureReason, IdDocument, Meeting
from models.network import Admin, Venue
from models.zone import STOCKHOLM
from scheduler.slots import Slot

ID_DOCUMENT_NAMES = {
    IdDocument.passport: N_("Swedish passport"),
    IdDocument.national_id_card: N_("Swedish national ID card"),
    IdDocument.tax_agency_id_card: N_("Skatteverket's ID card"),
    IdDocument.sis_id_card: N_("SIS-marked ID card"),
    IdDocument.driving_licence: N_("Swedish driving licence"),
    IdDocument.other: N_("another document"),
}
WEEKDAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
FAILURE_LABELS = {
    FailureReason.no_valid_id: N_("No valid ID document"),
    FailureReason.wrong_person: N_("Wrong person"),
    FailureReason.no_pin_letter: N_("No PIN letter"),
    FailureReason.no_show: N_("Did not come"),
    FailureReason.other: N_("Something else"),
}
ACCEPTED_ID_DOCUMENTS = tuple(doc for doc in IdDocument if doc != IdDocument.other)


@lru_cache(maxsize=4096)  # offers and reminders name the same few times over and over
def format_slot_time(moment: datetime, locale: str = "sv") -> str:
    """«torsdag 3 december kl. 14:00» in Stockholm time."""
    local = moment.astimezone(STOCKHOLM)
    return translate("{day} at {time}", locale).format(
        day=format_date(local.date(), "EEEE d MMMM", locale=locale),
        time=format_time(local, "HH:mm", locale=locale),
    )


def format_day(day: date, locale: str = "sv", *, year: bool = False) -> str:
    """«3 december», or «3 december 2026» with the year."""
    return format_date(day, "d MMMM y" if year else "d MMMM", locale=locale)


def join_or(items: list[str], locale: str) -> str:
    """«a, b or c» in the given language."""
    if len(items) <= 1:
        return "".join(items)
    return translate("{first} or {last}", locale).format(
        first=", ".join(items[:-1]), last=items[-1]
    )


def released_sentence(meeting: Meeting, locale: str) -> str:
    """«Din tidigare tid … är släppt.»: a time given up for a new one (a wish, if it was never
    confirmed)."""
    text = RELEASED_TIME if meeting.confirmed_at is not None else RELEASED_WISH
    return translate(text, locale).format(when=format_slot_time(meeting.starts_at, locale))


# Whether the card user has answered the day-before reminder that they come, as the
# administrator reads it beside a confirmed meeting.
ATTENDANCE_CONFIRMED = N_("attendance confirmed by the card user")
ATTENDANCE_NOT_CONFIRMED = N_("attendance not confirmed")


def attendance(meeting: Meeting, locale: str) -> str:
    """«närvaro bekräftad av kortanvändaren» or «närvaro ej bekräftad»."""
    confirmed = meeting.attendance_confirmed_at is not None
    return translate(ATTENDANCE_CONFIRMED if confirmed else ATTENDANCE_NOT_CONFIRMED, locale)


RELEASED_TIME = N_("Your earlier time {when} is released.")
RELEASED_WISH = N_("Your earlier requested time {when} is released.")


def what_to_bring(locale: str) -> str:
    """The reminder every booking reply carries: a valid ID document and the PIN letter."""
    names = [translate(ID_DOCUMENT_NAMES[doc], locale) for doc in ACCEPTED_ID_DOCUMENTS]
    documents = join_or(names, locale)
    return translate(
        "Bring a valid, physical ID document ({documents}) and your PIN letter.", locale
    ).format(documents=documents)


def what_to_bring_briefly(locale: str) -> str:
    """The same in a few words, where space is short (an SMS, a one-line answer)."""
    return translate("Bring a valid ID document and your PIN letter.", locale)


@dataclass(frozen=True, slots=True)
class MeetingPlace:
    """When, where and with whom, as the card user sees it."""

    starts_at: datetime
    venue: Venue | None
    # A home delivery's address in plain text, only where its reader may see it (the meeting's
    # admin in the chat, the card user who wrote it); else «hemleverans» alone.
    home_address: str | None
    admin: Admin

    def place(self, locale: str) -> str:
        """«Café Linné, Svartbäcksgatan 22, 753 33 Uppsala», or the home delivery."""
        if self.venue is not None:
            return f"{self.venue.name}, {self.venue.address}"
        if not self.home_address:
            return translate("home delivery", locale)
        return translate("home delivery to {address}", locale).format(address=self.home_address)

    def where_and_who(self, locale: str) -> tuple[str, str]:
        """«Plats: …» and «ID-administratör: …»."""
        return (
            translate("Place: {place}", locale).format(place=self.place(locale)),
            translate("ID administrator: {name}", locale).format(name=self.admin.first_name),
        )

    def lines(self, locale: str) -> str:
        """«Tid: …», «Plats: …», «ID-administratör: …» on three lines."""
        when = translate("Time: {when}", locale).format(
            when=format_slot_time(self.starts_at, locale)
        )
        return "\n".join((when, *self.where_and_who(locale)))


async def place_of(
    session: AsyncSession,
    *,
    admin_id: int,
    venue_id: int | None,
    starts_at: datetime,
    home_address: str | None = None,
) -> MeetingPlace:
    """The time, venue and admin of a slot or meeting, read from the database."""
    admin = await session.get(Admin, admin_id)
    assert admin is not None
    venue = await session.get(Venue, venue_id) if venue_id is not None else None
    return MeetingPlace(starts_at=starts_at, venue=venue, home_address=home_address, admin=admin)


async def place_of_meeting(
    session: AsyncSession, meeting: Meeting, *, home_address: str | None = None
) -> MeetingPlace:
    """The MeetingPlace of a booked meeting (with a home delivery's address, decrypted, when
    the reader may see it)."""
    return await place_of(
        session,
        admin_id=meeting.admin_id,
        venue_id=meeting.venue_id,
        starts_at=meeting.starts_at,
        home_address=home_address,
    )


async def place_of_slot(
    session: AsyncSession, slot: Slot, *, home_address: str | None = None
) -> MeetingPlace:
    """The MeetingPlace of an offered slot."""
    return await place_of(
        session,
        admin_id=slot.admin_id,
        venue_id=slot.venue_id,
        starts_at=slot.starts_at,
        home_address=home_address,
    )
