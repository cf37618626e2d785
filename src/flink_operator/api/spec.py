"""Spec parts shared by FlinkDeployment and FlinkSessionJob (contract §1.3): job, JM/TM, resources, ingress.

Types and defaults only; the rules that relate fields to each other are the default validator's.
"""

from __future__ import annotations

from pydantic import Field

from flink_operator.api.base import (
    Bool,
    Double,
    FreeFormObject,
    Int,
    Long,
    PodTemplate,
    Quantity,
    SpecModel,
    Str,
    StringMap,
)
from flink_operator.api.enums import JobState, UpgradeMode


class JobSpec(SpecModel):
    """The Flink job to run (application mode) or submit (session job)."""

    jar_uri: Str | None = Field(default=None, alias="jarURI")
    """URI of the job jar."""
    parallelism: Int = 0
    """Job parallelism."""
    entry_class: Str | None = None
    """Fully qualified main class."""
    args: list[Str] = Field(default_factory=list)
    """Program arguments."""
    state: JobState = JobState.RUNNING
    """Desired job state."""
    savepoint_trigger_nonce: Long | None = None
    """Deprecated: change to trigger a manual savepoint."""
    initial_savepoint_path: Str | None = None
    """Savepoint to restore from on first deployment and on savepoint redeploys."""
    checkpoint_trigger_nonce: Long | None = None
    """Deprecated: change to trigger a manual checkpoint."""
    upgrade_mode: UpgradeMode = UpgradeMode.STATELESS
    """How state is carried across upgrades and suspends."""
    allow_non_restored_state: Bool | None = None
    """Allow skipping state that cannot be restored."""
    savepoint_redeploy_nonce: Long | None = None
    """Change to redeploy from initialSavepointPath."""
    autoscaler_reset_nonce: Long | None = None
    """Change to reset autoscaler state."""


class Resource(SpecModel):
    """Deprecated JobManager/TaskManager resources (prefer `resources`)."""

    cpu: Double | None = None
    """CPU cores."""
    memory: Str | None = None
    """Memory (Flink MemorySize or Kubernetes quantity)."""
    ephemeral_storage: Str | None = None
    """Ephemeral storage (Kubernetes quantity)."""


class ResourceClaim(SpecModel):
    """A dynamic resource claim used by a container."""

    name: Str | None = None
    request: Str | None = None


class ResourceRequirements(SpecModel):
    """Kubernetes resource requirements."""

    claims: list[ResourceClaim] | None = None
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None


class JobManagerSpec(SpecModel):
    """JobManager settings."""

    resource: Resource | None = None
    """Deprecated resource spec."""
    resources: ResourceRequirements | None = None
    """Kubernetes resource requirements."""
    replicas: Int = 1
    """Number of JobManager replicas (more than one needs HA)."""
    pod_template: PodTemplate | None = None
    """JobManager pod template."""


class TaskManagerSpec(SpecModel):
    """TaskManager settings."""

    resource: Resource | None = None
    """Deprecated resource spec."""
    resources: ResourceRequirements | None = None
    """Kubernetes resource requirements."""
    replicas: Int | None = None
    """Number of TaskManagers; overrides job parallelism when set."""
    pod_template: PodTemplate | None = None
    """TaskManager pod template."""


class IngressTLS(SpecModel):
    """TLS settings of the Ingress."""

    hosts: list[Str] | None = None
    secret_name: Str | None = None


class IngressSpec(SpecModel):
    """Operator-managed Ingress for the REST API / web UI."""

    template: Str | None = None
    """URL template, may use {{name}} and {{namespace}}."""
    class_name: Str | None = None
    """Ingress class name."""
    annotations: StringMap | None = None
    """Ingress annotations."""
    labels: StringMap | None = None
    """Ingress labels."""
    tls: list[IngressTLS] | None = None
    """Ingress TLS settings."""


class AbstractFlinkSpec(SpecModel):
    """Fields common to FlinkDeployment and FlinkSessionJob specs."""

    job: JobSpec | None = None
    """The job; absent for a session cluster."""
    restart_nonce: Long | None = None
    """Change to force a restart."""
    flink_configuration: FreeFormObject = Field(default_factory=dict)
    """Flink configuration overrides (nested or flat)."""
