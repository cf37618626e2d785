"""When to retry a failed REST call, and how long to wait first (pure).

The rules follow what is safe rather than what is convenient:
* a failure to *connect* means nothing was sent, so any call may be retried;
* a timeout, a dropped connection or a 5xx after the request was sent is retried only for calls that are
  idempotent (GETs, PUT of resource requirements, cancel, DELETEs). A jar run or a savepoint trigger that
  may have reached Flink is never repeated behind the caller's back;
* 4xx answers are never retried: asking again will not change Flink's mind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

__all__ = ["FailureKind", "RetryPolicy"]

_RETRIABLE_STATUSES = frozenset({500, 502, 503, 504})


class FailureKind(Enum):
    CONNECT = "connect"  # no connection established: the request was not sent
    TRANSPORT = "transport"  # timeout or connection lost after sending (may have been processed)
    STATUS = "status"  # an HTTP error status was received


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` counts the first try; backoff grows by ``multiplier`` up to ``max_backoff`` seconds.

    ``jitter`` is a fraction of the delay added at random, so many clients do not retry in lockstep.
    """

    attempts: int = 3
    initial_backoff: float = 0.2
    max_backoff: float = 2.0
    multiplier: float = 2.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be >= 1, got {self.attempts}")
        if self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError("RetryPolicy backoffs must be >= 0")
        if self.multiplier < 1:
            raise ValueError(f"RetryPolicy.multiplier must be >= 1, got {self.multiplier}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"RetryPolicy.jitter must be within [0, 1], got {self.jitter}")

    @classmethod
    def none(cls) -> RetryPolicy:
        return cls(attempts=1)

    def is_retriable(self, kind: FailureKind, *, idempotent: bool, status: int | None = None) -> bool:
        if kind is FailureKind.CONNECT:
            return True
        if not idempotent:
            return False
        if kind is FailureKind.TRANSPORT:
            return True
        return status in _RETRIABLE_STATUSES

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, attempt - 1))
        if self.jitter and base:
            base += base * self.jitter * (rng or random).random()
        return base

    def next_delay(
        self,
        attempt: int,
        kind: FailureKind,
        *,
        idempotent: bool,
        status: int | None = None,
        rng: random.Random | None = None,
    ) -> float | None:
        """The wait before another attempt, or None when the failure must be raised to the caller."""
        if attempt >= self.attempts or not self.is_retriable(kind, idempotent=idempotent, status=status):
            return None
        return self.backoff(attempt, rng)
