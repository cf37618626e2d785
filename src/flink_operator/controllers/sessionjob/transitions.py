"""The world-changing steps of a session job: submit (first or restore), suspend (cancel / stop), record.

Invariants the tests check:

* every `SubmitJob` step's status is UPGRADING with the target stored as suspended, the request's job id in
  `jobStatus.jobId` (job state RECONCILING) and its restore path in `jobStatus.upgradeSavepointPath` — written
  before the submission, so a retry after a crash or a failure submits under the same id (the session does
  not start a job id twice) and the observer recognises a submission that happened;
* a new job id is drawn only for a new submission intent, never for a retry;
* a stop never loses the restore point: stop-with-savepoint is marked in the status first (after a crash
  the stop is repeated, which returns the savepoint of the stopped job), a cancel keeps the retained
  checkpoints and the latest one becomes the restore point.
"""

from __future__ import annotations

from collections.abc import Mapping

from flink_operator.api import (
    FlinkJobState,
    FlinkSessionJobSpec,
    FlinkSessionJobStatus,
    JobState,
    Savepoint,
    SavepointFormatType,
    SnapshotTriggerType,
    UpgradeMode,
)
from flink_operator.config.durations import parse_duration
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import status_updates
from flink_operator.controllers.common.errors import UPGRADE_FAILURE_TYPE, UpgradeFailureError, error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.common.upgrade import JobUpgrade, SuspendMode
from flink_operator.controllers.sessionjob.context import SessionJobContext
from flink_operator.controllers.sessionjob.finishing import failure_outcome, finish, requeue_for, wait_step
from flink_operator.controllers.sessionjob.requests import submit_request
from flink_operator.controllers.sessionjob.steps import CancelJob, Outcome, Step, SubmitJob
from flink_operator.flink import config_builder
from flink_operator.flink.service import CancelResult, SavepointFormat
from flink_operator.flink.service import SuspendMode as RuntimeSuspendMode


def upgrade_failed(
    ctx: SessionJobContext, status: FlinkSessionJobStatus, events: list[EventSpec], error: UpgradeFailureError
) -> Step:
    result = status.model_copy(deep=True)
    result.error = error_json(
        UPGRADE_FAILURE_TYPE, error.message, max_length=ctx.settings.exception_field_max_length
    )
    events = [*events, ev.warning(error.reason, Component.JOB, error.message)]
    return wait_step(
        ctx,
        result,
        events,
        note=f"upgrade failed: {error.message}",
        requeue=Requeue(ctx.settings.reconcile_interval),
    )


def submit(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    spec: FlinkSessionJobSpec,
    events: list[EventSpec],
    *,
    recorded_mode: UpgradeMode,
    restore_path: str | None,
    job_id: str,
    note: str,
) -> Step:
    """Intent (UPGRADING, target, job id, restore path) then SubmitJob; DEPLOYED afterwards."""
    generation = ctx.generation
    intent = status_updates.before_deployment_attempt(
        status, spec, generation=generation, now_ms=ctx.now_ms, upgrade_mode=recorded_mode
    )
    intent.job_status.job_id = job_id
    intent.job_status.state = FlinkJobState.RECONCILING
    intent.job_status.upgrade_savepoint_path = restore_path
    if intent.job_status.savepoint_info.trigger_type is SnapshotTriggerType.UPGRADE:
        intent.job_status.savepoint_info.reset_trigger()
    if _same_intent(status, intent):
        # A retry of the persisted intent: keep its error and timestamp so nothing flickers.
        intent.error = status.error
        intent.reconciliation_status.reconciliation_timestamp = (
            status.reconciliation_status.reconciliation_timestamp
        )
    intent = finish(intent)
    request = submit_request(
        spec,
        cluster=ctx.cluster,
        name=ctx.name,
        effective=ctx.effective,
        job_id=job_id,
        restore_path=restore_path,
    )
    events = [*events, ev.normal(Reason.SUBMIT, Component.JOB, ev.MSG_SUBMIT)]

    def on_success(_: object) -> Outcome:
        deployed = status_updates.for_deployed_spec(
            intent, spec, generation=generation, now_ms=ctx.now_ms, name=ctx.name, upgrade_mode=recorded_mode
        )
        deployed.job_status.state = FlinkJobState.RECONCILING
        deployed.job_status.start_time = None
        deployed.job_status.update_time = str(ctx.now_ms)
        final = finish(deployed)
        return Outcome(final, (), requeue_for(ctx, final))

    def on_failure(error: Exception) -> Outcome:
        return failure_outcome(ctx, intent, error)

    return Step(
        intent, tuple(events), SubmitJob(request), on_success=on_success, on_failure=on_failure, note=note
    )


def _same_intent(before: FlinkSessionJobStatus, intent: FlinkSessionJobStatus) -> bool:
    a, b = before.reconciliation_status, intent.reconciliation_status
    return (
        a.state is b.state
        and a.last_reconciled_spec == b.last_reconciled_spec
        and before.job_status.job_id == intent.job_status.job_id
        and before.observed_generation == intent.observed_generation
    )


STATS_CACHE_KEYS = ("rest.cache.checkpoint-statistics.timeout", "web.refresh-interval")
DEFAULT_STATS_CACHE_SECONDS = 3.0


def checkpoint_stats_ttl(effective: Mapping[str, str]) -> float:
    """How long Flink may answer checkpoint statistics from its cache (seconds)."""
    for key in STATS_CACHE_KEYS:
        text = effective.get(key)
        if text:
            try:
                return parse_duration(text).total_seconds()
            except ValueError:
                continue
    return DEFAULT_STATS_CACHE_SECONDS


def checkpoint_settle_wait(ctx: SessionJobContext, status: FlinkSessionJobStatus) -> float:
    """Seconds to wait before the latest checkpoint of a stopped job can be trusted as its restore point.

    Flink serves checkpoint statistics from a cache; read too soon after the job ended, they may name a
    checkpoint that a later one subsumed (and deleted). A read made one cache period after the end is
    final. A savepoint the job was stopped with needs no wait (its path comes from the savepoint itself).
    """
    job_status = status.job_status
    state = job_status.state
    if state is None or not state.is_globally_terminal:
        return 0.0
    last = job_status.savepoint_info.last_savepoint
    path = job_status.upgrade_savepoint_path
    if path is None or (last is not None and last.location == path):
        return 0.0
    ended = job_status.update_time
    if ended is None or not ended.isdigit():
        return 0.0
    remaining = checkpoint_stats_ttl(ctx.effective) - (ctx.now_ms - int(ended)) / 1000
    return max(remaining, 0.0)


def restore_path(status: FlinkSessionJobStatus, mode: UpgradeMode) -> str | None:
    """Where a restore in `mode` starts from: the recorded savepoint / retained checkpoint, or nothing."""
    if mode is UpgradeMode.STATELESS:
        return None
    last = status.job_status.savepoint_info.last_savepoint
    return status.job_status.upgrade_savepoint_path or (last.location if last is not None else None)


def restore(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    spec: FlinkSessionJobSpec,
    events: list[EventSpec],
    *,
    restore_mode: UpgradeMode,
    job_id: str,
    note: str,
) -> Step:
    """Submit the job again (contract §3.14 step 3). A session job has no HA metadata of its own: both
    stateful modes restore from the recorded path (stop-with-savepoint, or the retained checkpoint)."""
    return submit(
        ctx,
        status,
        spec,
        events,
        recorded_mode=restore_mode,
        restore_path=restore_path(status, restore_mode),
        job_id=job_id,
        note=note,
    )


def savepoint_format(ctx: SessionJobContext) -> SavepointFormat:
    try:
        return SavepointFormat(ctx.settings.savepoint_format)
    except ValueError:
        return SavepointFormat.CANONICAL


def _format_type(ctx: SessionJobContext) -> SavepointFormatType:
    if savepoint_format(ctx) is SavepointFormat.NATIVE:
        return SavepointFormatType.NATIVE
    return SavepointFormatType.CANONICAL


def stop_in_flight(status: FlinkSessionJobStatus) -> bool:
    """A stop-with-savepoint of the current job was started and its outcome was never recorded."""
    info = status.job_status.savepoint_info
    return (
        info.trigger_type is SnapshotTriggerType.UPGRADE
        and info.trigger_id is not None
        and info.trigger_id == status.job_status.job_id
    )


def record_stop(
    ctx: SessionJobContext, status: FlinkSessionJobStatus, result: object
) -> FlinkSessionJobStatus:
    """The status after the job was taken down: final job state and restore point."""
    out = status.model_copy(deep=True)
    job_status = out.job_status
    if isinstance(result, CancelResult):
        try:
            job_status.state = FlinkJobState(result.final_state)
        except ValueError:
            job_status.state = FlinkJobState.FINISHED
        job_status.update_time = str(ctx.now_ms)
        if result.savepoint_path:
            job_status.savepoint_info.update_last_savepoint(
                Savepoint(
                    time_stamp=ctx.now_ms,
                    location=result.savepoint_path,
                    trigger_type=SnapshotTriggerType.UPGRADE,
                    format_type=_format_type(ctx),
                )
            )
            job_status.upgrade_savepoint_path = result.savepoint_path
        elif result.checkpoint_path:
            job_status.upgrade_savepoint_path = result.checkpoint_path
    if job_status.savepoint_info.trigger_type is SnapshotTriggerType.UPGRADE:
        job_status.savepoint_info.reset_trigger()
    return out


def _cancel_action(ctx: SessionJobContext, mode: SuspendMode, job_id: str) -> CancelJob:
    if mode is SuspendMode.SAVEPOINT:
        return CancelJob(
            job_id,
            RuntimeSuspendMode.SAVEPOINT,
            savepoint_dir=config_builder.savepoint_dir(ctx.effective),
            savepoint_format=savepoint_format(ctx),
        )
    if mode is SuspendMode.STATELESS:
        return CancelJob(job_id, RuntimeSuspendMode.STATELESS)
    # CANCEL (and LAST_STATE, which a session job cannot do without a cluster of its own): cancel keeping
    # the retained checkpoints; the latest one is the restore point.
    return CancelJob(job_id, RuntimeSuspendMode.LAST_STATE)


def suspend(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    spec: FlinkSessionJobSpec,
    events: list[EventSpec],
    upgrade: JobUpgrade,
) -> Step:
    """Take the running job down as `upgrade` says; then record UPGRADING (to restore) or SUSPENDED."""
    assert upgrade.suspend_mode is not None and upgrade.restore_mode is not None
    restore_mode = upgrade.restore_mode
    desired_running = spec.job is not None and spec.job.state is JobState.RUNNING
    job_id = status.job_status.job_id
    if upgrade.suspend_mode is SuspendMode.NOOP or not job_id:
        current = status.model_copy(deep=True)
        if upgrade.restore_path is not None:
            current.job_status.upgrade_savepoint_path = upgrade.restore_path
        if desired_running:
            return restore(
                ctx,
                current,
                spec,
                events,
                restore_mode=restore_mode,
                job_id=ctx.new_job_id,
                note="job already stopped: submit again",
            )
        return record_suspended(
            ctx, current, spec, events, upgrade_mode=restore_mode, note="job already stopped"
        )
    action = _cancel_action(ctx, upgrade.suspend_mode, job_id)
    replay = stop_in_flight(status)
    if not replay:
        events = [*events, ev.normal(Reason.SUSPENDED, Component.JOB, ev.MSG_SUSPENDED)]
    intent = status
    if action.mode is RuntimeSuspendMode.SAVEPOINT and not replay:
        intent = status.model_copy(deep=True)
        intent.job_status.savepoint_info.set_trigger(
            job_id, SnapshotTriggerType.UPGRADE, _format_type(ctx), ctx.now_ms
        )
    intent = finish(intent)

    def on_success(result: object) -> Outcome:
        if replay and isinstance(result, CancelResult) and not result.savepoint_path:
            started = intent.job_status.savepoint_info.trigger_timestamp or ctx.now_ms
            if ctx.now_ms - started < ctx.settings.savepoint_trigger_grace_period * 1000:
                # Flink may not show the savepoint yet: ask again rather than restore from older state.
                return Outcome(intent, (), Requeue(ctx.settings.progress_check_interval))
        stopped = record_stop(ctx, intent, result)
        if upgrade.suspend_mode is SuspendMode.STATELESS:
            stopped.job_status.upgrade_savepoint_path = None
        if desired_running and action.mode is RuntimeSuspendMode.LAST_STATE:
            # The restore point is the latest retained checkpoint, which is only final one statistics
            # cache period after the job ended: record the stop, read it again then, and restore.
            out = status_updates.mark_reconciled_suspended(stopped)
            return Outcome(finish(out), (), Requeue(max(checkpoint_settle_wait(ctx, out), 0.0)))
        if desired_running:
            out = status_updates.before_deployment_attempt(
                stopped, spec, generation=ctx.generation, now_ms=ctx.now_ms, upgrade_mode=restore_mode
            )
            out.job_status.job_id = ctx.new_job_id
            out.job_status.state = FlinkJobState.RECONCILING
            return Outcome(finish(out), (), Requeue.now())
        out = status_updates.for_deployed_spec(
            stopped,
            spec,
            generation=ctx.generation,
            now_ms=ctx.now_ms,
            name=ctx.name,
            upgrade_mode=restore_mode,
        )
        final = finish(out)
        return Outcome(final, (), requeue_for(ctx, final))

    def on_failure(error: Exception) -> Outcome:
        if action.mode is RuntimeSuspendMode.SAVEPOINT:
            cleared = intent.model_copy(deep=True)
            cleared.job_status.savepoint_info.reset_trigger()
            return failure_outcome(ctx, cleared, error, reason=Reason.SAVEPOINT_ERROR)
        return failure_outcome(ctx, intent, error)

    return Step(
        intent,
        tuple(events),
        action,
        on_success=on_success,
        on_failure=on_failure,
        note=f"suspend ({upgrade.suspend_mode}) for restore mode {restore_mode}",
    )


def record_suspended(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    spec: FlinkSessionJobSpec,
    events: list[EventSpec],
    *,
    upgrade_mode: UpgradeMode | None,
    note: str,
) -> Step:
    """The desired spec is suspended and the job is down: store it (stable)."""
    out = status_updates.for_deployed_spec(
        status, spec, generation=ctx.generation, now_ms=ctx.now_ms, name=ctx.name, upgrade_mode=upgrade_mode
    )
    return wait_step(ctx, out, events, note=note)
