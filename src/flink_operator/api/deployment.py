"""The FlinkDeployment resource (contract §1.3, §1.4): an application or session cluster."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from flink_operator.api.base import PodTemplate, Str, StringMap
from flink_operator.api.constants import API_VERSION, KIND_FLINK_DEPLOYMENT
from flink_operator.api.enums import (
    FlinkVersion,
    JobManagerDeploymentStatus,
    KubernetesDeploymentMode,
)
from flink_operator.api.resource import CustomResource
from flink_operator.api.spec import AbstractFlinkSpec, IngressSpec, JobManagerSpec, TaskManagerSpec
from flink_operator.api.status import CommonStatus, Condition, TaskManagerInfo


class FlinkDeploymentSpec(AbstractFlinkSpec):
    """Desired state of a Flink cluster; with `job` it is an application deployment, without a session."""

    image: Str | None = None
    """Flink image."""
    image_pull_policy: Str | None = None
    """Image pull policy (Always, IfNotPresent, Never)."""
    service_account: Str | None = None
    """Service account of the Flink pods."""
    flink_version: FlinkVersion | None = None
    """Flink version."""
    ingress: IngressSpec | None = None
    """Ingress for the REST API / web UI."""
    pod_template: PodTemplate | None = None
    """Base pod template for JobManager and TaskManager."""
    job_manager: JobManagerSpec | None = None
    """JobManager settings."""
    task_manager: TaskManagerSpec | None = None
    """TaskManager settings."""
    log_configuration: StringMap | None = None
    """Log configuration files by name."""
    mode: KubernetesDeploymentMode | None = None
    """Kubernetes deployment mode (default native)."""

    @property
    def is_application(self) -> bool:
        return self.job is not None

    @property
    def effective_mode(self) -> KubernetesDeploymentMode:
        return self.mode or KubernetesDeploymentMode.NATIVE


class FlinkDeploymentStatus(CommonStatus):
    """Observed state of a FlinkDeployment."""

    cluster_info: StringMap = Field(default_factory=dict)
    """Cluster information (Flink version, revision, totals)."""
    job_manager_deployment_status: JobManagerDeploymentStatus = JobManagerDeploymentStatus.MISSING
    """State of the JobManager deployment."""
    task_manager: TaskManagerInfo | None = None
    """TaskManager replicas/selector for the scale subresource."""
    conditions: list[Condition] = Field(default_factory=list)
    """Status conditions."""


class FlinkDeployment(CustomResource):
    """A Flink application or session cluster."""

    api_version: Literal["flink.apache.org/v1beta1"] = Field(default=API_VERSION, alias="apiVersion")
    kind: Literal["FlinkDeployment"] = KIND_FLINK_DEPLOYMENT
    spec: FlinkDeploymentSpec = Field(default_factory=FlinkDeploymentSpec)
    status: FlinkDeploymentStatus = Field(default_factory=FlinkDeploymentStatus)
