"""The job-side snapshot planners: legacy observation, upgrade savepoints as resources, retention, and
manual/periodic triggers with resources enabled or disabled."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from flink_operator.api import (
    FlinkDeploymentStatus,
    FlinkJobState,
    FlinkStateSnapshotState,
    JobKind,
    Savepoint,
    SavepointFormatType,
    SnapshotTriggerType,
    write_spec_with_meta,
)
from flink_operator.config import CronSchedule, IntervalSchedule
from flink_operator.controllers.common.events import Reason
from flink_operator.controllers.snapshot.job_snapshots import (
    MIN_PERIODIC_REQUEUE_S,
    JobSnapshotInputs,
    LegacyTrigger,
    observe_job_snapshots,
    pollable_triggers,
    trigger_job_snapshots,
)
from flink_operator.controllers.snapshot.legacy import pending_trigger, reconciled_nonce, record_trigger
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.steps import Poll
from flink_operator.controllers.snapshot.summary import SnapshotSummary
from flink_operator.flink.service import SnapshotKind, SnapshotResult, SnapshotState

pytestmark = pytest.mark.unit

NOW = 1_717_243_200_000
HOUR = 3_600_000
SAVEPOINT = SnapshotKind.SAVEPOINT
CHECKPOINT = SnapshotKind.CHECKPOINT
EVERY_HOUR = IntervalSchedule(timedelta(hours=1))


def status(
    *, state: FlinkJobState | None = FlinkJobState.RUNNING, nonce: int | None = None
) -> FlinkDeploymentStatus:
    result = FlinkDeploymentStatus()
    job: dict[str, Any] = {"jarURI": "local:///j.jar", "state": "running"}
    if nonce is not None:
        job["savepointTriggerNonce"] = nonce
    result.reconciliation_status.last_reconciled_spec = write_spec_with_meta(
        {"job": job}, "flink.apache.org/v1beta1", False
    )
    result.job_status.job_id = "a" * 32
    result.job_status.state = state
    return result


def inputs(job_status: FlinkDeploymentStatus | None = None, **changes: Any) -> JobSnapshotInputs[Any]:
    base = JobSnapshotInputs(
        job_kind=JobKind.FLINK_DEPLOYMENT,
        namespace="default",
        name="demo",
        status=job_status or status(),
        settings=SnapshotSettings(progress_check_interval=5.0),
        now_ms=NOW,
        resources_enabled=True,
        savepoint_dir="file:/sp",
        last_periodic_ms={SAVEPOINT: NOW - HOUR // 2, CHECKPOINT: NOW - HOUR // 2},
    )
    return replace(base, **changes)


def snap(
    name: str,
    hours_ago: float,
    *,
    trigger: SnapshotTriggerType = SnapshotTriggerType.PERIODIC,
    state: FlinkStateSnapshotState = FlinkStateSnapshotState.COMPLETED,
    kind: SnapshotKind = SAVEPOINT,
    path: str | None = None,
) -> SnapshotSummary:
    return SnapshotSummary(
        name,
        "default",
        kind,
        trigger,
        state,
        int(NOW - hours_ago * HOUR),
        JobKind.FLINK_DEPLOYMENT,
        "demo",
        path or f"file:/sp/{name}",
    )


# --- observe ---------------------------------------------------------------------------------------------


def test_a_pending_legacy_trigger_is_polled_and_recorded() -> None:
    pending = record_trigger(status(nonce=1), SAVEPOINT, "t-1", SnapshotTriggerType.MANUAL, NOW - 1000)
    assert [kind for kind, _ in pollable_triggers(pending)] == [SAVEPOINT]
    running = observe_job_snapshots(
        inputs(pending, savepoint_nonce=2, polls={SAVEPOINT: Poll(SnapshotResult(SnapshotState.IN_PROGRESS))})
    )
    assert running.requeue == 5.0 and pending_trigger(running.status, SAVEPOINT) is not None
    assert SAVEPOINT not in running.hold
    done = observe_job_snapshots(
        inputs(
            pending, savepoint_nonce=2, polls={SAVEPOINT: Poll(SnapshotResult(SnapshotState.COMPLETED, "p"))}
        )
    )
    assert done.status.job_status.savepoint_info.last_savepoint is not None
    assert reconciled_nonce(done.status, SAVEPOINT) == 2 and SAVEPOINT in done.hold
    unpolled = observe_job_snapshots(inputs(pending))
    assert unpolled.requeue == 5.0 and pending_trigger(unpolled.status, SAVEPOINT) is not None


def test_a_pending_legacy_trigger_of_a_stopped_job_is_abandoned() -> None:
    pending = record_trigger(
        status(state=FlinkJobState.FAILED, nonce=1), SAVEPOINT, "t-1", SnapshotTriggerType.MANUAL, NOW
    )
    plan = observe_job_snapshots(inputs(pending, savepoint_nonce=2))
    assert pending_trigger(plan.status, SAVEPOINT) is None
    assert [e.reason for e in plan.events] == [Reason.SAVEPOINT_ERROR]


def test_the_upgrade_stop_marker_is_left_to_the_upgrade() -> None:
    marker = record_trigger(
        status(state=FlinkJobState.CANCELLING), SAVEPOINT, "a" * 32, SnapshotTriggerType.UPGRADE, NOW
    )
    assert pollable_triggers(marker) == []
    plan = observe_job_snapshots(inputs(marker))
    assert pending_trigger(plan.status, SAVEPOINT) is not None and plan.events == ()


def upgraded(location: str = "file:/sp/savepoint-up") -> FlinkDeploymentStatus:
    result = status()
    result.job_status.savepoint_info.update_last_savepoint(
        Savepoint(
            time_stamp=NOW - 1000,
            location=location,
            trigger_type=SnapshotTriggerType.UPGRADE,
            format_type=SavepointFormatType.NATIVE,
        )
    )
    return result


def test_upgrade_savepoints_become_snapshot_resources_then_leave_the_history() -> None:
    plan = observe_job_snapshots(inputs(upgraded(), settings=SnapshotSettings(dispose_on_delete=True)))
    (document,) = plan.create
    assert document["metadata"]["name"] == f"demo-savepoint-upgrade-{NOW - 1000}"
    assert document["metadata"]["labels"]["snapshot.trigger-type"] == "UPGRADE"
    assert document["spec"]["savepoint"] == {
        "path": "file:/sp/savepoint-up",
        "alreadyExists": True,
        "disposeOnDelete": True,
        "formatType": "NATIVE",
    }
    assert plan.prune == (), "a savepoint about to become a resource is never disposed as history"
    existing = snap(
        "demo-savepoint-upgrade-1", 0, trigger=SnapshotTriggerType.UPGRADE, path="file:/sp/savepoint-up"
    )
    mirrored = observe_job_snapshots(inputs(upgraded(), snapshots=(existing,)))
    assert mirrored.create == ()
    info = mirrored.status.job_status.savepoint_info
    assert info.savepoint_history == [] and info.last_savepoint is not None, (
        "lastSavepoint stays for restores"
    )


def test_without_resources_upgrade_savepoints_stay_legacy_history() -> None:
    plan = observe_job_snapshots(inputs(upgraded(), resources_enabled=False))
    assert plan.create == () and len(plan.status.job_status.savepoint_info.savepoint_history) == 1


def test_retention_deletes_resources_and_prunes_history_but_protects_referenced_paths() -> None:
    snapshots = tuple(snap(f"demo-savepoint-periodic-{i}", 10 - i) for i in range(4))
    settings = SnapshotSettings(history_max_count=2, history_max_age_ms=100 * HOUR)
    job_status = status()
    info = job_status.job_status.savepoint_info
    info.savepoint_history = [
        Savepoint(time_stamp=NOW - 5 * HOUR, location="file:/sp/legacy-old"),
        Savepoint(time_stamp=NOW - 4 * HOUR, location="file:/sp/demo-savepoint-periodic-3"),
    ]
    job_status.job_status.upgrade_savepoint_path = "file:/sp/demo-savepoint-periodic-1"
    plan = observe_job_snapshots(inputs(job_status, snapshots=snapshots, settings=settings))
    # periodic-1 is the restore point and stays; periodic-3 is the newest; two are left.
    assert plan.delete == ("demo-savepoint-periodic-0", "demo-savepoint-periodic-2")
    assert [p.savepoint.location for p in plan.prune] == ["file:/sp/legacy-old"]
    assert all(p.dispose for p in plan.prune)
    disabled = observe_job_snapshots(
        inputs(job_status, snapshots=snapshots, settings=replace(settings, cleanup_enabled=False))
    )
    assert disabled.delete == () and not any(p.dispose for p in disabled.prune)


# --- trigger ---------------------------------------------------------------------------------------------


def test_manual_nonce_creates_a_snapshot_resource_and_records_the_nonce() -> None:
    plan = trigger_job_snapshots(inputs(status(nonce=1), savepoint_nonce=2))
    (document,) = plan.create
    assert document["metadata"]["name"] == f"demo-savepoint-manual-{NOW}"
    assert document["spec"]["savepoint"]["path"] == "file:/sp"
    assert document["spec"]["jobReference"] == {"kind": "FlinkDeployment", "name": "demo"}
    assert reconciled_nonce(plan.status, SAVEPOINT) == 2 and plan.periodic == ()
    assert plan.legacy_trigger is None


def test_periodic_savepoints_and_checkpoints_when_due() -> None:
    settings = SnapshotSettings(periodic_savepoint=EVERY_HOUR, periodic_checkpoint=EVERY_HOUR)
    due = {SAVEPOINT: NOW - 2 * HOUR, CHECKPOINT: NOW - 2 * HOUR}
    plan = trigger_job_snapshots(inputs(settings=settings, last_periodic_ms=due))
    names = [d["metadata"]["name"] for d in plan.create]
    assert names == [f"demo-savepoint-periodic-{NOW}", f"demo-checkpoint-periodic-{NOW}"]
    assert plan.periodic == (SAVEPOINT, CHECKPOINT) and plan.status is not None
    not_yet = trigger_job_snapshots(inputs(settings=settings))
    assert not_yet.create == () and not_yet.periodic == ()
    unsupported = trigger_job_snapshots(
        inputs(settings=settings, last_periodic_ms=due, checkpoints_supported=False)
    )
    assert [d["metadata"]["name"].split("-")[1] for d in unsupported.create] == ["savepoint"]


def test_an_operator_snapshot_in_flight_holds_back_the_next_but_a_users_does_not() -> None:
    settings = SnapshotSettings(periodic_savepoint=EVERY_HOUR)
    due = {SAVEPOINT: NOW - 2 * HOUR}
    ours = snap("demo-savepoint-periodic-5", 0.1, state=FlinkStateSnapshotState.IN_PROGRESS)
    held = trigger_job_snapshots(inputs(settings=settings, last_periodic_ms=due, snapshots=(ours,)))
    assert held.create == ()
    theirs = snap(
        "my-own-savepoint", 0.1, trigger=SnapshotTriggerType.MANUAL, state=FlinkStateSnapshotState.IN_PROGRESS
    )
    free = trigger_job_snapshots(inputs(settings=settings, last_periodic_ms=due, snapshots=(theirs,)))
    assert len(free.create) == 1


def test_legacy_mode_triggers_once_per_reconcile_and_respects_holds() -> None:
    settings = SnapshotSettings(periodic_checkpoint=EVERY_HOUR, savepoint_format=SavepointFormatType.NATIVE)
    due = {SAVEPOINT: NOW, CHECKPOINT: NOW - 2 * HOUR}
    plan = trigger_job_snapshots(
        inputs(
            status(nonce=1),
            savepoint_nonce=2,
            settings=settings,
            last_periodic_ms=due,
            resources_enabled=False,
        )
    )
    assert plan.legacy_trigger == LegacyTrigger(
        SAVEPOINT, SnapshotTriggerType.MANUAL, "file:/sp", SavepointFormatType.NATIVE
    )
    assert plan.create == () and plan.periodic == ()
    assert reconciled_nonce(plan.status, SAVEPOINT) == 1, "legacy nonces are handled when the result is known"
    held = trigger_job_snapshots(
        inputs(
            status(nonce=1),
            savepoint_nonce=2,
            settings=settings,
            last_periodic_ms=due,
            resources_enabled=False,
            hold=frozenset({SAVEPOINT}),
        )
    )
    assert held.legacy_trigger == LegacyTrigger(
        CHECKPOINT, SnapshotTriggerType.PERIODIC, "file:/sp", SavepointFormatType.NATIVE
    )
    assert held.periodic == (CHECKPOINT,)
    pending = record_trigger(status(nonce=1), SAVEPOINT, "t", SnapshotTriggerType.MANUAL, NOW)
    blocked = trigger_job_snapshots(inputs(pending, savepoint_nonce=2, resources_enabled=False))
    assert blocked.legacy_trigger is None


def test_nothing_is_triggered_for_a_job_that_is_not_running() -> None:
    for state in (FlinkJobState.RECONCILING, FlinkJobState.FAILED, None):
        plan = trigger_job_snapshots(inputs(status(state=state, nonce=1), savepoint_nonce=2))
        assert plan.create == () and plan.legacy_trigger is None


def test_a_schedule_that_can_never_fire_is_reported_once() -> None:
    settings = SnapshotSettings(periodic_savepoint=CronSchedule("0 0 2 1 * MON"))
    plan = trigger_job_snapshots(inputs(settings=settings))
    (event,) = plan.events
    assert event.reason == Reason.VALIDATION_ERROR and event.once
    assert (
        "kubernetes.operator.periodic.savepoint.interval" in event.message
        and "both restricted" in event.message
    )
    assert (
        trigger_job_snapshots(inputs(settings=SnapshotSettings(periodic_savepoint=EVERY_HOUR))).events == ()
    )


def test_the_plan_says_when_the_next_periodic_snapshot_falls_due() -> None:
    settings = SnapshotSettings(
        periodic_savepoint=IntervalSchedule(timedelta(minutes=10)),
        periodic_checkpoint=EVERY_HOUR,
    )
    # Last savepoint 4 min ago, last checkpoint 30 min ago: the savepoint is due first, in 6 min.
    waiting = trigger_job_snapshots(
        inputs(settings=settings, last_periodic_ms={SAVEPOINT: NOW - 240_000, CHECKPOINT: NOW - HOUR // 2})
    )
    assert waiting.create == () and waiting.requeue == pytest.approx(360.001)
    # Triggered now: the next one is a whole interval away.
    triggered = trigger_job_snapshots(
        inputs(settings=settings, last_periodic_ms={SAVEPOINT: NOW - HOUR, CHECKPOINT: NOW - HOUR // 2})
    )
    assert triggered.periodic == (SAVEPOINT,) and triggered.requeue == pytest.approx(600.001)


def test_no_periodic_wake_up_for_kinds_in_flight_held_unsupported_or_unscheduled() -> None:
    settings = SnapshotSettings(periodic_savepoint=EVERY_HOUR, periodic_checkpoint=EVERY_HOUR)
    due = {SAVEPOINT: NOW - 2 * HOUR, CHECKPOINT: NOW - 2 * HOUR}
    ours = snap("demo-savepoint-periodic-5", 0.1, state=FlinkStateSnapshotState.IN_PROGRESS)
    plan = trigger_job_snapshots(
        inputs(settings=settings, last_periodic_ms=due, snapshots=(ours,), checkpoints_supported=False)
    )
    assert plan.create == () and plan.requeue is None, "no spinning on a due kind that cannot start"
    held = trigger_job_snapshots(
        inputs(settings=settings, last_periodic_ms=due, hold=frozenset({SAVEPOINT, CHECKPOINT}))
    )
    assert held.requeue is None
    assert trigger_job_snapshots(inputs()).requeue is None


def test_a_due_kind_left_for_the_next_legacy_reconcile_is_looked_at_soon_but_not_at_once() -> None:
    settings = SnapshotSettings(periodic_savepoint=EVERY_HOUR, periodic_checkpoint=EVERY_HOUR)
    due = {SAVEPOINT: NOW - 2 * HOUR, CHECKPOINT: NOW - 2 * HOUR}
    plan = trigger_job_snapshots(inputs(settings=settings, last_periodic_ms=due, resources_enabled=False))
    assert plan.legacy_trigger is not None and plan.legacy_trigger.kind is SAVEPOINT
    assert plan.requeue == MIN_PERIODIC_REQUEUE_S
