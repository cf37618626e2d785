"""The job a FlinkStateSnapshot refers to, resolved from cached documents into plain facts (`Target`).

`resolve_target(reference, namespace, lookup, configuration)` reads the referenced FlinkDeployment or
FlinkSessionJob (and, for a session job, its session FlinkDeployment named in `spec.deploymentName`) through
`lookup(kind, namespace, name)` and says: whether it exists, where its job runs (the `ClusterRef` of the
FlinkDeployment that owns the cluster), the job id and state, the Flink version, the savepoint directory and
the snapshot settings of the job's effective configuration. Pure: no I/O beyond the lookup function.

What it does not guarantee: the cached status may lag a little behind the job (a reconcile of the job
resource updates it); decisions treat "not RUNNING" as "do not trigger now".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from flink_operator.api import (
    FlinkDeployment,
    FlinkJobState,
    FlinkSessionJob,
    FlinkVersion,
    JobKind,
    JobReference,
    JobState,
)
from flink_operator.config import Configuration, DefaultConfiguration
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.flink import config_builder
from flink_operator.flink.service import ClusterRef

Lookup = Callable[[JobKind, str, str], Mapping[str, Any] | None]
"""(kind, namespace, name) -> the cached document, or None."""

_STARTING = frozenset(
    {
        FlinkJobState.INITIALIZING,
        FlinkJobState.CREATED,
        FlinkJobState.RESTARTING,
        FlinkJobState.RECONCILING,
    }
)


@dataclass(frozen=True)
class Target:
    """Facts about the job a snapshot refers to."""

    kind: JobKind
    name: str
    namespace: str
    found: bool
    cluster: ClusterRef | None = None
    job_id: str | None = None
    job_state: FlinkJobState | None = None
    desired_running: bool = False
    flink_version: FlinkVersion | None = None
    savepoint_dir: str | None = None
    settings: SnapshotSettings = field(default_factory=SnapshotSettings)
    resource: FlinkDeployment | FlinkSessionJob | None = None
    problem: str | None = None
    """Why the job cannot be reached although the resource exists (unreadable, no session cluster...)."""

    def describe(self) -> str:
        return f"{self.kind.value} {self.namespace}/{self.name}"

    @property
    def running(self) -> bool:
        return (
            self.found
            and self.cluster is not None
            and bool(self.job_id)
            and self.job_state is FlinkJobState.RUNNING
        )

    @property
    def starting(self) -> bool:
        """The job is meant to run and is on its way (deploying, restarting): it may be RUNNING soon."""
        if not self.found or not self.desired_running or self.problem is not None:
            return False
        return self.job_state is None or self.job_state in _STARTING

    @property
    def pollable(self) -> bool:
        """A triggered snapshot of this job can be asked about."""
        return self.found and self.cluster is not None and bool(self.job_id)

    @property
    def checkpoints_supported(self) -> bool:
        """Flink 1.17 added the REST checkpoint trigger."""
        return self.flink_version is None or self.flink_version.is_equal_or_newer(FlinkVersion.v1_17)

    def state_text(self) -> str:
        return self.job_state.value if self.job_state is not None else "unknown"


def snapshot_settings(
    configuration: DefaultConfiguration,
    namespace: str,
    version: FlinkVersion | None,
    *flink_configurations: Mapping[str, Any] | None,
) -> tuple[SnapshotSettings, dict[str, str]]:
    """The snapshot settings and the effective configuration of a job (its `flinkConfiguration`s layered
    on the operator defaults for its namespace and Flink version)."""
    version_text = version.value if version is not None else None
    operator = configuration.for_resource(namespace, version_text)
    try:
        effective = configuration.effective(namespace, version_text, *flink_configurations)
        return SnapshotSettings.from_configs(operator, Configuration(effective)), effective
    except ValueError:
        # A bad per-resource option: its own resource's validation reports it; use the defaults here.
        return SnapshotSettings.from_configs(operator, operator), operator.as_dict()


def default_settings(configuration: DefaultConfiguration, namespace: str) -> SnapshotSettings:
    """Settings when no job is known (for the snapshot's own timing)."""
    return snapshot_settings(configuration, namespace, None)[0]


def _job_state(status: Any) -> FlinkJobState | None:
    return status.job_status.state if status is not None else None


def resolve_target(
    reference: JobReference | None, namespace: str, lookup: Lookup, configuration: DefaultConfiguration
) -> Target | None:
    """None when the snapshot has no usable job reference."""
    if reference is None or reference.kind is None or not reference.name:
        return None
    kind, name = reference.kind, reference.name
    document = lookup(kind, namespace, name)
    if document is None:
        settings = default_settings(configuration, namespace)
        return Target(kind, name, namespace, found=False, settings=settings)
    if kind is JobKind.FLINK_DEPLOYMENT:
        return _deployment_target(name, namespace, document, configuration)
    return _session_job_target(name, namespace, document, lookup, configuration)


def _unreadable(
    kind: JobKind, name: str, namespace: str, configuration: DefaultConfiguration, error: ValidationError
) -> Target:
    return Target(
        kind,
        name,
        namespace,
        found=True,
        settings=default_settings(configuration, namespace),
        problem=f"{kind.value} {namespace}/{name} cannot be read: {error.errors()[0].get('msg', error)}",
    )


def _deployment_target(
    name: str, namespace: str, document: Mapping[str, Any], configuration: DefaultConfiguration
) -> Target:
    kind = JobKind.FLINK_DEPLOYMENT
    try:
        deployment = FlinkDeployment.from_dict(document)
    except ValidationError as error:
        return _unreadable(kind, name, namespace, configuration, error)
    spec = deployment.spec
    settings, effective = snapshot_settings(
        configuration, namespace, spec.flink_version, spec.flink_configuration
    )
    problem = None
    if spec.job is None:
        problem = f"FlinkDeployment {namespace}/{name} is a session cluster and runs no job of its own"
    status = deployment.status
    return Target(
        kind,
        name,
        namespace,
        found=True,
        cluster=ClusterRef(namespace, name) if spec.job is not None else None,
        job_id=status.job_status.job_id,
        job_state=_job_state(status),
        desired_running=spec.job is not None and spec.job.state is JobState.RUNNING,
        flink_version=spec.flink_version,
        savepoint_dir=config_builder.savepoint_dir(effective),
        settings=settings,
        resource=deployment,
        problem=problem,
    )


def _session_job_target(
    name: str,
    namespace: str,
    document: Mapping[str, Any],
    lookup: Lookup,
    configuration: DefaultConfiguration,
) -> Target:
    kind = JobKind.FLINK_SESSION_JOB
    try:
        session_job = FlinkSessionJob.from_dict(document)
    except ValidationError as error:
        return _unreadable(kind, name, namespace, configuration, error)
    session_name = session_job.spec.deployment_name
    session_document = lookup(JobKind.FLINK_DEPLOYMENT, namespace, session_name) if session_name else None
    session: FlinkDeployment | None = None
    if session_document is not None:
        try:
            session = FlinkDeployment.from_dict(session_document)
        except ValidationError:
            session = None
    version = session.spec.flink_version if session is not None else None
    settings, effective = snapshot_settings(
        configuration,
        namespace,
        version,
        session.spec.flink_configuration if session is not None else None,
        session_job.spec.flink_configuration,
    )
    problem = None
    if session is None:
        problem = f"session FlinkDeployment {namespace}/{session_name or '<unset>'} was not found"
    job = session_job.spec.job
    return Target(
        kind,
        name,
        namespace,
        found=True,
        cluster=ClusterRef(namespace, session_name) if session is not None and session_name else None,
        job_id=session_job.status.job_status.job_id,
        job_state=_job_state(session_job.status),
        desired_running=job is not None and job.state is JobState.RUNNING,
        flink_version=version,
        savepoint_dir=config_builder.savepoint_dir(effective),
        settings=settings,
        resource=session_job,
        problem=problem,
    )
