"""`decide(ctx) -> Step`: the FlinkSessionJob reconcile decision (contract §3.3, §3.6, §3.12, §3.14, §3.15).

Pure. The route:

1. deletion -> `cleanup.decide_cleanup`;
2. validation failure -> `status.error` + `ValidationError`; never submitted -> stop (a change of the
   resource or of its session cluster triggers the next look); otherwise continue with the last reconciled
   spec, so the running job keeps running;
3. the session cluster is missing, being deleted or not ready -> wait with `status.error` saying which
   (and a Warning / Normal event once), look again after the progress-check interval;
4. unsupported Flink version of the session cluster -> `UnsupportedFlinkVersion`;
5. never submitted -> first submission (unless created suspended);
6. an UPGRADING intent -> submit it again under its recorded job id;
7. a spec change -> `SpecChanged`, then stop the running job as the upgrade mode allows (savepoint:
   stop-with-savepoint; last-state: cancel keeping checkpoints, restore from the latest; stateless: cancel)
   or resubmit a suspended one;
8. otherwise: restart a failed job (`job.restart.failed`), bring back a job the session lost (stateless:
   submit again; stateful: from its retained checkpoint when one is known), or nothing (snapshot triggers
   may run).
"""

from __future__ import annotations

from flink_operator.api import (
    FlinkJobState,
    FlinkSessionJobSpec,
    FlinkSessionJobStatus,
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
from flink_operator.controllers.common.spec_diff import DiffType, diff_specs
from flink_operator.controllers.common.upgrade import JobUpgrade, SuspendMode, UpgradeInputs, job_upgrade
from flink_operator.controllers.sessionjob import cleanup, transitions
from flink_operator.controllers.sessionjob.context import SessionJobContext
from flink_operator.controllers.sessionjob.deletion import SessionAvailability
from flink_operator.controllers.sessionjob.finishing import SESSION_NOT_READY_TYPE, wait_step
from flink_operator.controllers.sessionjob.session_view import availability
from flink_operator.controllers.sessionjob.steps import Step
from flink_operator.flink import config_builder

REASON_SESSION_NOT_READY = "SessionClusterNotReady"
"""Event reason while a session job waits for its session cluster (ours; upstream waits silently)."""


def decide(ctx: SessionJobContext) -> Step:
    if ctx.deleting:
        return cleanup.decide_cleanup(ctx)
    status = ctx.observed.model_copy(deep=True)
    events: list[EventSpec] = list(ctx.observation_events)
    spec = ctx.spec
    reconciliation = status.reconciliation_status

    if ctx.validation_error is not None:
        status.error = error_json(
            VALIDATION_ERROR_TYPE, ctx.validation_error, max_length=ctx.settings.exception_field_max_length
        )
        events.append(ev.warning(Reason.VALIDATION_ERROR, Component.OPERATOR, ctx.validation_error))
        if reconciliation.last_reconciled_spec is None:
            return wait_step(
                ctx, status, events, note="invalid spec, never submitted", requeue=Requeue.never()
            )
        last_valid = _last_valid_spec(status)
        if last_valid is None:
            return _unreadable(ctx, status, events)
        spec = last_valid

    waiting = _wait_for_session(ctx, status, events)
    if waiting is not None:
        return waiting

    session_model = ctx.session.model
    assert session_model is not None
    version = session_model.spec.flink_version
    if version is None or not version.is_supported:
        events.append(
            ev.warning(
                Reason.UNSUPPORTED_FLINK_VERSION,
                Component.OPERATOR,
                ev.unsupported_version_message(version.value if version else None),
            )
        )
        return wait_step(ctx, status, events, note="unsupported Flink version", requeue=Requeue.never())
    if spec.job is None:
        return wait_step(ctx, status, events, note="no job", requeue=Requeue.never())

    if reconciliation.last_reconciled_spec is None:
        if spec.job.state is JobState.SUSPENDED:
            return wait_step(ctx, status, events, note="created suspended: nothing to submit")
        initial = spec.job.initial_savepoint_path
        return transitions.submit(
            ctx,
            status,
            spec,
            events,
            recorded_mode=UpgradeMode.SAVEPOINT if initial else UpgradeMode.STATELESS,
            restore_path=initial,
            job_id=ctx.new_job_id,
            note="first submission",
        )

    try:
        reconciled = read_spec(reconciliation.last_reconciled_spec, FlinkSessionJobSpec)
    except ValueError:
        return _unreadable(ctx, status, events)
    if reconciled.job is None:
        return _unreadable(ctx, status, events)

    if reconciliation.state is ReconciliationState.UPGRADING:
        return _resume(ctx, status, spec, reconciled, events)

    diff = diff_specs(reconciled, spec)
    if diff.type is DiffType.IGNORE:
        return _other_changes(ctx, status, spec, reconciled, events)
    events.append(
        ev.normal(
            Reason.SPEC_CHANGED,
            Component.JOB,
            ev.spec_changed_message(diff.type.name, diff.describe()),
            message_key=f"SpecChanged-generation-{ctx.generation}",
            once=True,
        )
    )
    if reconciled.job.state is JobState.RUNNING:
        return _upgrade_running(ctx, status, spec, reconciled, events)
    if spec.job.state is JobState.RUNNING:
        mode = _restore_mode(spec, reconciled)
        settle = transitions.checkpoint_settle_wait(ctx, status) if mode is not UpgradeMode.STATELESS else 0.0
        if settle > 0:
            return wait_step(
                ctx,
                status,
                events,
                note="waiting for the final checkpoint statistics",
                requeue=Requeue(settle),
            )
        return transitions.restore(
            ctx, status, spec, events, restore_mode=mode, job_id=ctx.new_job_id, note="resume a suspended job"
        )
    return transitions.record_suspended(
        ctx, status, spec, events, upgrade_mode=reconciled.job.upgrade_mode, note="suspended spec changed"
    )


def _wait_for_session(
    ctx: SessionJobContext, status: FlinkSessionJobStatus, events: list[EventSpec]
) -> Step | None:
    """Wait while the session cluster cannot take jobs (upstream's readyToReconcile), saying why."""
    state, message = availability(ctx.session)
    if state is SessionAvailability.READY:
        if ctx.facts.session is SessionAvailability.UNREACHABLE:
            # The JobManager is up but REST did not answer this time: look again soon, change nothing.
            return wait_step(
                ctx,
                status,
                events,
                note=f"session REST unreachable: {ctx.facts.session_detail}",
                requeue=Requeue(ctx.settings.progress_check_interval),
            )
        return None
    text = f"Waiting for {message}"
    if ctx.validation_error is None:
        status.error = error_json(
            SESSION_NOT_READY_TYPE, text, max_length=ctx.settings.exception_field_max_length
        )
    missing = state is SessionAvailability.MISSING
    model = ctx.session.model
    instance = model.metadata.uid if model is not None and model.metadata.uid else "none"
    make = ev.warning if missing else ev.normal
    events.append(
        make(
            REASON_SESSION_NOT_READY,
            Component.JOB,
            text,
            message_key=f"{REASON_SESSION_NOT_READY}-{state.value}-{instance}",
            once=True,
        )
    )
    return wait_step(ctx, status, events, note=text, requeue=Requeue(ctx.settings.progress_check_interval))


def _last_valid_spec(status: FlinkSessionJobStatus) -> FlinkSessionJobSpec | None:
    reconciliation = status.reconciliation_status
    try:
        spec = read_spec(reconciliation.last_reconciled_spec or "", FlinkSessionJobSpec)
    except ValueError:
        return None
    if spec.job is not None and reconciliation.state is ReconciliationState.UPGRADING:
        spec.job.state = JobState.RUNNING
    return spec


def _unreadable(ctx: SessionJobContext, status: FlinkSessionJobStatus, events: list[EventSpec]) -> Step:
    message = "status.reconciliationStatus.lastReconciledSpec cannot be read; fix or remove the status"
    status.error = error_json(RECONCILIATION_ERROR_TYPE, message)
    events.append(ev.warning(Reason.ERROR, Component.OPERATOR, message))
    return wait_step(ctx, status, events, note=message, requeue=Requeue(ctx.settings.reconcile_interval))


def _restore_mode(spec: FlinkSessionJobSpec, reconciled: FlinkSessionJobSpec) -> UpgradeMode:
    """The recorded mode (how the state was kept), unless the user now asks for stateless; a stateful
    spec never restores empty when a restore point is recorded."""
    assert spec.job is not None and reconciled.job is not None
    if spec.job.upgrade_mode is UpgradeMode.STATELESS:
        return UpgradeMode.STATELESS
    if reconciled.job.upgrade_mode is UpgradeMode.STATELESS:
        return UpgradeMode.SAVEPOINT
    return reconciled.job.upgrade_mode


def _resume(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    spec: FlinkSessionJobSpec,
    reconciled: FlinkSessionJobSpec,
    events: list[EventSpec],
) -> Step:
    """An UPGRADING intent whose job the session does not run: submit it (again) under its job id."""
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
    job_id = status.job_status.job_id or ctx.new_job_id
    return transitions.restore(
        ctx,
        status,
        spec,
        events,
        restore_mode=_restore_mode(spec, reconciled),
        job_id=job_id,
        note="resume the submission intent",
    )


def _upgrade_inputs(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    spec: FlinkSessionJobSpec,
    reconciled: FlinkSessionJobSpec,
) -> UpgradeInputs:
    assert spec.job is not None
    checkpoint = ctx.facts.latest_checkpoint
    start = status.job_status.start_time
    max_age = ctx.settings.max_checkpoint_age
    return UpgradeInputs(
        upgrade_mode=spec.job.upgrade_mode,
        job_state=status.job_status.state,
        # Only reached with a READY session; its JobManager status is what the job runs on.
        jm_status=ctx.session.jm_status or JobManagerDeploymentStatus.MISSING,
        upgrade_savepoint_path=status.job_status.upgrade_savepoint_path,
        # A session job's spec names no Flink version: a version change is a session redeploy, which the
        # session job sees as a lost job.
        flink_version_changed=False,
        savepoint_dir_configured=config_builder.savepoint_dir(ctx.effective) is not None,
        ha_enabled=False,
        ha_metadata_available=False,
        retained_checkpoint_path=checkpoint.external_path if checkpoint is not None else None,
        last_state_fallback_enabled=ctx.settings.last_state_fallback_enabled,
        last_state_job_cancel_enabled=ctx.settings.last_state_job_cancel_enabled,
        max_checkpoint_age_ms=int(max_age * 1000) if max_age is not None else None,
        job_start_time_ms=int(start) if start and start.isdigit() else None,
        latest_checkpoint_time_ms=checkpoint.timestamp_ms if checkpoint is not None else None,
        now_ms=ctx.now_ms,
        session_job=True,
        job_started=status.job_status.start_time is not None,
    )


def _upgrade_running(
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    spec: FlinkSessionJobSpec,
    reconciled: FlinkSessionJobSpec,
    events: list[EventSpec],
) -> Step:
    if transitions.stop_in_flight(status):
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
    ctx: SessionJobContext,
    status: FlinkSessionJobStatus,
    spec: FlinkSessionJobSpec,
    reconciled: FlinkSessionJobSpec,
    events: list[EventSpec],
) -> Step:
    assert reconciled.job is not None and spec.job is not None
    if ctx.validation_error is None:
        status.observed_generation = ctx.generation
    if reconciled.job.state is JobState.SUSPENDED:
        return wait_step(ctx, status, events, note="suspended")
    job_state = status.job_status.state
    stateful = spec.job.upgrade_mode is not UpgradeMode.STATELESS
    if job_state is FlinkJobState.FAILED and ctx.settings.job_restart_failed:
        settle = transitions.checkpoint_settle_wait(ctx, status) if stateful else 0.0
        if settle > 0:
            return wait_step(
                ctx,
                status,
                events,
                note="waiting for the final checkpoint statistics",
                requeue=Requeue(settle),
            )
        mode = (
            UpgradeMode.SAVEPOINT
            if stateful and transitions.restore_path(status, UpgradeMode.SAVEPOINT)
            else UpgradeMode.STATELESS
        )
        return transitions.restore(
            ctx, status, spec, events, restore_mode=mode, job_id=ctx.new_job_id, note="restart the failed job"
        )
    if _lost(ctx, status):
        checkpoint = ctx.facts.latest_checkpoint
        if checkpoint is not None or status.job_status.start_time is None:
            recovered = status.model_copy(deep=True)
            if checkpoint is not None:
                recovered.job_status.upgrade_savepoint_path = checkpoint.external_path
            events = [*events, ev.warning(Reason.RECOVER_DEPLOYMENT, Component.JOB, ev.MSG_RECOVER)]
            return transitions.restore(
                ctx,
                recovered,
                spec,
                events,
                restore_mode=UpgradeMode.SAVEPOINT,
                job_id=ctx.new_job_id,
                note="submit the lost job again from its retained checkpoint",
            )
        return wait_step(
            ctx,
            status,
            events,
            note="job lost and no retained checkpoint known: manual action needed",
            requeue=Requeue(ctx.settings.reconcile_interval),
        )
    settled = job_state is FlinkJobState.RUNNING
    return wait_step(ctx, status, events, note="nothing to do", settled=settled)


def _lost(ctx: SessionJobContext, status: FlinkSessionJobStatus) -> bool:
    """The session answered and does not know the (stateful) job that should run."""
    facts = ctx.facts
    return (
        facts.session is SessionAvailability.READY
        and facts.job_id_checked is not None
        and facts.job_id_checked == status.job_status.job_id
        and facts.job is None
        and facts.job_error is None
    )
