"""The FlinkStateSnapshot resource (contract §1.6): one savepoint or checkpoint of a job."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from flink_operator.api.base import Bool, Int, SpecModel, StatusModel, Str
from flink_operator.api.constants import API_VERSION, KIND_FLINK_STATE_SNAPSHOT
from flink_operator.api.enums import FlinkStateSnapshotState, JobKind, SavepointFormatType
from flink_operator.api.resource import CustomResource


class JobReference(SpecModel):
    """The job a snapshot belongs to (same namespace)."""

    kind: JobKind | None = None
    """Kind of the job resource."""
    name: Str | None = None
    """Name of the job resource."""


class SavepointSpec(SpecModel):
    """A savepoint request."""

    path: Str | None = None
    """Target directory (default: the job's savepoint directory)."""
    format_type: SavepointFormatType = SavepointFormatType.CANONICAL
    """Savepoint format."""
    dispose_on_delete: Bool = True
    """Delete the savepoint data when the resource is deleted."""
    already_exists: Bool = False
    """The savepoint already exists at `path`; nothing is triggered."""


class CheckpointSpec(SpecModel):
    """A checkpoint request (no options)."""


class FlinkStateSnapshotSpec(SpecModel):
    """Desired snapshot: exactly one of savepoint or checkpoint."""

    job_reference: JobReference | None = None
    """Target job."""
    savepoint: SavepointSpec | None = None
    """Savepoint request."""
    checkpoint: CheckpointSpec | None = None
    """Checkpoint request."""
    backoff_limit: Int = -1
    """Maximum retries (-1: unlimited)."""

    @property
    def is_savepoint(self) -> bool:
        return self.savepoint is not None

    @property
    def is_checkpoint(self) -> bool:
        return self.checkpoint is not None


class FlinkStateSnapshotStatus(StatusModel):
    """Observed state of a snapshot."""

    state: FlinkStateSnapshotState = FlinkStateSnapshotState.TRIGGER_PENDING
    """Snapshot state."""
    trigger_id: Str | None = None
    """Flink trigger id."""
    trigger_timestamp: Str | None = None
    """Trigger time (RFC 3339)."""
    result_timestamp: Str | None = None
    """Completion time (RFC 3339)."""
    path: Str | None = None
    """Snapshot path."""
    error: Str | None = None
    """Last error."""
    failures: Int = 0
    """Failed attempts."""


class FlinkStateSnapshot(CustomResource):
    """A savepoint or checkpoint of a FlinkDeployment or FlinkSessionJob."""

    api_version: Literal["flink.apache.org/v1beta1"] = Field(default=API_VERSION, alias="apiVersion")
    kind: Literal["FlinkStateSnapshot"] = KIND_FLINK_STATE_SNAPSHOT
    spec: FlinkStateSnapshotSpec = Field(default_factory=FlinkStateSnapshotSpec)
    status: FlinkStateSnapshotStatus = Field(default_factory=FlinkStateSnapshotStatus)
