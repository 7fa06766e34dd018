"""A card's audit events in Swedish words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.audit import AuditEvent
from web.dashboard.timeline import actor, describe, timeline

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "data", "text"),
    [
        ("card.imported", {"status": "ordered"}, "Beställningen importerades som «beställt»."),
        ("card.updated", {"office_id": 1}, "Beställningen uppdaterades."),
        (
            "card.status",
            {"from": "shipped", "to": "in_custody"},
            "Kort: skickat (REK på väg) → i förvaring på kontoret.",
        ),
        (
            "card.status",
            {"from": "in_custody", "to": "returned", "via": "cli"},
            "Kort: i förvaring på kontoret → returnerat till utfärdaren. Ändrat via kommandoraden.",
        ),
        (
            "meeting.requested",
            {"starts_at": "2026-12-03T13:00:00+00:00"},
            "Möte 9 begärt till torsdag 3 december kl. 14:00.",
        ),
        (
            "meeting.status",
            {"from": "confirmed", "to": "failed", "reason": "no_pin_letter"},
            "Möte 9: bekräftad → kortet ej utlämnat. Orsak: Inget PIN-brev.",
        ),
        (
            "meeting.status",
            {"from": "confirmed", "to": "handed_out", "id_document": "passport"},
            "Möte 9: bekräftad → kortet utlämnat. ID-handling: svenskt pass.",
        ),
        (
            "meeting.status",
            {"from": "requested", "to": "confirmed", "auto_confirm": True},
            "Möte 9: begärd, väntar på bekräftelse → bekräftad. Bekräftat automatiskt.",
        ),
        (
            "meeting.status",
            {"from": "confirmed", "to": "cancelled", "moved": True},
            "Möte 9: bekräftad → avbokad. Kortanvändaren flyttade mötet till en annan tid.",
        ),
        (
            "meeting.requested",
            {"starts_at": "2026-12-03T13:00:00+00:00", "replaces": 4},
            "Möte 9 begärt till torsdag 3 december kl. 14:00. Det ersätter möte 4 när det "
            "bekräftas.",
        ),
        (
            "meeting.status",
            {"from": "confirmed", "to": "cancelled", "moved_to": 10},
            "Möte 9: bekräftad → avbokad. ID-administratören bekräftade flytten till möte 10.",
        ),
        (
            "meeting.status",
            {"from": "requested", "to": "cancelled", "outcome_of": 4},
            "Möte 9: begärd, väntar på bekräftelse → avbokad. Flytten drogs tillbaka när "
            "utfallet av möte 4 registrerades.",
        ),
        (
            "personnummer.viewed",
            {"card_id": 1},
            "ID-administratören visade hela personnumret vid möte 9.",
        ),
        ("card.unheard_of", {}, "Händelse «card.unheard_of»."),
        # Odd data is told as it is, never a crash.
        ("card.status", {"from": "lost_in_space"}, "Kort: lost_in_space → ."),
        ("meeting.requested", {"starts_at": "soon"}, "Möte 9 begärt till soon."),
    ],
)
def test_events_are_told_in_swedish(action: str, data: dict[str, object], text: str) -> None:
    assert describe(action, 9, data) == text


def test_who_acted() -> None:
    names = {4: "Anna Andersson"}
    assert actor("admin", 4, names) == "ID-administratör Anna Andersson"
    assert actor("admin", None, names) == "ID-administratör"
    assert actor("operator", None, names) == "Operatör"
    assert actor("card_user", 12, names) == "Kortanvändare"
    assert actor("system", None, names) == "Systemet"
    assert actor("robot", None, names) == "robot"


def test_the_timeline_follows_the_chain_order() -> None:
    def event(seq: int, action: str, data: dict[str, object]) -> AuditEvent:
        return AuditEvent(
            seq=seq,
            occurred_at=AT,
            actor_role="operator",
            actor_id=None,
            action=action,
            entity="card",
            entity_id=1,
            data=data,
            prev_hash="",
            hash="",
        )

    entries = timeline(
        [event(5, "card.updated", {}), event(2, "card.imported", {"status": "ordered"})], {}
    )
    assert [(e.seq, e.who) for e in entries] == [(2, "Operatör"), (5, "Operatör")]
    assert entries[1].what == "Beställningen uppdaterades."
