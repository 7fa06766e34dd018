"""`kortkontor …`: the operator's command line. Exit 0 on success, 2 on bad input."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from kortkontor.cli_parser import SwedishParser
from kortkontor.logs import configure_logging, redact_secrets, use_log_format
from kortkontor.settings import InvalidSetting, MissingSecretKey, Settings, load_settings
from kortkontor.wiring import Services, build_services
from models import audit
from models.admins import (
    ADMIN_STATE_NAMES,
    MISSING,
    ONBOARDING_ITEM_NAMES,
    PAYEE_NAMES,
    notice_end,
    onboarding_report,
)
from models.backup import NotSqlite, backup_sqlite, sqlite_path
from models.cards import CARD_STATUS_NAMES, card_status_named, get_card_by_order_ref
from models.database_check import check_schema, check_sqlite_file, database_error
from models.db import transaction
from models.errors import DomainError, InputRejected, InvalidInput, NotFound, Problem
from models.i18n import N_, translate
from models.invites import InvitePurpose, issue_invite
from models.job_runs import JobOutcome, all_runs
from models.lifecycle import Role
from models.migrate import upgrade_to_head
from models.network import Admin, Office, Payee, get_admin_by_email
from models.network_file import read_network_toml, upsert_network
from models.orders import read_orders_csv
from models.outbox import NOTIFICATION_STATUS_NAMES, NotificationStatus
from models.types import utcnow
from models.validation import parse_day
from models.zone import STOCKHOLM, local_day
from scheduler import outbox
from scheduler.cards import change_status, import_orders
from scheduler.wording import format_slot_time

if TYPE_CHECKING:
    from scheduler.jobs import JobStatus

WARNING = N_("warning: {place}")
EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_BAD_INPUT = 2
LOCALE = "sv"

logger = logging.getLogger(__name__)
Command = Callable[[Services, argparse.Namespace], Awaitable[int]]


def _(message: str) -> str:
    return translate(message, LOCALE)


def say(message: str, **params: object) -> None:
    """Print a translated line for the operator."""
    print(_(message).format(**params))


def complain(message: str, **params: object) -> None:
    """Print a translated line on stderr."""
    print(_(message).format(**params), file=sys.stderr)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _FileProblem(N_("{file}: the file does not exist"), path) from None
    except UnicodeDecodeError:
        raise _FileProblem(N_("{file}:1: the file is not UTF-8 text"), path) from None


class _FileProblem(Exception):
    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _placed(path: Path, problem: Problem) -> str:
    """«file:line: field: what», as compilers write it."""
    return f"{path}:{problem.line}: {problem.field}: {problem.translated(LOCALE)}"


def _report_rejected(path: Path, error: InputRejected) -> int:
    for problem in error.problems:
        print(_placed(path, problem), file=sys.stderr)
    complain(N_("Nothing was written ({count} problem(s))."), count=len(error.problems))
    return EXIT_BAD_INPUT


async def cmd_db_upgrade(services: Services, args: argparse.Namespace) -> int:
    """Bring the schema to head."""
    check_sqlite_file(services.settings.database_url, creating=True)
    await asyncio.to_thread(upgrade_to_head, services.settings.database_url)
    say(N_("The database is up to date."))
    return EXIT_OK


def _backup_problem(source: Path, target: Path) -> tuple[str, Path] | None:
    """Why the backup cannot start (a message and the file it names), or None."""
    if not source.is_file():
        return N_("{file}: the database does not exist"), source
    if target.exists():
        return N_("{file}: the file exists already; choose a new name"), target
    if not target.parent.is_dir():
        return N_("{file}: the folder does not exist"), target.parent
    return None


async def cmd_db_backup(services: Services, args: argparse.Namespace) -> int:
    """An online copy of the SQLite database, while `serve` may run."""
    try:
        source = sqlite_path(services.settings.database_url)
    except NotSqlite:
        complain(
            N_(
                "Only a SQLite database is backed up this way. Back up PostgreSQL with pg_dump "
                "(see docs/operations.md)."
            )
        )
        return EXIT_BAD_INPUT
    target = Path(args.file)
    problem = _backup_problem(source, target)
    if problem is not None:
        message, path = problem
        complain(message, file=path)
        return EXIT_BAD_INPUT
    try:
        await asyncio.to_thread(backup_sqlite, source, target)
    except sqlite3.Error as error:
        complain(N_("The backup failed: {reason}"), reason=str(error))
        return EXIT_BROKEN
    say(N_("The database is backed up to {file}."), file=target)
    return EXIT_OK


async def cmd_network_load(services: Services, args: argparse.Namespace) -> int:
    """Upsert offices, venues, admins, windows and absences from TOML."""
    path = Path(args.file)
    try:
        offices = read_network_toml(_read(path))
        async with transaction(services.sessions) as session:
            summary = await upsert_network(session, offices)
    except InputRejected as error:
        return _report_rejected(path, error)
    for spec in offices:
        for warning in spec.warnings:
            print(_(WARNING).format(place=_placed(path, warning)))
    say(
        N_(
            "Loaded {offices} office(s), {venues} venue(s), {admins} administrator(s); "
            "{changed} office(s) changed."
        ),
        offices=summary.offices,
        venues=summary.venues,
        admins=summary.admins,
        changed=summary.changed,
    )
    return EXIT_OK


async def cmd_cards_import(services: Services, args: argparse.Namespace) -> int:
    """Import card orders from CSV, all or nothing."""
    path = Path(args.file)
    try:
        batch = read_orders_csv(_read(path))
        async with transaction(services.sessions) as session:
            summary, changes = await import_orders(session, batch, vault=services.vault)
    except InputRejected as error:
        return _report_rejected(path, error)
    for note in summary.notes:
        print(_placed(path, note))
    say(
        N_("Imported {total} order(s): {created} new, {updated} updated, {unchanged} unchanged."),
        total=len(batch.orders),
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
    )
    invited = sum(change.invited for change in changes)
    if invited:
        say(N_("{count} card user(s) invited to book a time."), count=invited)
    cancelled = sum(change.cancelled is not None for change in changes)
    if cancelled:
        say(
            N_("{count} meeting(s) cancelled; the card users and the administrators are told."),
            count=cancelled,
        )
    return EXIT_OK


def _notification_status(raw: str) -> NotificationStatus | None:
    """The outbox state named `raw` (contract or Swedish name), or None after saying which
    ones exist."""
    wanted = " ".join(raw.split()).casefold()
    for status, name in NOTIFICATION_STATUS_NAMES.items():
        if wanted in (status.value, _(name).casefold()):
            return status
    complain(
        N_("Unknown status «{status}». Use one of: {allowed}"),
        status=raw,
        allowed=", ".join(_(name) for name in NOTIFICATION_STATUS_NAMES.values()),
    )
    return None


async def cmd_cards_set_status(services: Services, args: argparse.Namespace) -> int:
    """Operator override of a card's status, through the state machine, audited, with what
    follows from it (the invitation to book, the meeting cancelled)."""
    try:
        target = card_status_named(args.status)
    except InvalidInput:
        complain(
            N_("Unknown status «{status}». Use one of: {allowed}"),
            status=args.status,
            allowed=", ".join(_(name) for name in CARD_STATUS_NAMES.values()),
        )
        return EXIT_BAD_INPUT
    async with transaction(services.sessions) as session:
        card = await get_card_by_order_ref(session, order_ref=args.order_ref)
        if card is None:
            raise NotFound(
                N_("No card has order reference «{order_ref}»."), order_ref=args.order_ref
            )
        change = await change_status(
            session, card, target, role=Role.operator, actor_id=None, data={"via": "cli"}
        )
    say(
        N_("Card {order_ref}: {previous} → {status}."),
        order_ref=args.order_ref,
        previous=_(CARD_STATUS_NAMES[change.previous]),
        status=_(CARD_STATUS_NAMES[target]),
    )
    if change.invited:
        say(N_("The card user is invited to book a time."))
    if change.cancelled is not None:
        say(
            N_("The meeting {when} is cancelled; the card user and the administrator are told."),
            when=format_slot_time(change.cancelled.starts_at, LOCALE),
        )
    return EXIT_OK


async def cmd_outbox_list(services: Services, args: argparse.Namespace) -> int:
    """The newest notifications, optionally of one state: id, state, channel, template, due."""
    status = _notification_status(args.status) if args.status else None
    if args.status and status is None:
        return EXIT_BAD_INPUT
    async with services.sessions() as session:
        rows = await outbox.listing(session, status=status, limit=args.limit)
        counts = await outbox.count_by_status(session)
    for row in rows:
        # Ids and states only: recipients are personal data.
        error = f"  {row.last_error}" if row.last_error else ""
        state = _(NOTIFICATION_STATUS_NAMES[NotificationStatus(row.status)])
        print(
            f"{row.id:>7}  {state:<10}  {row.channel:<8}  {row.template:<24}  "
            f"{_local(row.due_at)}  {row.attempts}{error}"
        )
    say(N_("In all: {counts}"), counts=_backlog(counts))
    return EXIT_OK


# The outbox's states as operators read them, in the order a row passes through them.
STATE_LABELS = {
    NotificationStatus.pending: N_("{count} waiting"),
    NotificationStatus.sending: N_("{count} being sent"),
    NotificationStatus.sent: N_("{count} sent"),
    NotificationStatus.failed: N_("{count} failed"),
    NotificationStatus.cancelled: N_("{count} cancelled"),
}


def _backlog(counts: dict[str, int]) -> str:
    """How many rows are in each state, in the order a row passes through them."""
    return ", ".join(
        _(label).format(count=counts.get(state, 0)) for state, label in STATE_LABELS.items()
    )


def _local(moment: datetime) -> str:
    """A time as Stockholm reads it, to the second."""
    return f"{moment.astimezone(STOCKHOLM):%Y-%m-%d %H:%M:%S}"


def _job_line(status: JobStatus) -> str:
    """One job: its id, its last run and outcome, its next run, and whether it is late."""
    run = status.run
    if run is None:
        last = _("never run")
    elif run.last_run_at is None:
        last = _("not run yet (scheduled since {time})").format(time=_local(run.scheduled_since))
    elif run.outcome == JobOutcome.ok:
        last = _("last run {time}: ok").format(time=_local(run.last_run_at))
    else:
        last = _("last run {time}: failed ({reason})").format(
            time=_local(run.last_run_at), reason=run.reason or "?"
        )
        if run.last_ok_at is not None:
            last += "; " + _("last ok {time}").format(time=_local(run.last_ok_at))
    upcoming = "" if status.next_run is None else _local(status.next_run)
    next_run = _("next {time}").format(time=upcoming) if upcoming else ""
    late = _("LATE") if status.late else ""
    parts = [f"{status.job.job_id:<17}", last, next_run, late]
    return "  " + "  ".join(part for part in parts if part)


async def cmd_status(services: Services, args: argparse.Namespace) -> int:
    """The periodic jobs' last and next runs, the outbox backlog and its oldest due row; exit 1
    when a job is late or a row has waited past its retries."""
    now = utcnow()
    async with services.sessions() as session:
        runs = await all_runs(session)
        counts = await outbox.count_by_status(session)
        oldest = await outbox.oldest_due(session, now=now)
    # APScheduler is imported for this command only, not at every CLI call's start (~50 ms).
    from scheduler.jobs import job_statuses

    statuses = job_statuses(runs, now=now, recover_every=services.settings.outbox_recover_every())
    say(N_("Jobs (Stockholm time):"))
    for status in statuses:
        print(_job_line(status))
        print(f"  {'':<17}  {_(status.job.title)}")
    say(N_("Outbox: {counts}"), counts=_backlog(counts))
    if oldest is None:
        say(N_("No row is due."))
    else:
        say(
            N_("Oldest due row: id {id}, due {time} ({state})"),
            id=oldest.id,
            time=_local(oldest.due_at),
            state=_(NOTIFICATION_STATUS_NAMES[NotificationStatus(oldest.status)]),
        )
    late = [status.job.job_id for status in statuses if status.late]
    if not runs:
        complain(N_("No service has run the jobs yet: start `kortkontor serve`."))
    elif late:
        complain(N_("Late: {jobs}."), jobs=", ".join(late))
    stuck = oldest is not None and outbox.past_its_retries(oldest, now=now)
    if stuck:
        complain(
            N_(
                "The oldest due row has waited longer than all its retries take "
                "({minutes} minutes): the outbox is not keeping up."
            ),
            minutes=int(outbox.RETRY_SCHEDULE.total_seconds() // 60),
        )
    if late or stuck:
        return EXIT_BROKEN
    say(N_("Every job runs on time and the outbox keeps up."))
    return EXIT_OK


def _month_file(args: argparse.Namespace, formats: tuple[str, ...]) -> tuple[str, str, Path] | None:
    """--month, --format and --out of a monthly export, checked; None once the problem is said
    (the field first)."""
    from models.errors import InvalidInput
    from payout.statements import parse_month

    try:
        month = parse_month(args.month)
    except InvalidInput as error:
        print(f"--month: {error.translated(LOCALE)}", file=sys.stderr)
        return None
    kind = args.format.strip().lower()
    if kind not in formats:
        complain(
            N_("--format: unknown format «{format}». Use one of: {allowed}"),
            format=args.format,
            allowed=", ".join(formats),
        )
        return None
    path = Path(args.out)
    if not path.parent.is_dir():
        complain(N_("--out: {file}: the folder does not exist"), file=path)
        return None
    return month, kind, path


async def cmd_payout_export(services: Services, args: argparse.Namespace) -> int:
    """Lock the month's statements and write them: CSV for payroll, PDF for the admins."""
    from models.network import Payee
    from payout.export_csv import render_csv
    from payout.export_pdf import render_pdf
    from payout.money import kronor
    from payout.statements import month_bounds
    from payout.store import export_month

    asked = _month_file(args, ("csv", "pdf"))
    if asked is None:
        return EXIT_BAD_INPUT
    month, kind, path = asked
    render = {"csv": render_csv, "pdf": render_pdf}[kind]
    now = utcnow()
    # The lock commits only once the file is written.
    async with transaction(services.sessions) as session:
        export = await export_month(session, month=month, now=now)
        content = render(export)
        try:
            await asyncio.to_thread(path.write_bytes, content)
        except OSError:
            raise _FileProblem(N_("{file}: the file cannot be written"), path) from None
    say(
        N_("Payout {month}: {admins} administrator(s), {lines} line(s), {total} in all."),
        month=month,
        admins=len(export.statements),
        lines=export.line_count,
        total=kronor(export.total_ore, LOCALE),
    )
    paid_as = Counter(export.payees[s.admin_id].paid_as for s in export.statements)
    if export.statements:
        say(
            N_(
                "Payees: {salary} paid as salary through frilansfinans, {companies} invoicing "
                "as a company, {unset} not set up."
            ),
            salary=paid_as[Payee.frilansfinans],
            companies=paid_as[Payee.company],
            unset=paid_as[None],
        )
    if export.newly_locked:
        say(N_("{count} statement(s) locked now."), count=export.newly_locked)
    elif export.statements:
        say(N_("The month was locked already: the statements are as they were exported."))
    else:
        say(N_("There are no payout lines for {month}: nothing was locked."), month=month)
    if month_bounds(month)[1] > now:
        say(
            N_("{month} is not over yet: later lines of the month go into the next statement."),
            month=month,
        )
    say(N_("Written to {file}."), file=path)
    return EXIT_OK


async def cmd_report(services: Services, args: argparse.Namespace) -> int:
    """Write the issuer's monthly report per office, as CSV or PDF."""
    from payout.report_csv import render_report_csv
    from payout.report_pdf import render_report_pdf
    from payout.report_store import load_report, record_export

    asked = _month_file(args, ("csv", "pdf"))
    if asked is None:
        return EXIT_BAD_INPUT
    month, kind, path = asked
    render = {"csv": render_report_csv, "pdf": render_report_pdf}[kind]
    now = utcnow()
    # The audit event commits only once the file is written.
    async with transaction(services.sessions) as session:
        report = await load_report(session, month=month, now=now)
        content = render(report)
        try:
            await asyncio.to_thread(path.write_bytes, content)
        except OSError:
            raise _FileProblem(N_("{file}: the file cannot be written"), path) from None
        await record_export(
            session, report, file_format=kind, actor_role=Role.operator, actor_id=None, now=now
        )
    total = report.total
    say(
        N_(
            "Report {month}: {offices} office(s), {handouts} handout(s), {failed} failed "
            "meeting(s), {stuck} stuck card(s)."
        ),
        month=month,
        offices=len(report.offices),
        handouts=total.handouts,
        failed=total.failed_total,
        stuck=len(total.stuck),
    )
    say(N_("Written to {file}."), file=path)
    return EXIT_OK


async def _bot_username(settings: Settings) -> str | None:
    if settings.telegram_bot_token is None:
        return None
    from bot.telegram_identity import fetch_bot_username

    return await fetch_bot_username(
        settings.telegram_bot_token.get_secret_value(), settings.telegram_api_base_url
    )


async def cmd_admin_invite(services: Services, args: argparse.Namespace) -> int:
    """Print a one-time link that ties an admin's Telegram account to them."""
    async with transaction(services.sessions) as session:
        admin = await get_admin_by_email(session, email=args.email.strip().lower())
        if admin is None or admin.id is None:
            raise NotFound(N_("No administrator has e-mail «{email}»."), email=args.email)
        token = await issue_invite(session, purpose=InvitePurpose.admin, admin_id=admin.id)
        await audit.append(
            session,
            actor_role=Role.operator,
            actor_id=None,
            action="admin.invited",
            entity="admin",
            entity_id=admin.id,
        )
    username = await _bot_username(services.settings)
    if username:
        print(f"https://t.me/{username}?start={token}")
    else:
        print(f"/start {token}")
    say(N_("The invitation is valid for 14 days and can be used once."))
    return EXIT_OK


async def cmd_admin_show(services: Services, args: argparse.Namespace) -> int:
    """The administrator's state, their onboarding checklist and what is missing."""
    today = local_day(utcnow())
    async with services.sessions() as session:
        admin = await get_admin_by_email(session, email=args.email.strip().lower())
        if admin is None:
            raise NotFound(N_("No administrator has e-mail «{email}»."), email=args.email)
        office = await session.get(Office, admin.office_id)
    assert office is not None
    report = onboarding_report(admin, today=today)
    say(
        N_("{name} <{email}>, {office} ({code})"),
        name=admin.name,
        email=admin.email,
        office=office.name,
        code=office.code,
    )
    say(N_("State: {state}"), state=_(ADMIN_STATE_NAMES[report.state]))
    if admin.notice_given_on is not None:
        say(
            N_("Notice given on {given}; the notice period ends on {ends}."),
            given=admin.notice_given_on.isoformat(),
            ends=(admin.notice_ends_on or notice_end(admin.notice_given_on)).isoformat(),
        )
    for label, value in _personal_lines(admin):
        print(f"{_(label)}: {value if value is not None else _(MISSING)}")
    say(N_("Onboarding checklist:"))
    for item, day in report.checklist.items():
        shown = day.isoformat() if day is not None else _(MISSING)
        print(f"  {_(ONBOARDING_ITEM_NAMES[item])}: {shown}")
    if report.missing:
        missing = ", ".join(_(ONBOARDING_ITEM_NAMES[item]) for item in report.missing)
        say(N_("Missing: {items}"), items=missing)
    else:
        say(N_("Nothing is missing."))
    if report.unrecorded:
        fields = ", ".join(report.unrecorded)
        say(N_("Not recorded yet: {fields} (load the network file with them)."), fields=fields)
    return EXIT_OK


def _personal_lines(admin: Admin) -> list[tuple[str, str | None]]:
    """The eligibility details, as label and value (None: not recorded)."""
    payee: str | None = None
    if admin.payee is not None:
        payee = _(PAYEE_NAMES[Payee(admin.payee)])
        if admin.org_number:
            payee += f" ({admin.org_number})"
    born = admin.birth_date.isoformat() if admin.birth_date is not None else None
    return [
        (N_("Born"), born),
        (N_("Home address"), admin.address),
        (N_("Town"), admin.town),
        (N_("Payee"), payee),
    ]


async def cmd_admin_notice(services: Services, args: argparse.Namespace) -> int:
    """Record an administrator's notice, given on --on (default today); print its end."""
    from models.admins import give_notice

    try:
        on = None if args.on is None else parse_day(args.on, field="--on")
        async with transaction(services.sessions) as session:
            admin = await get_admin_by_email(session, email=args.email.strip().lower())
            if admin is None or admin.id is None:
                raise NotFound(N_("No administrator has e-mail «{email}»."), email=args.email)
            ends_on = await give_notice(
                session, admin_id=admin.id, role=Role.operator, actor_id=None, now=utcnow(), on=on
            )
    except InvalidInput as error:
        print(f"--on: {error.translated(LOCALE)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    say(
        N_("Notice recorded for {email}; the notice period ends on {date}."),
        email=admin.email,
        date=ends_on.isoformat(),
    )
    return EXIT_OK


def _read_new_password() -> str | None:
    """The new password: typed twice at a terminal, else the first line of stdin."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass(_("Password: "))
        if getpass.getpass(_("Password again: ")) != first:
            complain(N_("The passwords differ. Nothing was written."))
            return None
        return first
    line = sys.stdin.readline()
    if not line:
        complain(N_("No password on standard input. Nothing was written."))
        return None
    return line.rstrip("\r\n")


async def cmd_operator_add(services: Services, args: argparse.Namespace) -> int:
    """Add a dashboard user, or set a new password (and role) for one; the password comes on stdin.

    A new operator is a viewer unless --role says otherwise; an existing one keeps their role
    unless --role is given. A new password ends the operator's open sessions.
    """
    from models.errors import InvalidInput
    from models.operators import (
        ROLE_NAMES,
        check_password,
        get_operator_by_email,
        hash_password,
        operator_email,
        operator_role,
        set_operator,
    )

    try:
        email = operator_email(args.email)
        role = operator_role(args.role) if args.role is not None else None
    except InvalidInput as error:
        value = args.email if error.field != "role" else args.role
        print(f"{value}: {error.translated(LOCALE)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    password = _read_new_password()
    if password is None:
        return EXIT_BAD_INPUT
    try:
        check_password(password)
    except InvalidInput as error:
        print(error.translated(LOCALE), file=sys.stderr)
        return EXIT_BAD_INPUT
    password_hash = await asyncio.to_thread(hash_password, password)
    async with transaction(services.sessions) as session:
        existing = await get_operator_by_email(session, email=email)
        before = existing.role if existing is not None else None
        operator, created = await set_operator(
            session, email=email, password_hash=password_hash, role=role
        )
        assert operator.id is not None
        await audit.append(
            session,
            actor_role=Role.operator,
            actor_id=None,
            action="operator.added" if created else "operator.password_set",
            entity="operator",
            entity_id=operator.id,
            data={"role": operator.role} if created else {},
        )
        if not created and before is not None and before != operator.role:
            await audit.append(
                session,
                actor_role=Role.operator,
                actor_id=None,
                action="operator.role_set",
                entity="operator",
                entity_id=operator.id,
                data={"role": operator.role, "previous": before},
            )
    role_name = _(ROLE_NAMES[operator.role])
    if created:
        say(
            N_("Operator {email} added as {role}: they can sign in to the dashboard."),
            email=email,
            role=role_name,
        )
    else:
        say(
            N_("Operator {email} ({role}) has a new password; their open sessions ended."),
            email=email,
            role=role_name,
        )
    return EXIT_OK


async def cmd_keys_rotate(services: Services, args: argparse.Namespace) -> int:
    """Write every personnummer under the current secret key; audited."""
    from models.cards import UnreadablePersonnummer, rotate_personnummer
    from models.meetings import rotate_home_addresses

    try:
        async with transaction(services.sessions) as session:
            rotated = await rotate_personnummer(session, services.vault)
            addresses = await rotate_home_addresses(session, services.vault)
            await audit.append(
                session,
                actor_role=Role.operator,
                actor_id=None,
                action="keys.rotated",
                entity="keys",
                entity_id=0,
                data={"card_users": rotated, "home_addresses": addresses},
            )
    except UnreadablePersonnummer as error:
        complain(error.message_id, **error.params)
        return EXIT_BAD_INPUT
    say(
        N_(
            "{count} personnummer written under the current key. Remove the old key from "
            "KORTKONTOR_OLD_SECRET_KEYS when every process runs with the new one."
        ),
        count=rotated,
    )
    return EXIT_OK


async def cmd_audit_verify(services: Services, args: argparse.Namespace) -> int:
    """Check the audit log's hash chain."""
    async with services.sessions() as session:
        breaks = await audit.verify_chain(session)
    messages = {
        "missing": N_("event {seq}: missing (deleted)"),
        "prev_hash_mismatch": N_(
            "event {seq}: does not follow the event before it "
            "(an earlier event was deleted, edited or reordered)"
        ),
        "hash_mismatch": N_("event {seq}: its content does not match its hash (edited or moved)"),
    }
    for found in breaks:
        complain(messages[found.problem], seq=found.seq)
    if breaks:
        complain(N_("The audit chain is broken."))
        return EXIT_BROKEN
    say(N_("The audit chain is intact."))
    return EXIT_OK


async def cmd_demo(services: Services, args: argparse.Namespace) -> int:
    """Seed a fresh demo network and show it."""
    from kortkontor.demo import run_demo

    wants_chat = args.sms or (args.chat if args.chat is not None else sys.stdin.isatty())
    return await run_demo(services, chat=wants_chat, sms=args.sms)


async def cmd_serve(services: Services, args: argparse.Namespace) -> int:
    """Run the bot until SIGTERM."""
    from kortkontor.serve import serve

    services.settings.check_cookie_secure()
    logging.getLogger().setLevel(logging.INFO)
    return await serve(services)


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand, with the function that runs it."""
    parser = SwedishParser(prog="kortkontor", description=_("SITHS card offices"))
    sub = parser.add_subparsers(dest="group", required=True)

    db = sub.add_parser("db").add_subparsers(dest="action", required=True)
    # The one command that runs on a database without the newest schema.
    db.add_parser("upgrade").set_defaults(run=cmd_db_upgrade, schema=False)
    backup = db.add_parser(
        "backup", description=_("an online copy of the SQLite database, also while serve runs")
    )
    backup.add_argument("file")
    backup.set_defaults(run=cmd_db_backup, schema=False)

    network = sub.add_parser("network").add_subparsers(dest="action", required=True)
    load = network.add_parser("load")
    load.add_argument("file")
    load.set_defaults(run=cmd_network_load)

    cards = sub.add_parser("cards").add_subparsers(dest="action", required=True)
    imp = cards.add_parser("import")
    imp.add_argument("file")
    imp.set_defaults(run=cmd_cards_import)
    set_status = cards.add_parser("set-status")
    set_status.add_argument("order_ref")
    set_status.add_argument("status")
    set_status.set_defaults(run=cmd_cards_set_status)

    admin = sub.add_parser("admin").add_subparsers(dest="action", required=True)
    invite = admin.add_parser("invite")
    invite.add_argument("email")
    invite.set_defaults(run=cmd_admin_invite)
    show = admin.add_parser(
        "show", description=_("the administrator's state, onboarding checklist and what is missing")
    )
    show.add_argument("email")
    show.set_defaults(run=cmd_admin_show)
    notice = admin.add_parser("notice")
    notice.add_argument("email")
    notice.add_argument("--on", default=None, help=_("the day notice was given (default: today)"))
    notice.set_defaults(run=cmd_admin_notice)

    operator = sub.add_parser("operator").add_subparsers(dest="action", required=True)
    operator_add = operator.add_parser(
        "add", description=_("the password is read from standard input (typed twice at a terminal)")
    )
    operator_add.add_argument("email")
    operator_add.add_argument(
        "--role",
        default=None,
        help=_("viewer | payroll | admin (a new operator: viewer; else unchanged)"),
    )
    operator_add.set_defaults(run=cmd_operator_add)

    out = sub.add_parser("outbox").add_subparsers(dest="action", required=True)
    listing = out.add_parser("list")
    listing.add_argument("--status", default=None)
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(run=cmd_outbox_list)

    pay = sub.add_parser("payout").add_subparsers(dest="action", required=True)
    payout_export = pay.add_parser("export")
    payout_export.add_argument("--month", required=True, help="YYYY-MM")
    payout_export.add_argument("--format", required=True, help="csv | pdf")
    payout_export.add_argument("--out", required=True)
    payout_export.set_defaults(run=cmd_payout_export)

    report = sub.add_parser("report", description=_("the issuer's monthly report per office"))
    report.add_argument("--month", required=True, help="YYYY-MM")
    report.add_argument("--format", required=True, help="csv | pdf")
    report.add_argument("--out", required=True)
    report.set_defaults(run=cmd_report)

    keys = sub.add_parser("keys").add_subparsers(dest="action", required=True)
    keys.add_parser("rotate").set_defaults(run=cmd_keys_rotate)

    aud = sub.add_parser("audit").add_subparsers(dest="action", required=True)
    aud.add_parser("verify").set_defaults(run=cmd_audit_verify)

    sub.add_parser("serve").set_defaults(run=cmd_serve)
    sub.add_parser("status").set_defaults(run=cmd_status)

    demo = sub.add_parser("demo")
    demo.add_argument(
        "--chat",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=_("open the terminal chat (default: when the input is a terminal)"),
    )
    demo.add_argument(
        "--sms",
        action="store_true",
        help=_("chat by SMS instead: each answer as the text message it would be"),
    )
    demo.set_defaults(run=cmd_demo, demo=True, schema=False)
    _add_debug(parser)
    return parser


def _add_debug(parser: argparse.ArgumentParser, *, top: bool = True) -> None:
    """`--debug` before the command or after it: errors then come with their traceback."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if top or not subcommands:
        parser.add_argument(
            "--debug",
            action="store_true",
            # Only the top level sets the default, so that a subcommand does not reset it.
            default=False if top else argparse.SUPPRESS,
            help=_("show the traceback of an error"),
        )
    for action in subcommands:
        for child in action.choices.values():
            _add_debug(child, top=False)


async def _run(command: Command, services: Services, args: argparse.Namespace) -> int:
    try:
        if getattr(args, "schema", True):
            # Before anything else touches it: a missing file would otherwise be created.
            check_sqlite_file(services.settings.database_url)
            await check_schema(services.engine)
        return await command(services, args)
    finally:
        await services.close()


def _refused(args: argparse.Namespace, line: str) -> int:
    """One line on stderr, and exit 2; with --debug the traceback before it."""
    if args.debug:
        logger.error("the traceback, as --debug asks", exc_info=True)
    print(line, file=sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kortkontor` console script."""
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except InvalidSetting as error:
        return _refused(args, error.translated(LOCALE))
    redact_secrets(settings.secrets())
    try:
        use_log_format(settings.log_format)
        if getattr(args, "demo", False):
            from kortkontor.demo import demo_services

            services = demo_services(settings)
        else:
            services = build_services(settings)
        return asyncio.run(_run(args.run, services, args))
    except MissingSecretKey as error:
        return _refused(args, str(error))
    except _FileProblem as error:
        return _refused(args, _(error.message).format(file=error.path))
    except DomainError as error:
        return _refused(args, error.translated(LOCALE))
    except DBAPIError as error:
        problem = database_error(error, settings.database_url)
        if problem is None:
            logger.exception("kortkontor stopped on a database error")
            return EXIT_BROKEN
        return _refused(args, problem.translated(LOCALE))
    except Exception:
        # Through logging rather than Python's own hook: the traceback is redacted too (a
        # refused Telegram token is named in python-telegram-bot's exception).
        logger.exception("kortkontor stopped on an unexpected error")
        return EXIT_BROKEN


if __name__ == "__main__":
    sys.exit(main())
