"""Retry delays (GenericRetry semantics) and the per-resource rate limiter."""

from __future__ import annotations

import pytest

from flink_operator.config import Configuration
from flink_operator.runtime import RateLimiter, RetryPolicy

pytestmark = pytest.mark.unit


def test_retry_delays_grow_geometrically_and_stop_after_max_attempts() -> None:
    policy = RetryPolicy(initial_interval=5, multiplier=1.5, max_attempts=15, jitter=0.0)
    delays = [policy.delay(n) for n in range(1, 17)]
    assert delays[:3] == [5.0, 7.5, 11.25]
    assert delays[14] == pytest.approx(5 * 1.5**14)
    assert delays[15] is None


def test_retry_delay_is_capped_by_max_interval_even_with_jitter() -> None:
    policy = RetryPolicy(initial_interval=1, multiplier=2, max_attempts=10, max_interval=10, jitter=0.2)
    assert policy.nominal_delay(6) == 10
    assert policy.delay(6, rand=0.999) == 10
    assert policy.delay(6, rand=0.0) == pytest.approx(8.0)


def test_retry_jitter_spreads_around_the_nominal_delay() -> None:
    policy = RetryPolicy(initial_interval=10, multiplier=1, jitter=0.1)
    assert policy.delay(1, rand=0.0) == pytest.approx(9.0)
    assert policy.delay(1, rand=0.5) == pytest.approx(10.0)
    assert policy.delay(1, rand=0.9999) == pytest.approx(11.0, rel=1e-3)


def test_retry_policy_reads_the_operator_options() -> None:
    policy = RetryPolicy.from_configuration(
        Configuration(
            {
                "kubernetes.operator.retry.initial.interval": "2 s",
                "kubernetes.operator.retry.interval.multiplier": "3",
                "kubernetes.operator.retry.max.attempts": "4",
                "kubernetes.operator.retry.max.interval": "1 min",
            }
        )
    )
    assert (policy.initial_interval, policy.multiplier, policy.max_attempts, policy.max_interval) == (
        2.0, 3.0, 4, 60.0,
    )
    defaults = RetryPolicy.from_configuration(Configuration({}))
    assert (defaults.initial_interval, defaults.multiplier, defaults.max_attempts, defaults.max_interval) == (
        5.0, 1.5, 15, None,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_interval": -1}, "initial interval"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"jitter": 1.5}, "jitter"),
    ],
)
def test_retry_policy_rejects_bad_values(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_rate_limiter_allows_limit_per_window_then_says_how_long_to_wait() -> None:
    limiter = RateLimiter(limit=3, period=15.0)
    assert [limiter.acquire("a", t) for t in (0.0, 1.0, 2.0)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a", 3.0) == pytest.approx(12.0)
    assert limiter.acquire("b", 3.0) == 0.0  # per key
    assert limiter.acquire("a", 15.0) == 0.0  # a new window


def test_user_driven_reconciles_get_twice_the_allowance_and_are_counted() -> None:
    limiter = RateLimiter(limit=2, period=10.0)
    assert [limiter.acquire("k", t) for t in (0.0, 1.0)] == [0.0, 0.0]
    assert limiter.acquire("k", 2.0) == pytest.approx(8.0)  # periodic work waits
    assert [limiter.acquire("k", t, urgent=True) for t in (2.0, 3.0)] == [0.0, 0.0]  # a user's edits do not
    assert limiter.acquire("k", 4.0, urgent=True) == pytest.approx(6.0)  # a self-triggering loop is capped
    assert limiter.acquire("k", 4.0) == pytest.approx(6.0)


def test_rate_limiter_disabled_by_non_positive_limit_and_forgets_keys() -> None:
    off = RateLimiter(limit=0, period=15.0)
    assert all(off.acquire("a", float(t)) == 0.0 for t in range(100))
    limiter = RateLimiter(limit=1, period=10.0)
    limiter.acquire("a", 0.0)
    assert limiter.acquire("a", 1.0) > 0
    limiter.forget("a")
    assert limiter.acquire("a", 1.0) == 0.0


def test_rate_limiter_prunes_expired_windows() -> None:
    limiter = RateLimiter(limit=5, period=1.0)
    for i in range(3000):
        limiter.acquire(i, float(i))
    assert len(limiter) < 1100


def test_rate_limiter_from_configuration_defaults_to_five_per_fifteen_seconds() -> None:
    limiter = RateLimiter.from_configuration(Configuration({}))
    assert (limiter.limit, limiter.period) == (5, 15.0)
