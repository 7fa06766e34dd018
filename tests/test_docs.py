"""The documentation inside the repository: every relative link resolves within it, and every
module path docs/architecture.md names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# A path in backticks with a folder: `scheduler/dispatch.py`, `bot/understanding/`.
MODULE_PATH = re.compile(r"`((?:kortkontor|models|scheduler|bot|web|payout|deploy)/[\w/.]*)`")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_relative_links_stay_in_the_repository_and_resolve(page: Path) -> None:
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{page.name} links outside: {target}"
        assert resolved.exists(), f"{page.name} links to a missing {target}"


def test_the_architecture_names_modules_that_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(MODULE_PATH.findall(text))
    # Paths inside the Mermaid diagrams, written without backticks, count too.
    named |= set(re.findall(r"\b((?:models|scheduler|bot|web|kortkontor)/[\w/]+\.py)\b", text))
    assert len(named) > 20
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, missing
