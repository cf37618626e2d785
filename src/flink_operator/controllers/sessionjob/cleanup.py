"""Deleting a FlinkSessionJob (contract §3.20, bounded as `deletion` describes), as a step.

`Cleanup` event and lifecycle DELETING first; then `deletion.session_job_cleanup` decides: release at once,
wait (bounded), cancel the job (stop-with-savepoint with `job.savepoint-on-deletion`, else cancel), or
release without cancelling after the timeout with a Warning `CleanupFailed` that says why. A failed
cancellation is recorded in `status.error` (so a restarted operator still knows it failed) and retried until
the timeout; a failed stop-with-savepoint falls back to a plain cancel.
"""

from __future__ import annotations

from flink_operator.api import FlinkSessionJobStatus, JobManagerDeploymentStatus, ResourceLifecycleState
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.errors import error_json, error_message, error_type
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.sessionjob.context import SessionJobContext
from flink_operator.controllers.sessionjob.deletion import (
    JobCleanupInputs,
    JobCleanupKind,
    SessionAvailability,
    session_job_cleanup,
)
from flink_operator.controllers.sessionjob.finishing import finish
from flink_operator.controllers.sessionjob.observation import reconciled_suspended
from flink_operator.controllers.sessionjob.session_view import availability
from flink_operator.controllers.sessionjob.steps import CancelJob, Outcome, Step
from flink_operator.controllers.sessionjob.transitions import record_stop, savepoint_format
from flink_operator.controllers.snapshot.timestamps import from_k8s_time
from flink_operator.flink import config_builder
from flink_operator.flink.service import SuspendMode

CLEANUP_ERROR_TYPE = "org.apache.flink.kubernetes.operator.exception.CleanupException"
MSG_CLEANUP_SESSION_JOB = "Cleaning up FlinkSessionJob"
MSG_CANCEL_FAILED = "Cancellation Error"
MSG_SAVEPOINT_ON_DELETION_FAILED = "Savepoint on deletion failed"


def _deleting(status: FlinkSessionJobStatus) -> FlinkSessionJobStatus:
    result = status.model_copy(deep=True)
    result.lifecycle_state = ResourceLifecycleState.DELETING
    return result


def waited_seconds(ctx: SessionJobContext) -> float:
    started = from_k8s_time(ctx.resource.metadata.deletion_timestamp)
    if started is None:
        return 0.0
    return max((ctx.now_ms - started) / 1000, 0.0)


def cleanup_inputs(ctx: SessionJobContext, status: FlinkSessionJobStatus) -> JobCleanupInputs:
    facts = ctx.facts
    state, detail = availability(ctx.session)
    block = ctx.session_settings.block_on_session_jobs
    if state is SessionAvailability.DELETING and block:
        # The session waits for its session jobs; what matters is whether it still answers.
        jm = ctx.session.jm_status
        if jm is not JobManagerDeploymentStatus.READY:
            state = SessionAvailability.NOT_READY
            shown = jm.value if jm is not None else "unknown"
            detail = f"session cluster {ctx.session.label} is being deleted, JobManager {shown}"
        else:
            state = SessionAvailability.READY
    if state is SessionAvailability.READY and facts.session is SessionAvailability.UNREACHABLE:
        state, detail = facts.session, facts.session_detail
    previous_failure = error_message(status.error) if error_type(status.error) == CLEANUP_ERROR_TYPE else None
    job_id = status.job_status.job_id
    return JobCleanupInputs(
        job_id=job_id,
        job_state=status.job_status.state,
        never_deployed=status.reconciliation_status.last_reconciled_spec is None,
        reconciled_suspended=reconciled_suspended(status),
        job_not_found=(
            facts.session is SessionAvailability.READY
            and facts.job_id_checked is not None
            and facts.job_id_checked == job_id
            and facts.job is None
            and facts.job_error is None
        ),
        session=state,
        session_detail=detail,
        session_ha=ctx.session_settings.session_ha,
        block_on_session_jobs=block,
        savepoint_on_deletion=ctx.settings.savepoint_on_deletion,
        savepoint_failed=MSG_SAVEPOINT_ON_DELETION_FAILED in (previous_failure or ""),
        force=ctx.force_deletion,
        last_failure=previous_failure,
        waited_s=waited_seconds(ctx),
        timeout_s=ctx.session_settings.job_cancel_timeout,
    )


def _released(status: FlinkSessionJobStatus) -> FlinkSessionJobStatus:
    gone = status.model_copy(deep=True)
    gone.lifecycle_state = ResourceLifecycleState.DELETED
    return gone


def decide_cleanup(ctx: SessionJobContext) -> Step:
    status = _deleting(ctx.observed)
    events: list[EventSpec] = [
        *ctx.observation_events,
        ev.normal(Reason.CLEANUP, Component.OPERATOR, MSG_CLEANUP_SESSION_JOB, once=True),
    ]
    inputs = cleanup_inputs(ctx, status)
    decision = session_job_cleanup(inputs)
    if decision.kind is JobCleanupKind.RELEASE:
        return Step(_released(status), tuple(events), remove_finalizer=True, note=decision.reason)
    if decision.kind is JobCleanupKind.RELEASE_UNCANCELLED:
        events.append(ev.warning(Reason.CLEANUP_FAILED, Component.OPERATOR, decision.reason))
        return Step(_released(status), tuple(events), remove_finalizer=True, note=decision.reason)
    remaining = max(inputs.timeout_s - inputs.waited_s, 0.0)
    soon = Requeue(min(ctx.settings.progress_check_interval, remaining) if remaining > 0 else 0.0)
    if decision.kind is JobCleanupKind.WAIT:
        return Step(finish(status), tuple(events), None, soon, note=decision.reason)
    assert decision.mode is not None and inputs.job_id is not None
    mode = decision.mode
    action = CancelJob(
        inputs.job_id,
        mode,
        savepoint_dir=config_builder.savepoint_dir(ctx.effective) if mode is SuspendMode.SAVEPOINT else None,
        savepoint_format=savepoint_format(ctx),
        drain=ctx.settings.drain_on_savepoint_deletion if mode is SuspendMode.SAVEPOINT else False,
    )
    intent = finish(status)

    def on_success(result: object) -> Outcome:
        stopped = record_stop(ctx, intent, result)
        return Outcome(_released(stopped), (), Requeue.never(), remove_finalizer=True)

    def on_failure(error: Exception) -> Outcome:
        failed = intent.model_copy(deep=True)
        prefix = MSG_SAVEPOINT_ON_DELETION_FAILED if mode is SuspendMode.SAVEPOINT else MSG_CANCEL_FAILED
        message = f"{prefix}: {str(error) or type(error).__name__}"
        failed.error = error_json(
            CLEANUP_ERROR_TYPE, message, max_length=ctx.settings.exception_field_max_length
        )
        event = ev.warning(Reason.CLEANUP_FAILED, Component.OPERATOR, message)
        return Outcome(finish(failed), (event,), soon)

    return Step(
        intent, tuple(events), action, on_success=on_success, on_failure=on_failure, note=decision.reason
    )
