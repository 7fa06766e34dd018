"""Domain errors: a stable code and an English message id, translated once at the edge."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from models.i18n import N_, translate

T = TypeVar("T")


class Term(str):
    """A parameter that is itself a message id (a status's name, a role): it is translated
    with the message, so the reader sees «skickat», not «shipped»."""


class Terms(tuple[str, ...]):
    """Several terms, each translated, listed with commas."""


def _localized(value: Any, locale: str) -> Any:
    if isinstance(value, Term):
        return translate(value, locale)
    if isinstance(value, Terms):
        return ", ".join(translate(term, locale) for term in value)
    return value


def localized(message_id: str, params: Mapping[str, Any], locale: str) -> str:
    """The message with its parameters in the reader's language."""
    values = {name: _localized(value, locale) for name, value in params.items()}
    return translate(message_id, locale).format(**values)


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "domain_error"

    def __init__(self, message_id: str, **params: Any) -> None:
        self.message_id = message_id
        self.params = params
        super().__init__(message_id.format(**params))

    def translated(self, locale: str = "sv") -> str:
        """The message in the user's language."""
        return localized(self.message_id, self.params, locale)


class InvalidInput(DomainError):
    """A value that breaks a rule; `field` names what was wrong."""

    code = "invalid_input"

    def __init__(self, field: str, message_id: str, **params: Any) -> None:
        self.field = field
        super().__init__(message_id, field=field, **params)


class NotFound(DomainError):
    """The thing asked for does not exist (or is not the asker's to see)."""

    code = "not_found"


class Forbidden(DomainError):
    """The actor may not do this."""

    code = "forbidden"


class IllegalTransition(DomainError):
    """A state change that the state machine does not allow for this role."""

    code = "illegal_transition"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in an input file: where, which field, and what."""

    line: int
    field: str
    message_id: str
    params: tuple[tuple[str, Any], ...] = ()

    def translated(self, locale: str = "sv") -> str:
        """The message in the reader's language."""
        return localized(self.message_id, dict(self.params), locale)

    @classmethod
    def from_error(cls, line: int, error: InvalidInput) -> Problem:
        """The problem an InvalidInput describes, placed on a line."""
        params = tuple((k, v) for k, v in error.params.items() if k != "field")
        return cls(line, error.field, error.message_id, params)


class InputRejected(DomainError):
    """A whole input refused, with every problem found; nothing was written."""

    code = "input_rejected"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(N_("The input has {count} problem(s)."), count=len(problems))


class ProblemCollector:
    """Gathers problems so that a file is reported whole, not one error at a time."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, line: int, field: str, message_id: str, **params: Any) -> None:
        """Record a problem."""
        self.problems.append(Problem(line, field, message_id, tuple(params.items())))

    def check(self, line: int, parse: Callable[[], T]) -> T | None:
        """Run one field's parser; on InvalidInput record it and return None."""
        try:
            return parse()
        except InvalidInput as error:
            self.problems.append(Problem.from_error(line, error))
            return None

    def raise_if_any(self) -> None:
        """Refuse the input when anything was wrong."""
        if self.problems:
            raise InputRejected(sorted(self.problems, key=lambda p: (p.line, p.field)))
