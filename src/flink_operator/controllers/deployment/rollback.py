"""Rolling back an upgrade that does not become stable, and cancelling one on request (contract §3.17).

When is a rollback started (`rollback_decision`, pure)? When all of these hold:

* the reconciled spec is not stable (it never ran, or its job never reached RUNNING) and the resource is
  not ROLLED_BACK already;
* a last stable spec exists, it runs a job (not suspended), it differs from the reconciled spec in more
  than the upgrade mode (a restart of the same spec is not something to roll back), and it has the same
  `flinkVersion` (state written by a newer Flink may not load in an older one);
* the user has not changed the spec since (a newer spec supersedes the one in flight);
* either `kubernetes.operator.deployment.rollback.enabled` and the readiness timeout
  (`kubernetes.operator.deployment.readiness.timeout`) passed since the spec was reconciled (repairs of the
  same spec — failed-job restarts, JobManager recovery, unhealthy restarts — do not restart that clock), or
  the user asked to cancel the deployment in flight with the annotation `flink.apache.org/cancel-deploy:
  "true"` (rollback enabled or not). Unlike upstream, an upgrade whose deployment keeps failing (state
  UPGRADING) is rolled back too.

Which state does the rolled-back job start from (`rollback_plan`, pure)? The state the deployment is
actually in, never an older one (upstream took the stable spec's upgrade mode and could lose state,
FLINK-33107):

1. the stable spec is stateless (the user chose it): empty state;
2. HA is on in both specs and its metadata is there: last-state, the same job id resumes from HA (the
   latest checkpoint of the failing job, or the point it started from);
3. the failing job's latest retained checkpoint;
4. the point the failed attempt started from (`jobStatus.upgradeSavepointPath`: the upgrade savepoint or
   checkpoint of the job before it);
5. none of these: the failed attempt itself started without state, so does the rolled-back job.

How it runs (write-ahead, like every deployment): the intent (ROLLING_BACK, the plan: restore mode in the
stored spec's `upgradeMode`, restore point in `jobStatus.upgradeSavepointPath`, job id) is written with a
Normal `Rollback` event, then the last stable spec is deployed from it (any cluster of the failing spec is
removed first; HA data is kept for a last-state rollback) and the resource becomes ROLLED_BACK. The user's
spec is never rewritten: `lastReconciledSpec` keeps it (only its `upgradeMode` records how the state was
carried), `observedGeneration` stays, and the deployed spec is `lastStableSpec` from then on; so repairs of
a rolled-back job (failed-job restart, JobManager recovery, unhealthy restart) deploy the stable spec and
the resource stays ROLLED_BACK. A spec change during ROLLING_BACK abandons the rollback (the new spec is
deployed from the rollback's restore point); a change while ROLLED_BACK is a normal upgrade from the
rolled-back job, and a change back to the stable spec just records it.

The cancel annotation is consumed: the shell removes it once the decision acted on it (or found nothing to
cancel, with an event saying why), so it never cancels a later upgrade.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

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
    read_spec_with_meta,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import status_updates, stored_spec
from flink_operator.controllers.common.errors import UPGRADE_FAILURE_TYPE, error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.health import CLUSTER_HEALTH_INFO_KEY
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.controllers.common.spec_diff import DiffType, diff_specs
from flink_operator.controllers.deployment import transitions
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.finishing import failure_outcome, finish, requeue_for, wait_step
from flink_operator.controllers.deployment.observation import REST_URL_KEY
from flink_operator.controllers.deployment.requests import cluster_request, resource_configuration
from flink_operator.controllers.deployment.steps import CancelJob, DeployCluster, Outcome, Step
from flink_operator.flink import config_builder
from flink_operator.flink.service import DeployResult

__all__ = [
    "ANNOTATION_CANCEL_DEPLOY",
    "MSG_ROLLBACK",
    "RollbackDecision",
    "RollbackInputs",
    "RollbackPlan",
    "Verdict",
    "after_decision",
    "cancel_requested",
    "decide",
    "deployed_spec",
    "keep_rolled_back",
    "needs_restore_facts",
    "record_revert",
    "reverted_to_deployed",
    "rollback_decision",
    "rollback_plan",
    "running_spec",
]

ANNOTATION_CANCEL_DEPLOY = "flink.apache.org/cancel-deploy"
MSG_ROLLBACK = "Rolling back failed deployment."
_STALE_CLUSTER_INFO = (
    CLUSTER_HEALTH_INFO_KEY,
    "flink-version",
    "flink-revision",
    "total-cpu",
    "total-memory",
)


class Verdict(enum.Enum):
    NONE = "none"
    """No rollback (nothing in flight, not due, or not possible)."""
    START = "start"
    CONTINUE = "continue"
    """A rollback is in flight (ROLLING_BACK): deploy the stable spec as recorded."""
    ABANDON = "abandon"
    """ROLLING_BACK but the user changed the spec: deploy the new spec instead."""


@dataclass(frozen=True)
class RollbackDecision:
    verdict: Verdict
    reason: str = ""
    """Why (START, or why a requested cancel is not possible)."""
    cancel: bool = False
    """Started by the cancel annotation."""
    due_in_ms: int | None = None
    """NONE only: time until the readiness timeout makes a rollback due."""


@dataclass(frozen=True)
class RollbackInputs:
    enabled: bool
    cancel_requested: bool
    state: ReconciliationState
    reconciled_is_stable: bool
    reconciled: FlinkDeploymentSpec
    desired: FlinkDeploymentSpec
    stable: FlinkDeploymentSpec | None
    reconciliation_timestamp_ms: int
    readiness_timeout_ms: int
    now_ms: int


def _running(spec: FlinkDeploymentSpec) -> FlinkDeploymentSpec:
    """`spec` with `job.state: running` (a stored intent records the target as suspended)."""
    if spec.job is None or spec.job.state is JobState.RUNNING:
        return spec
    copy = spec.model_copy(deep=True)
    assert copy.job is not None
    copy.job.state = JobState.RUNNING
    return copy


def _same(a: FlinkDeploymentSpec, b: FlinkDeploymentSpec) -> bool:
    """Equal but for what does not change what runs (upgrade mode, trigger nonces, ...)."""
    return diff_specs(a, b, mode=b.effective_mode).type is DiffType.IGNORE


def rollback_decision(inputs: RollbackInputs) -> RollbackDecision:
    """Whether to start or continue a rollback (see the module docstring)."""
    in_flight = inputs.state in (ReconciliationState.UPGRADING, ReconciliationState.ROLLING_BACK)
    reconciled = _running(inputs.reconciled) if in_flight else inputs.reconciled
    user_changed = not _same(reconciled, inputs.desired)
    if inputs.state is ReconciliationState.ROLLING_BACK:
        return RollbackDecision(Verdict.ABANDON if user_changed else Verdict.CONTINUE)
    if inputs.state is ReconciliationState.ROLLED_BACK:
        return RollbackDecision(Verdict.NONE, "the deployment was rolled back already")
    if inputs.reconciled_is_stable:
        return RollbackDecision(Verdict.NONE, "no deployment is in flight: the running spec is stable")
    stable = inputs.stable
    if stable is None or stable.job is None:
        return RollbackDecision(Verdict.NONE, "there is no stable spec to return to")
    if stable.job.state is JobState.SUSPENDED:
        return RollbackDecision(Verdict.NONE, "the last stable spec is suspended")
    if _same(stable, reconciled):
        return RollbackDecision(Verdict.NONE, "the spec in flight is the last stable spec")
    if stable.flink_version != reconciled.flink_version:
        return RollbackDecision(
            Verdict.NONE, "the spec in flight changes flinkVersion; its state may not load in the old version"
        )
    if user_changed:
        return RollbackDecision(Verdict.NONE, "a newer spec is being deployed")
    if inputs.cancel_requested:
        return RollbackDecision(
            Verdict.START, "the deployment in flight was cancelled on request", cancel=True
        )
    if not inputs.enabled:
        return RollbackDecision(Verdict.NONE, "rollback is not enabled")
    waited = inputs.now_ms - inputs.reconciliation_timestamp_ms
    if waited <= inputs.readiness_timeout_ms:
        return RollbackDecision(
            Verdict.NONE, "not due yet", due_in_ms=inputs.readiness_timeout_ms - waited + 1
        )
    seconds = inputs.readiness_timeout_ms // 1000
    return RollbackDecision(Verdict.START, f"the deployment did not become stable within {seconds} s")


@dataclass(frozen=True)
class RollbackPlan:
    """How the stable spec is brought back."""

    mode: UpgradeMode
    restore_path: str | None
    reuse_job_id: bool
    source: str
    """Where the state comes from, in words (for the event)."""

    @property
    def delete_ha_data(self) -> bool:
        return self.mode is not UpgradeMode.LAST_STATE


def rollback_plan(
    stable_mode: UpgradeMode,
    *,
    ha_enabled: bool,
    ha_metadata_available: bool,
    job_id: str | None,
    failing_checkpoint: str | None,
    start_point: str | None,
) -> RollbackPlan:
    """The restore of a rollback (see the module docstring)."""
    if stable_mode is UpgradeMode.STATELESS:
        return RollbackPlan(UpgradeMode.STATELESS, None, False, "empty state (the stable spec is stateless)")
    if ha_enabled and ha_metadata_available and job_id:
        return RollbackPlan(
            UpgradeMode.LAST_STATE,
            failing_checkpoint or start_point,
            True,
            "the HA metadata of the job (its latest checkpoint)",
        )
    if failing_checkpoint:
        return RollbackPlan(
            UpgradeMode.SAVEPOINT,
            failing_checkpoint,
            False,
            f"the failing job's checkpoint {failing_checkpoint}",
        )
    if start_point:
        return RollbackPlan(
            UpgradeMode.SAVEPOINT, start_point, False, f"{start_point}, where the failed attempt started from"
        )
    return RollbackPlan(
        UpgradeMode.SAVEPOINT, None, False, "empty state (the failed attempt started without state)"
    )


# ------------------------------------------------------------------------------------ reading the status


def _stable_spec(status: FlinkDeploymentStatus) -> FlinkDeploymentSpec | None:
    text = status.reconciliation_status.last_stable_spec
    if text is None:
        return None
    try:
        return read_spec(text, FlinkDeploymentSpec)
    except ValueError:
        return None


def _recorded_mode(text: str | None) -> UpgradeMode | None:
    if text is None:
        return None
    try:
        job = read_spec_with_meta(text).spec.get("job")
    except ValueError:
        return None
    if not isinstance(job, dict):
        return None
    try:
        return UpgradeMode(job.get("upgradeMode", UpgradeMode.STATELESS.value))
    except ValueError:
        return None


def cancel_requested(ctx: DeploymentContext) -> bool:
    annotations = ctx.resource.metadata.annotations or {}
    return annotations.get(ANNOTATION_CANCEL_DEPLOY, "").strip().lower() == "true"


def _inputs(
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
        stable=_stable_spec(status),
        reconciliation_timestamp_ms=reconciliation.reconciliation_timestamp,
        readiness_timeout_ms=int(ctx.settings.readiness_timeout * 1000),
        now_ms=ctx.now_ms,
    )


def needs_restore_facts(
    status: FlinkDeploymentStatus,
    *,
    enabled: bool,
    cancel: bool,
    readiness_timeout: float,
    now_ms: int,
) -> bool:
    """Whether the observation should read the job's latest checkpoint and HA metadata because a rollback
    may start in this reconcile (a cheap over-approximation of `rollback_decision`)."""
    reconciliation = status.reconciliation_status
    if (
        reconciliation.last_stable_spec is None
        or reconciliation.is_last_reconciled_spec_stable
        or reconciliation.state in (ReconciliationState.ROLLING_BACK, ReconciliationState.ROLLED_BACK)
    ):
        return False
    if cancel:
        return True
    return enabled and now_ms - reconciliation.reconciliation_timestamp > readiness_timeout * 1000


def deployed_spec(status: FlinkDeploymentStatus, reconciled: FlinkDeploymentSpec) -> FlinkDeploymentSpec:
    """The spec that runs: the last stable one after a rollback, else the reconciled one."""
    if status.reconciliation_status.state is ReconciliationState.ROLLED_BACK:
        stable = _stable_spec(status)
        if stable is not None:
            return stable
    return reconciled


def running_spec(status: FlinkDeploymentStatus, desired: FlinkDeploymentSpec) -> FlinkDeploymentSpec:
    """The spec repairs (restarts, recovery) deploy: the stable one after a rollback, else the desired one."""
    if status.reconciliation_status.state is ReconciliationState.ROLLED_BACK:
        stable = _stable_spec(status)
        if stable is not None:
            return stable
    return desired


# ------------------------------------------------------------------------------------ the steps


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
    decision = rollback_decision(_inputs(ctx, status, spec, reconciled))
    if decision.verdict is Verdict.CONTINUE:
        return _continue(ctx, status, events)
    if decision.verdict is Verdict.ABANDON:
        return _abandon(ctx, status, spec, events)
    if decision.verdict is Verdict.START:
        return _start(ctx, status, decision, events)
    return None


def _start(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, decision: RollbackDecision, events: list[EventSpec]
) -> Step:
    stable = _stable_spec(status)
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
    plan = rollback_plan(
        stable.job.upgrade_mode,
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
    stable = _stable_spec(status)
    if stable is None:
        return _unreadable_stable(ctx, status, events)
    mode = _recorded_mode(status.reconciliation_status.last_reconciled_spec) or UpgradeMode.SAVEPOINT
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
        info = {k: v for k, v in out.cluster_info.items() if k not in _STALE_CLUSTER_INFO}
        if result.rest_url:
            info[REST_URL_KEY] = result.rest_url
        out.cluster_info = info
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
    recorded = _recorded_mode(status.reconciliation_status.last_reconciled_spec) or UpgradeMode.SAVEPOINT
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


# ------------------------------------------------------------------------------------ after a rollback


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
        mode = _recorded_mode(record.last_reconciled_spec)
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
    stable = _stable_spec(status)
    return stable is not None and _same(stable, desired)


def record_revert(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, spec: FlinkDeploymentSpec, events: list[EventSpec]
) -> Step:
    """The user's spec is the stable one that runs after a rollback: record it, nothing to do."""
    mode = _recorded_mode(status.reconciliation_status.last_stable_spec)
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
    return _same(_running(reconciled), ctx.spec)


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
    decision = _decision_for(ctx, status)
    if step.action is None and decision is not None and decision.due_in_ms is not None:
        due = decision.due_in_ms / 1000
        if step.requeue.after is None or step.requeue.after > due:
            step = replace(step, requeue=Requeue(due))
    if cancel_requested(ctx) and ANNOTATION_CANCEL_DEPLOY not in step.clear_annotations:
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


def _decision_for(ctx: DeploymentContext, status: FlinkDeploymentStatus) -> RollbackDecision | None:
    text = status.reconciliation_status.last_reconciled_spec
    if text is None:
        return None
    try:
        reconciled = read_spec(text, FlinkDeploymentSpec)
    except ValueError:
        return None
    if reconciled.job is None:
        return None
    return rollback_decision(_inputs(ctx, status, ctx.spec, reconciled))


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
