"""Resource gauges from a set of resources: the facts of one document, their sums, and the collector that
reads them from an informer store at scrape time."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from flink_operator.metrics.resource_collector import ResourceCollector
from flink_operator.metrics.resources import (
    ResourceFacts,
    facts_of,
    minor_version,
    summarize,
)
from flink_operator.runtime.cache import CachedObject, Store
from flink_operator.runtime.kinds import Kind, ObjectKey

pytestmark = pytest.mark.unit

DEPLOYMENT = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
SNAPSHOT = Kind("flink.apache.org", "v1beta1", "FlinkStateSnapshot", "flinkstatesnapshots")


def deployment(
    name: str, namespace: str = "ns", *, state: str | None = "STABLE", jm: str = "READY",
    info: dict[str, str] | None = None, rv: str = "1",
) -> dict[str, Any]:
    status: dict[str, Any] = {"jobManagerDeploymentStatus": jm, "clusterInfo": info or {}}
    if state is not None:
        status["lifecycleState"] = state
    return {"metadata": {"name": name, "namespace": namespace, "resourceVersion": rv}, "status": status}


def snapshot(name: str, *, checkpoint: bool = False, state: str | None = "COMPLETED") -> dict[str, Any]:
    spec: dict[str, Any] = {"checkpoint": {}} if checkpoint else {"savepoint": {"disposeOnDelete": True}}
    metadata = {"name": name, "namespace": "ns", "resourceVersion": "1"}
    document: dict[str, Any] = {"metadata": metadata, "spec": spec}
    if state is not None:
        document["status"] = {"state": state}
    return document


INFO = {"flink-version": "2.3.0", "total-cpu": "2.5", "total-memory": "2147483648", "state-size": "1000"}


def test_facts_of_a_deployment_read_its_status_and_cluster_info() -> None:
    facts = facts_of("FlinkDeployment", deployment("a", info=INFO))
    assert facts == ResourceFacts(
        "FlinkDeployment", "ns", lifecycle_state="STABLE", jobmanager_status="READY", flink_version="2.3.0",
        cpu=2.5, memory_bytes=2147483648.0, state_size_bytes=1000.0,
    )


def test_facts_of_an_unhandled_deployment() -> None:
    facts = facts_of("FlinkDeployment", {"metadata": {"name": "a", "namespace": "ns"}})
    assert facts.lifecycle_state == "CREATED"
    assert facts.jobmanager_status == "MISSING"
    assert facts.flink_version == "UNKNOWN"
    assert (facts.cpu, facts.memory_bytes, facts.state_size_bytes) == (0.0, 0.0, 0.0)


def test_unreadable_cluster_info_numbers_count_as_zero() -> None:
    info = {"total-cpu": "lots", "total-memory": "", "state-size": "12e3"}
    facts = facts_of("FlinkDeployment", deployment("a", info=info))
    assert (facts.cpu, facts.memory_bytes, facts.state_size_bytes) == (0.0, 0.0, 12000.0)


def test_facts_of_session_jobs_and_snapshots() -> None:
    job_document = {"metadata": {"namespace": "ns"}, "status": {"lifecycleState": "FAILED"}}
    job = facts_of("FlinkSessionJob", job_document)
    assert job == ResourceFacts("FlinkSessionJob", "ns", lifecycle_state="FAILED")
    assert facts_of("FlinkStateSnapshot", snapshot("c", checkpoint=True)).snapshot_type == "checkpoint"
    pending = facts_of("FlinkStateSnapshot", snapshot("s", state=None))
    assert (pending.snapshot_type, pending.snapshot_state) == ("savepoint", "TRIGGER_PENDING")


@pytest.mark.parametrize(
    ("version", "minor"),
    [("2.3.0", "2.3"), ("1.20", "1.20"), ("1.20-SNAPSHOT", "1.20"), (None, "UNKNOWN"), ("UNKNOWN", "UNKNOWN"),
     ("v2", "MALFORMED"), ("2.x.1", "MALFORMED")],
)
def test_minor_version(version: str | None, minor: str) -> None:
    assert minor_version(version) == minor


def test_summary_adds_up_per_namespace_and_zero_fills_known_values() -> None:
    summary = summarize([
        facts_of("FlinkDeployment", deployment("a", info=INFO)),
        facts_of(
            "FlinkDeployment", deployment("b", state="DEPLOYED", jm="DEPLOYING", info={"total-cpu": "1"})
        ),
        facts_of("FlinkDeployment", deployment("c", "other", info=INFO)),
        facts_of("FlinkStateSnapshot", snapshot("s1")),
        facts_of("FlinkStateSnapshot", snapshot("s2", state="FAILED")),
    ])
    assert summary.resources == {("FlinkDeployment", "ns"): 2, ("FlinkDeployment", "other"): 1,
                                 ("FlinkStateSnapshot", "ns"): 2}
    assert summary.lifecycle_states[("FlinkDeployment", "ns", "STABLE")] == 1
    assert summary.lifecycle_states[("FlinkDeployment", "ns", "DEPLOYED")] == 1
    assert ("FlinkDeployment", "ns", "ROLLED_BACK") in summary.lifecycle_states  # zero, but present
    assert len([k for k in summary.lifecycle_states if k[:2] == ("FlinkDeployment", "ns")]) == 10
    assert summary.jobmanager_statuses[("ns", "DEPLOYING")] == 1
    assert ("ns", "ERROR") in summary.jobmanager_statuses
    assert summary.jobmanager_statuses[("ns", "ERROR")] == 0
    assert summary.flink_versions == {("ns", "2.3.0"): 1, ("ns", "UNKNOWN"): 1, ("other", "2.3.0"): 1}
    assert summary.flink_minor_versions[("ns", "2.3")] == 1
    assert summary.cpu == {"ns": 3.5, "other": 2.5}
    assert summary.memory_bytes["ns"] == 2147483648.0
    assert summary.state_size_bytes["other"] == 1000.0
    assert summary.snapshots == {("ns", "savepoint"): 2}
    assert summary.snapshot_states[("ns", "savepoint", "FAILED")] == 1
    assert summary.snapshot_states[("ns", "savepoint", "ABANDONED")] == 0
    assert ("ns", "checkpoint", "COMPLETED") not in summary.snapshot_states


def test_collector_exports_gauges_from_the_store_and_follows_changes() -> None:
    store = Store(DEPLOYMENT)
    store.upsert(CachedObject.from_dict(deployment("a", info=INFO)))
    store.upsert(CachedObject.from_dict(deployment("b", state="DEPLOYED")))
    snapshots = Store(SNAPSHOT)
    snapshots.upsert(CachedObject.from_dict(snapshot("s", checkpoint=True)))
    registry = CollectorRegistry()
    collector = ResourceCollector(lambda: [("FlinkDeployment", store), ("FlinkStateSnapshot", snapshots)])
    registry.register(collector)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    lifecycle = "flink_operator_resources_in_lifecycle_state"
    assert value("flink_operator_resources", kind="FlinkDeployment", namespace="ns") == 2
    assert value(lifecycle, kind="FlinkDeployment", namespace="ns", state="STABLE") == 1
    assert value(lifecycle, kind="FlinkDeployment", namespace="ns", state="FAILED") == 0
    assert value("flink_operator_deployment_cpu_cores", namespace="ns") == 2.5
    assert value("flink_operator_deployments_by_flink_version", namespace="ns", version="2.3.0") == 1
    assert value("flink_operator_deployments_by_flink_minor_version", namespace="ns", version="UNKNOWN") == 1
    assert value("flink_operator_deployments_by_jobmanager_status", namespace="ns", status="READY") == 2
    assert value("flink_operator_snapshots", namespace="ns", type="checkpoint") == 1
    in_state = "flink_operator_snapshots_in_state"
    assert value(in_state, namespace="ns", type="checkpoint", state="COMPLETED") == 1

    # A new resourceVersion is read again; a removed resource leaves the sums.
    store.upsert(CachedObject.from_dict(deployment("b", state="STABLE", rv="2")))
    store.remove(ObjectKey("ns", "a"))
    assert value(lifecycle, kind="FlinkDeployment", namespace="ns", state="STABLE") == 1
    assert value(lifecycle, kind="FlinkDeployment", namespace="ns", state="DEPLOYED") == 0
    assert value("flink_operator_deployment_cpu_cores", namespace="ns") == 0
    assert len(collector.current_facts()) == 2  # b and the snapshot


def test_collector_reuses_facts_while_the_resource_version_stands() -> None:
    store = Store(DEPLOYMENT)
    store.upsert(CachedObject.from_dict(deployment("a")))
    collector = ResourceCollector(lambda: [("FlinkDeployment", store)])
    first = collector.current_facts()
    again = collector.current_facts()
    assert first[0] is again[0]
    store.upsert(CachedObject.from_dict(deployment("a", state="FAILED", rv="7")))
    assert collector.current_facts()[0].lifecycle_state == "FAILED"


def test_collector_without_lifecycle_gauges_and_for_foreign_kinds() -> None:
    store = Store(DEPLOYMENT)
    store.upsert(CachedObject.from_dict(deployment("a")))
    registry = CollectorRegistry()
    stores = [("FlinkDeployment", store), ("ConfigMap", store)]
    registry.register(ResourceCollector(lambda: stores, lifecycle=False))
    names = {metric.name for metric in registry.collect()}
    assert "flink_operator_resources" in names
    assert "flink_operator_resources_in_lifecycle_state" not in names
    foreign = {"kind": "ConfigMap", "namespace": "ns"}
    assert registry.get_sample_value("flink_operator_resources", foreign) is None
