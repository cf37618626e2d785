"""When a FlinkDeployment upgrade is rolled back, and from which state (contract §3.17), as pure rules.

When is a rollback started (`rollback_decision`)? When all of these hold:

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

Which state does the rolled-back job start from (`rollback_plan`)? The state the deployment is actually
in, never an older one (upstream took the stable spec's upgrade mode and could lose state, FLINK-33107):

1. the user's spec asks for `upgradeMode: stateless`: empty state, as chosen (the upgrade mode stored
   with the stable spec is not a choice: it records how that spec's state was carried, stateless after a
   first deployment);
2. HA is on in both specs and its metadata is there: last-state, the same job id resumes from HA (the
   latest checkpoint of the failing job, or the point it started from);
3. the failing job's latest retained checkpoint;
4. the point the failed attempt started from (`jobStatus.upgradeSavepointPath`: the upgrade savepoint or
   checkpoint of the job before it);
5. none of these: the failed attempt itself started without state, so does the rolled-back job.

Also here: reading the stored specs of a status (`stable_spec`, `recorded_mode`, `deployed_spec`,
`running_spec`) and whether the observation must read restore facts because a rollback may start now
(`needs_restore_facts`). The steps that carry a rollback out are in `rollback`; what a rollback adds to
every other decision is in `rollback_aftercare`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    JobState,
    ReconciliationState,
    UpgradeMode,
    read_spec,
    stored_upgrade_mode,
)
from flink_operator.controllers.common.spec_diff import DiffType, diff_specs

__all__ = [
    "ANNOTATION_CANCEL_DEPLOY",
    "MSG_ROLLBACK",
    "RollbackDecision",
    "RollbackInputs",
    "RollbackPlan",
    "Verdict",
    "as_running",
    "cancel_annotation_set",
    "deployed_spec",
    "needs_restore_facts",
    "recorded_mode",
    "rollback_decision",
    "rollback_plan",
    "running_spec",
    "same_workload",
    "stable_spec",
]

ANNOTATION_CANCEL_DEPLOY = "flink.apache.org/cancel-deploy"
MSG_ROLLBACK = "Rolling back failed deployment."


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


def as_running(spec: FlinkDeploymentSpec) -> FlinkDeploymentSpec:
    """`spec` with `job.state: running` (a stored intent records the target as suspended)."""
    if spec.job is None or spec.job.state is JobState.RUNNING:
        return spec
    copy = spec.model_copy(deep=True)
    assert copy.job is not None
    copy.job.state = JobState.RUNNING
    return copy


def same_workload(a: FlinkDeploymentSpec, b: FlinkDeploymentSpec) -> bool:
    """Equal but for what does not change what runs (upgrade mode, trigger nonces, ...)."""
    return diff_specs(a, b, mode=b.effective_mode).type is DiffType.IGNORE


def rollback_decision(inputs: RollbackInputs) -> RollbackDecision:
    """Whether to start or continue a rollback (see the module docstring)."""
    in_flight = inputs.state in (ReconciliationState.UPGRADING, ReconciliationState.ROLLING_BACK)
    reconciled = as_running(inputs.reconciled) if in_flight else inputs.reconciled
    user_changed = not same_workload(reconciled, inputs.desired)
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
    if same_workload(stable, reconciled):
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
    chosen_mode: UpgradeMode,
    *,
    ha_enabled: bool,
    ha_metadata_available: bool,
    job_id: str | None,
    failing_checkpoint: str | None,
    start_point: str | None,
) -> RollbackPlan:
    """The restore of a rollback (see the module docstring); `chosen_mode` is the upgrade mode of the
    user's spec."""
    if chosen_mode is UpgradeMode.STATELESS:
        return RollbackPlan(UpgradeMode.STATELESS, None, False, "empty state (the spec is stateless)")
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


def stable_spec(status: FlinkDeploymentStatus) -> FlinkDeploymentSpec | None:
    """`lastStableSpec` (None: there is none, or it cannot be read)."""
    text = status.reconciliation_status.last_stable_spec
    if text is None:
        return None
    try:
        return read_spec(text, FlinkDeploymentSpec)
    except ValueError:
        return None


def recorded_mode(text: str | None) -> UpgradeMode | None:
    """The `job.upgradeMode` a stored spec records (how the state was carried)."""
    return stored_upgrade_mode(text)


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
        stable = stable_spec(status)
        if stable is not None:
            return stable
    return reconciled


def running_spec(status: FlinkDeploymentStatus, desired: FlinkDeploymentSpec) -> FlinkDeploymentSpec:
    """The spec repairs (restarts, recovery) deploy: the stable one after a rollback, else the desired one.

    The stable spec keeps the desired spec's `upgradeMode`: the user's choice of how state is carried
    (the mode stored with the stable spec only records how its own state was carried)."""
    if status.reconciliation_status.state is ReconciliationState.ROLLED_BACK:
        stable = stable_spec(status)
        if stable is not None and stable.job is not None and desired.job is not None:
            stable.job.upgrade_mode = desired.job.upgrade_mode
            return stable
    return desired


def cancel_annotation_set(resource: FlinkDeployment) -> bool:
    """`flink.apache.org/cancel-deploy: "true"` (any case) is on the resource; other values do not count."""
    annotations = resource.metadata.annotations or {}
    return annotations.get(ANNOTATION_CANCEL_DEPLOY, "").strip().lower() == "true"
