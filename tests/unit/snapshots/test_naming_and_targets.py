"""Snapshot names, labels and operator-created documents; summaries of cached documents; resolving the job a
snapshot refers to."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.snapshot_documents import NOW_MS, snapshot_document

from flink_operator.api import (
    FlinkJobState,
    FlinkStateSnapshot,
    FlinkStateSnapshotState,
    FlinkVersion,
    JobKind,
    JobReference,
    SavepointFormatType,
    SnapshotTriggerType,
)
from flink_operator.config import DefaultConfiguration
from flink_operator.controllers.snapshot.naming import (
    OPERATOR_SNAPSHOT_BACKOFF_LIMIT,
    operator_snapshot,
    snapshot_labels,
    snapshot_name,
)
from flink_operator.controllers.snapshot.summary import SnapshotSummary, snapshots_of_job
from flink_operator.controllers.snapshot.target import resolve_target
from flink_operator.flink.service import ClusterRef, SnapshotKind

pytestmark = pytest.mark.unit


def test_names_follow_upstreams_scheme_and_fit_kubernetes() -> None:
    assert snapshot_name("demo", SnapshotKind.SAVEPOINT, SnapshotTriggerType.PERIODIC, 1700000000123) == (
        "demo-savepoint-periodic-1700000000123"
    )
    assert (
        snapshot_name("demo", SnapshotKind.CHECKPOINT, SnapshotTriggerType.MANUAL, 5)
        == "demo-checkpoint-manual-5"
    )
    long = snapshot_name("x" * 300, SnapshotKind.SAVEPOINT, SnapshotTriggerType.UPGRADE, 1700000000123)
    assert len(long) == 253 and long.endswith("-savepoint-upgrade-1700000000123")


def test_labels_are_derived_from_spec_status_and_the_users_trigger_type() -> None:
    document = snapshot_document(status={"state": "IN_PROGRESS"}, labels={"team": "a"})
    assert snapshot_labels(document) == {
        "team": "a",
        "snapshot.type": "SAVEPOINT",
        "snapshot.trigger-type": "MANUAL",
        "snapshot.state": "IN_PROGRESS",
        "job-reference.kind": "FlinkDeployment",
        "job-reference.name": "demo",
    }
    checkpoint = snapshot_document(checkpoint=True, labels={"snapshot.trigger-type": "PERIODIC"})
    labels = snapshot_labels(checkpoint)
    assert labels["snapshot.type"] == "CHECKPOINT" and labels["snapshot.trigger-type"] == "PERIODIC"
    assert labels["snapshot.state"] == "TRIGGER_PENDING"


def test_label_values_kubernetes_would_refuse_are_left_out() -> None:
    document = snapshot_document(job="j" * 64, labels={"job-reference.name": "stale"})
    labels = snapshot_labels(document)
    assert "job-reference.name" not in labels and labels["job-reference.kind"] == "FlinkDeployment"
    existing = snapshot_labels(snapshot_document(job=None, already_exists=True, path="p"))
    assert "job-reference.kind" not in existing and "job-reference.name" not in existing


def test_operator_snapshots_are_valid_resources_with_trigger_type_and_reference() -> None:
    document = operator_snapshot(
        namespace="ns",
        job_kind=JobKind.FLINK_SESSION_JOB,
        job_name="job",
        kind=SnapshotKind.SAVEPOINT,
        trigger_type=SnapshotTriggerType.UPGRADE,
        epoch_ms=NOW_MS,
        savepoint_path="file:/sp/up",
        savepoint_format=SavepointFormatType.NATIVE,
        dispose_on_delete=True,
        already_exists=True,
    )
    snapshot = FlinkStateSnapshot.from_dict(document)
    assert snapshot.name == f"job-savepoint-upgrade-{NOW_MS}" and snapshot.namespace == "ns"
    assert snapshot.spec.job_reference == JobReference(kind=JobKind.FLINK_SESSION_JOB, name="job")
    savepoint = snapshot.spec.savepoint
    assert savepoint is not None and savepoint.already_exists and savepoint.dispose_on_delete
    assert savepoint.path == "file:/sp/up" and savepoint.format_type is SavepointFormatType.NATIVE
    assert snapshot.spec.backoff_limit == OPERATOR_SNAPSHOT_BACKOFF_LIMIT
    labels = document["metadata"]["labels"]
    assert labels["snapshot.trigger-type"] == "UPGRADE" and labels["job-reference.name"] == "job"
    checkpoint = operator_snapshot(
        namespace="ns",
        job_kind=JobKind.FLINK_DEPLOYMENT,
        job_name="d",
        kind=SnapshotKind.CHECKPOINT,
        trigger_type=SnapshotTriggerType.PERIODIC,
        epoch_ms=1,
    )
    assert checkpoint["spec"]["checkpoint"] == {} and "savepoint" not in checkpoint["spec"]


def test_summaries_of_cached_documents() -> None:
    document = snapshot_document(
        "s1",
        status={"state": "COMPLETED", "path": "file:/p", "failures": 2},
        labels={"snapshot.trigger-type": "periodic"},
        deleted_ms=NOW_MS,
    )
    summary = SnapshotSummary.from_document(document)
    assert summary == SnapshotSummary(
        name="s1",
        namespace="default",
        kind=SnapshotKind.SAVEPOINT,
        trigger_type=SnapshotTriggerType.PERIODIC,
        state=FlinkStateSnapshotState.COMPLETED,
        created_ms=NOW_MS,
        job_kind=JobKind.FLINK_DEPLOYMENT,
        job_name="demo",
        path="file:/p",
        deleting=True,
        failures=2,
    )
    assert SnapshotSummary.from_document({"metadata": {"name": "x"}, "spec": {}}) is None
    odd = SnapshotSummary.from_document(
        snapshot_document(status={"state": "WEIRD"}, labels={"snapshot.trigger-type": "SOMETHING"})
    )
    assert odd is not None and odd.state is FlinkStateSnapshotState.TRIGGER_PENDING
    assert odd.trigger_type is SnapshotTriggerType.MANUAL and odd.in_flight
    documents = [
        document,
        snapshot_document("other", job="else"),
        snapshot_document("c", checkpoint=True),
        snapshot_document("ns2", namespace="elsewhere"),
    ]
    assert [s.name for s in snapshots_of_job(documents, "default", JobKind.FLINK_DEPLOYMENT, "demo")] == [
        "s1",
        "c",
    ]


# --- targets ---------------------------------------------------------------------------------------------


def deployment(
    name: str = "demo", *, job: bool = True, state: str | None = "RUNNING", **config: str
) -> dict[str, Any]:
    spec: dict[str, Any] = {"flinkVersion": "v1_20", "flinkConfiguration": dict(config)}
    if job:
        spec["job"] = {"jarURI": "local:///j.jar", "state": "running"}
    status: dict[str, Any] = {"jobStatus": {"jobId": "f" * 32, "state": state}} if state else {}
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
        "status": status,
    }


def session_job(name: str = "job", session: str = "session", **config: str) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "deploymentName": session,
            "flinkConfiguration": dict(config),
            "job": {"jarURI": "https://x/j.jar", "state": "running"},
        },
        "status": {"jobStatus": {"jobId": "e" * 32, "state": "RUNNING"}},
    }


def lookup_in(*documents: dict[str, Any]) -> Any:
    index = {(d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]): d for d in documents}
    return lambda kind, namespace, name: index.get((kind.value, namespace, name))


CONFIG = DefaultConfiguration(
    {
        "kubernetes.operator.periodic.savepoint.interval": "1 h",
        "execution.checkpointing.savepoint-dir": "file:/default-sp",
    }
)


def test_a_deployment_target() -> None:
    reference = JobReference(kind=JobKind.FLINK_DEPLOYMENT, name="demo")
    target = resolve_target(
        reference,
        "default",
        lookup_in(
            deployment(
                **{
                    "execution.checkpointing.savepoint-dir": "file:/own-sp",
                    "kubernetes.operator.savepoint.history.max.count": "3",
                }
            )
        ),
        CONFIG,
    )
    assert target is not None and target.running and target.pollable
    assert target.cluster == ClusterRef("default", "demo") and target.job_id == "f" * 32
    assert target.flink_version is FlinkVersion.v1_20
    assert target.savepoint_dir == "file:/own-sp"  # the resource's own setting wins over the default
    assert target.settings.history_max_count == 3 and target.settings.periodic_savepoint is not None


def test_missing_session_and_stopped_targets() -> None:
    reference = JobReference(kind=JobKind.FLINK_DEPLOYMENT, name="demo")
    missing = resolve_target(reference, "default", lookup_in(), CONFIG)
    assert missing is not None and not missing.found and not missing.running
    session = resolve_target(reference, "default", lookup_in(deployment(job=False, state=None)), CONFIG)
    assert session is not None and session.found and session.cluster is None and session.problem
    assert not session.starting
    starting = resolve_target(reference, "default", lookup_in(deployment(state=None)), CONFIG)
    assert starting is not None and starting.starting and not starting.running
    failed = resolve_target(reference, "default", lookup_in(deployment(state="FAILED")), CONFIG)
    assert failed is not None and failed.job_state is FlinkJobState.FAILED and not failed.starting
    assert resolve_target(None, "default", lookup_in(), CONFIG) is None
    unreadable = resolve_target(reference, "default", lookup_in({**deployment(), "spec": {"job": 5}}), CONFIG)
    assert unreadable is not None and unreadable.found and unreadable.problem and not unreadable.running


def test_a_session_job_target_runs_on_its_session_cluster_with_both_configurations() -> None:
    reference = JobReference(kind=JobKind.FLINK_SESSION_JOB, name="job")
    lookup = lookup_in(
        deployment("session", job=False, state=None, **{"execution.checkpointing.savepoint-dir": "file:/s"}),
        session_job(**{"kubernetes.operator.savepoint.format.type": "NATIVE"}),
    )
    target = resolve_target(reference, "default", lookup, CONFIG)
    assert target is not None and target.running
    assert target.cluster == ClusterRef("default", "session") and target.job_id == "e" * 32
    assert target.savepoint_dir == "file:/s" and target.flink_version is FlinkVersion.v1_20
    assert target.settings.savepoint_format is SavepointFormatType.NATIVE
    orphan = resolve_target(reference, "default", lookup_in(session_job(session="gone")), CONFIG)
    assert orphan is not None and orphan.found and orphan.cluster is None and not orphan.running
    assert "gone" in (orphan.problem or "")
