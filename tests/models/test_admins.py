"""An administrator's state from the dated checklist."""

from __future__ import annotations

from datetime import date

from models.admins import AdminState, admin_state, missing_items, onboarding_report
from models.network import ONBOARDING_ITEMS
from tests.factories import NOT_ONBOARDED, admin

TODAY = date(2026, 12, 1)


def test_no_item_is_recruited_some_is_onboarding_all_is_active() -> None:
    assert admin_state(admin(1, **NOT_ONBOARDED), today=TODAY) is AdminState.recruited
    some = admin(1, **NOT_ONBOARDED | {"contract_signed": date(2026, 11, 2)})
    assert admin_state(some, today=TODAY) is AdminState.onboarding
    assert missing_items(some, today=TODAY) == ONBOARDING_ITEMS[1:]
    assert admin_state(admin(1), today=TODAY) is AdminState.active


def test_an_item_dated_after_today_is_not_done_yet() -> None:
    later = admin(1, pc_two_usb=date(2026, 12, 2))
    assert missing_items(later, today=TODAY) == ("pc_two_usb",)
    assert admin_state(later, today=date(2026, 12, 2)) is AdminState.active


def test_the_report_names_eligibility_details_not_recorded() -> None:
    legacy = admin(1, birth_date=None, address=None, town=None, payee=None)
    report = onboarding_report(legacy, today=TODAY)
    assert report.state is AdminState.active  # rows from before 0014 keep handing out
    assert report.unrecorded == ("birth_date", "address", "town", "payee")
    assert onboarding_report(admin(1), today=TODAY).unrecorded == ()
