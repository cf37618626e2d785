"""Value constraints for options: small predicates that return what was expected when a value is not allowed.

A constraint runs after parsing (and on defaults, in the tests), so a configuration that would make the
operator misbehave at runtime (`reconcile.parallelism: 0`, a zero check interval, port 70000) is rejected
when it is loaded, with the key named. Cross-option rules and the autoscaler's ranges belong to the validator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class Constraint:
    """`constraint(value)` is None when the value is allowed, else `expected` (what would have been)."""

    expected: str
    allows: Callable[[Any], bool]

    def __call__(self, value: Any) -> str | None:
        return None if self.allows(value) else self.expected


def at_least(minimum: float) -> Constraint:
    return Constraint(f"a value of at least {minimum}", lambda value: value >= minimum)


def between(minimum: float, maximum: float) -> Constraint:
    return Constraint(f"a value from {minimum} to {maximum}", lambda value: minimum <= value <= maximum)


def unbounded_or_at_least(unbounded: int, minimum: int) -> Constraint:
    """E.g. `reconcile.parallelism`: -1 (no bound) or a positive number."""
    return Constraint(
        f"{unbounded} (no bound) or a value of at least {minimum}",
        lambda value: value == unbounded or value >= minimum,
    )


positive_duration = Constraint(
    "a duration greater than zero", lambda value: isinstance(value, timedelta) and value > timedelta(0)
)
non_empty = Constraint("a non-empty value", lambda value: bool(str(value).strip()))
PORT = between(1, 65535)
