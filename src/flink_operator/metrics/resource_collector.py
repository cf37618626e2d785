"""The resource gauges, read from the informer caches at scrape time (see `resources` for what they mean).

`ResourceCollector(stores)` is a Prometheus collector; `stores()` returns the caches to read as
`(kind name, Store)` pairs (the manager's informers of FlinkDeployments, FlinkSessionJobs and
FlinkStateSnapshots while this replica leads; nothing on a standby, whose gauges are therefore absent).
A resource is decoded only when its resourceVersion changed since the last scrape, so a scrape of 10,000
unchanged resources costs dictionary lookups, not JSON decoding. A key cached by two stores (two label
selectors of one kind) counts once.

Families (all gauges):
* `flink_operator_resources{kind,namespace}`
* `flink_operator_resources_in_lifecycle_state{kind,namespace,state}` (lifecycle metrics)
* `flink_operator_deployments_by_jobmanager_status{namespace,status}`
* `flink_operator_deployments_by_flink_version{namespace,version}`,
  `flink_operator_deployments_by_flink_minor_version{namespace,version}`
* `flink_operator_deployment_cpu_cores{namespace}`, `flink_operator_deployment_memory_bytes{namespace}`,
  `flink_operator_deployment_state_size_bytes{namespace}` (sums of `status.clusterInfo`)
* `flink_operator_snapshots{namespace,type}`, `flink_operator_snapshots_in_state{namespace,type,state}`
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from flink_operator.metrics.resources import (
    RESOURCE_KINDS,
    ResourceFacts,
    ResourceSummary,
    facts_of,
    summarize,
)
from flink_operator.runtime.cache import Store
from flink_operator.runtime.kinds import ObjectKey

StoreSource = Callable[[], Iterable[tuple[str, Store]]]


class ResourceCollector(Collector):
    def __init__(self, stores: StoreSource, *, lifecycle: bool = True) -> None:
        self._stores = stores
        self._lifecycle = lifecycle
        self._facts: dict[tuple[str, ObjectKey], tuple[str, ResourceFacts]] = {}

    def current_facts(self) -> list[ResourceFacts]:
        """The facts of every cached resource, refreshed where the resourceVersion moved."""
        seen: dict[tuple[str, ObjectKey], tuple[str, ResourceFacts]] = {}
        for kind, store in self._stores():
            if kind not in RESOURCE_KINDS:
                continue
            for cached in store.objects():
                entry_key = (kind, cached.key)
                if entry_key in seen:
                    continue
                known = self._facts.get(entry_key)
                if known is None or known[0] != cached.resource_version:
                    known = (cached.resource_version, facts_of(kind, cached.decode()))
                seen[entry_key] = known
        self._facts = seen
        return [facts for _, facts in seen.values()]

    def summary(self) -> ResourceSummary:
        return summarize(self.current_facts())

    def describe(self) -> Iterable[Metric]:
        return list(_families(self._lifecycle).values())

    def collect(self) -> Iterable[Metric]:
        summary = self.summary()
        families = _families(self._lifecycle)
        _fill(families["resources"], summary.resources.items())
        if "lifecycle" in families:
            _fill(families["lifecycle"], summary.lifecycle_states.items())
        _fill(families["jobmanager"], summary.jobmanager_statuses.items())
        _fill(families["version"], summary.flink_versions.items())
        _fill(families["minor"], summary.flink_minor_versions.items())
        _fill_by_namespace(families["cpu"], summary.cpu.items())
        _fill_by_namespace(families["memory"], summary.memory_bytes.items())
        _fill_by_namespace(families["state_size"], summary.state_size_bytes.items())
        _fill(families["snapshots"], summary.snapshots.items())
        _fill(families["snapshot_states"], summary.snapshot_states.items())
        return list(families.values())


def _fill(family: GaugeMetricFamily, values: Iterable[tuple[tuple[str, ...], float]]) -> None:
    for labels, value in sorted(values):
        family.add_metric(list(labels), value)


def _fill_by_namespace(family: GaugeMetricFamily, values: Iterable[tuple[str, float]]) -> None:
    for namespace, value in sorted(values):
        family.add_metric([namespace], value)


def _gauge(name: str, documentation: str, *labels: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


def _families(lifecycle: bool) -> dict[str, GaugeMetricFamily]:
    families = {
        "resources": _gauge("flink_operator_resources", "Managed resources.", "kind", "namespace"),
        "lifecycle": _gauge(
            "flink_operator_resources_in_lifecycle_state", "Resources per lifecycle state.",
            "kind", "namespace", "state",
        ),
        "jobmanager": _gauge(
            "flink_operator_deployments_by_jobmanager_status",
            "FlinkDeployments per JobManager deployment status.", "namespace", "status",
        ),
        "version": _gauge(
            "flink_operator_deployments_by_flink_version",
            "FlinkDeployments per Flink version (status.clusterInfo, UNKNOWN before it is known).",
            "namespace", "version",
        ),
        "minor": _gauge(
            "flink_operator_deployments_by_flink_minor_version",
            "FlinkDeployments per Flink minor version (X.Y, UNKNOWN or MALFORMED).", "namespace", "version",
        ),
        "cpu": _gauge(
            "flink_operator_deployment_cpu_cores", "Sum of the CPU of the FlinkDeployments' clusters.",
            "namespace",
        ),
        "memory": _gauge(
            "flink_operator_deployment_memory_bytes", "Sum of the memory of the FlinkDeployments' clusters.",
            "namespace",
        ),
        "state_size": _gauge(
            "flink_operator_deployment_state_size_bytes",
            "Sum of the state size of the FlinkDeployments' jobs.", "namespace",
        ),
        "snapshots": _gauge(
            "flink_operator_snapshots", "FlinkStateSnapshots per type (checkpoint, savepoint).",
            "namespace", "type",
        ),
        "snapshot_states": _gauge(
            "flink_operator_snapshots_in_state", "FlinkStateSnapshots per type and state.",
            "namespace", "type", "state",
        ),
    }
    if not lifecycle:
        del families["lifecycle"]
    return families
