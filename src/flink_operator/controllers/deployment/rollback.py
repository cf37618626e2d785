"""The steps of a rollback (contract §3.17): start it, continue it after a failed or lost attempt, or
abandon it for a newer spec. When and from which state is decided in `rollback_rules`.

How it runs (write-ahead, like every deployment): the intent (ROLLING_BACK, the plan: restore mode in the
stored spec's `upgradeMode`, restore point in `jobStatus.upgradeSavepointPath`, job id) is written with a
Normal `Rollback` event, then the last stable spec is deployed from it (any cluster of the failing spec is
removed first; HA data is kept for a last-state rollback) and the resource becomes ROLLED_BACK. A crash
after the intent resumes exactly that deployment (same job id, same restore point); the deployment
replaces whatever cluster runs, so two jobs never run. The user's spec is never rewritten:
`lastReconciledSpec` keeps it (only its `upgradeMode` records how the state was carried),
`observedGeneration` stays, and the deployed spec is `lastStableSpec` from then on. A spec change during
ROLLING_BACK abandons the rollback (the new spec is deployed from the rollback's restore point).

The cancel annotation is consumed: the shell removes it once the decision acted on it (or found nothing to
cancel, with an event saying why, see `rollback_aftercare`), so it never cancels a later upgrade.
"""

from __future__ import annotations

from dataclasses import replace

from flink_operator.api import (
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    FlinkJobState,
    JobManagerDeploymentStatus,
    JobState,
    ReconciliationState,
    SnapshotTriggerType,
    UpgradeMode,
    read_spec,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import status_updates, stored_spec
from flink_operator.controllers.common.errors import UPGRADE_FAILURE_TYPE, error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.deployment import rollback_rules as rules
from flink_operator.controllers.deployment import transitions
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.finishing import failure_outcome, finish, requeue_for, wait_step
from flink_operator.controllers.deployment.observation import new_cluster_info
from flink_operator.controllers.deployment.requests import cluster_request, resource_configuration
from flink_operator.controllers.deployment.rollback_rules import (
    ANNOTATION_CANCEL_DEPLOY,
    MSG_ROLLBACK,
    RollbackDecision,
    RollbackInputs,
    Verdict,
)
from flink_operator.controllers.deployment.steps import DeployCluster, Outcome, Step
from flink_operator.flink import config_builder
from flink_operator.flink.service import DeployResult

__all__ = ["ANNOTATION_CANCEL_DEPLOY", "cancel_requested", "decide", "decision_for", "rollback_inputs"]


def cancel_requested(ctx: DeploymentContext) -> bool:
    return rules.cancel_annotation_set(ctx.resource)


def rollback_inputs(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    reconciled: FlinkDeploymentSpec,
) -> RollbackInputs:
    reconciliation = status.reconciliation_status
    return RollbackInputs(
        enabled=ctx.settings.rollback_enabled,
        cancel_requested=cancel_requested(ctx),
        state=reconciliation.state,
        reconciled_is_stable=reconciliation.is_last_reconciled_spec_stable,
        reconciled=reconciled,
        desired=spec,
        stable=rules.stable_spec(status),
        reconciliation_timestamp_ms=reconciliation.reconciliation_timestamp,
        readiness_timeout_ms=int(ctx.settings.readiness_timeout * 1000),
        now_ms=ctx.now_ms,
    )


def decide(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    reconciled: FlinkDeploymentSpec,
    events: list[EventSpec],
) -> Step | None:
    """The rollback step to take now, or None (the planner goes on)."""
    if spec.job is None or reconciled.job is None:
        return None
    decision = rules.rollback_decision(rollback_inputs(ctx, status, spec, reconciled))
    if decision.verdict is Verdict.CONTINUE:
        return _continue(ctx, status, events)
    if decision.verdict is Verdict.ABANDON:
        return _abandon(ctx, status, spec, events)
    if decision.verdict is Verdict.START:
        return _start(ctx, status, spec, decision, events)
    return None


def _start(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    decision: RollbackDecision,
    events: list[EventSpec],
) -> Step:
    stable = rules.stable_spec(status)
    assert stable is not None and stable.job is not None
    reconciled_text = status.reconciliation_status.last_reconciled_spec
    assert reconciled_text is not None
    failing = read_spec(reconciled_text, FlinkDeploymentSpec)
    confs = [
        resource_configuration(s, name=ctx.name, namespace=ctx.namespace, defaults=ctx.defaults)
        for s in (stable, failing)
    ]
    facts = ctx.facts
    checkpoint = facts.latest_checkpoint
    assert spec.job is not None
    plan = rules.rollback_plan(
        spec.job.upgrade_mode,
        ha_enabled=all(config_builder.ha_enabled(c) for c in confs),
        ha_metadata_available=bool(facts.ha_metadata_available),
        job_id=status.job_status.job_id,
        failing_checkpoint=checkpoint.external_path if checkpoint is not None else None,
        start_point=status.job_status.upgrade_savepoint_path,
    )
    job_id = status.job_status.job_id if plan.reuse_job_id and status.job_status.job_id else ctx.new_job_id
    why = decision.reason[:1].upper() + decision.reason[1:]
    message = f"{MSG_ROLLBACK} {why}; restoring the last stable spec from {plan.source}."
    if decision.cancel:
        message = (
            f"{MSG_ROLLBACK} The deployment in flight was cancelled through the annotation "
            f"{ANNOTATION_CANCEL_DEPLOY}; restoring the last stable spec from {plan.source}."
        )
    events = [*events, ev.normal(Reason.ROLLBACK, Component.JOB_MANAGER_DEPLOYMENT, message)]
    step = _deploy_stable(
        ctx,
        status,
        stable,
        plan.mode,
        plan.restore_path,
        job_id,
        events,
        note=f"roll back: {decision.reason}",
    )
    if decision.cancel:
        step = replace(step, clear_annotations=(ANNOTATION_CANCEL_DEPLOY,))
    return step


def _continue(ctx: DeploymentContext, status: FlinkDeploymentStatus, events: list[EventSpec]) -> Step:
    """ROLLING_BACK: deploy the stable spec as the intent recorded it (after a failed or lost attempt)."""
    stable = rules.stable_spec(status)
    if stable is None:
        return _unreadable_stable(ctx, status, events)
    mode = rules.recorded_mode(status.reconciliation_status.last_reconciled_spec) or UpgradeMode.SAVEPOINT
    path = None if mode is UpgradeMode.STATELESS else status.job_status.upgrade_savepoint_path
    job_id = status.job_status.job_id or ctx.new_job_id
    return _deploy_stable(ctx, status, stable, mode, path, job_id, events, note="continue the rollback")


def _unreadable_stable(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, events: list[EventSpec]
) -> Step:
    message = "status.reconciliationStatus.lastStableSpec cannot be read; the rollback cannot go on"
    result = status.model_copy(deep=True)
    result.error = error_json(UPGRADE_FAILURE_TYPE, message)
    events = [*events, ev.warning(Reason.ERROR, Component.JOB_MANAGER_DEPLOYMENT, message)]
    return wait_step(ctx, result, events, note=message, requeue=Requeue(ctx.settings.reconcile_interval))


def _deploy_stable(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    stable: FlinkDeploymentSpec,
    mode: UpgradeMode,
    restore_path: str | None,
    job_id: str,
    events: list[EventSpec],
    *,
    note: str,
) -> Step:
    """Intent (ROLLING_BACK with the plan) then DeployCluster of the stable spec; ROLLED_BACK afterwards."""
    reconciliation = status.reconciliation_status
    assert reconciliation.last_reconciled_spec is not None
    intent = status.model_copy(deep=True)
    record = intent.reconciliation_status
    record.last_reconciled_spec = stored_spec.edit(
        reconciliation.last_reconciled_spec, job_state=JobState.RUNNING, upgrade_mode=mode
    )
    retry = (
        reconciliation.state is ReconciliationState.ROLLING_BACK
        and record.last_reconciled_spec == reconciliation.last_reconciled_spec
        and status.job_status.job_id == job_id
    )
    record.state = ReconciliationState.ROLLING_BACK
    if not retry:
        record.reconciliation_timestamp = ctx.now_ms
    intent.job_status.job_id = job_id
    intent.job_status.upgrade_savepoint_path = restore_path
    if intent.job_status.savepoint_info.trigger_type is SnapshotTriggerType.UPGRADE:
        intent.job_status.savepoint_info.reset_trigger()
    try:
        request = cluster_request(
            stable,
            ref=ctx.ref,
            defaults=ctx.defaults,
            generation=ctx.generation,
            job_id=job_id,
            restore_path=restore_path,
            deployment_id=ctx.new_deployment_id,
            owner=ctx.owner,
            manage_ingress=ctx.settings.manage_ingress,
        )
    except config_builder.ConfigBuildError as error:
        failed = intent.model_copy(deep=True)
        failed.error = error_json(UPGRADE_FAILURE_TYPE, f"the last stable spec cannot be deployed: {error}")
        events = [*events, ev.warning(Reason.ERROR, Component.JOB_MANAGER_DEPLOYMENT, str(error))]
        return wait_step(
            ctx, failed, events, note=str(error), requeue=Requeue(ctx.settings.reconcile_interval)
        )
    intent = finish(ctx, intent)
    events = [*events, ev.normal(Reason.SUBMIT, Component.JOB_MANAGER_DEPLOYMENT, ev.MSG_SUBMIT)]

    def on_success(result: DeployResult) -> Outcome:
        out = intent.model_copy(deep=True)
        out.reconciliation_status.state = ReconciliationState.ROLLED_BACK
        out.reconciliation_status.reconciliation_timestamp = ctx.now_ms
        out.job_status.state = FlinkJobState.RECONCILING
        out.job_status.start_time = None
        out.job_status.update_time = str(ctx.now_ms)
        out.job_manager_deployment_status = JobManagerDeploymentStatus.DEPLOYING
        out.cluster_info = new_cluster_info(out.cluster_info, result.rest_url)
        out.task_manager = status_updates.task_manager_info(stable, ctx.name)
        final = finish(ctx, out)
        return Outcome(final, (), requeue_for(ctx, final))

    def on_failure(error: Exception) -> Outcome:
        return failure_outcome(ctx, intent, error)

    return Step(
        intent,
        tuple(events),
        DeployCluster(request, delete_ha_data=mode is not UpgradeMode.LAST_STATE),
        on_success=on_success,
        on_failure=on_failure,
        note=note,
    )


def _abandon(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, spec: FlinkDeploymentSpec, events: list[EventSpec]
) -> Step:
    """A spec change while ROLLING_BACK: the new spec is deployed from the rollback's restore point."""
    assert spec.job is not None
    recorded = rules.recorded_mode(status.reconciliation_status.last_reconciled_spec) or UpgradeMode.SAVEPOINT
    if spec.job.upgrade_mode is UpgradeMode.STATELESS:
        mode = UpgradeMode.STATELESS
    elif recorded is UpgradeMode.STATELESS:
        mode = UpgradeMode.SAVEPOINT
    else:
        mode = recorded
    upgrading = status.model_copy(deep=True)
    upgrading.reconciliation_status.state = ReconciliationState.UPGRADING
    job_id = status.job_status.job_id if mode is UpgradeMode.LAST_STATE and status.job_status.job_id else None
    events = [
        *events,
        ev.normal(
            Reason.SPEC_CHANGED,
            Component.JOB_MANAGER_DEPLOYMENT,
            f"The rollback was abandoned: generation {ctx.generation} is deployed instead.",
            message_key=f"SpecChanged-generation-{ctx.generation}",
            once=True,
        ),
    ]
    return transitions.restore(
        ctx,
        upgrading,
        spec,
        events,
        restore_mode=mode,
        job_id=job_id or ctx.new_job_id,
        note="a new spec during the rollback",
    )


def decision_for(ctx: DeploymentContext, status: FlinkDeploymentStatus) -> RollbackDecision | None:
    """The rollback decision on the reconciled spec (None: nothing reconciled, or a session cluster)."""
    text = status.reconciliation_status.last_reconciled_spec
    if text is None:
        return None
    try:
        reconciled = read_spec(text, FlinkDeploymentSpec)
    except ValueError:
        return None
    if reconciled.job is None:
        return None
    return rules.rollback_decision(rollback_inputs(ctx, status, ctx.spec, reconciled))
