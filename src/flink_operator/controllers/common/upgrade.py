"""How to take a running job down for an upgrade or suspend, and how to bring it back (contract §3.14).

`job_upgrade(inputs)` is upstream's `getJobUpgrade` decision table as a pure function. It answers with a
`JobUpgrade` (suspend mode, restore mode, whether it can be done now) or raises `UpgradeFailureError` when a
stateful upgrade is impossible without losing state. It never answers with a stateless restore for a
stateful upgrade mode: state is never silently dropped.

Two deliberate additions for a JobManager that is gone without HA metadata: when a retained checkpoint of
the job is known (the runtime can still read the checkpoint storage), the job is restored from that
checkpoint instead of asking for a manual restore (upstream cannot see its checkpoint storage there); and a
job that never started resumes from the point it was started from (upstream checks that its JobManager pod
never started).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flink_operator.api import FlinkJobState, JobManagerDeploymentStatus, UpgradeMode
from flink_operator.controllers.common.errors import (
    MSG_JM_MISSING_NO_HA,
    MSG_TERMINAL_UNKNOWN_CHECKPOINT,
    UpgradeFailureError,
)
from flink_operator.controllers.common.events import Reason
from flink_operator.flink.config_builder import LAST_STATE_DUMMY_SAVEPOINT_PATH


class SuspendMode(enum.StrEnum):
    """How the running job is taken down (upstream's SuspendMode)."""

    NOOP = "NOOP"
    """The job is already terminal: nothing to stop."""
    STATELESS = "STATELESS"
    """Delete the cluster and its HA data; the state is not needed."""
    SAVEPOINT = "SAVEPOINT"
    """Stop with a savepoint; the cluster stays until the next deploy replaces it."""
    CANCEL = "CANCEL"
    """Cancel the job keeping retained checkpoints (and HA data); restore from the latest checkpoint."""
    LAST_STATE = "LAST_STATE"
    """Do not touch the job: delete the cluster keeping HA data, the next cluster resumes from it."""

    @property
    def deletes_cluster(self) -> bool:
        return self in (SuspendMode.STATELESS, SuspendMode.LAST_STATE)

    @property
    def deletes_ha_data(self) -> bool:
        return self is not SuspendMode.LAST_STATE


@dataclass(frozen=True)
class JobUpgrade:
    """The outcome of `job_upgrade`."""

    suspend_mode: SuspendMode | None
    restore_mode: UpgradeMode | None
    available: bool
    allow_fallback: bool = False
    allow_other_reconcile_actions: bool = False
    restore_path: str | None = None
    """A restore path found by the decision itself (the retained checkpoint of a lost JobManager)."""
    reason: str = ""
    """Why the upgrade is pending (for logs)."""


def _of(suspend: SuspendMode, restore: UpgradeMode, restore_path: str | None = None) -> JobUpgrade:
    return JobUpgrade(suspend, restore, True, restore_path=restore_path)


def _pending(reason: str, *, allow_fallback: bool = False) -> JobUpgrade:
    return JobUpgrade(
        None, None, False, allow_fallback=allow_fallback, allow_other_reconcile_actions=True, reason=reason
    )


@dataclass(frozen=True)
class UpgradeInputs:
    """Everything `job_upgrade` looks at, as plain values."""

    upgrade_mode: UpgradeMode
    """The desired spec's upgrade mode."""
    job_state: FlinkJobState | None
    jm_status: JobManagerDeploymentStatus
    upgrade_savepoint_path: str | None = None
    flink_version_changed: bool = False
    savepoint_dir_configured: bool = False
    ha_enabled: bool = False
    """HA in both the deploy and the observe configuration."""
    ha_metadata_available: bool = False
    retained_checkpoint_path: str | None = None
    """The latest retained checkpoint of the job, if the runtime found one."""
    last_state_fallback_enabled: bool = True
    last_state_job_cancel_enabled: bool = False
    max_checkpoint_age_ms: int | None = None
    job_start_time_ms: int | None = None
    latest_checkpoint_time_ms: int | None = None
    now_ms: int = 0
    session_job: bool = False
    job_started: bool = True
    """Whether the current job was ever seen started (False: its JobManager never ran it)."""

    @property
    def job_terminal(self) -> bool:
        return self.job_state is not None and self.job_state.is_globally_terminal

    @property
    def job_running(self) -> bool:
        return self.job_state is FlinkJobState.RUNNING

    @property
    def job_cancellable(self) -> bool:
        """Upstream's isJobCancellable for a FlinkDeployment: a known, live job on a READY JobManager."""
        if self.job_state is None or self.job_state is FlinkJobState.RECONCILING or self.job_terminal:
            return False
        return self.session_job or self.jm_status is JobManagerDeploymentStatus.READY


def job_upgrade(inputs: UpgradeInputs) -> JobUpgrade:
    """Upstream's getJobUpgrade for an application (or, with `session_job`, a session job)."""
    decision = _decide(inputs)
    if decision.available or inputs.session_job:
        return decision
    if decision.allow_fallback and inputs.ha_enabled and inputs.ha_metadata_available:
        return _of(SuspendMode.LAST_STATE, UpgradeMode.LAST_STATE)
    if inputs.jm_status in (JobManagerDeploymentStatus.MISSING, JobManagerDeploymentStatus.ERROR) and not (
        inputs.ha_metadata_available
    ):
        if inputs.retained_checkpoint_path:
            return _of(SuspendMode.NOOP, UpgradeMode.SAVEPOINT, inputs.retained_checkpoint_path)
        if not inputs.job_started:
            # The job never ran (e.g. a broken spec whose JobManager never came up): its state is still the
            # point it was started from, so a fixed spec may start from there (upstream's "JobManager never
            # started" case).
            return _of(SuspendMode.NOOP, UpgradeMode.SAVEPOINT, inputs.upgrade_savepoint_path)
        raise UpgradeFailureError(MSG_JM_MISSING_NO_HA, Reason.UPGRADE_FAILED)
    return decision


def _decide(inputs: UpgradeInputs) -> JobUpgrade:
    mode = inputs.upgrade_mode
    if mode is UpgradeMode.STATELESS:
        suspend = SuspendMode.NOOP if inputs.job_terminal else SuspendMode.STATELESS
        return _of(suspend, UpgradeMode.STATELESS)

    if inputs.job_terminal and (
        inputs.job_state is FlinkJobState.CANCELED
        or not inputs.ha_metadata_available
        or inputs.jm_status is JobManagerDeploymentStatus.READY
    ):
        if inputs.upgrade_savepoint_path == LAST_STATE_DUMMY_SAVEPOINT_PATH:
            raise UpgradeFailureError(MSG_TERMINAL_UNKNOWN_CHECKPOINT, Reason.UPGRADE_FAILED)
        return _of(SuspendMode.NOOP, UpgradeMode.SAVEPOINT)

    if inputs.job_state is FlinkJobState.CANCELLING:
        return _pending("the job is being cancelled")

    if mode is UpgradeMode.SAVEPOINT:
        if inputs.job_running:
            return _of(SuspendMode.SAVEPOINT, UpgradeMode.SAVEPOINT)
        if not (inputs.flink_version_changed or inputs.last_state_fallback_enabled):
            return _pending("a savepoint upgrade needs a running job", allow_fallback=False)
    return _last_state(inputs)


def _last_state(inputs: UpgradeInputs) -> JobUpgrade:
    cancellable = inputs.job_cancellable and (
        inputs.session_job or not inputs.ha_metadata_available or inputs.last_state_job_cancel_enabled
    )
    if inputs.flink_version_changed:
        if inputs.job_running and inputs.savepoint_dir_configured:
            return _of(SuspendMode.SAVEPOINT, UpgradeMode.SAVEPOINT)
        if cancellable:
            return _of(SuspendMode.CANCEL, UpgradeMode.SAVEPOINT)
        return _pending("a Flink version change needs a running or cancellable job")

    if inputs.job_running:
        default = (
            _of(SuspendMode.CANCEL, UpgradeMode.SAVEPOINT)
            if cancellable
            else _of(SuspendMode.LAST_STATE, UpgradeMode.LAST_STATE)
        )
        max_age = inputs.max_checkpoint_age_ms
        if max_age is None or inputs.job_start_time_ms is None:
            return default
        oldest_allowed = inputs.now_ms - max_age
        if inputs.job_start_time_ms >= oldest_allowed:
            return default
        if (
            inputs.latest_checkpoint_time_ms is not None
            and inputs.latest_checkpoint_time_ms >= oldest_allowed
        ):
            return default
        return _of(SuspendMode.SAVEPOINT, UpgradeMode.SAVEPOINT)

    if cancellable:
        return _of(SuspendMode.CANCEL, UpgradeMode.SAVEPOINT)
    return _pending("the job is neither running nor cancellable", allow_fallback=True)
