"""Session clusters: FlinkDeployments without `spec.job` (contract §3.9), as pure decisions.

* first deployment: intent (UPGRADING, target recorded, `observedGeneration`), then the cluster is deployed
  (JobManager DEPLOYING); it becomes STABLE as soon as its REST API answers (observation);
* a spec change (any difference that is not ignored): `SpecChanged`, then the cluster is deleted keeping its
  HA data and deployed again with the new spec — the jobs of a session with HA come back by themselves,
  without HA the session jobs notice their job is gone and resubmit it (see the session-job controller);
* an UPGRADING intent after a crash: deployed again (the runtime does not start the same generation twice;
  a JobManager of that generation that is starting is waited for);
* a lost JobManager (`jm-deployment-recovery.enabled`): `RecoverDeployment`, deployed again.

Deletion is `session_cleanup`.
"""

from __future__ import annotations

from flink_operator.api import (
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    JobManagerDeploymentStatus,
    ReconciliationState,
    read_spec,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import status_updates
from flink_operator.controllers.common.errors import (
    RECONCILIATION_ERROR_TYPE,
    UPGRADE_FAILURE_TYPE,
    error_json,
)
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.common.spec_diff import DiffType, diff_specs
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.finishing import failure_outcome, finish, requeue_for, wait_step
from flink_operator.controllers.deployment.observation import new_cluster_info
from flink_operator.controllers.deployment.requests import session_request
from flink_operator.controllers.deployment.steps import DeployCluster, Outcome, Step
from flink_operator.flink import config_builder
from flink_operator.flink.service import DeployResult


def decide_session(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, spec: FlinkDeploymentSpec, events: list[EventSpec]
) -> Step:
    reconciliation = status.reconciliation_status
    if reconciliation.last_reconciled_spec is None:
        return deploy_session(ctx, status, spec, events, note="first deployment of the session cluster")
    try:
        reconciled = read_spec(reconciliation.last_reconciled_spec, FlinkDeploymentSpec)
    except ValueError:
        reconciled = None
    if reconciled is None or reconciled.job is not None:
        message = (
            "status.reconciliationStatus.lastReconciledSpec is not a session cluster's; "
            "fix or remove the status"
        )
        status.error = error_json(RECONCILIATION_ERROR_TYPE, message)
        events.append(ev.warning(Reason.ERROR, Component.OPERATOR, message))
        return wait_step(ctx, status, events, note=message, requeue=Requeue(ctx.settings.reconcile_interval))
    if ctx.deployment_in_progress:
        return wait_step(
            ctx,
            status,
            events,
            note="the session cluster is starting",
            requeue=Requeue(ctx.settings.progress_check_interval),
        )
    if reconciliation.state is ReconciliationState.UPGRADING:
        return deploy_session(ctx, status, spec, events, note="resume the session deployment intent")
    diff = diff_specs(reconciled, spec, mode=spec.effective_mode)
    if diff.type is not DiffType.IGNORE:
        events.append(
            ev.normal(
                Reason.SPEC_CHANGED,
                Component.JOB_MANAGER_DEPLOYMENT,
                ev.spec_changed_message(diff.type.name, diff.describe()),
                message_key=f"SpecChanged-generation-{ctx.generation}",
                once=True,
            )
        )
        return deploy_session(
            ctx, status, spec, events, note="redeploy the session cluster with the new spec"
        )
    if ctx.validation_error is None:
        status.observed_generation = ctx.generation
    missing = status.job_manager_deployment_status is JobManagerDeploymentStatus.MISSING
    if missing and ctx.settings.jm_recovery_enabled and ctx.facts.jm is not None:
        events.append(ev.warning(Reason.RECOVER_DEPLOYMENT, Component.JOB, ev.MSG_RECOVER))
        return deploy_session(ctx, status, reconciled, events, note="recover the lost session JobManager")
    return wait_step(ctx, status, events, note="nothing to do")


def deploy_session(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    events: list[EventSpec],
    *,
    note: str,
) -> Step:
    """Intent (UPGRADING, target) then deploy (an existing cluster is deleted first, HA data kept)."""
    generation = ctx.generation
    intent = status_updates.before_deployment_attempt(status, spec, generation=generation, now_ms=ctx.now_ms)
    if _same_intent(status, intent):
        intent.error = status.error
        intent.reconciliation_status.reconciliation_timestamp = (
            status.reconciliation_status.reconciliation_timestamp
        )
    try:
        request = session_request(
            spec,
            ref=ctx.ref,
            defaults=ctx.defaults,
            generation=generation,
            owner=ctx.owner,
            manage_ingress=ctx.settings.manage_ingress,
        )
    except config_builder.ConfigBuildError as error:
        failed = status.model_copy(deep=True)
        failed.error = error_json(UPGRADE_FAILURE_TYPE, str(error))
        events = [*events, ev.warning(Reason.ERROR, Component.JOB_MANAGER_DEPLOYMENT, str(error))]
        return wait_step(
            ctx,
            failed,
            events,
            note=f"cannot build the configuration: {error}",
            requeue=Requeue(ctx.settings.reconcile_interval),
        )
    intent = finish(ctx, intent)
    events = [*events, ev.normal(Reason.SUBMIT, Component.JOB_MANAGER_DEPLOYMENT, ev.MSG_SUBMIT)]
    if spec.ingress is not None and not ctx.settings.manage_ingress:
        events.append(ev.warning(Reason.INGRESS_MANAGEMENT, Component.OPERATOR, ev.MSG_INGRESS_NOT_MANAGED))

    def on_success(result: DeployResult) -> Outcome:
        deployed = status_updates.for_deployed_spec(
            intent, spec, generation=generation, now_ms=ctx.now_ms, name=ctx.name
        )
        deployed.job_manager_deployment_status = JobManagerDeploymentStatus.DEPLOYING
        deployed.cluster_info = new_cluster_info(deployed.cluster_info, result.rest_url)
        final = finish(ctx, deployed)
        return Outcome(final, (), requeue_for(ctx, final))

    def on_failure(error: Exception) -> Outcome:
        return failure_outcome(ctx, intent, error)

    return Step(
        intent,
        tuple(events),
        DeployCluster(request, delete_ha_data=False),
        on_success=on_success,
        on_failure=on_failure,
        note=note,
    )


def _same_intent(before: FlinkDeploymentStatus, intent: FlinkDeploymentStatus) -> bool:
    a, b = before.reconciliation_status, intent.reconciliation_status
    return (
        a.state is b.state
        and a.last_reconciled_spec == b.last_reconciled_spec
        and before.observed_generation == intent.observed_generation
    )
