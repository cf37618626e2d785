"""Deleting a session cluster (contract §3.20, session part), bounded as `sessionjob.deletion` describes.

`Cleanup` event and lifecycle DELETING first; then `session_cleanup` decides from the FlinkSessionJobs
that name the session, the jobs the cluster still runs, the options and the time since the deletion began:

* blocked by session jobs that are not being deleted: a Warning `CleanupFailed` naming them (upstream's
  message) and a `DeletionBlocked` condition; the session is looked at again when a session job changes;
* waiting for session jobs that are being deleted (they cancel their jobs on the still running session),
  or for unmanaged jobs (bounded by `session.deletion.unmanaged-jobs.timeout`, Warning naming them);
* otherwise the cluster is deleted with its HA data and the finalizer released.
"""

from __future__ import annotations

from flink_operator.api import (
    Condition,
    FlinkDeploymentStatus,
    JobManagerDeploymentStatus,
    ResourceLifecycleState,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.errors import error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.deployment import transitions
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.finishing import finish
from flink_operator.controllers.deployment.steps import DeleteCluster, Outcome, Step
from flink_operator.controllers.sessionjob.cleanup import CLEANUP_ERROR_TYPE
from flink_operator.controllers.sessionjob.deletion import (
    SessionCleanupInputs,
    SessionCleanupKind,
    session_cleanup,
)
from flink_operator.controllers.snapshot.timestamps import from_k8s_time

DELETION_BLOCKED = "DeletionBlocked"
"""Condition type on a session cluster whose deletion waits (ours)."""


def _waited(ctx: DeploymentContext) -> float:
    started = from_k8s_time(ctx.resource.metadata.deletion_timestamp)
    return 0.0 if started is None else max((ctx.now_ms - started) / 1000, 0.0)


def cleanup_inputs(ctx: DeploymentContext) -> SessionCleanupInputs:
    facts = ctx.facts
    jm_ready = facts.jm is not None and facts.jm.status.value == JobManagerDeploymentStatus.READY.value
    listed = ctx.session_cluster_jobs
    unmanaged = (
        None
        if listed is None
        else tuple(j.job_id for j in listed if not j.terminal and j.job_id not in ctx.managed_job_ids)
    )
    options = ctx.session_deletion
    return SessionCleanupInputs(
        session_jobs=ctx.session_jobs,
        block_on_session_jobs=options.block_on_session_jobs,
        block_on_unmanaged_jobs=options.block_on_unmanaged_jobs,
        jm_ready=jm_ready,
        unmanaged_jobs=unmanaged,
        force=ctx.force_deletion,
        waited_s=_waited(ctx),
        job_cancel_timeout_s=options.job_cancel_timeout,
        unmanaged_timeout_s=options.unmanaged_jobs_timeout,
    )


def _blocked_condition(
    status: FlinkDeploymentStatus, reason: str, message: str, ctx: DeploymentContext
) -> None:
    previous = next((c for c in status.conditions if c.type == DELETION_BLOCKED), None)
    since = previous.last_transition_time if previous is not None and previous.status == "True" else None
    condition = Condition(
        type=DELETION_BLOCKED,
        status="True",
        reason=reason,
        message=message,
        last_transition_time=since or ctx.now_iso,
        observed_generation=ctx.generation,
    )
    status.conditions = [*(c for c in status.conditions if c.type != DELETION_BLOCKED), condition]


_REASONS = {
    SessionCleanupKind.BLOCKED_BY_SESSION_JOBS: "SessionJobsExist",
    SessionCleanupKind.WAIT_FOR_SESSION_JOBS: "SessionJobsDeleting",
    SessionCleanupKind.WAIT_FOR_UNMANAGED_JOBS: "UnmanagedJobsRunning",
}


def decide_session_cleanup(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, events: list[EventSpec]
) -> Step:
    inputs = cleanup_inputs(ctx)
    decision = session_cleanup(inputs)
    if decision.kind is not SessionCleanupKind.DELETE:
        waiting = status.model_copy(deep=True)
        _blocked_condition(waiting, _REASONS[decision.kind], decision.message, ctx)
        if decision.warning:
            waiting.error = error_json(
                CLEANUP_ERROR_TYPE, decision.message, max_length=ctx.settings.exception_field_max_length
            )
            events.append(
                ev.warning(
                    Reason.CLEANUP_FAILED,
                    Component.OPERATOR,
                    decision.message,
                    message_key=f"{DELETION_BLOCKED}-{decision.kind.value}-{','.join(decision.blockers)}",
                )
            )
        if decision.kind is SessionCleanupKind.BLOCKED_BY_SESSION_JOBS:
            # A change of a session job (its deletion) triggers the next look; this is a safety net.
            requeue = Requeue(ctx.settings.reconcile_interval)
        else:
            remaining = max(inputs.unmanaged_timeout_s - inputs.waited_s, 0.0)
            requeue = Requeue(
                min(ctx.settings.progress_check_interval, remaining or ctx.settings.progress_check_interval)
            )
        return Step(finish(ctx, waiting), tuple(events), None, requeue, note=decision.message)

    if decision.warning:
        events.append(ev.warning(Reason.CLEANUP_FAILED, Component.OPERATOR, decision.message))
    action = DeleteCluster(delete_ha_data=True)
    intent = finish(ctx, status)

    def on_success(result: object) -> Outcome:
        gone = transitions.record_stop(ctx, intent, action, result)
        gone.job_status.state = None
        gone.lifecycle_state = ResourceLifecycleState.DELETED
        return Outcome(finish(ctx, gone), (), Requeue.never(), remove_finalizer=True)

    def on_failure(error: Exception) -> Outcome:
        failed = intent.model_copy(deep=True)
        message = f"Deleting the session cluster failed: {error}"
        failed.error = error_json(
            CLEANUP_ERROR_TYPE, message, max_length=ctx.settings.exception_field_max_length
        )
        event = ev.warning(Reason.CLEANUP_FAILED, Component.OPERATOR, message)
        return Outcome(finish(ctx, failed), (event,), Requeue(ctx.settings.retry_initial_interval))

    return Step(
        intent, tuple(events), action, on_success=on_success, on_failure=on_failure, note=decision.message
    )
