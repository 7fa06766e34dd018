"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

import models  # noqa: F401  registers every table
from kortkontor.wiring import Services
from models.db import transaction
from models.meetings import Meeting
from models.migrate import alembic_config
from models.network import Venue
from models.types import UTCDateTime, utcnow
from scheduler import notifications
from scheduler.slots import Slot, slot_to_data
from tests.bot.world import NOW, build_world
from tests.factories import notification


async def test_models_and_migrations_do_not_drift(services: Services) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with services.engine.connect() as connection:
        changes = await connection.run_sync(diff)
    assert changes == [], f"run `alembic revision --autogenerate`: {changes}"


async def test_upgrade_reaches_head(services: Services) -> None:
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from models.migrate import MIGRATIONS_DIR, alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert MIGRATIONS_DIR.is_dir()
    async with services.engine.connect() as connection:
        current = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    assert current == head


async def test_0009_moves_a_proposal_from_its_message_onto_the_meeting(
    services: Services,
) -> None:
    """Before 0009 a proposed time lived only in its message's payload; the upgrade keeps it."""
    config = alembic_config(services.settings.database_url)
    # The world is built with today's models, then taken down to 0007 with its rows.
    world = await build_world(services)
    await services.engine.dispose()
    await asyncio.to_thread(command.downgrade, config, "0007")
    starts = NOW + timedelta(hours=7)
    # The meeting table as it was at 0007.
    meeting = sa.table(
        "meeting",
        *(sa.column(name) for name in ("id", "card_id", "admin_id", "venue_id", "status")),
        sa.column("is_extra"),
        *(sa.column(name, UTCDateTime()) for name in ("starts_at", "ends_at", "created_at")),
    )
    async with transaction(services.sessions) as session:
        venue = (await session.exec(select(Venue))).first()
        assert venue is not None
        later = starts + timedelta(days=1)
        proposal = Slot(world.admin_id, venue.id, later, later + timedelta(minutes=15))
        await (await session.connection()).execute(
            meeting.insert().values(
                id=1,
                card_id=world.cards["maria"],
                admin_id=world.admin_id,
                venue_id=venue.id,
                status="declined",
                is_extra=False,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=15),
                created_at=NOW,
            )
        )
        session.add(
            notification(
                NOW,
                template="time_proposed",
                payload={"proposal": slot_to_data(proposal)},
                idempotency_key="meeting:1:declined:sms",
                meeting_id=1,
                card_id=world.cards["maria"],
            )
        )
    await services.engine.dispose()
    await asyncio.to_thread(command.upgrade, config, "head")
    async with services.sessions() as session:
        kept = await session.get(Meeting, 1)
    assert kept is not None and notifications.proposal_of(kept) == proposal


async def test_0013_makes_the_operators_there_are_admins(services: Services) -> None:
    """Operators from before roles could do everything; after 0013 they still can, and the
    ones added later start as viewers."""
    from models.operators import Operator, OperatorRole, set_operator

    config = alembic_config(services.settings.database_url)
    await asyncio.to_thread(command.downgrade, config, "0012")
    operator = sa.table(
        "operator",
        *(sa.column(name) for name in ("email", "password_hash")),
        sa.column("created_at", UTCDateTime()),
    )
    async with transaction(services.sessions) as session:
        await (await session.connection()).execute(
            operator.insert().values(
                email="ops@example.se", password_hash="$argon2id$x", created_at=NOW
            )
        )
    await services.engine.dispose()
    await asyncio.to_thread(command.upgrade, config, "head")
    async with transaction(services.sessions) as session:
        await set_operator(session, email="new@example.se", password_hash="$argon2id$y", now=NOW)
    async with services.sessions() as session:
        roles = {o.email: o.role for o in (await session.exec(select(Operator))).all()}
    assert roles == {"ops@example.se": OperatorRole.admin, "new@example.se": OperatorRole.viewer}


async def test_0014_takes_the_administrators_there_are_as_onboarded(services: Services) -> None:
    """Administrators from before the checklist keep handing out: 0014 dates every item on the
    day of the upgrade, and leaves their eligibility empty for the next network load."""
    from models.admins import AdminState, admin_state, missing_items
    from models.network import Admin, get_admin_by_email
    from models.zone import local_day
    from tests.factories import add, office

    config = alembic_config(services.settings.database_url)
    await asyncio.to_thread(command.downgrade, config, "0013")
    async with transaction(services.sessions) as session:
        ups = await add(session, office())
        # The admin table as it was at 0013.
        columns = ("office_id", "email", "name", "phone", "home_delivery", "auto_confirm", "locale")
        old_admin = sa.table("admin", *(sa.column(name) for name in columns))
        await (await session.connection()).execute(
            old_admin.insert().values(
                office_id=ups.id,
                email="anna@example.se",
                name="Anna",
                phone="+46701234567",
                home_delivery=False,
                auto_confirm=False,
                locale="sv",
            )
        )
    await services.engine.dispose()
    await asyncio.to_thread(command.upgrade, config, "head")
    async with services.sessions() as session:
        anna = await get_admin_by_email(session, email="anna@example.se")
    assert isinstance(anna, Admin)
    today = local_day(utcnow())
    assert anna.contract_signed == today and missing_items(anna, today=today) == ()
    assert admin_state(anna, today=today) is AdminState.active
    assert (anna.birth_date, anna.town, anna.payee, anna.org_number) == (None, None, None, None)


async def test_0016_gives_an_offices_notice_to_each_of_its_administrators(
    services: Services,
) -> None:
    """An office's notice from before 0016 becomes each of its administrators' notice; the
    office keeps its own (every administrator there has now given notice)."""
    from datetime import date

    from models.network import Admin, Office
    from tests.factories import add, admin, office

    async with transaction(services.sessions) as session:
        ups = await add(session, office())
        await add(session, admin(ups))
        await add(session, admin(ups, email="cecilia@example.se"))
        gbg = await add(session, office(code="GBG1"))
        await add(session, admin(gbg, email="bo@example.se"))
    config = alembic_config(services.settings.database_url)
    await services.engine.dispose()
    await asyncio.to_thread(command.downgrade, config, "0014")
    async with transaction(services.sessions) as session:
        connection = await session.connection()
        await connection.execute(
            sa.table("office", sa.column("code"), sa.column("notice_given_at", UTCDateTime()))
            .update()
            .where(sa.column("code") == "UPS1")
            .values(notice_given_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
        )
    await services.engine.dispose()
    await asyncio.to_thread(command.upgrade, config, "head")
    async with services.sessions() as session:
        admins = {a.email: a for a in (await session.exec(select(Admin))).all()}
        offices = {o.code: o for o in (await session.exec(select(Office))).all()}
    # 23:30 UTC on 30 November is 1 December in Stockholm.
    for email in ("anna@example.se", "cecilia@example.se"):
        assert (admins[email].notice_given_on, admins[email].notice_ends_on) == (
            date(2026, 12, 1),
            date(2027, 1, 1),
        )
    assert admins["bo@example.se"].notice_given_on is None
    assert offices["UPS1"].notice_given_at is not None and offices["GBG1"].notice_given_at is None
