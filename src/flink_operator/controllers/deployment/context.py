"""Everything one FlinkDeployment decision looks at, as one immutable value.

The shell fills it (resource as read, observed status, validation verdict, settings, facts, the clock and
fresh random ids); the decision functions read it and nothing else. Fresh ids are drawn by the shell so
that a decision is deterministic: the same context always yields the same step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from flink_operator.api import (
    API_VERSION,
    KIND_FLINK_DEPLOYMENT,
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
)
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.deployment.observation import Facts
from flink_operator.controllers.sessionjob.deletion import SessionDeletionSettings, SessionJobRef
from flink_operator.flink.config_builder import OwnerInfo
from flink_operator.flink.service import ClusterRef, JobSummary


@dataclass(frozen=True)
class DeploymentContext:
    resource: FlinkDeployment
    """The resource as read, with the status as it was before this reconcile."""
    observed: FlinkDeploymentStatus
    """The status after observation (the starting point of the decision)."""
    spec: FlinkDeploymentSpec
    """The desired spec after mutators (in memory only; never written back)."""
    settings: ResourceSettings
    defaults: Mapping[str, str]
    """The operator default configuration with this resource's namespace and version defaults."""
    now_ms: int
    new_job_id: str
    """A fresh random job id (32 hex digits), used if this decision starts a new job."""
    new_deployment_id: str
    """A fresh random id for per-deployment paths (JobResultStore)."""
    validation_error: str | None = None
    facts: Facts = field(default_factory=Facts)
    observation_events: tuple[EventSpec, ...] = ()
    deployment_in_progress: bool = False
    reconciled_generation: int | None = None
    """Set when the current generation was rejected: the generation of the spec that is reconciled instead
    (upstream resets `metadata.generation` to `observedGeneration` in memory)."""
    session_jobs: tuple[SessionJobRef, ...] = ()
    """Session clusters: the FlinkSessionJobs that name this resource in `spec.deploymentName`."""
    managed_job_ids: frozenset[str] = frozenset()
    """Session clusters: the job ids those session jobs record (their jobs are not "unmanaged")."""
    session_cluster_jobs: tuple[JobSummary, ...] | None = None
    """Session clusters being deleted: every job the cluster knows (None: not asked or no answer)."""
    session_deletion: SessionDeletionSettings = field(default_factory=SessionDeletionSettings)
    force_deletion: bool = False
    """`flink.apache.org/force-deletion: "true"`: delete without waiting for jobs."""

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def namespace(self) -> str:
        return self.resource.namespace

    @property
    def generation(self) -> int:
        """The generation the decision realises (recorded as `observedGeneration`)."""
        if self.reconciled_generation is not None:
            return self.reconciled_generation
        return self.resource_generation

    @property
    def resource_generation(self) -> int:
        """`metadata.generation` of the resource as the user last wrote it."""
        return self.resource.metadata.generation or 0

    @property
    def deleting(self) -> bool:
        return self.resource.metadata.deletion_timestamp is not None

    @property
    def ref(self) -> ClusterRef:
        return ClusterRef(self.namespace, self.name)

    @property
    def owner(self) -> OwnerInfo:
        return OwnerInfo(API_VERSION, KIND_FLINK_DEPLOYMENT, self.name, self.resource.metadata.uid or "")

    @cached_property
    def now_iso(self) -> str:
        moment = datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
