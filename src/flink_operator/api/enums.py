"""The enumerations of the flink.apache.org/v1beta1 resources, with upstream's exact wire values.

Every enum is a `str` enum whose values are what appears in YAML/JSON. Behaviour attached here is limited to
facts about a value itself (ordering of Flink versions, terminal lifecycle states); decisions live elsewhere.
"""

from __future__ import annotations

from enum import StrEnum


class FlinkVersion(StrEnum):
    """Flink version of a deployment (`spec.flinkVersion`), in release order."""

    v1_13 = "v1_13"
    v1_14 = "v1_14"
    v1_15 = "v1_15"
    v1_16 = "v1_16"
    v1_17 = "v1_17"
    v1_18 = "v1_18"
    v1_19 = "v1_19"
    v1_20 = "v1_20"
    v2_0 = "v2_0"
    v2_1 = "v2_1"
    v2_2 = "v2_2"
    v2_3 = "v2_3"
    v2_4 = "v2_4"

    @property
    def order(self) -> int:
        return _FLINK_VERSION_ORDER[self]

    def is_equal_or_newer(self, other: FlinkVersion) -> bool:
        return self.order >= other.order

    @property
    def is_supported(self) -> bool:
        """Upstream supports v1_15 and newer; older values are accepted by the schema only."""
        return self.is_equal_or_newer(FlinkVersion.v1_15)

    @property
    def is_deprecated(self) -> bool:
        """v1_13 … v1_18 are deprecated upstream."""
        return not self.is_equal_or_newer(FlinkVersion.v1_19)

    @property
    def major_minor(self) -> tuple[int, int]:
        major, minor = self.value[1:].split("_")
        return int(major), int(minor)


_FLINK_VERSION_ORDER = {version: index for index, version in enumerate(FlinkVersion)}


class UpgradeMode(StrEnum):
    """How job state is carried across upgrades and suspends (`spec.job.upgradeMode`)."""

    SAVEPOINT = "savepoint"
    LAST_STATE = "last-state"
    STATELESS = "stateless"


class JobState(StrEnum):
    """Desired state of a job (`spec.job.state`)."""

    RUNNING = "running"
    SUSPENDED = "suspended"


class KubernetesDeploymentMode(StrEnum):
    """How Flink runs on Kubernetes (`spec.mode`); unset means native."""

    NATIVE = "native"
    STANDALONE = "standalone"


class ResourceLifecycleState(StrEnum):
    """Lifecycle of a FlinkDeployment/FlinkSessionJob (`status.lifecycleState`), see §2.1."""

    CREATED = "CREATED"
    SUSPENDED = "SUSPENDED"
    UPGRADING = "UPGRADING"
    DEPLOYED = "DEPLOYED"
    STABLE = "STABLE"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"
    FAILED = "FAILED"
    DELETING = "DELETING"
    DELETED = "DELETED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL_LIFECYCLE_STATES

    @property
    def description(self) -> str:
        return _LIFECYCLE_DESCRIPTIONS[self]

    def cleared_states_after_transition(
        self, previous: ResourceLifecycleState
    ) -> frozenset[ResourceLifecycleState]:
        """States whose timers a transition from `previous` to this state resets (for lifecycle metrics).

        Entering a terminal state clears all others; entering UPGRADING clears all but UPGRADING and
        `previous`; anything else clears nothing.
        """
        if self is previous:
            return frozenset()
        if self.is_terminal:
            return frozenset(ResourceLifecycleState) - {self}
        if self is ResourceLifecycleState.UPGRADING:
            return frozenset(ResourceLifecycleState) - {self, previous}
        return frozenset()


_TERMINAL_LIFECYCLE_STATES = frozenset(
    {
        ResourceLifecycleState.SUSPENDED,
        ResourceLifecycleState.STABLE,
        ResourceLifecycleState.ROLLED_BACK,
        ResourceLifecycleState.FAILED,
        ResourceLifecycleState.DELETED,
    }
)
_LIFECYCLE_DESCRIPTIONS = {
    ResourceLifecycleState.CREATED: "The resource was created in Kubernetes but not yet handled by the "
    "operator",
    ResourceLifecycleState.SUSPENDED: "The resource (job) has been suspended",
    ResourceLifecycleState.UPGRADING: "The resource is being upgraded",
    ResourceLifecycleState.DEPLOYED: "The resource is deployed/submitted to Kubernetes, but it's not yet "
    "considered to be stable and might be rolled back in the future",
    ResourceLifecycleState.STABLE: "The resource deployment is considered to be stable and won't be rolled "
    "back",
    ResourceLifecycleState.ROLLING_BACK: "The resource is being rolled back to the last stable spec",
    ResourceLifecycleState.ROLLED_BACK: "The resource is deployed with the last stable spec",
    ResourceLifecycleState.FAILED: "The job terminally failed",
    ResourceLifecycleState.DELETING: "The resource is being deleted",
    ResourceLifecycleState.DELETED: "The resource is deleted",
}


class JobManagerDeploymentStatus(StrEnum):
    """Observed state of the JobManager deployment (`status.jobManagerDeploymentStatus`), see §2.4."""

    READY = "READY"
    DEPLOYED_NOT_READY = "DEPLOYED_NOT_READY"
    DEPLOYING = "DEPLOYING"
    MISSING = "MISSING"
    ERROR = "ERROR"


class ReconciliationState(StrEnum):
    """State of the last reconciliation (`status.reconciliationStatus.state`), see §2.2."""

    DEPLOYED = "DEPLOYED"
    UPGRADING = "UPGRADING"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"


class SnapshotTriggerType(StrEnum):
    """What triggered a savepoint or checkpoint."""

    MANUAL = "MANUAL"
    PERIODIC = "PERIODIC"
    UPGRADE = "UPGRADE"
    UNKNOWN = "UNKNOWN"


class SavepointFormatType(StrEnum):
    """Binary format of a savepoint."""

    CANONICAL = "CANONICAL"
    NATIVE = "NATIVE"
    UNKNOWN = "UNKNOWN"


class CheckpointType(StrEnum):
    """Kind of a checkpoint."""

    FULL = "FULL"
    INCREMENTAL = "INCREMENTAL"
    UNKNOWN = "UNKNOWN"


class FlinkStateSnapshotState(StrEnum):
    """State of a FlinkStateSnapshot (`status.state`)."""

    TRIGGER_PENDING = "TRIGGER_PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ABANDONED = "ABANDONED"


class JobKind(StrEnum):
    """Kind of resource a FlinkStateSnapshot refers to (`spec.jobReference.kind`)."""

    FLINK_DEPLOYMENT = "FlinkDeployment"
    FLINK_SESSION_JOB = "FlinkSessionJob"


class FlinkJobState(StrEnum):
    """Flink's own job status as reported by the REST API (`status.jobStatus.state`)."""

    INITIALIZING = "INITIALIZING"
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    FAILING = "FAILING"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELED = "CANCELED"
    FINISHED = "FINISHED"
    RESTARTING = "RESTARTING"
    SUSPENDED = "SUSPENDED"
    RECONCILING = "RECONCILING"

    @property
    def is_globally_terminal(self) -> bool:
        """FAILED, CANCELED and FINISHED end a job for good (Flink's own definition)."""
        return self in (FlinkJobState.FAILED, FlinkJobState.CANCELED, FlinkJobState.FINISHED)
