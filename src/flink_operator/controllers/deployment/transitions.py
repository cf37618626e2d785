"""The world-changing steps of an application deployment: deploy/restore, suspend, savepoint redeploy.

Each function returns a `Step` whose `status` is the intent to persist first and whose continuations say
what to record afterwards. The invariants the tests check:

* every `DeployCluster` step's status is UPGRADING with the target stored as suspended, the job id of the
  request in `jobStatus.jobId`, the request's generation in `observedGeneration`, and (for restores from a
  path) that path in `jobStatus.upgradeSavepointPath` — so a crash at any point resumes this deployment;
* while UPGRADING, `jobStatus.jobId` is the id the next deployment uses, so a repeated deployment never
  starts a second job under another id;
* suspending never deletes what a later restore needs: a cancel keeps the cluster until the restore point
  is recorded, and the recorded upgrade mode says how the state was kept.
"""

from __future__ import annotations

from flink_operator.api import (
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    FlinkJobState,
    JobManagerDeploymentStatus,
    JobState,
    ReconciliationState,
    Savepoint,
    SavepointFormatType,
    SnapshotTriggerType,
    UpgradeMode,
    read_spec,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import status_updates
from flink_operator.controllers.common.errors import (
    MSG_HA_NOT_AVAILABLE,
    UPGRADE_FAILURE_TYPE,
    UpgradeFailureError,
    error_json,
)
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.common.upgrade import JobUpgrade, SuspendMode
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.finishing import failure_outcome, finish, requeue_for, wait_step
from flink_operator.controllers.deployment.observation import new_cluster_info
from flink_operator.controllers.deployment.requests import cluster_request, resource_configuration
from flink_operator.controllers.deployment.steps import CancelJob, DeleteCluster, DeployCluster, Outcome, Step
from flink_operator.flink import config_builder
from flink_operator.flink.service import CancelResult, DeployResult, SavepointFormat
from flink_operator.flink.service import SuspendMode as RuntimeSuspendMode


def upgrade_failed(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, events: list[EventSpec], error: UpgradeFailureError
) -> Step:
    """A stateful upgrade/restore is impossible: say so (status.error + event) and keep everything as is."""
    result = status.model_copy(deep=True)
    result.error = error_json(
        UPGRADE_FAILURE_TYPE, error.message, max_length=ctx.settings.exception_field_max_length
    )
    events = [*events, ev.warning(error.reason, Component.JOB_MANAGER_DEPLOYMENT, error.message)]
    return wait_step(
        ctx,
        result,
        events,
        note=f"upgrade failed: {error.message}",
        requeue=Requeue(ctx.settings.reconcile_interval),
    )


def _stable_redeploy_nonce(status: FlinkDeploymentStatus) -> int | None:
    text = status.reconciliation_status.last_stable_spec
    if text is None:
        return None
    try:
        stable = read_spec(text, FlinkDeploymentSpec)
    except ValueError:
        return None
    return stable.job.savepoint_redeploy_nonce if stable.job else None


def redeploy_pending(status: FlinkDeploymentStatus, spec: FlinkDeploymentSpec) -> bool:
    """A savepoint redeploy the deployed spec has not completed yet (its nonce is not in the stable spec)."""
    nonce = spec.job.savepoint_redeploy_nonce if spec.job else None
    return (
        nonce is not None
        and status.reconciliation_status.last_reconciled_spec is not None
        and nonce != _stable_redeploy_nonce(status)
    )


def deploy(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    events: list[EventSpec],
    *,
    recorded_mode: UpgradeMode,
    restore_path: str | None,
    job_id: str,
    delete_ha_data: bool,
    mark_stable: bool = False,
    note: str,
) -> Step:
    """Intent (UPGRADING, target, job id, restore path) then DeployCluster; DEPLOYED afterwards."""
    generation = ctx.generation
    intent = status_updates.before_deployment_attempt(
        status, spec, generation=generation, now_ms=ctx.now_ms, upgrade_mode=recorded_mode
    )
    intent.job_status.job_id = job_id
    if restore_path is not None:
        intent.job_status.upgrade_savepoint_path = restore_path
    if intent.job_status.savepoint_info.trigger_type is SnapshotTriggerType.UPGRADE:
        intent.job_status.savepoint_info.reset_trigger()
    if _same_intent(status, intent):
        # A retry of the persisted intent: keep its error (and timestamp) so nothing flickers.
        intent.error = status.error
        intent.reconciliation_status.reconciliation_timestamp = (
            status.reconciliation_status.reconciliation_timestamp
        )
    try:
        request = cluster_request(
            spec,
            ref=ctx.ref,
            defaults=ctx.defaults,
            generation=generation,
            job_id=job_id,
            restore_path=restore_path,
            deployment_id=ctx.new_deployment_id,
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
            intent,
            spec,
            generation=generation,
            now_ms=ctx.now_ms,
            name=ctx.name,
            upgrade_mode=recorded_mode,
            mark_stable=mark_stable,
        )
        deployed.job_status.state = FlinkJobState.RECONCILING
        deployed.job_status.start_time = None
        deployed.job_status.update_time = str(ctx.now_ms)
        deployed.job_manager_deployment_status = JobManagerDeploymentStatus.DEPLOYING
        deployed.cluster_info = new_cluster_info(deployed.cluster_info, result.rest_url)
        final = finish(ctx, deployed)
        return Outcome(final, (), requeue_for(ctx, final))

    def on_failure(error: Exception) -> Outcome:
        return failure_outcome(ctx, intent, error)

    return Step(
        intent,
        tuple(events),
        DeployCluster(request, delete_ha_data=delete_ha_data),
        on_success=on_success,
        on_failure=on_failure,
        note=note,
    )


def _same_intent(before: FlinkDeploymentStatus, intent: FlinkDeploymentStatus) -> bool:
    a, b = before.reconciliation_status, intent.reconciliation_status
    return (
        a.state is b.state
        and a.last_reconciled_spec == b.last_reconciled_spec
        and before.job_status.job_id == intent.job_status.job_id
        and before.observed_generation == intent.observed_generation
    )


def restore(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    events: list[EventSpec],
    *,
    restore_mode: UpgradeMode,
    job_id: str,
    note: str,
) -> Step:
    """Bring the job back in `restore_mode` (contract §3.14 step 3): from the recorded savepoint / checkpoint,
    from HA metadata (or, without it, the latest retained checkpoint), or empty for stateless."""
    job_status = status.job_status
    facts = ctx.facts
    delete_ha = True
    if restore_mode is UpgradeMode.SAVEPOINT:
        last = job_status.savepoint_info.last_savepoint
        path = job_status.upgrade_savepoint_path or (last.location if last is not None else None)
    elif restore_mode is UpgradeMode.LAST_STATE:
        checkpoint = facts.latest_checkpoint.external_path if facts.latest_checkpoint is not None else None
        conf = resource_configuration(spec, name=ctx.name, namespace=ctx.namespace, defaults=ctx.defaults)
        if facts.ha_metadata_available and config_builder.ha_enabled(conf):
            # HA resumes the same job id from its own checkpoint store; the path only guards a lost store.
            path = checkpoint or job_status.upgrade_savepoint_path
            delete_ha = False
        elif checkpoint is not None:
            path = checkpoint
        else:
            return upgrade_failed(
                ctx, status, events, UpgradeFailureError(MSG_HA_NOT_AVAILABLE, Reason.RESTORE_FAILED)
            )
    else:
        path = None
    return deploy(
        ctx,
        status,
        spec,
        events,
        recorded_mode=restore_mode,
        restore_path=path,
        job_id=job_id,
        delete_ha_data=delete_ha,
        mark_stable=redeploy_pending(status, spec),
        note=note,
    )


def _savepoint_format(ctx: DeploymentContext) -> SavepointFormat:
    try:
        return SavepointFormat(ctx.settings.savepoint_format)
    except ValueError:
        return SavepointFormat.CANONICAL


def _format_type(ctx: DeploymentContext) -> SavepointFormatType:
    if _savepoint_format(ctx) is SavepointFormat.NATIVE:
        return SavepointFormatType.NATIVE
    return SavepointFormatType.CANONICAL


def stop_in_flight(status: FlinkDeploymentStatus) -> bool:
    """A stop-with-savepoint of the current job was started and its outcome was never recorded."""
    info = status.job_status.savepoint_info
    return (
        info.trigger_type is SnapshotTriggerType.UPGRADE
        and info.trigger_id is not None
        and info.trigger_id == status.job_status.job_id
    )


def _suspend_action(
    ctx: DeploymentContext, mode: SuspendMode, job_id: str | None
) -> CancelJob | DeleteCluster:
    conf = resource_configuration(ctx.spec, name=ctx.name, namespace=ctx.namespace, defaults=ctx.defaults)
    if mode is SuspendMode.SAVEPOINT and job_id:
        return CancelJob(
            job_id,
            RuntimeSuspendMode.SAVEPOINT,
            savepoint_dir=config_builder.savepoint_dir(conf),
            savepoint_format=_savepoint_format(ctx),
        )
    if mode is SuspendMode.CANCEL and job_id:
        return CancelJob(job_id, RuntimeSuspendMode.LAST_STATE)
    return DeleteCluster(delete_ha_data=mode.deletes_ha_data)


def record_stop(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, action: CancelJob | DeleteCluster, result: object
) -> FlinkDeploymentStatus:
    """The status after the job was taken down: final job state, restore point, savepoint bookkeeping."""
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
        # No new snapshot (the job never checkpointed): the state is still where it was restored from.
        if job_status.savepoint_info.trigger_type is SnapshotTriggerType.UPGRADE:
            job_status.savepoint_info.reset_trigger()
    else:
        assert isinstance(action, DeleteCluster)
        out.job_manager_deployment_status = JobManagerDeploymentStatus.MISSING
        if job_status.state is None or not job_status.state.is_globally_terminal:
            job_status.state = FlinkJobState.FINISHED
            job_status.update_time = str(ctx.now_ms)
    return out


def suspend(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    events: list[EventSpec],
    upgrade: JobUpgrade,
) -> Step:
    """Take the running job down as `upgrade` says; then record UPGRADING (to restore) or SUSPENDED."""
    assert upgrade.suspend_mode is not None and upgrade.restore_mode is not None
    restore_mode = upgrade.restore_mode
    desired_running = spec.job is not None and spec.job.state is JobState.RUNNING
    if upgrade.suspend_mode is SuspendMode.NOOP:
        current = status.model_copy(deep=True)
        if upgrade.restore_path is not None:
            current.job_status.upgrade_savepoint_path = upgrade.restore_path
        if desired_running:
            job_id = _next_job_id(ctx, current, restore_mode)
            return restore(
                ctx,
                current,
                spec,
                events,
                restore_mode=restore_mode,
                job_id=job_id,
                note="job already stopped: restore",
            )
        return record_suspended(
            ctx, current, spec, events, upgrade_mode=restore_mode, note="job already stopped"
        )
    action = _suspend_action(ctx, upgrade.suspend_mode, status.job_status.job_id)
    replay = stop_in_flight(status)
    if not replay:
        events = [*events, ev.normal(Reason.SUSPENDED, Component.JOB_MANAGER_DEPLOYMENT, ev.MSG_SUSPENDED)]
    intent = status
    if isinstance(action, CancelJob) and action.mode is RuntimeSuspendMode.SAVEPOINT and not replay:
        # Write-ahead: "this job is being stopped with a savepoint". After a crash the next reconcile asks
        # the runtime for that savepoint (a repeated stop of a stopped job returns it) instead of falling
        # back to an older checkpoint.
        intent = status.model_copy(deep=True)
        intent.job_status.savepoint_info.set_trigger(
            action.job_id, SnapshotTriggerType.UPGRADE, _format_type(ctx), ctx.now_ms
        )
    intent = finish(ctx, intent)

    def on_success(result: object) -> Outcome:
        if replay and isinstance(result, CancelResult) and not result.savepoint_path:
            started = intent.job_status.savepoint_info.trigger_timestamp or ctx.now_ms
            if ctx.now_ms - started < ctx.settings.savepoint_trigger_grace_period * 1000:
                # The runtime does not show the savepoint yet (Flink caches checkpoint statistics): ask
                # again shortly rather than restore from an older checkpoint.
                return Outcome(intent, (), Requeue(ctx.settings.progress_check_interval))
        stopped = record_stop(ctx, intent, action, result)
        if upgrade.suspend_mode is SuspendMode.STATELESS:
            # The state was dropped on purpose; no older restore point may come back later.
            stopped.job_status.upgrade_savepoint_path = None
        if desired_running:
            job_id = _next_job_id(ctx, stopped, restore_mode)
            out = status_updates.before_deployment_attempt(
                stopped, spec, generation=ctx.generation, now_ms=ctx.now_ms, upgrade_mode=restore_mode
            )
            out.job_status.job_id = job_id
            final = finish(ctx, out)
            return Outcome(final, (), Requeue.now())
        out = status_updates.for_deployed_spec(
            stopped,
            spec,
            generation=ctx.generation,
            now_ms=ctx.now_ms,
            name=ctx.name,
            upgrade_mode=restore_mode,
        )
        final = finish(ctx, out)
        # A cancelled job's cluster is still there; the next loop removes it.
        return Outcome(final, (), Requeue.now() if isinstance(action, CancelJob) else requeue_for(ctx, final))

    def on_failure(error: Exception) -> Outcome:
        if isinstance(action, CancelJob) and action.mode is RuntimeSuspendMode.SAVEPOINT:
            # The stop did not happen (or cannot be confirmed): forget the marker, decide afresh next time.
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


def _next_job_id(ctx: DeploymentContext, status: FlinkDeploymentStatus, restore_mode: UpgradeMode) -> str:
    """LAST_STATE resumes the same job from HA metadata; every other restore starts a new job id."""
    if restore_mode is UpgradeMode.LAST_STATE and status.job_status.job_id:
        return status.job_status.job_id
    return ctx.new_job_id


def record_suspended(
    ctx: DeploymentContext,
    status: FlinkDeploymentStatus,
    spec: FlinkDeploymentSpec,
    events: list[EventSpec],
    *,
    upgrade_mode: UpgradeMode | None,
    note: str,
) -> Step:
    """The desired spec is suspended and the job is down: store it (stable), nothing to do in the world."""
    out = status_updates.for_deployed_spec(
        status, spec, generation=ctx.generation, now_ms=ctx.now_ms, name=ctx.name, upgrade_mode=upgrade_mode
    )
    final = finish(ctx, out)
    cluster_left = ctx.facts.jm is not None and final.job_manager_deployment_status is not (
        JobManagerDeploymentStatus.MISSING
    )
    return Step(
        final, tuple(events), None, Requeue.now() if cluster_left else requeue_for(ctx, final), note=note
    )


def savepoint_redeploy(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, spec: FlinkDeploymentSpec, events: list[EventSpec]
) -> Step:
    """`savepointRedeployNonce` changed: drop the job (stateless), start from initialSavepointPath."""
    assert spec.job is not None
    initial = spec.job.initial_savepoint_path
    desired_running = spec.job.state is JobState.RUNNING
    action = DeleteCluster(delete_ha_data=True)
    events = [*events, ev.normal(Reason.SUSPENDED, Component.JOB_MANAGER_DEPLOYMENT, ev.MSG_SUSPENDED)]
    intent = finish(ctx, status)

    def on_success(result: object) -> Outcome:
        stopped = record_stop(ctx, intent, action, result)
        stopped.job_status.upgrade_savepoint_path = initial
        if desired_running:
            out = status_updates.before_deployment_attempt(
                stopped,
                spec,
                generation=ctx.generation,
                now_ms=ctx.now_ms,
                upgrade_mode=UpgradeMode.SAVEPOINT,
            )
            out.job_status.job_id = ctx.new_job_id
            return Outcome(finish(ctx, out), (), Requeue.now())
        out = status_updates.for_deployed_spec(
            stopped,
            spec,
            generation=ctx.generation,
            now_ms=ctx.now_ms,
            name=ctx.name,
            upgrade_mode=UpgradeMode.SAVEPOINT,
        )
        final = finish(ctx, out)
        return Outcome(final, (), requeue_for(ctx, final))

    def on_failure(error: Exception) -> Outcome:
        return failure_outcome(ctx, intent, error)

    return Step(
        intent,
        tuple(events),
        action,
        on_success=on_success,
        on_failure=on_failure,
        note="savepoint redeploy: remove the running cluster",
    )


def is_upgrading(status: FlinkDeploymentStatus) -> bool:
    return status.reconciliation_status.state is ReconciliationState.UPGRADING
