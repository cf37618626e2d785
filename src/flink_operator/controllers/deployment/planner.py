"""`decide(ctx) -> Step`: the FlinkDeployment reconcile decision (contract §3.2, §3.6, §3.14, §3.15).

Pure. Given the resource, the observed status, the validation verdict, settings and facts, it returns the
one step to take. The route, in upstream's order:

1. deletion -> `cleanup.decide_cleanup`;
2. unsupported or missing `flinkVersion` -> `UnsupportedFlinkVersion` event, no reschedule;
3. validation failure -> `status.error` + `ValidationError` event; never deployed -> stop without
   reschedule; otherwise continue with the last reconciled spec (the running one keeps running);
4. never deployed -> first deployment (unless created suspended);
5. a rollback to start (readiness timeout or cancel-deploy annotation), continue (ROLLING_BACK) or
   abandon for a newer spec (`rollback`, `rollback_rules`);
6. an UPGRADING intent -> resume it (restore, or record suspended);
7. while ROLLED_BACK, a spec changed back to the stable one that runs -> just record it;
8. a spec change -> SpecChanged event, then savepoint redeploy, suspend/upgrade or restore by the reconciled
   and desired `job.state` (after a rollback the job taken down is the rolled-back one);
9. otherwise other changes: leftover cluster of a suspended job, failed-job restart, unhealthy-job restart
   (`health_restart`), JobManager recovery, JobManager TTL after the job ended. After a rollback these
   repairs deploy the stable spec that runs and the resource stays ROLLED_BACK.

Every decision then goes through `rollback_aftercare.after_decision` (readiness clock kept by repairs,
requeue when a rollback falls due, a cancel-deploy annotation with nothing to cancel consumed).

Session clusters (no `spec.job`) take `session.decide_session` after step 3.

Mutator results (`ctx.spec`) are used for the decision and recorded in `lastReconciledSpec`; they are never
written to the resource's spec (the same rule upstream applies to the autoscaler).
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
    UpgradeMode,
    read_spec,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.errors import (
    RECONCILIATION_ERROR_TYPE,
    VALIDATION_ERROR_TYPE,
    UpgradeFailureError,
    error_json,
)
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.common.spec_diff import DiffType, SpecDiff, diff_specs
from flink_operator.controllers.common.upgrade import JobUpgrade, SuspendMode, UpgradeInputs, job_upgrade
from flink_operator.controllers.deployment import (
    cleanup,
    health_restart,
    rollback,
    rollback_aftercare,
    rollback_rules,
    session,
    transitions,
)
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.finishing import failure_outcome, finish, requeue_for, wait_step
from flink_operator.controllers.deployment.requests import resource_configuration, user_job_id
from flink_operator.controllers.deployment.steps import DeleteCluster, Outcome, Step
from flink_operator.flink import config_builder


def decide(ctx: DeploymentContext) -> Step:
    if ctx.deleting:
        return cleanup.decide_cleanup(ctx)
    return rollback_aftercare.after_decision(ctx, _decide(ctx))


def _decide(ctx: DeploymentContext) -> Step:
    status = ctx.observed.model_copy(deep=True)
    events: list[EventSpec] = list(ctx.observation_events)
    spec = ctx.spec
    version = spec.flink_version
    if version is None or not version.is_supported:
        events.append(
            ev.warning(
                Reason.UNSUPPORTED_FLINK_VERSION,
                Component.OPERATOR,
                ev.unsupported_version_message(version.value if version else None),
            )
        )
        return wait_step(ctx, status, events, note="unsupported Flink version", requeue=Requeue.never())

    reconciliation = status.reconciliation_status
    if ctx.validation_error is not None:
        status.error = error_json(
            VALIDATION_ERROR_TYPE, ctx.validation_error, max_length=ctx.settings.exception_field_max_length
        )
        events.append(ev.warning(Reason.VALIDATION_ERROR, Component.OPERATOR, ctx.validation_error))
        if reconciliation.last_reconciled_spec is None:
            return wait_step(
                ctx, status, events, note="invalid spec, never deployed", requeue=Requeue.never()
            )
        last_valid = _last_valid_spec(status)
        if last_valid is None:
            return _unreadable(ctx, status, events)
        spec = last_valid
        ctx = replace(ctx, reconciled_generation=status.observed_generation or ctx.resource_generation)

    if spec.job is None:
        return session.decide_session(ctx, status, spec, events)

    if reconciliation.last_reconciled_spec is None:
        if spec.job.state is JobState.SUSPENDED:
            return wait_step(ctx, status, events, note="created suspended: nothing to deploy")
        initial = spec.job.initial_savepoint_path
        status.job_status.upgrade_savepoint_path = initial
        return transitions.deploy(
            ctx,
            status,
            spec,
            events,
            recorded_mode=UpgradeMode.SAVEPOINT if initial else UpgradeMode.STATELESS,
            restore_path=initial,
            job_id=user_job_id(spec) or ctx.new_job_id,
            delete_ha_data=True,
            note="first deployment",
        )

    try:
        reconciled = read_spec(reconciliation.last_reconciled_spec, FlinkDeploymentSpec)
    except ValueError:
        return _unreadable(ctx, status, events)

    if ctx.deployment_in_progress:
        return wait_step(
            ctx,
            status,
            events,
            note="a deployment of the intent is starting",
            requeue=Requeue(ctx.settings.progress_check_interval),
        )

    rollback_step = rollback.decide(ctx, status, spec, reconciled, events)
    if rollback_step is not None:
        return rollback_step
    if reconciliation.state is ReconciliationState.UPGRADING:
        return _resume(ctx, status, spec, reconciled, events)
    if rollback_aftercare.reverted_to_deployed(status, spec):
        return rollback_aftercare.record_revert(ctx, status, spec, events)

    diff = diff_specs(reconciled, spec, mode=spec.effective_mode)
    if diff.type is DiffType.IGNORE:
        repaired = _other_changes(
            ctx, status, rollback_rules.running_spec(status, spec), reconciled, events
        )
        return rollback_aftercare.keep_rolled_back(ctx, status, repaired)
    # After a rollback the stable spec runs: the upgrade takes that job down.
    reconciled = rollback_rules.deployed_spec(status, reconciled)
    events.append(_spec_changed(ctx, diff))
    if diff.type is DiffType.SAVEPOINT_REDEPLOY:
        return transitions.savepoint_redeploy(ctx, status, spec, events)
    assert reconciled.job is not None
    if reconciled.job.state is JobState.RUNNING:
        return _upgrade_running(ctx, status, spec, reconciled, events)
    if spec.job.state is JobState.RUNNING:
        mode = _restore_mode(spec, reconciled)
        reuse = mode is UpgradeMode.LAST_STATE and status.job_status.job_id
        return transitions.restore(
            ctx,
            status,
            spec,
            events,
            restore_mode=mode,
            job_id=status.job_status.job_id or ctx.new_job_id if reuse else ctx.new_job_id,
            note="resume a suspended job",
        )
    return transitions.record_suspended(
        ctx, status, spec, events, upgrade_mode=reconciled.job.upgrade_mode, note="suspended spec changed"
    )


def _spec_changed(ctx: DeploymentContext, diff: SpecDiff) -> EventSpec:
    return ev.normal(
        Reason.SPEC_CHANGED,
        Component.JOB_MANAGER_DEPLOYMENT,
        ev.spec_changed_message(diff.type.name, diff.describe()),
        message_key=f"SpecChanged-generation-{ctx.generation}",
        once=True,
    )


def _last_valid_spec(status: FlinkDeploymentStatus) -> FlinkDeploymentSpec | None:
    """The last reconciled spec, to keep running after an invalid change (`job.state` running while an
    upgrade is in flight, as upstream)."""
    reconciliation = status.reconciliation_status
    try:
        spec = read_spec(reconciliation.last_reconciled_spec or "", FlinkDeploymentSpec)
    except ValueError:
        return None
    if spec.job is not None and reconciliation.state in (
        ReconciliationState.UPGRADING,
        ReconciliationState.ROLLING_BACK,
    ):
        spec.job.state = JobState.RUNNING
    return spec


def _unreadable(ctx: DeploymentContext, status: FlinkDeploymentStatus, events: list[EventSpec]) -> Step:
    message = "status.reconciliationStatus.lastReconciledSpec cannot be read; fix or remove the status"
    status.error = error_json(RECONCILIATION_ERROR_TYPE, message)
    events.append(ev.warning(Reason.ERROR, Component.OPERATOR, message))
    return wait_step(ctx, status, events, note=message, requeue=Requeue(ctx.settings.reconcile_interval))


def _restore_mode(spec: FlinkDeploymentSpec, reconciled: FlinkDeploymentSpec) -> UpgradeMode:
    """The mode a restore uses: the recorded one (how the state was kept), unless the user now asks for
    stateless. A stateful spec never restores empty: when the recorded mode is stateless (a first
    deployment, or a job stopped outside the operator), the recorded restore point is used; a stateless
    suspension clears that point, so a switch to a stateful mode does not resurrect old state."""
    assert spec.job is not None and reconciled.job is not None
    if spec.job.upgrade_mode is UpgradeMode.STATELESS:
        return UpgradeMode.STATELESS
    if reconciled.job.upgrade_mode is UpgradeMode.STATELESS:
        return UpgradeMode.SAVEPOINT
    return reconciled.job.upgrade_mode


def _resume(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    reconciled: FlinkDeploymentSpec,
    events: list[EventSpec],
) -> Step:
    """An UPGRADING intent whose deployment is not running: restore, or record the suspended spec."""
    assert spec.job is not None and reconciled.job is not None
    if spec.job.state is JobState.SUSPENDED:
        return transitions.record_suspended(
            ctx,
            status,
            spec,
            events,
            upgrade_mode=reconciled.job.upgrade_mode,
            note="suspended during upgrade",
        )
    mode = _restore_mode(spec, reconciled)
    if transitions.redeploy_pending(status, spec) and reconciled.job.upgrade_mode is UpgradeMode.SAVEPOINT:
        mode = UpgradeMode.SAVEPOINT
    # The intent chose the job id when it was written; a retry uses exactly that one.
    job_id = status.job_status.job_id or ctx.new_job_id
    return transitions.restore(
        ctx, status, spec, events, restore_mode=mode, job_id=job_id, note="resume the upgrade intent"
    )


def _upgrade_inputs(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    reconciled: FlinkDeploymentSpec,
) -> UpgradeInputs:
    assert spec.job is not None
    desired_conf = resource_configuration(spec, name=ctx.name, namespace=ctx.namespace, defaults=ctx.defaults)
    deployed_conf = resource_configuration(
        reconciled, name=ctx.name, namespace=ctx.namespace, defaults=ctx.defaults
    )
    facts = ctx.facts
    checkpoint = facts.latest_checkpoint
    start = status.job_status.start_time
    max_age = ctx.settings.max_checkpoint_age
    return UpgradeInputs(
        upgrade_mode=spec.job.upgrade_mode,
        job_state=status.job_status.state,
        jm_status=status.job_manager_deployment_status,
        upgrade_savepoint_path=status.job_status.upgrade_savepoint_path,
        flink_version_changed=spec.flink_version != reconciled.flink_version,
        savepoint_dir_configured=config_builder.savepoint_dir(desired_conf) is not None,
        ha_enabled=config_builder.ha_enabled(desired_conf) and config_builder.ha_enabled(deployed_conf),
        ha_metadata_available=bool(facts.ha_metadata_available),
        retained_checkpoint_path=checkpoint.external_path if checkpoint is not None else None,
        last_state_fallback_enabled=ctx.settings.last_state_fallback_enabled,
        last_state_job_cancel_enabled=ctx.settings.last_state_job_cancel_enabled,
        max_checkpoint_age_ms=int(max_age * 1000) if max_age is not None else None,
        job_start_time_ms=int(start) if start and start.isdigit() else None,
        latest_checkpoint_time_ms=checkpoint.timestamp_ms if checkpoint is not None else None,
        now_ms=ctx.now_ms,
        job_started=status.job_status.start_time is not None,
    )


def _upgrade_running(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    reconciled: FlinkDeploymentSpec,
    events: list[EventSpec],
) -> Step:
    """Reconciled running, spec changed (contract §3.14 step 2): stop the job the way the mode allows."""
    if transitions.stop_in_flight(status):
        # A stop-with-savepoint was started and not recorded (crash): repeat it; for a stopped job the
        # runtime only returns the savepoint it took.
        stop = JobUpgrade(SuspendMode.SAVEPOINT, UpgradeMode.SAVEPOINT, True)
        return transitions.suspend(ctx, status, spec, events, stop)
    try:
        upgrade = job_upgrade(_upgrade_inputs(ctx, status, spec, reconciled))
    except UpgradeFailureError as error:
        return transitions.upgrade_failed(ctx, status, events, error)
    if not upgrade.available:
        return wait_step(
            ctx,
            status,
            events,
            note=f"upgrade pending: {upgrade.reason}",
            requeue=Requeue(ctx.settings.progress_check_interval),
        )
    return transitions.suspend(ctx, status, spec, events, upgrade)


def _other_changes(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    reconciled: FlinkDeploymentSpec,
    events: list[EventSpec],
) -> Step:
    """No spec change: keep what runs healthy (contract §3.6 steps 7-8, §3.18 in part)."""
    assert reconciled.job is not None and spec.job is not None
    if ctx.validation_error is None:
        status.observed_generation = ctx.generation
    facts = ctx.facts
    if reconciled.job.state is JobState.SUSPENDED:
        if facts.jm is not None and facts.jm.status.value != JobManagerDeploymentStatus.MISSING.value:
            return _delete_leftover(ctx, status, events, reconciled.job.upgrade_mode)
        return wait_step(ctx, status, events, note="suspended")

    job_state = status.job_status.state
    if job_state is FlinkJobState.FAILED and ctx.settings.job_restart_failed:
        js = status.job_status
        known = js.upgrade_savepoint_path or (
            js.savepoint_info.last_savepoint.location if js.savepoint_info.last_savepoint else None
        )
        mode = (
            UpgradeMode.SAVEPOINT
            if known and spec.job.upgrade_mode is not UpgradeMode.STATELESS
            else UpgradeMode.STATELESS
        )
        return transitions.restore(
            ctx, status, spec, events, restore_mode=mode, job_id=ctx.new_job_id, note="restart the failed job"
        )
    unhealthy = health_restart.unhealthy_restart(ctx, status, spec, events)
    if unhealthy is not None:
        return unhealthy

    jm_missing = status.job_manager_deployment_status is JobManagerDeploymentStatus.MISSING
    terminal = job_state is not None and job_state.is_globally_terminal
    if jm_missing and not terminal and ctx.settings.jm_recovery_enabled and facts.jm is not None:
        recovery = _recovery(ctx, status, spec, events)
        if recovery is not None:
            return recovery

    if terminal and facts.jm is not None and not jm_missing:
        updated = status.job_status.update_time
        ended_ms = int(updated) if updated and updated.isdigit() else ctx.now_ms
        if ctx.now_ms - ended_ms >= ctx.settings.jm_shutdown_ttl * 1000:
            return _delete_leftover(
                ctx, status, events, UpgradeMode.LAST_STATE, note="JobManager TTL expired"
            )
    return wait_step(ctx, status, events, note="nothing to do")


def _recovery(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, spec: FlinkDeploymentSpec, events: list[EventSpec]
) -> Step | None:
    """A lost JobManager of a job that should run: redeploy it when its state can be recovered."""
    assert spec.job is not None
    conf = resource_configuration(spec, name=ctx.name, namespace=ctx.namespace, defaults=ctx.defaults)
    facts = ctx.facts
    stateless = spec.job.upgrade_mode is UpgradeMode.STATELESS
    if stateless:
        mode, job_id = UpgradeMode.STATELESS, ctx.new_job_id
    elif config_builder.ha_enabled(conf) and facts.ha_metadata_available:
        mode, job_id = UpgradeMode.LAST_STATE, status.job_status.job_id or ctx.new_job_id
    elif facts.latest_checkpoint is not None:
        # Without HA the retained checkpoint is the job's latest state (not an upstream behaviour).
        status = status.model_copy(deep=True)
        status.job_status.upgrade_savepoint_path = facts.latest_checkpoint.external_path
        mode, job_id = UpgradeMode.SAVEPOINT, ctx.new_job_id
    elif status.job_status.start_time is None:
        # The job never ran: its state is still the point it was started from.
        mode, job_id = UpgradeMode.SAVEPOINT, ctx.new_job_id
    else:
        return None
    events = [*events, ev.warning(Reason.RECOVER_DEPLOYMENT, Component.JOB, ev.MSG_RECOVER)]
    return transitions.restore(
        ctx, status, spec, events, restore_mode=mode, job_id=job_id, note="recover the lost JobManager"
    )


def _delete_leftover(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    events: list[EventSpec],
    mode: UpgradeMode,
    *,
    note: str = "remove the cluster of the suspended job",
) -> Step:
    action = DeleteCluster(delete_ha_data=mode is not UpgradeMode.LAST_STATE)
    intent = finish(ctx, status)

    def on_success(result: object) -> Outcome:
        out = transitions.record_stop(ctx, intent, action, result)
        final = finish(ctx, out)
        return Outcome(final, (), requeue_for(ctx, final))

    def on_failure(error: Exception) -> Outcome:
        return failure_outcome(ctx, intent, error)

    return Step(intent, tuple(events), action, on_success=on_success, on_failure=on_failure, note=note)
