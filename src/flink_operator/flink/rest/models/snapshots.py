"""Checkpoint and savepoint responses: statistics, details, configuration, asynchronous operations."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from flink_operator.flink.rest.models._base import FlinkModel
from flink_operator.flink.rest.models.jobs import OperationState, SerializedFailure


class CheckpointCounts(FlinkModel):
    restored: int = 0
    total: int = 0
    in_progress: int = 0
    completed: int = 0
    failed: int = 0


class CheckpointSummary(FlinkModel):
    """A checkpoint as listed in ``latest``/``history`` and returned by the details endpoint."""

    id: int
    status: str = ""
    is_savepoint: bool = False
    savepoint_format: str | None = Field(None, alias="savepointFormat")
    checkpoint_type: str | None = None
    trigger_timestamp: int = 0
    latest_ack_timestamp: int = 0
    state_size: int = 0
    checkpointed_size: int | None = None
    end_to_end_duration: int = 0
    num_subtasks: int = 0
    num_acknowledged_subtasks: int = 0
    external_path: str | None = None
    discarded: bool | None = None
    failure_timestamp: int | None = None
    failure_message: str | None = None


class RestoredCheckpoint(FlinkModel):
    id: int
    restore_timestamp: int = 0
    is_savepoint: bool = False
    external_path: str | None = None


class LatestCheckpoints(FlinkModel):
    completed: CheckpointSummary | None = None
    savepoint: CheckpointSummary | None = None
    failed: CheckpointSummary | None = None
    restored: RestoredCheckpoint | None = None


class CheckpointStats(FlinkModel):
    """``GET /jobs/:id/checkpoints`` (cached for ``rest.cache.checkpoint-statistics.timeout``, 3 s)."""

    counts: CheckpointCounts = Field(default_factory=CheckpointCounts)
    latest: LatestCheckpoints = Field(default_factory=LatestCheckpoints)
    history: list[CheckpointSummary] = Field(default_factory=list)

    @property
    def latest_completed_path(self) -> str | None:
        completed = self.latest.completed
        return completed.external_path if completed is not None else None

    @property
    def in_progress(self) -> int:
        return self.counts.in_progress


CheckpointDetails = CheckpointSummary
"""``GET /jobs/:id/checkpoints/details/:checkpointid`` has the shape of a history entry."""


class Externalization(FlinkModel):
    enabled: bool = False
    delete_on_cancellation: bool = False


class CheckpointConfig(FlinkModel):
    """``GET /jobs/:id/checkpoints/config`` (404 when checkpointing is disabled for the job)."""

    mode: str = ""
    interval: int = 0
    timeout: int = 0
    min_pause: int = 0
    max_concurrent: int = 0
    externalization: Externalization = Field(default_factory=Externalization)
    state_backend: str | None = None
    checkpoint_storage: str | None = None
    unaligned_checkpoints: bool | None = None
    tolerable_failed_checkpoints: int | None = None


class TriggerId(FlinkModel):
    """The answer to any asynchronous trigger: the id to poll with."""

    request_id: str = Field(alias="request-id")


class SavepointOperationResult(FlinkModel):
    location: str | None = None
    failure_cause: SerializedFailure | None = Field(None, alias="failure-cause")


class CheckpointOperationResult(FlinkModel):
    checkpoint_id: int | None = Field(None, alias="checkpointId")
    # The checkpoint trigger reports its failure as "failureCause" (1.20 and 2.x), unlike the others.
    failure_cause: SerializedFailure | None = Field(
        None, validation_alias=AliasChoices("failureCause", "failure-cause")
    )


class DisposalOperationResult(FlinkModel):
    failure_cause: SerializedFailure | None = Field(None, alias="failure-cause")


class SavepointStatus(FlinkModel):
    """``GET /jobs/:id/savepoints/:triggerid`` (savepoint and stop-with-savepoint)."""

    status: OperationState
    operation: SavepointOperationResult | None = None

    @property
    def done(self) -> bool:
        return self.status.id == "COMPLETED"


class CheckpointTriggerStatus(FlinkModel):
    """``GET /jobs/:id/checkpoints/:triggerid``."""

    status: OperationState
    operation: CheckpointOperationResult | None = None

    @property
    def done(self) -> bool:
        return self.status.id == "COMPLETED"


class DisposalStatus(FlinkModel):
    """``GET /savepoint-disposal/:triggerid``."""

    status: OperationState
    operation: DisposalOperationResult | None = None

    @property
    def done(self) -> bool:
        return self.status.id == "COMPLETED"
