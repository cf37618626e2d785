"""The subjects the rules check: a resource bundled with exactly the context its rules need.

Plain immutable data, built by `default_validator` (or directly in tests). Rules never look anything up
themselves; whatever a rule needs is a field here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkSessionJob,
    FlinkSessionJobSpec,
    FlinkStateSnapshot,
    JobSpec,
)
from flink_operator.config import Configuration
from flink_operator.validation.context import ConfigView, HostResolver, offline_resolver


@dataclass(frozen=True)
class DeploymentSubject:
    """A FlinkDeployment with its effective configuration and its last reconciled spec."""

    deployment: FlinkDeployment
    config: ConfigView
    operator_config: Configuration = field(default_factory=Configuration)
    last_spec: FlinkDeploymentSpec | None = None
    kubernetes_version: str | None = None
    """Kubernetes version whose Pod schema checks pod templates (None: the default)."""


@dataclass(frozen=True)
class JobSubject:
    """The job of a FlinkDeployment or FlinkSessionJob, with the configuration it runs with."""

    job: JobSpec
    config: ConfigView
    task_manager_replicas: int | None = None
    """`spec.taskManager.replicas` of a FlinkDeployment (never set for a session job)."""
    session_job: bool = False
    """The job is a FlinkSessionJob (it has no TaskManager settings of its own)."""


@dataclass(frozen=True)
class AutoscalerSubject:
    """The autoscaler settings of a job: its effective configuration and the operator configuration."""

    config: ConfigView
    operator_config: Configuration = field(default_factory=Configuration)


@dataclass(frozen=True)
class SessionJobSubject:
    """A FlinkSessionJob, its session cluster (None when not found) and its configuration."""

    session_job: FlinkSessionJob
    session: FlinkDeployment | None
    config: ConfigView
    operator_config: Configuration = field(default_factory=Configuration)
    last_spec: FlinkSessionJobSpec | None = None
    resolve_host: HostResolver = offline_resolver


@dataclass(frozen=True)
class SnapshotSubject:
    """A FlinkStateSnapshot and the resource its `jobReference` names."""

    snapshot: FlinkStateSnapshot
    target: FlinkDeployment | FlinkSessionJob | None
    target_looked_up: bool = True
    """False when nobody could look the target up (offline validation): "not found" is then not reported."""
