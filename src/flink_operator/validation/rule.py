"""`Rule`: one named check of the default validator, and running a list of them without ever raising.

A rule is a pure function from a subject (the resource with what it needs: its effective configuration, its
last reconciled spec, ...) to the problems it finds; it yields nothing when the subject is fine. Every rule
reports every violation it sees, and `run_rules` runs every rule, so one validation lists everything that is
wrong rather than the first thing.

A rule that raises is a bug in the rule, not in the resource: `run_rules` turns the exception into a problem
naming the rule, so a resource is never accepted unchecked and the caller never sees an exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from flink_operator.api import Problem

S = TypeVar("S")

Check = Callable[[S], Iterable[Problem]]


@dataclass(frozen=True)
class Rule(Generic[S]):
    """A named check. Calling it returns its problems as a list."""

    name: str
    """Stable kebab-case name, e.g. `job-parallelism`."""
    summary: str
    """What the rule requires, in one sentence."""
    check: Check[S]

    def __call__(self, subject: S) -> list[Problem]:
        return list(self.check(subject))


def rule(name: str, summary: str) -> Callable[[Check[S]], Rule[S]]:
    """Decorator turning a generator function into a `Rule`."""

    def wrap(check: Check[S]) -> Rule[S]:
        return Rule(name, summary, check)

    return wrap


def run_rules(rules: Sequence[Rule[S]], subject: S) -> list[Problem]:
    """The problems of all `rules` in order; a failing rule contributes one problem naming it."""
    problems: list[Problem] = []
    for each in rules:
        try:
            problems.extend(each(subject))
        except Exception as error:  # a broken rule must reject, never crash the caller
            problems.append(
                Problem("", f"internal error in validation rule {each.name}: {type(error).__name__}: {error}")
            )
    return problems


def got(value: object) -> str:
    """A value as it reads in a message: JSON-ish, strings quoted, long strings shortened."""
    if isinstance(value, str):
        shown = value if len(value) <= 80 else value[:77] + "..."
        return json.dumps(shown, ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return json.dumps(value.value)
    return str(value)
