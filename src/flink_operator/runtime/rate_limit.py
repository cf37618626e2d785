"""Per-resource reconcile rate limiting (upstream's LinearRateLimiter): at most `limit` reconciles of one key
within a window of `period` seconds, the window starting at the key's first reconcile after the previous one
expired. A limit of 0 or less disables limiting.

Unlike upstream, a user-driven reconcile (`urgent`: a spec, label or annotation change, a deletion) is not
held back by periodic and follow-up reconciles that used up the window: it is admitted (and counted) until
the key reaches twice the limit, so a person's edit is served at once while a controller that keeps
rewriting its own resource is still capped.

The clock is passed in, so the limiter is deterministic in tests. It keeps one small record per key that was
reconciled within the last window; `forget` drops a key at once (e.g. when its resource is deleted).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from flink_operator.config import Configuration
from flink_operator.config.operator_options import RATE_LIMITER_LIMIT, RATE_LIMITER_REFRESH_PERIOD


@dataclass
class _Window:
    start: float
    count: int


class RateLimiter:
    def __init__(self, limit: int, period: float) -> None:
        if period <= 0 and limit > 0:
            raise ValueError(f"rate limiter refresh period must be > 0, got {period}")
        self.limit = limit
        self.period = period
        self._windows: dict[Hashable, _Window] = {}
        self._acquisitions = 0

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def acquire(self, key: Hashable, now: float, *, urgent: bool = False) -> float:
        """Count a reconcile of `key` at `now` and return 0, or return how long to wait if it is over its
        limit (then nothing is counted: the caller retries after the delay)."""
        if not self.enabled:
            return 0.0
        window = self._windows.get(key)
        if window is None or now - window.start >= self.period:
            self._windows[key] = _Window(now, 1)
            self._prune(now)
            return 0.0
        if window.count < (2 * self.limit if urgent else self.limit):
            window.count += 1
            return 0.0
        return window.start + self.period - now

    def forget(self, key: Hashable) -> None:
        self._windows.pop(key, None)

    def __len__(self) -> int:
        return len(self._windows)

    def _prune(self, now: float) -> None:
        # Amortised cleanup of expired windows, so that keys reconciled once long ago do not pile up.
        self._acquisitions += 1
        if self._acquisitions < max(1024, len(self._windows) // 2):
            return
        self._acquisitions = 0
        expired = [k for k, w in self._windows.items() if now - w.start >= self.period]
        for k in expired:
            del self._windows[k]

    @classmethod
    def from_configuration(cls, configuration: Configuration) -> RateLimiter:
        return cls(
            configuration.get(RATE_LIMITER_LIMIT),
            configuration.get(RATE_LIMITER_REFRESH_PERIOD).total_seconds(),
        )
