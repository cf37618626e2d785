"""Trigger decisions: manual nonces, periodic intervals and cron schedules, the in-flight guard, and the last
trigger time across restarts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from flink_operator.api import FlinkStateSnapshotState, SnapshotTriggerType
from flink_operator.config import CronSchedule, IntervalSchedule
from flink_operator.controllers.snapshot.summary import SnapshotSummary
from flink_operator.controllers.snapshot.timestamps import from_k8s_time
from flink_operator.controllers.snapshot.triggers import (
    TriggerRequest,
    TriggerTimestamps,
    is_due,
    next_due_ms,
    recovered_last_trigger_ms,
    schedule_error,
    should_trigger,
)
from flink_operator.flink.service import SnapshotKind

pytestmark = pytest.mark.unit

MIDNIGHT = from_k8s_time("2024-06-01T00:00:00Z") or 0
MINUTE = 60_000
EVERY_HOUR = IntervalSchedule(timedelta(hours=1))
MANUAL = SnapshotTriggerType.MANUAL
PERIODIC = SnapshotTriggerType.PERIODIC


def request(**changes: object) -> TriggerRequest:
    base = TriggerRequest(
        kind=SnapshotKind.SAVEPOINT,
        job_running=True,
        in_flight=False,
        nonce=None,
        reconciled_nonce=None,
        schedule=None,
        last_periodic_ms=MIDNIGHT,
        now_ms=MIDNIGHT + MINUTE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("nonce", "reconciled", "expected"),
    [(None, None, None), (None, 3, None), (1, None, MANUAL), (4, 3, MANUAL), (3, 3, None), (2, 3, MANUAL)],
)
def test_manual_trigger_when_the_nonce_differs_from_the_reconciled_one(
    nonce: int | None, reconciled: int | None, expected: SnapshotTriggerType | None
) -> None:
    assert should_trigger(request(nonce=nonce, reconciled_nonce=reconciled)) is expected


def test_interval_schedule_is_due_strictly_after_the_interval() -> None:
    assert not is_due(EVERY_HOUR, MIDNIGHT, MIDNIGHT + 60 * MINUTE)
    assert is_due(EVERY_HOUR, MIDNIGHT, MIDNIGHT + 60 * MINUTE + 1)
    assert should_trigger(request(schedule=EVERY_HOUR, now_ms=MIDNIGHT + 61 * MINUTE)) is PERIODIC
    assert should_trigger(request(schedule=EVERY_HOUR, now_ms=MIDNIGHT + 59 * MINUTE)) is None
    assert next_due_ms(EVERY_HOUR, MIDNIGHT) == MIDNIGHT + 60 * MINUTE + 1


def test_cron_schedule_is_due_once_its_next_fire_time_after_the_last_trigger_passed() -> None:
    nightly = CronSchedule("0 0 2 * * ?")
    assert not is_due(nightly, MIDNIGHT, MIDNIGHT + 119 * MINUTE)
    assert not is_due(nightly, MIDNIGHT, MIDNIGHT + 120 * MINUTE)
    assert is_due(nightly, MIDNIGHT, MIDNIGHT + 120 * MINUTE + 1)
    assert not is_due(nightly, MIDNIGHT + 121 * MINUTE, MIDNIGHT + 180 * MINUTE)  # already took today's
    assert next_due_ms(nightly, MIDNIGHT) == MIDNIGHT + 120 * MINUTE + 1


def test_no_schedule_and_bad_cron_are_never_due() -> None:
    assert not is_due(None, 0, MIDNIGHT)
    bad = CronSchedule("0 0 2 1 * MON")
    assert not is_due(bad, 0, MIDNIGHT) and next_due_ms(bad, 0) is None
    assert "both restricted" in (schedule_error(bad) or "")
    assert schedule_error(EVERY_HOUR) is None and schedule_error(CronSchedule("0 0 2 * * ?")) is None


def test_manual_wins_over_periodic() -> None:
    both = request(nonce=1, schedule=EVERY_HOUR, now_ms=MIDNIGHT + 61 * MINUTE)
    assert should_trigger(both) is MANUAL


@pytest.mark.parametrize(
    "blocker",
    [{"job_running": False}, {"in_flight": True}, {"supported": False}],
    ids=["job not running", "snapshot in flight", "unsupported"],
)
def test_nothing_is_triggered_while_blocked_and_the_manual_nonce_stays_pending(
    blocker: dict[str, bool],
) -> None:
    blocked = request(
        nonce=2, reconciled_nonce=1, schedule=EVERY_HOUR, now_ms=MIDNIGHT + 120 * MINUTE, **blocker
    )
    assert should_trigger(blocked) is None
    assert blocked.manual_pending


def summary(
    name: str,
    created_ms: int,
    trigger: SnapshotTriggerType,
    *,
    kind: SnapshotKind = SnapshotKind.SAVEPOINT,
    state: FlinkStateSnapshotState = FlinkStateSnapshotState.COMPLETED,
) -> SnapshotSummary:
    return SnapshotSummary(name, "default", kind, trigger, state, created_ms)


def test_the_last_trigger_time_after_a_restart() -> None:
    snapshots = [
        summary("p-old", MIDNIGHT - 120 * MINUTE, PERIODIC),
        summary("p-failed", MIDNIGHT - 60 * MINUTE, PERIODIC, state=FlinkStateSnapshotState.FAILED),
        summary("manual", MIDNIGHT, MANUAL),
        summary("checkpoint", MIDNIGHT, PERIODIC, kind=SnapshotKind.CHECKPOINT),
    ]
    legacy, created = MIDNIGHT - 500 * MINUTE, MIDNIGHT - 1000 * MINUTE
    # The newest periodic snapshot of the kind, whatever its outcome (a failed one was still a trigger).
    assert (
        recovered_last_trigger_ms(SnapshotKind.SAVEPOINT, snapshots, legacy, created)
        == MIDNIGHT - 60 * MINUTE
    )
    assert recovered_last_trigger_ms(SnapshotKind.CHECKPOINT, snapshots, legacy, created) == MIDNIGHT
    # Without periodic snapshots: the later of the legacy timestamp and the resource's creation.
    assert recovered_last_trigger_ms(SnapshotKind.SAVEPOINT, [], legacy, created) == legacy
    assert recovered_last_trigger_ms(SnapshotKind.SAVEPOINT, [], 0, created) == created


def test_trigger_timestamps_remember_per_uid_and_kind_and_recover_once() -> None:
    store = TriggerTimestamps()
    recoveries: list[int] = []

    def recover() -> int:
        recoveries.append(1)
        return 5

    assert store.last("u1", SnapshotKind.SAVEPOINT, recover) == 5
    store.record("u1", SnapshotKind.SAVEPOINT, 9)
    assert store.last("u1", SnapshotKind.SAVEPOINT, recover) == 9
    assert store.last("u1", SnapshotKind.CHECKPOINT, lambda: 7) == 7
    assert len(recoveries) == 1 and len(store) == 2
    store.forget("u1")
    assert len(store) == 0
