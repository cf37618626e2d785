"""The last touches every status gets before it is written, and the common shapes of steps.

`finish(ctx, status)` stores the computed lifecycle state (contract §2.1) and the Running/Ready conditions;
every status a decision hands to the shell went through it, so what is written is always consistent.
"""

from __future__ import annotations

from flink_operator.api import FlinkDeploymentStatus, compute_lifecycle_state
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.conditions import deployment_conditions
from flink_operator.controllers.common.errors import FLINK_SERVICE_ERROR_TYPE, error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue, reschedule
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.steps import Outcome, Step


def finish(ctx: DeploymentContext, status: FlinkDeploymentStatus) -> FlinkDeploymentStatus:
    """`status` with its lifecycle state and conditions brought up to date (a copy)."""
    result = status.model_copy(deep=True)
    result.lifecycle_state = compute_lifecycle_state(result)
    conditions = deployment_conditions(
        result,
        session=ctx.spec.job is None,
        now=ctx.now_iso,
        generation=ctx.resource_generation,
        invalid_spec=ctx.validation_error,
    )
    if [c.model_dump() for c in conditions] != [c.model_dump() for c in result.conditions]:
        result.conditions = conditions
    return result


def requeue_for(ctx: DeploymentContext, status: FlinkDeploymentStatus) -> Requeue:
    return reschedule(ctx.resource.status, status, ctx.settings)


def wait_step(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    events: list[EventSpec],
    *,
    note: str,
    requeue: Requeue | None = None,
) -> Step:
    """A step without an action: record what is known and look again later."""
    final = finish(ctx, status)
    return Step(final, tuple(events), None, requeue or requeue_for(ctx, final), note=note)


def failure_outcome(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    error: Exception,
    *,
    reason: str = Reason.ERROR,
    component: Component = Component.JOB_MANAGER_DEPLOYMENT,
    error_type: str = FLINK_SERVICE_ERROR_TYPE,
) -> Outcome:
    """An action failed: keep the intent, record the error, retry later (the shell adds backoff)."""
    message = str(error) or type(error).__name__
    result = status.model_copy(deep=True)
    result.error = error_json(error_type, message, max_length=ctx.settings.exception_field_max_length)
    event = ev.warning(reason, component, message)
    return Outcome(finish(ctx, result), (event,), Requeue(ctx.settings.retry_initial_interval))
