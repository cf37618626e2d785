"""Fault injection for reliability tests: failing, slowed or dropped requests matched by method and path.

A rule matches a request when its method (or `*`) and its path regular expression (searched in the
request path) match; it then applies to at most `times` requests (None: until removed). Failures
answer a real-looking `Status` body with the given code. Watches are cut and history compacted
through the server object, not here.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from .errors import REASONS, ApiError


@dataclass
class FaultRule:
    method: str
    path: str
    status: int = 0  # 0: no failure (latency only)
    times: int | None = 1
    delay: float = 0.0
    message: str = ""
    reason: str = ""
    drop: bool = False  # close the connection without answering
    hits: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)
        self.method = self.method.upper()

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return self.method in ("*", method.upper()) and self._pattern.search(path) is not None

    def error(self) -> ApiError:
        reason = self.reason or REASONS.get(self.status, "InternalError")
        return ApiError(self.status, reason, self.message or f"injected fault: {self.status} {reason}", {})

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


class Faults:
    """The active fault rules (thread-safe: tests may add rules from another thread)."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def fail_next(
        self, method: str, path: str, status: int, times: int = 1, message: str = "", reason: str = ""
    ) -> FaultRule:
        """Make the next `times` requests matching `method` and the `path` regex fail with `status`."""
        return self.add(FaultRule(method, path, status=status, times=times, message=message, reason=reason))

    def add_latency(
        self, seconds: float, method: str = "*", path: str = "", times: int | None = None
    ) -> FaultRule:
        """Delay matching requests by `seconds` before they are handled."""
        return self.add(FaultRule(method, path, delay=seconds, times=times))

    def drop_next(self, method: str, path: str, times: int = 1) -> FaultRule:
        """Close the connection of the next matching requests without an answer."""
        return self.add(FaultRule(method, path, drop=True, times=times))

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str) -> list[FaultRule]:
        """The rules that apply to this request (their hit counts are consumed)."""
        with self._lock:
            hits = [r for r in self._rules if r.matches(method, path)]
            for rule in hits:
                rule.hits += 1
            self._rules = [r for r in self._rules if not r.exhausted]
        return hits

    def active(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)
