"""Retry delays for failed reconciles (upstream's GenericRetry), as a pure function of the attempt number.

Delay of retry n (1-based) = initial * multiplier^(n-1), capped at the optional maximum, then spread by
+-jitter so that resources that failed together (e.g. the API server was down) do not retry in lock-step.
After `max_attempts` retries the policy says stop (`None`); what happens then is the caller's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from flink_operator.config import Configuration
from flink_operator.config.operator_options import (
    RETRY_INITIAL_INTERVAL,
    RETRY_INTERVAL_MULTIPLIER,
    RETRY_MAX_ATTEMPTS,
    RETRY_MAX_INTERVAL,
)


@dataclass(frozen=True)
class RetryPolicy:
    initial_interval: float = 5.0
    multiplier: float = 1.5
    max_attempts: int = 15
    max_interval: float | None = None
    jitter: float = 0.1
    """Relative spread: 0.1 means each delay lies in [0.9, 1.1] x the nominal one."""

    def __post_init__(self) -> None:
        if self.initial_interval < 0:
            raise ValueError(f"retry initial interval must be >= 0, got {self.initial_interval}")
        if self.multiplier < 1:
            raise ValueError(f"retry multiplier must be >= 1, got {self.multiplier}")
        if self.max_interval is not None and self.max_interval < 0:
            raise ValueError(f"retry max interval must be >= 0, got {self.max_interval}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"retry jitter must be in [0, 1), got {self.jitter}")

    def nominal_delay(self, attempt: int) -> float:
        """The un-jittered delay before retry `attempt` (1-based), capped at `max_interval`."""
        if attempt < 1:
            raise ValueError(f"retry attempts count from 1, got {attempt}")
        # Cap the exponent so that huge attempt numbers cannot overflow a float.
        delay = self.initial_interval * self.multiplier ** min(attempt - 1, 200)
        if self.max_interval is not None:
            delay = min(delay, self.max_interval)
        return delay

    def delay(self, attempt: int, rand: float = 0.5) -> float | None:
        """Seconds to wait before retry `attempt`, or None when retries are exhausted.

        `rand` in [0, 1) picks the point within the jitter band (0.5 = nominal)."""
        if attempt > self.max_attempts:
            return None
        delay = self.nominal_delay(attempt) * (1 + self.jitter * (2 * rand - 1))
        if self.max_interval is not None:
            delay = min(delay, self.max_interval)
        return max(delay, 0.0)

    @classmethod
    def from_configuration(cls, configuration: Configuration) -> RetryPolicy:
        max_interval = configuration.get(RETRY_MAX_INTERVAL)
        return cls(
            initial_interval=configuration.get(RETRY_INITIAL_INTERVAL).total_seconds(),
            multiplier=configuration.get(RETRY_INTERVAL_MULTIPLIER),
            max_attempts=configuration.get(RETRY_MAX_ATTEMPTS),
            max_interval=None if max_interval is None else max_interval.total_seconds(),
        )
