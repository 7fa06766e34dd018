"""The login throttle's arithmetic: when the back-off starts, how it doubles, where it stops."""

from __future__ import annotations

from datetime import timedelta

from models.login_throttle import MAX_BACKOFF, ThrottleScope, backoff, throttle_key


def test_the_back_off_starts_at_the_threshold_and_doubles_up_to_the_cap() -> None:
    waits = [backoff(failures, ThrottleScope.account) for failures in range(1, 17)]
    assert waits[:4] == [None] * 4
    assert waits[4:9] == [timedelta(seconds=s) for s in (1, 2, 4, 8, 16)]
    assert waits[14:] == [MAX_BACKOFF, MAX_BACKOFF]
    assert backoff(10_000, ThrottleScope.account) == MAX_BACKOFF


def test_an_address_gets_more_attempts_than_an_account() -> None:
    assert backoff(19, ThrottleScope.address) is None
    assert backoff(20, ThrottleScope.address) == timedelta(seconds=1)


def test_keys_hide_what_they_count_and_differ_by_scope_and_secret() -> None:
    account = throttle_key(b"secret", ThrottleScope.account, "operator@example.se")
    assert "operator" not in account and len(account) == 64
    assert account != throttle_key(b"secret", ThrottleScope.address, "operator@example.se")
    assert account != throttle_key(b"other", ThrottleScope.account, "operator@example.se")
