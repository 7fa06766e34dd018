"""The command line's own usage and errors are Swedish, and a bad command line exits 2."""

from __future__ import annotations

import pytest

from tests.kortkontor.cli_helpers import run_cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["cards", "set-status"],
            "kortkontor cards set-status: fel: de här argumenten saknas: order_ref, status",
        ),
        (["bogus"], "kortkontor: fel: kommando: «bogus» är inte ett av db, network, cards"),
        (["cards", "set-status", "a", "b", "c"], "kortkontor: fel: okända argument: c"),
        (["outbox", "list", "--limit", "x"], "fel: --limit: x är inget giltigt värde"),
        (["payout", "export", "--month"], "fel: --month: ett värde saknas"),
    ],
)
def test_a_bad_command_line_is_told_in_swedish_and_exits_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        run_cli(capsys, *argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("användning: kortkontor")
    assert expected in err
    for english in ("usage:", "error:", "required", "invalid choice", "unrecognized"):
        assert english not in err


def test_help_is_swedish(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        run_cli(capsys, "cards", "--help")
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("användning: kortkontor cards")
    assert "argument:" in out and "flaggor:" in out and "visa den här hjälpen" in out
    assert "usage" not in out and "show this help" not in out
