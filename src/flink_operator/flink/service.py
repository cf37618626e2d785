"""The FlinkService protocol: everything the controllers ask of a Flink runtime, as plain data in and out.

This module owns the runtime-neutral contract between the controllers and a place where Flink clusters run
(processes on this machine, native Kubernetes, standalone Kubernetes). It knows nothing about the resource
models: requests carry the effective, flattened Flink configuration (string keys and values) and the few
fields a runtime cannot derive from it. Implementations live beside it (``flink.local`` and later the
Kubernetes runtimes).

Idempotency is part of the contract. The controllers persist their intent in the resource status before
acting and may repeat any call after a crash, so every method documents what a repeated call does. What this
module does not guarantee: that a runtime enforces resource limits (the local runtime does not), nor that a
returned snapshot path stays valid once the storage behind it is cleaned up.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from flink_operator.flink.rest import CheckpointType, SavepointFormat

__all__ = [
    "TERMINAL_JOB_STATES",
    "ArtifactError",
    "CancelResult",
    "CheckpointInfo",
    "CheckpointType",
    "ClusterInfo",
    "ClusterMode",
    "ClusterNotFoundError",
    "ClusterRef",
    "ClusterRequest",
    "DeployResult",
    "DeploymentError",
    "FlinkService",
    "FlinkServiceError",
    "JobExceptionInfo",
    "JobFailure",
    "JobManagerObservation",
    "JobManagerStatus",
    "JobNotFoundError",
    "JobSpec",
    "JobSummary",
    "SavepointFormat",
    "SessionJobRequest",
    "SnapshotError",
    "SnapshotKind",
    "SnapshotResult",
    "SnapshotState",
    "SnapshotTrigger",
    "SuspendMode",
    "ThrowableInfo",
]


class FlinkServiceError(Exception):
    """A Flink runtime operation failed; the message says which operation, on what, and why."""


class ClusterNotFoundError(FlinkServiceError):
    """The cluster named in a call does not exist (or its JobManager is gone)."""


class JobNotFoundError(FlinkServiceError):
    """The job id named in a call is not known to the cluster."""


class DeploymentError(FlinkServiceError):
    """A cluster could not be deployed: bad configuration, no distribution, a process that failed to start."""


class ArtifactError(FlinkServiceError):
    """A job artifact (jarURI) could not be resolved, fetched or read."""


class SnapshotError(FlinkServiceError):
    """A savepoint or checkpoint failed, or its result could not be read."""


class ClusterMode(enum.StrEnum):
    """Whether a cluster runs one application (its job starts with it) or accepts submitted jobs."""

    APPLICATION = "application"
    SESSION = "session"


class JobManagerStatus(enum.StrEnum):
    """The runtime's view of the JobManager, mirroring upstream's JobManagerDeploymentStatus values."""

    MISSING = "MISSING"
    DEPLOYING = "DEPLOYING"
    DEPLOYED_NOT_READY = "DEPLOYED_NOT_READY"
    READY = "READY"
    ERROR = "ERROR"


class SuspendMode(enum.StrEnum):
    """How ``cancel_job`` takes a job down.

    STATELESS: cancel; the state is not needed afterwards.
    SAVEPOINT: stop-with-savepoint; the result carries the savepoint path.
    LAST_STATE: cancel while keeping the retained checkpoints; the result carries the latest completed
    checkpoint path (the restore point of a last-state upgrade).
    """

    STATELESS = "stateless"
    SAVEPOINT = "savepoint"
    LAST_STATE = "last-state"


class SnapshotKind(enum.StrEnum):
    SAVEPOINT = "savepoint"
    CHECKPOINT = "checkpoint"


class SnapshotState(enum.StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


TERMINAL_JOB_STATES = frozenset({"FAILED", "CANCELED", "FINISHED"})
"""Globally terminal Flink job states (the job will not run again in this cluster)."""


@dataclass(frozen=True)
class ClusterRef:
    """Names one cluster: the namespace and name of the resource that owns it."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class JobSpec:
    """What to run: the artifact, entry point, arguments and parallelism (None = from configuration)."""

    jar_uri: str | None
    entry_class: str | None = None
    args: tuple[str, ...] = ()
    parallelism: int | None = None


@dataclass(frozen=True)
class ClusterRequest:
    """Everything needed to deploy a session cluster (job None) or an application cluster (job set).

    ``configuration`` is the effective flattened Flink configuration (operator-only keys may be present;
    runtimes drop ``kubernetes.operator.*`` and ``job.autoscaler.*`` before handing it to Flink).
    ``restore_path`` is a savepoint or retained checkpoint to start the application from.
    ``job_id`` fixes the application's job id (32 hex digits); None lets the runtime pick one.
    ``ha_enabled`` asks for JobManager high availability. ``generation`` is the resource generation this
    deployment realises; a repeated deploy of the same generation is a no-op.
    ``taskmanager_replicas`` None means: application mode ceil(parallelism / slots), session mode 1.

    Files travel as content, so no runtime depends on files on the operator's machine:
    ``jobmanager_pod_template`` / ``taskmanager_pod_template`` are the layered pod templates (None: none;
    the Kubernetes runtimes use them, the local runtime has no pods and ignores them); ``log_files`` maps
    log configuration file names (``log4j-console.properties``, ``logback-console.xml``) to contents (empty:
    the runtime's defaults). ``ingress`` is ``spec.ingress`` as plain JSON and ``manage_ingress`` says
    whether the runtime keeps the cluster's Ingress in line with it (created/replaced when set, removed
    when None); only the Kubernetes runtimes have Ingresses.
    """

    ref: ClusterRef
    flink_version: str
    configuration: Mapping[str, str]
    generation: int
    job: JobSpec | None = None
    restore_path: str | None = None
    job_id: str | None = None
    allow_non_restored_state: bool = False
    ha_enabled: bool = False
    taskmanager_replicas: int | None = None
    jobmanager_pod_template: Mapping[str, Any] | None = None
    taskmanager_pod_template: Mapping[str, Any] | None = None
    log_files: Mapping[str, str] = field(default_factory=dict)
    ingress: Mapping[str, Any] | None = None
    manage_ingress: bool = False

    @property
    def mode(self) -> ClusterMode:
        return ClusterMode.SESSION if self.job is None else ClusterMode.APPLICATION


@dataclass(frozen=True)
class SessionJobRequest:
    """A job to submit to a running session cluster under a fixed job id (32 hex digits).

    ``job_name`` names the FlinkSessionJob (used for artifact download directories).
    ``configuration`` holds job-level Flink options sent along with the submission.
    """

    cluster: ClusterRef
    job_name: str
    job: JobSpec
    job_id: str
    configuration: Mapping[str, str] = field(default_factory=dict)
    restore_path: str | None = None
    allow_non_restored_state: bool = False


@dataclass(frozen=True)
class DeployResult:
    """What a deploy call did: ``started`` is False when the same generation was already deployed."""

    ref: ClusterRef
    started: bool
    rest_url: str
    job_id: str | None


@dataclass(frozen=True)
class JobManagerObservation:
    """The JobManager's state as the runtime sees it (the analogue of the JM Deployment status).

    ``reason`` explains MISSING/ERROR/DEPLOYING in words (exit code and last log lines for a dead process).
    ``exit_code`` is set when the JobManager process is known to have exited (negative = killed by a signal).
    ``generation`` is the resource generation of the running deployment, if any.
    ``error_reason`` is the short machine-readable cause of an ERROR where the runtime knows one (the
    Kubernetes reason: ``CrashLoopBackOff``, ``ImagePullBackOff``, ``OOMKilled``, ``FailedMount``,
    ``Unschedulable``, ...); the controllers use it as the reason of the Warning event.
    """

    status: JobManagerStatus
    reason: str = ""
    exit_code: int | None = None
    generation: int | None = None
    rest_url: str | None = None
    taskmanagers: int | None = None
    error_reason: str | None = None


@dataclass(frozen=True)
class JobSummary:
    job_id: str
    name: str
    state: str
    start_time_ms: int | None = None
    end_time_ms: int | None = None
    last_modification_ms: int | None = None
    """When the job last changed state (Flink's `last-modification`; None when unknown)."""

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_JOB_STATES


@dataclass(frozen=True)
class ThrowableInfo:
    """One exception of a cause chain: its Java class and its own message."""

    exception_class: str
    message: str


@dataclass(frozen=True)
class JobFailure:
    """Why a job FAILED, from its execution result.

    ``exception_class`` is the outermost exception Flink reports; ``message`` the most specific
    human-readable message of its cause chain (the root cause, or an enclosing message quoting it with more
    context); ``causes`` the chain, outermost first; ``stack_trace`` Flink's rendering of the whole chain.
    """

    exception_class: str
    message: str
    causes: tuple[ThrowableInfo, ...] = ()
    stack_trace: str = ""


@dataclass(frozen=True)
class JobExceptionInfo:
    """One root exception of a job's exception history (a failure that restarted or failed the job).

    ``exception`` is Flink's ``exceptionName`` (the exception's class); ``stack_trace`` its rendering
    (``class: message`` and the frames); ``timestamp_ms`` when it happened (epoch milliseconds); the rest
    says where, when Flink knows it.
    """

    exception: str
    timestamp_ms: int
    stack_trace: str = ""
    task_name: str | None = None
    endpoint: str | None = None
    task_manager_id: str | None = None
    failure_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CancelResult:
    """The outcome of ``cancel_job``: the final job state and, for stateful modes, where the state is."""

    job_id: str
    final_state: str
    savepoint_path: str | None = None
    checkpoint_path: str | None = None


@dataclass(frozen=True)
class SnapshotTrigger:
    """A triggered savepoint/checkpoint; pass it back to ``snapshot_result``."""

    kind: SnapshotKind
    job_id: str
    trigger_id: str


@dataclass(frozen=True)
class SnapshotResult:
    """The state of a triggered snapshot; ``location`` is set for completed savepoints and checkpoints."""

    state: SnapshotState
    location: str | None = None
    checkpoint_id: int | None = None
    failure: str | None = None


@dataclass(frozen=True)
class CheckpointInfo:
    """A completed checkpoint that can be restored from (its external path)."""

    checkpoint_id: int
    external_path: str
    timestamp_ms: int | None = None


@dataclass(frozen=True)
class ClusterInfo:
    """What upstream puts into ``status.clusterInfo``: version, revision and the cluster's total resources."""

    flink_version: str
    flink_revision: str
    total_cpu: float
    total_memory_bytes: int

    def as_status_map(self) -> dict[str, str]:
        return {
            "flink-version": self.flink_version,
            "flink-revision": self.flink_revision,
            "total-cpu": _format_cpu(self.total_cpu),
            "total-memory": str(self.total_memory_bytes),
        }


def _format_cpu(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


@runtime_checkable
class FlinkService(Protocol):
    """Operations on Flink clusters and jobs, the same for every runtime.

    Every method is safe to repeat; the documented effect of a repeated call is part of the contract.
    Time bounds come from the runtime's own configuration; no method waits without a deadline.
    """

    async def deploy_session_cluster(self, request: ClusterRequest) -> DeployResult:
        """Start a session cluster (request.job must be None).

        Repeat: if a cluster for the same ref and generation exists (running or starting), nothing is started
        and ``started`` is False. A cluster of an older generation is replaced (deleted keeping HA data).
        Returns once the processes are started, not once REST answers: observe with ``observe_jobmanager``.
        """
        ...

    async def deploy_application_cluster(self, request: ClusterRequest) -> DeployResult:
        """Start an application cluster running request.job (restored from request.restore_path if set).

        Repeat: same as ``deploy_session_cluster``; a job id that already runs is never started twice.
        With HA, each deployment gets a fresh JobResultStore path so a redeploy of a finished job id is not
        refused.
        """
        ...

    async def delete_cluster(self, ref: ClusterRef, *, delete_ha_data: bool) -> None:
        """Stop the cluster's processes and forget it; with ``delete_ha_data`` also remove its HA metadata.

        Checkpoints and savepoints are kept. Repeat: deleting a missing cluster is a no-op (HA data is still
        removed when asked).
        """
        ...

    async def observe_jobmanager(self, ref: ClusterRef) -> JobManagerObservation:
        """The JobManager's status. Read-only, except that a dead JobManager's leftovers are stopped."""
        ...

    def rest_url(self, ref: ClusterRef) -> str | None:
        """The REST base URL (also the Web UI) of the cluster, or None if the runtime knows none."""
        ...

    async def cluster_info(self, ref: ClusterRef) -> ClusterInfo:
        """Version, revision and total resources of a running cluster."""
        ...

    async def submit_job(self, request: SessionJobRequest) -> str:
        """Upload the jar and run it on a session cluster under request.job_id; returns the job id.

        Repeat: if the cluster already knows the job id (in any state), nothing is submitted.
        """
        ...

    async def list_jobs(self, ref: ClusterRef) -> list[JobSummary]:
        """All jobs the cluster knows (running and terminal)."""
        ...

    async def job_status(self, ref: ClusterRef, job_id: str) -> JobSummary | None:
        """One job, or None if the cluster does not know it."""
        ...

    async def job_failure(self, ref: ClusterRef, job_id: str) -> JobFailure | None:
        """Why a FAILED job failed (its execution result); None when the job did not fail, is not known, or
        the cluster does not say. Read-only."""
        ...

    async def job_exceptions(
        self, ref: ClusterRef, job_id: str, *, since_ms: int = 0, limit: int = 10
    ) -> list[JobExceptionInfo]:
        """The job's root exceptions that happened after ``since_ms`` (epoch milliseconds), newest first,
        at most ``limit``. Empty when the job is not known. Read-only."""
        ...

    async def cancel_job(
        self,
        ref: ClusterRef,
        job_id: str,
        mode: SuspendMode,
        *,
        savepoint_dir: str | None = None,
        savepoint_format: SavepointFormat = SavepointFormat.CANONICAL,
        drain: bool = False,
    ) -> CancelResult:
        """Take a job down as ``mode`` says and wait (bounded) until it is terminal.

        Repeat: a job that is already terminal is not touched; SAVEPOINT then returns the job's latest
        savepoint and LAST_STATE its latest retained checkpoint.
        """
        ...

    async def trigger_savepoint(
        self,
        ref: ClusterRef,
        job_id: str,
        *,
        target_dir: str | None = None,
        savepoint_format: SavepointFormat = SavepointFormat.CANONICAL,
    ) -> SnapshotTrigger:
        """Trigger a savepoint of a running job (no cancel). Repeat: a second savepoint is taken; callers
        record the trigger in status before calling again."""
        ...

    async def trigger_checkpoint(
        self,
        ref: ClusterRef,
        job_id: str,
        *,
        checkpoint_type: CheckpointType = CheckpointType.FULL,
    ) -> SnapshotTrigger:
        """Trigger a checkpoint of a running job (Flink 1.17+). Repeat: as for savepoints."""
        ...

    async def snapshot_result(self, ref: ClusterRef, trigger: SnapshotTrigger) -> SnapshotResult:
        """The state of a triggered savepoint or checkpoint. Read-only."""
        ...

    async def dispose_savepoint(self, ref: ClusterRef | None, path: str) -> None:
        """Delete a savepoint. Repeat: disposing a savepoint that is gone is a no-op."""
        ...

    async def latest_checkpoint(self, ref: ClusterRef, job_id: str) -> CheckpointInfo | None:
        """The latest completed, externally addressable checkpoint of the job: from the cluster when it
        answers, else from the checkpoint storage. None if there is none."""
        ...

    async def ha_metadata_available(self, ref: ClusterRef) -> bool:
        """Whether HA metadata (a submitted job graph) exists for the cluster, running or not."""
        ...

    async def ha_has_checkpoint(self, ref: ClusterRef) -> bool:
        """Whether the HA metadata records at least one completed checkpoint."""
        ...

    async def rescale_job(self, ref: ClusterRef, job_id: str, parallelism: Mapping[str, int]) -> None:
        """Change vertex parallelism in place (adaptive scheduler). Keys are vertex ids; the value becomes the
        upper bound. Returns once Flink accepted the request; the change is applied asynchronously.
        Repeat: setting the same parallelism again is harmless."""
        ...

    async def job_metrics(self, ref: ClusterRef, job_id: str, names: Sequence[str]) -> dict[str, str]:
        """Job-level metric values by name (missing metrics are absent from the result)."""
        ...
