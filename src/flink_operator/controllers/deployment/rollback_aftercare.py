"""What rollbacks add to FlinkDeployment decisions other than the rollback itself.

* `after_decision(ctx, step)`, applied to every decision: a repair of a spec that is not stable yet (a
  failed-job restart, JobManager recovery or unhealthy restart of the same spec) keeps the spec's readiness
  clock, so a spec that never becomes stable is still rolled back in time; a rollback that is not due yet
  is looked at again when it falls due; a cancel-deploy annotation the decision did not act on is consumed
  with a Normal `Rollback` event saying why there was nothing to cancel.
* `keep_rolled_back(ctx, status, step)`: a repair of a ROLLED_BACK deployment (computed on the stable spec
  that runs) stays a rollback: intents are ROLLING_BACK and outcomes ROLLED_BACK, `lastReconciledSpec`
  keeps the user's spec and `lastStableSpec` stays.
* `reverted_to_deployed` / `record_revert`: while ROLLED_BACK the user changed the spec back to the stable
  one that runs: it is recorded (DEPLOYED, and STABLE once the job runs), nothing is restarted.
"""

from __future__ import annotations

from dataclasses import replace

from flink_operator.api import (
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    FlinkJobState,
    JobState,
    ReconciliationState,
    read_spec,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import status_updates, stored_spec
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.deployment import rollback
from flink_operator.controllers.deployment import rollback_rules as rules
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.finishing import finish, wait_step
from flink_operator.controllers.deployment.rollback_rules import ANNOTATION_CANCEL_DEPLOY
from flink_operator.controllers.deployment.steps import CancelJob, DeployCluster, Outcome, Step

__all__ = ["after_decision", "keep_rolled_back", "record_revert", "reverted_to_deployed"]


def keep_rolled_back(ctx: DeploymentContext, status: FlinkDeploymentStatus, step: Step) -> Step:
    """A repair of a ROLLED_BACK deployment (computed on the stable spec) as a rollback step: intents become
    ROLLING_BACK and outcomes ROLLED_BACK, the user's spec stays the reconciled one (with the upgrade mode
    the repair recorded) and the stable spec stays stable."""
    reconciliation = status.reconciliation_status
    if reconciliation.state is not ReconciliationState.ROLLED_BACK:
        return step
    user_text = reconciliation.last_reconciled_spec
    stable_text = reconciliation.last_stable_spec
    if user_text is None or stable_text is None:
        return step

    def convert(changed: FlinkDeploymentStatus) -> FlinkDeploymentStatus:
        record = changed.reconciliation_status
        if record.last_reconciled_spec == user_text and record.state is ReconciliationState.ROLLED_BACK:
            return changed
        out = changed.model_copy(deep=True)
        target = out.reconciliation_status
        mode = rules.recorded_mode(record.last_reconciled_spec)
        target.last_reconciled_spec = stored_spec.edit(
            user_text, job_state=JobState.RUNNING, upgrade_mode=mode
        )
        target.last_stable_spec = stable_text
        target.state = (
            ReconciliationState.ROLLING_BACK
            if record.state in (ReconciliationState.UPGRADING, ReconciliationState.ROLLING_BACK)
            else ReconciliationState.ROLLED_BACK
        )
        out.observed_generation = status.observed_generation
        return finish(ctx, out)

    def wrap(outcome: Outcome) -> Outcome:
        return replace(outcome, status=convert(outcome.status))

    original_success, original_failure = step.on_success, step.on_failure
    if step.action is None:
        return replace(step, status=convert(step.status))
    return replace(
        step,
        status=convert(step.status),
        on_success=lambda result: wrap(original_success(result)),
        on_failure=lambda error: wrap(original_failure(error)),
    )


def reverted_to_deployed(status: FlinkDeploymentStatus, desired: FlinkDeploymentSpec) -> bool:
    """ROLLED_BACK and the user changed the spec back to the stable one that runs."""
    if status.reconciliation_status.state is not ReconciliationState.ROLLED_BACK:
        return False
    stable = rules.stable_spec(status)
    return stable is not None and rules.same_workload(stable, desired)


def record_revert(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, spec: FlinkDeploymentSpec, events: list[EventSpec]
) -> Step:
    """The user's spec is the stable one that runs after a rollback: record it, nothing to do."""
    mode = rules.recorded_mode(status.reconciliation_status.last_stable_spec)
    recorded = status.model_copy(deep=True)
    recorded.reconciliation_status.state = ReconciliationState.DEPLOYED
    out = status_updates.for_deployed_spec(
        recorded, spec, generation=ctx.generation, now_ms=ctx.now_ms, name=ctx.name, upgrade_mode=mode
    )
    if out.job_status.state is FlinkJobState.RUNNING:
        out = status_updates.check_stable(out)
    return wait_step(ctx, out, events, note="the spec was changed back to the rolled-back one")


def _repair_of_same_spec(ctx: DeploymentContext, status: FlinkDeploymentStatus) -> bool:
    """The decision acts on the reconciled spec itself (no user change): a restart or a recovery."""
    text = status.reconciliation_status.last_reconciled_spec
    if text is None:
        return False
    try:
        reconciled = read_spec(text, FlinkDeploymentSpec)
    except ValueError:
        return False
    return rules.same_workload(rules.as_running(reconciled), ctx.spec)


def after_decision(ctx: DeploymentContext, step: Step) -> Step:
    """What the rollback rules add to any decision:

    * a repair of a spec that is not stable yet (a restart or recovery of the same spec) keeps its
      readiness clock, so a spec that never becomes stable is still rolled back in time;
    * a rollback that is not due yet is looked at again when it falls due;
    * a cancel annotation the decision did not act on is consumed, with an event saying why.
    """
    status = ctx.observed
    reconciliation = status.reconciliation_status
    if ctx.deleting or reconciliation.last_reconciled_spec is None or ctx.spec.job is None:
        return step
    if (
        isinstance(step.action, DeployCluster | CancelJob)
        and reconciliation.state is ReconciliationState.DEPLOYED
        and not reconciliation.is_last_reconciled_spec_stable
        and _repair_of_same_spec(ctx, status)
    ):
        step = _keep_clock(step, reconciliation.reconciliation_timestamp)
    elif (
        isinstance(step.action, DeployCluster)
        and reconciliation.state is ReconciliationState.UPGRADING
        and step.status.reconciliation_status.state is ReconciliationState.UPGRADING
        and step.status.reconciliation_status.reconciliation_timestamp
        == reconciliation.reconciliation_timestamp
    ):
        # The deployment of a persisted intent: its clock started when the intent was written.
        step = _keep_clock(step, reconciliation.reconciliation_timestamp)
    decision = rollback.decision_for(ctx, status)
    if step.action is None and decision is not None and decision.due_in_ms is not None:
        due = decision.due_in_ms / 1000
        if step.requeue.after is None or step.requeue.after > due:
            step = replace(step, requeue=Requeue(due))
    if rollback.cancel_requested(ctx) and ANNOTATION_CANCEL_DEPLOY not in step.clear_annotations:
        why = decision.reason if decision is not None and decision.reason else "no deployment is in flight"
        event = ev.normal(
            Reason.ROLLBACK,
            Component.JOB_MANAGER_DEPLOYMENT,
            f"Nothing to cancel ({ANNOTATION_CANCEL_DEPLOY}): {why}.",
        )
        step = replace(
            step,
            events=(*step.events, event),
            clear_annotations=(*step.clear_annotations, ANNOTATION_CANCEL_DEPLOY),
        )
    return step


def _keep_clock(step: Step, timestamp: int) -> Step:
    def keep(changed: FlinkDeploymentStatus) -> FlinkDeploymentStatus:
        if changed.reconciliation_status.reconciliation_timestamp == timestamp:
            return changed
        out = changed.model_copy(deep=True)
        out.reconciliation_status.reconciliation_timestamp = timestamp
        return out

    original_success, original_failure = step.on_success, step.on_failure
    return replace(
        step,
        status=keep(step.status),
        on_success=lambda result: replace((outcome := original_success(result)), status=keep(outcome.status)),
        on_failure=lambda error: replace((outcome := original_failure(error)), status=keep(outcome.status)),
    )
