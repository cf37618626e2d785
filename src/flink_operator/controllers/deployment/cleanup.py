"""Deleting a FlinkDeployment (contract §3.20, application part), as a pure decision.

The finalizer `flinkdeployments.flink.apache.org/finalizer` holds the resource until the cluster is gone:

1. `Cleanup` event, lifecycle DELETING (sticky);
2. with `kubernetes.operator.job.savepoint-on-deletion` and a running job: stop it with a savepoint
   (recorded in the status); if that fails, the failure is recorded and deletion goes on without one, so a
   broken job can never block the deletion;
3. delete the cluster with its HA data (no process, no Kubernetes object left); a session cluster first
   waits for its session jobs and unmanaged jobs, bounded (`session_cleanup`);
4. release the finalizer; lifecycle DELETED (listeners get this final status).

Every step is repeatable: a crash between them repeats the delete (a no-op) and releases the finalizer.
"""

from __future__ import annotations

from flink_operator.api import (
    FlinkDeploymentStatus,
    FlinkJobState,
    JobManagerDeploymentStatus,
    ResourceLifecycleState,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.errors import error_json, error_message
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.deployment import session_cleanup, transitions
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.finishing import finish
from flink_operator.controllers.deployment.requests import resource_configuration
from flink_operator.controllers.deployment.steps import CancelJob, DeleteCluster, Outcome, Step
from flink_operator.flink import config_builder
from flink_operator.flink.service import SuspendMode as RuntimeSuspendMode

CLEANUP_ERROR_TYPE = "org.apache.flink.kubernetes.operator.exception.CleanupException"
MSG_SAVEPOINT_ON_DELETION_FAILED = "Savepoint on deletion failed, deleting without a savepoint"


def _deleting(status: FlinkDeploymentStatus) -> FlinkDeploymentStatus:
    result = status.model_copy(deep=True)
    result.lifecycle_state = ResourceLifecycleState.DELETING
    return result


def decide_cleanup(ctx: DeploymentContext) -> Step:
    status = _deleting(ctx.observed)
    events: list[EventSpec] = [
        *ctx.observation_events,
        ev.normal(Reason.CLEANUP, Component.OPERATOR, ev.MSG_CLEANUP_DEPLOYMENT, once=True),
    ]
    if ctx.spec.job is None:
        return session_cleanup.decide_session_cleanup(ctx, status, events)
    job_state = status.job_status.state
    jm = ctx.facts.jm
    savepoint_failed = MSG_SAVEPOINT_ON_DELETION_FAILED in (error_message(status.error) or "")
    if (
        ctx.settings.savepoint_on_deletion
        and not savepoint_failed
        and status.job_status.job_id
        and job_state is FlinkJobState.RUNNING
        and jm is not None
        and jm.status.value == JobManagerDeploymentStatus.READY.value
    ):
        return _savepoint_first(ctx, status, events)
    return _delete(ctx, status, events)


def _savepoint_first(ctx: DeploymentContext, status: FlinkDeploymentStatus, events: list[EventSpec]) -> Step:
    assert status.job_status.job_id is not None
    conf = resource_configuration(ctx.spec, name=ctx.name, namespace=ctx.namespace, defaults=ctx.defaults)
    action = CancelJob(
        status.job_status.job_id,
        RuntimeSuspendMode.SAVEPOINT,
        savepoint_dir=config_builder.savepoint_dir(conf),
        drain=ctx.settings.drain_on_savepoint_deletion,
    )
    intent = finish(ctx, status)

    def on_success(result: object) -> Outcome:
        stopped = transitions.record_stop(ctx, intent, action, result)
        return Outcome(finish(ctx, stopped), (), Requeue.now())

    def on_failure(error: Exception) -> Outcome:
        failed = intent.model_copy(deep=True)
        message = f"{MSG_SAVEPOINT_ON_DELETION_FAILED}: {error}"
        failed.error = error_json(
            CLEANUP_ERROR_TYPE, message, max_length=ctx.settings.exception_field_max_length
        )
        event = ev.warning(Reason.CLEANUP_FAILED, Component.OPERATOR, message)
        return Outcome(finish(ctx, failed), (event,), Requeue.now())

    return Step(
        intent,
        tuple(events),
        action,
        on_success=on_success,
        on_failure=on_failure,
        note="savepoint before deletion",
    )


def _delete(ctx: DeploymentContext, status: FlinkDeploymentStatus, events: list[EventSpec]) -> Step:
    action = DeleteCluster(delete_ha_data=True)
    intent = finish(ctx, status)

    def on_success(result: object) -> Outcome:
        gone = transitions.record_stop(ctx, intent, action, result)
        gone.lifecycle_state = ResourceLifecycleState.DELETED
        return Outcome(finish(ctx, gone), (), Requeue.never(), remove_finalizer=True)

    def on_failure(error: Exception) -> Outcome:
        failed = intent.model_copy(deep=True)
        message = f"Deleting the Flink cluster failed: {error}"
        failed.error = error_json(
            CLEANUP_ERROR_TYPE, message, max_length=ctx.settings.exception_field_max_length
        )
        event = ev.warning(Reason.CLEANUP_FAILED, Component.OPERATOR, message)
        return Outcome(finish(ctx, failed), (event,), Requeue(ctx.settings.retry_initial_interval))

    return Step(
        intent,
        tuple(events),
        action,
        on_success=on_success,
        on_failure=on_failure,
        note="delete the cluster and release the resource",
    )
