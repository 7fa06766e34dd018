"""Payout stands on models alone: dependencies point one way (DESIGN.md, Architecture)."""

from __future__ import annotations

import ast
from pathlib import Path

import payout

PAYOUT = Path(payout.__file__).resolve().parent


def _imported(source: Path) -> list[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.append(node.module)
    return names


def test_payout_imports_nothing_above_models() -> None:
    sources = sorted(PAYOUT.glob("*.py"))
    assert len(sources) > 3  # the scan really read the package
    upward = [
        f"{source.name}: {name}"
        for source in sources
        for name in _imported(source)
        if name.split(".")[0] in ("scheduler", "bot", "web", "kortkontor")
    ]
    assert upward == []
