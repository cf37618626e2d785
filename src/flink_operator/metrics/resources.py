"""What the operator's custom resources add up to, per namespace: counts by lifecycle state, JobManager
status, Flink version, snapshot type and state, and the resources the clusters use (contract §7.2, namespace
scope).

Pure: `facts_of(kind, document)` reduces one resource to the few values the gauges need, and
`summarize(facts)` adds them up into a `ResourceSummary` (plain dicts keyed by label values). Reading the
informer caches and exporting the summary is `resource_collector`'s job.

Every lifecycle state, JobManager status and snapshot state appears for each (kind, namespace) that has
resources, zero when none is in it, so that queries never meet an absent series for a known namespace.
Flink versions appear only when seen. Values that cannot be read (a missing or malformed `clusterInfo`
number) count as zero, never as an error.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flink_operator.api.constants import (
    KIND_FLINK_DEPLOYMENT,
    KIND_FLINK_SESSION_JOB,
    KIND_FLINK_STATE_SNAPSHOT,
)
from flink_operator.api.enums import (
    FlinkStateSnapshotState,
    JobManagerDeploymentStatus,
    ResourceLifecycleState,
)

LIFECYCLE_KINDS = (KIND_FLINK_DEPLOYMENT, KIND_FLINK_SESSION_JOB)
RESOURCE_KINDS = (*LIFECYCLE_KINDS, KIND_FLINK_STATE_SNAPSHOT)

UNKNOWN = "UNKNOWN"
MALFORMED = "MALFORMED"
CHECKPOINT = "checkpoint"
SAVEPOINT = "savepoint"

_MINOR_VERSION = re.compile(r"^(\d+)\.(\d+)(?:[.\-].*)?$")


@dataclass(frozen=True)
class ResourceFacts:
    """The values one resource contributes to the gauges."""

    kind: str
    namespace: str
    lifecycle_state: str | None = None
    jobmanager_status: str | None = None
    flink_version: str | None = None
    cpu: float = 0.0
    memory_bytes: float = 0.0
    state_size_bytes: float = 0.0
    snapshot_type: str | None = None
    snapshot_state: str | None = None


@dataclass
class ResourceSummary:
    """Sums per label values (tuples in the order the metric names them)."""

    resources: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(kind, namespace) -> number of resources."""
    lifecycle_states: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """(kind, namespace, state)."""
    jobmanager_statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(namespace, status), FlinkDeployments only."""
    flink_versions: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(namespace, version)."""
    flink_minor_versions: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(namespace, X.Y | UNKNOWN | MALFORMED)."""
    cpu: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    memory_bytes: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    state_size_bytes: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    snapshots: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(namespace, checkpoint | savepoint)."""
    snapshot_states: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """(namespace, type, state)."""


def minor_version(version: str | None) -> str:
    """`2.3.0` -> `2.3`; UNKNOWN when absent, MALFORMED when not `<major>.<minor>...`."""
    if not version or version == UNKNOWN:
        return UNKNOWN
    match = _MINOR_VERSION.match(version)
    return f"{match.group(1)}.{match.group(2)}" if match else MALFORMED


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return 0.0
    return 0.0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def facts_of(kind: str, document: Mapping[str, Any]) -> ResourceFacts:
    """The gauge values of one FlinkDeployment, FlinkSessionJob or FlinkStateSnapshot document."""
    namespace = str(_mapping(document.get("metadata")).get("namespace") or "")
    status = _mapping(document.get("status"))
    if kind == KIND_FLINK_STATE_SNAPSHOT:
        spec = _mapping(document.get("spec"))
        return ResourceFacts(
            kind,
            namespace,
            snapshot_type=CHECKPOINT if spec.get("checkpoint") is not None else SAVEPOINT,
            snapshot_state=str(status.get("state") or FlinkStateSnapshotState.TRIGGER_PENDING.value),
        )
    # A resource the operator has not handled yet has no status: it is CREATED (contract §2.1).
    lifecycle = str(status.get("lifecycleState") or ResourceLifecycleState.CREATED.value)
    if kind != KIND_FLINK_DEPLOYMENT:
        return ResourceFacts(kind, namespace, lifecycle_state=lifecycle)
    info = _mapping(status.get("clusterInfo"))
    version = info.get("flink-version")
    return ResourceFacts(
        kind,
        namespace,
        lifecycle_state=lifecycle,
        jobmanager_status=str(status.get("jobManagerDeploymentStatus") or JobManagerDeploymentStatus.MISSING),
        flink_version=str(version) if version else UNKNOWN,
        cpu=_number(info.get("total-cpu")),
        memory_bytes=_number(info.get("total-memory")),
        state_size_bytes=_number(info.get("state-size")),
    )


def summarize(facts: Iterable[ResourceFacts]) -> ResourceSummary:
    """Add up the facts of many resources."""
    summary = ResourceSummary()
    lifecycle_groups: set[tuple[str, str]] = set()
    deployment_namespaces: set[str] = set()
    snapshot_groups: set[tuple[str, str]] = set()
    for fact in facts:
        ns = fact.namespace
        summary.resources[(fact.kind, ns)] += 1
        if fact.lifecycle_state is not None:
            lifecycle_groups.add((fact.kind, ns))
            summary.lifecycle_states[(fact.kind, ns, fact.lifecycle_state)] += 1
        if fact.kind == KIND_FLINK_DEPLOYMENT:
            deployment_namespaces.add(ns)
            if fact.jobmanager_status is not None:
                summary.jobmanager_statuses[(ns, fact.jobmanager_status)] += 1
            version = fact.flink_version or UNKNOWN
            summary.flink_versions[(ns, version)] += 1
            summary.flink_minor_versions[(ns, minor_version(version))] += 1
            summary.cpu[ns] += fact.cpu
            summary.memory_bytes[ns] += fact.memory_bytes
            summary.state_size_bytes[ns] += fact.state_size_bytes
        if fact.snapshot_type is not None:
            snapshot_groups.add((ns, fact.snapshot_type))
            summary.snapshots[(ns, fact.snapshot_type)] += 1
            summary.snapshot_states[(ns, fact.snapshot_type, fact.snapshot_state or "")] += 1
    # Zero-fill the closed value sets (Counter keeps explicit zeros once assigned).
    for kind, ns in lifecycle_groups:
        for state in ResourceLifecycleState:
            summary.lifecycle_states[(kind, ns, state.value)] += 0
    for ns in deployment_namespaces:
        for jm_status in JobManagerDeploymentStatus:
            summary.jobmanager_statuses[(ns, jm_status.value)] += 0
        summary.cpu[ns] += 0
        summary.memory_bytes[ns] += 0
        summary.state_size_bytes[ns] += 0
    for ns, snapshot_type in snapshot_groups:
        for snapshot_state in FlinkStateSnapshotState:
            summary.snapshot_states[(ns, snapshot_type, snapshot_state.value)] += 0
    return summary
