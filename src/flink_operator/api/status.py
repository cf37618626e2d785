"""Status parts shared by FlinkDeployment and FlinkSessionJob (contract §1.4, §2.2, §2.5).

Status models keep fields they do not know, so a status written by another operator version survives a
read-modify-write. The bookkeeping helpers here are the ones upstream keeps on the model itself (savepoint
history, trigger bookkeeping); they take the time as an argument and never read the clock.
"""

from __future__ import annotations

from pydantic import Field

from flink_operator.api.base import Int, Long, StatusModel, Str
from flink_operator.api.enums import (
    CheckpointType,
    FlinkJobState,
    ReconciliationState,
    ResourceLifecycleState,
    SavepointFormatType,
    SnapshotTriggerType,
)


class Savepoint(StatusModel):
    """A completed savepoint."""

    time_stamp: Long = 0
    """Completion time (epoch milliseconds)."""
    location: Str | None = None
    """Savepoint path."""
    trigger_type: SnapshotTriggerType = SnapshotTriggerType.UNKNOWN
    format_type: SavepointFormatType = SavepointFormatType.UNKNOWN
    trigger_nonce: Long | None = None
    """Nonce of a manual trigger."""


class SavepointInfo(StatusModel):
    """Deprecated savepoint bookkeeping (still used when snapshot resources are disabled)."""

    last_savepoint: Savepoint | None = None
    trigger_id: Str | None = None
    trigger_timestamp: Long | None = None
    trigger_type: SnapshotTriggerType | None = None
    format_type: SavepointFormatType | None = None
    savepoint_history: list[Savepoint] = Field(default_factory=list)
    last_periodic_savepoint_timestamp: Long = 0

    def set_trigger(
        self,
        trigger_id: str,
        trigger_type: SnapshotTriggerType,
        format_type: SavepointFormatType,
        now_millis: int,
    ) -> None:
        self.trigger_id = trigger_id
        self.trigger_timestamp = now_millis
        self.trigger_type = trigger_type
        self.format_type = format_type

    def reset_trigger(self) -> None:
        self.trigger_id = None
        self.trigger_timestamp = None
        self.trigger_type = None
        self.format_type = None

    def update_last_savepoint(self, savepoint: Savepoint | None) -> None:
        """Record a completed savepoint: a new location joins the history; the pending trigger is cleared."""
        if savepoint is None:
            self.last_savepoint = None
        elif self.last_savepoint is None or self.last_savepoint.location != savepoint.location:
            self.last_savepoint = savepoint
            self.savepoint_history = [*self.savepoint_history, savepoint]
            if savepoint.trigger_type is SnapshotTriggerType.PERIODIC:
                self.last_periodic_savepoint_timestamp = savepoint.time_stamp
        self.reset_trigger()


class Checkpoint(StatusModel):
    """A completed checkpoint."""

    time_stamp: Long = 0
    trigger_type: SnapshotTriggerType = SnapshotTriggerType.UNKNOWN
    format_type: CheckpointType = CheckpointType.UNKNOWN
    trigger_nonce: Long | None = None


class CheckpointInfo(StatusModel):
    """Deprecated checkpoint bookkeeping."""

    last_checkpoint: Checkpoint | None = None
    trigger_id: Str | None = None
    trigger_timestamp: Long | None = None
    trigger_type: SnapshotTriggerType | None = None
    format_type: CheckpointType | None = None
    last_periodic_checkpoint_timestamp: Long = 0

    def set_trigger(
        self, trigger_id: str, trigger_type: SnapshotTriggerType, format_type: CheckpointType, now_millis: int
    ) -> None:
        self.trigger_id = trigger_id
        self.trigger_timestamp = now_millis
        self.trigger_type = trigger_type
        self.format_type = format_type

    def reset_trigger(self) -> None:
        self.trigger_id = None
        self.trigger_timestamp = None
        self.trigger_type = None
        self.format_type = None

    def update_last_checkpoint(self, checkpoint: Checkpoint | None) -> None:
        self.last_checkpoint = checkpoint
        if checkpoint is not None and checkpoint.trigger_type is SnapshotTriggerType.PERIODIC:
            self.last_periodic_checkpoint_timestamp = checkpoint.time_stamp
        self.reset_trigger()


class JobStatus(StatusModel):
    """Observed state of the Flink job (`status.jobStatus`)."""

    job_name: Str | None = None
    job_id: Str | None = None
    """Job id (hex)."""
    state: FlinkJobState | None = None
    """Flink job status."""
    start_time: Str | None = None
    """Start time (epoch milliseconds as a string)."""
    update_time: Str | None = None
    """Time of the last state change (epoch milliseconds as a string)."""
    upgrade_savepoint_path: Str | None = None
    """Path used for the next stateful restore."""
    savepoint_info: SavepointInfo = Field(default_factory=SavepointInfo)
    """Deprecated savepoint bookkeeping."""
    checkpoint_info: CheckpointInfo = Field(default_factory=CheckpointInfo)
    """Deprecated checkpoint bookkeeping."""


class ReconciliationStatus(StatusModel):
    """What the operator last reconciled (`status.reconciliationStatus`)."""

    reconciliation_timestamp: Long = 0
    """Epoch milliseconds of the last reconciliation."""
    last_reconciled_spec: Str | None = None
    """JSON of the last reconciled spec with metadata."""
    last_stable_spec: Str | None = None
    """JSON of the last stable spec with metadata."""
    state: ReconciliationState = ReconciliationState.UPGRADING
    """Reconciliation state."""

    @property
    def is_before_first_deployment(self) -> bool:
        return self.last_reconciled_spec is None

    def deployed_spec_json(self) -> str | None:
        """The spec actually running: the stable one after a rollback, else the last reconciled one."""
        if self.state is ReconciliationState.ROLLED_BACK:
            return self.last_stable_spec
        return self.last_reconciled_spec

    def mark_reconciled_spec_as_stable(self) -> None:
        self.last_stable_spec = self.last_reconciled_spec

    @property
    def is_last_reconciled_spec_stable(self) -> bool:
        return self.last_reconciled_spec is not None and self.last_reconciled_spec == self.last_stable_spec


class Condition(StatusModel):
    """A Kubernetes-style status condition."""

    type: Str | None = None
    status: Str | None = None
    reason: Str | None = None
    message: Str | None = None
    last_transition_time: Str | None = None
    observed_generation: Long | None = None


class TaskManagerInfo(StatusModel):
    """TaskManager replicas and selector, read by the scale subresource."""

    label_selector: Str | None = None
    replicas: Int = 0


class CommonStatus(StatusModel):
    """Fields common to FlinkDeployment and FlinkSessionJob statuses."""

    job_status: JobStatus = Field(default_factory=JobStatus)
    """Observed job status."""
    error: Str | None = None
    """Last error (usually JSON)."""
    observed_generation: Long | None = None
    """Generation of the last reconciled spec."""
    lifecycle_state: ResourceLifecycleState | None = None
    """Lifecycle state of the resource."""
    reconciliation_status: ReconciliationStatus = Field(default_factory=ReconciliationStatus)
    """Last reconciliation."""
