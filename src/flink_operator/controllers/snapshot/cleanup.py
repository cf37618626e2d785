"""Deleting a FlinkStateSnapshot (contract §3.20), as a pure function: `decide_cleanup(ctx) -> Step`.

* Checkpoints, savepoints with `disposeOnDelete: false` and snapshots without a job reference are released
  at once (their data is never touched), as are snapshots that never completed (TRIGGER_PENDING, FAILED,
  ABANDONED): there is nothing to dispose.
* A COMPLETED savepoint with `disposeOnDelete` and a path is disposed through the FlinkService (via its
  job's cluster when that is known, else directly in the storage where the runtime can), then released.
  A failed disposal emits `CleanupFailed` (component Snapshot) and is retried with backoff.
* An IN_PROGRESS snapshot is still observed: once it completes it is disposed, if it fails or is abandoned
  it is released (upstream only waits, and since nothing observes it any more, waits forever).

Never wedged (ours; upstream retries for ever): the deletion gives up waiting or disposing once
`kubernetes.operator.resource.cleanup.timeout` (5 min) has passed since `metadata.deletionTimestamp`
(persisted by Kubernetes, so an operator restart does not reset it). The resource is then released with a
`CleanupFailed` warning naming the savepoint path that was left in place, for manual removal.
"""

from __future__ import annotations

from flink_operator.api import FlinkStateSnapshotState, FlinkStateSnapshotStatus
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.events import Component, Reason
from flink_operator.controllers.snapshot.state_machine import copy_status, in_progress, retry_delay
from flink_operator.controllers.snapshot.steps import (
    DisposeSavepoint,
    Outcome,
    SnapshotContext,
    Step,
    release,
    wait,
)
from flink_operator.controllers.snapshot.timestamps import from_k8s_time


def _gave_up(ctx: SnapshotContext, path: str, doing: str) -> ev.EventSpec:
    seconds = ctx.settings.cleanup_timeout_ms // 1000
    return ev.warning(
        Reason.CLEANUP_FAILED,
        Component.SNAPSHOT,
        f"Gave up {doing} savepoint {path} of {ctx.name} {seconds} s after its deletion started "
        "(kubernetes.operator.resource.cleanup.timeout); the savepoint data was left in place and may be "
        "removed by hand",
    )


def decide_cleanup(ctx: SnapshotContext) -> Step:
    snapshot = ctx.snapshot
    status = copy_status(snapshot.status)
    savepoint = snapshot.spec.savepoint
    if savepoint is None:
        return release(status, "checkpoint: nothing to dispose")
    if not savepoint.dispose_on_delete:
        return release(status, "disposeOnDelete is false")
    if snapshot.spec.job_reference is None:
        return release(status, "no job reference: nothing is disposed")
    started = from_k8s_time(snapshot.metadata.deletion_timestamp) or ctx.now_ms
    overdue = ctx.now_ms - started > ctx.settings.cleanup_timeout_ms
    if status.state is FlinkStateSnapshotState.IN_PROGRESS:
        return _in_progress(ctx, status, overdue)
    if status.state is not FlinkStateSnapshotState.COMPLETED:
        return release(status, f"{status.state.value}: nothing to dispose")
    path = status.path
    if not path:
        return release(status, "completed without a path: nothing to dispose")
    if overdue:
        return release(status, "disposal overdue", _gave_up(ctx, path, "disposing"))
    target = ctx.target
    cluster = target.cluster if target is not None and target.found else None
    action = DisposeSavepoint(cluster, path)
    attempt = ctx.dispose_attempts + 1

    def on_success(_: object) -> Outcome:
        return Outcome(status, (), None, remove_finalizer=True)

    def on_failure(error: Exception) -> Outcome:
        delay = retry_delay(attempt, ctx.settings.retry_base_s)
        message = (
            f"Disposing savepoint {path} of {ctx.name} failed: {str(error) or type(error).__name__} "
            f"(attempt {attempt}; retrying in {delay:g} s)"
        )
        event = ev.warning(
            Reason.CLEANUP_FAILED, Component.SNAPSHOT, message, message_key=f"DisposeFailed-{ctx.name}"
        )
        return Outcome(status, (event,), delay)

    return Step(status, (), action, on_success=on_success, on_failure=on_failure, note="dispose")


def _in_progress(ctx: SnapshotContext, status: FlinkStateSnapshotStatus, overdue: bool) -> Step:
    observed = in_progress(ctx, status)
    state = observed.status.state
    if state is FlinkStateSnapshotState.COMPLETED:
        # Recorded first; the next reconcile (at once) disposes it.
        return Step(observed.status, observed.events, None, 0.0, note="completed while deleting")
    if state is not FlinkStateSnapshotState.IN_PROGRESS:
        return release(observed.status, "did not complete: nothing to dispose")
    if overdue:
        return release(
            status,
            "still in progress when the cleanup timeout passed",
            _gave_up(ctx, status.trigger_id or "(in progress)", "waiting for"),
        )
    return wait(status, ctx.settings.progress_check_interval, "waiting for the snapshot to finish")
