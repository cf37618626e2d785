"""The last touches every session-job status gets before it is written, reschedule, and common step shapes.

`finish(status)` stores the computed lifecycle state (contract §2.1). One deliberate difference: a session
job that waits for its session cluster before its first submission keeps CREATED although `status.error`
says what it waits for (upstream's rule would call it FAILED; waiting is not a failure).
"""

from __future__ import annotations

from flink_operator.api import (
    FlinkJobState,
    FlinkSessionJobStatus,
    ReconciliationState,
    ResourceLifecycleState,
    compute_lifecycle_state,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.errors import FLINK_SERVICE_ERROR_TYPE, error_json, error_type
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.sessionjob.context import SessionJobContext
from flink_operator.controllers.sessionjob.steps import Outcome, Step

SESSION_NOT_READY_TYPE = "org.apache.flink.kubernetes.operator.exception.SessionClusterNotReadyException"
"""`status.error` type while a session job waits for its session cluster (ours; upstream shows nothing)."""


def finish(status: FlinkSessionJobStatus) -> FlinkSessionJobStatus:
    result = status.model_copy(deep=True)
    lifecycle = compute_lifecycle_state(result)
    if (
        lifecycle is ResourceLifecycleState.FAILED
        and result.reconciliation_status.last_reconciled_spec is None
        and error_type(result.error) == SESSION_NOT_READY_TYPE
    ):
        lifecycle = ResourceLifecycleState.CREATED
    result.lifecycle_state = lifecycle
    return result


_STARTING = (None, FlinkJobState.RECONCILING, FlinkJobState.INITIALIZING, FlinkJobState.CREATED)
_TRANSITIONS = (ReconciliationState.UPGRADING, ReconciliationState.ROLLING_BACK)


def reschedule(
    previous: FlinkSessionJobStatus, current: FlinkSessionJobStatus, settings: ResourceSettings
) -> Requeue:
    if current.job_status.state is FlinkJobState.CANCELLING:
        return Requeue(settings.progress_check_interval)
    state = current.reconciliation_status.state
    if state in _TRANSITIONS and previous.reconciliation_status.state is not state:
        return Requeue.now()
    if state in _TRANSITIONS:
        return Requeue(settings.progress_check_interval)
    if (
        current.reconciliation_status.last_reconciled_spec is not None
        and current.lifecycle_state is not ResourceLifecycleState.SUSPENDED
        and current.job_status.state in _STARTING
    ):
        return Requeue(settings.progress_check_interval)
    return Requeue(settings.reconcile_interval, periodic=True)


def requeue_for(ctx: SessionJobContext, status: FlinkSessionJobStatus) -> Requeue:
    return reschedule(ctx.resource.status, status, ctx.settings)


def wait_step(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    events: list[EventSpec],
    *,
    note: str,
    requeue: Requeue | None = None,
    settled: bool = False,
) -> Step:
    final = finish(status)
    return Step(final, tuple(events), None, requeue or requeue_for(ctx, final), settled=settled, note=note)


def failure_outcome(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    error: Exception,
    *,
    reason: str = Reason.ERROR,
) -> Outcome:
    """An action failed: keep the intent, record the error, retry later (the shell adds backoff)."""
    message = str(error) or type(error).__name__
    result = status.model_copy(deep=True)
    result.error = error_json(
        FLINK_SERVICE_ERROR_TYPE, message, max_length=ctx.settings.exception_field_max_length
    )
    event = ev.warning(reason, Component.JOB, message)
    return Outcome(finish(result), (event,), Requeue(ctx.settings.retry_initial_interval))
