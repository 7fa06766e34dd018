"""argparse as the operator reads it: usage, help and argparse's own errors in Swedish, and
exit code 2 on a bad command line, like every other bad input."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

from models.i18n import N_, translate

LOCALE = "sv"
EXIT_BAD_INPUT = 2

# argparse's own error messages (Python 3.11+), and how the CLI says them.
ARGPARSE_ERRORS = (
    (
        re.compile(r"the following arguments are required: (?P<names>.*)"),
        N_("these arguments are missing: {names}"),
    ),
    (re.compile(r"unrecognized arguments: (?P<names>.*)"), N_("unknown arguments: {names}")),
    (
        re.compile(
            r"argument (?P<name>\S+): invalid choice: (?P<value>.*?) "
            r"\(choose from (?P<choices>.*)\)"
        ),
        N_("{name}: «{value}» is not one of {choices}"),
    ),
    (
        re.compile(r"argument (?P<name>\S+): expected one argument"),
        N_("{name}: a value is missing"),
    ),
    (
        re.compile(r"argument (?P<name>\S+): invalid (?P<kind>\w+) value: (?P<value>.*)"),
        N_("{name}: {value} is not a valid value"),
    ),
)


# The subcommand levels' internal names, as the operator reads them in an error.
ARGUMENT_NAMES = {"group": N_("command"), "action": N_("subcommand")}


def _(message: str) -> str:
    return translate(message, LOCALE)


def swedish_error(message: str) -> str:
    """argparse's English message in the CLI's Swedish (unknown ones pass unchanged)."""
    for pattern, wording in ARGPARSE_ERRORS:
        found = pattern.fullmatch(message)
        if found is not None:
            parts = {key: value.replace("'", "") for key, value in found.groupdict().items()}
            if parts.get("name") in ARGUMENT_NAMES:
                parts["name"] = _(ARGUMENT_NAMES[parts["name"]])
            return _(wording).format(**parts)
    return message


class SwedishHelpFormatter(argparse.HelpFormatter):
    """«användning:» instead of «usage:»."""

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        # argparse passes "" for the usage it puts in a subcommand's own `prog`.
        super().add_usage(usage, actions, groups, prefix=_("usage: ") if prefix is None else prefix)


class SwedishParser(argparse.ArgumentParser):
    """An ArgumentParser whose help, titles and errors are Swedish; subcommands inherit it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", SwedishHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = _("arguments")
        self._optionals.title = _("options")
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help=_("show this help")
        )

    def error(self, message: str) -> NoReturn:
        """The usage, then the problem in Swedish; exit 2 like any bad input."""
        self.print_usage(sys.stderr)
        label = _("error")
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {label}: {swedish_error(message)}\n")
