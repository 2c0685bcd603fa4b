"""Errors the engine reports to people: every problem carries a location and a plain message.

Analysts fix YAML by location, services fix inputs by fact name; so errors are lists of
problems, reported all at once, never a bare traceback.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Location:
    path: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    location: Location | None
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' suffix for a misspelled name, or ''."""
    name = str(name)
    pool = [str(c) for c in candidates]
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        # dotted names: compare the last segment, which is where typos usually are
        tails = {c.rsplit(".", 1)[-1]: c for c in pool}
        tail = difflib.get_close_matches(name.rsplit(".", 1)[-1], list(tails), n=1, cutoff=0.75)
        close = [tails[tail[0]]] if tail else []
    return f" (did you mean '{close[0]}'?)" if close else ""


class PolicyEngineError(Exception):
    """Base of every error this package raises on purpose."""


class PolicyError(PolicyEngineError):
    """The policy files are wrong: every problem found, each with file:line:col."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(PolicyEngineError):
    """The facts given to evaluate() are wrong: each problem names the fact."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NotInForceError(PolicyEngineError):
    """Evaluation was asked for a date on which an instrument (or clause) is not in force."""

    def __init__(self, message: str, instrument: str | None = None):
        self.instrument = instrument
        super().__init__(message)


class UnknownDecisionError(InputError):
    """The decision id names no rule."""


class EvaluationError(PolicyEngineError):
    """What cannot be computed (a division by zero, a number or date out of range, too
    much work), with where in the policy it is written."""


class BudgetExceeded(EvaluationError):
    """The evaluation took more steps than limits.MAX_STEPS allows."""
