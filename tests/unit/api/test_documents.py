"""Realistic documents (tests/unit/api/documents) parse into the models and serialise back unchanged."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkJobState,
    FlinkSessionJob,
    FlinkSessionJobSpec,
    FlinkStateSnapshot,
    JobKind,
    KubernetesDeploymentMode,
    SavepointFormatType,
    SnapshotTriggerType,
    UpgradeMode,
    compute_lifecycle_state,
    parse_resource,
    read_spec,
)
from flink_operator.api.crds import crd_manifest

pytestmark = pytest.mark.unit

DOCUMENTS = Path(__file__).parent / "documents"
FILES = sorted(DOCUMENTS.glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCUMENTS / name).read_text(encoding="utf-8"))
    return document


def canonical(document: Any) -> str:
    # JSON text keeps the difference between 1 and 1.0, and between "1" and 1.
    return json.dumps(document, sort_keys=True)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_document_round_trips_exactly(path: Path) -> None:
    document = load(path.name)
    resource = parse_resource(document)
    assert not isinstance(resource, list), resource
    assert canonical(resource.to_dict()) == canonical(document)
    assert canonical(type(resource).from_dict(resource.to_dict()).to_dict()) == canonical(document)


def _present_paths(value: Any, schema: dict[str, Any], path: str, out: set[str]) -> None:
    out.add(path)
    if isinstance(value, dict) and "properties" in schema:
        for key, child in value.items():
            if key in schema["properties"]:
                _present_paths(child, schema["properties"][key], f"{path}.{key}", out)
    elif isinstance(value, list) and "items" in schema:
        for child in value:
            _present_paths(child, schema["items"], f"{path}[]", out)


def _schema_paths(schema: dict[str, Any], path: str, out: set[str]) -> None:
    out.add(path)
    for key, child in schema.get("properties", {}).items():
        _schema_paths(child, f"{path}.{key}", out)
    if "items" in schema:
        _schema_paths(schema["items"], f"{path}[]", out)


@pytest.mark.parametrize("kind", ["FlinkDeployment", "FlinkSessionJob", "FlinkStateSnapshot"])
def test_documents_cover_every_field(kind: str) -> None:
    schema = crd_manifest(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    expected: set[str] = set()
    _schema_paths(schema, "", expected)
    present: set[str] = set()
    for path in FILES:
        document = load(path.name)
        if document["kind"] == kind:
            _present_paths(document, schema, "", present)
    if kind == "FlinkSessionJob":
        # Shared with FlinkDeployment, whose documents exercise them field by field.
        shared = {p for p in expected if p.startswith(".status.jobStatus.")}
        expected -= shared
    assert sorted(expected - present) == []


def test_application_fields_are_typed() -> None:
    resource = parse_resource(load("application.yaml"))
    assert isinstance(resource, FlinkDeployment)
    spec, status = resource.spec, resource.status
    assert spec.job is not None and spec.job.upgrade_mode is UpgradeMode.SAVEPOINT
    assert spec.job.jar_uri == "local:///opt/flink/usrlib/fraud-detection.jar"
    assert spec.effective_mode is KubernetesDeploymentMode.NATIVE and spec.is_application
    assert spec.task_manager is not None and spec.task_manager.resource is not None
    assert spec.task_manager.resource.cpu == 2.5
    assert spec.job_manager is not None and spec.job_manager.resources is not None
    assert spec.job_manager.resources.limits == {"cpu": 2, "memory": "2Gi"}
    assert spec.flink_configuration["high-availability"] == {
        "type": "kubernetes",
        "storageDir": "s3://ha/fraud-detection",
    }
    history = status.job_status.savepoint_info.savepoint_history
    assert [s.trigger_type for s in history] == [SnapshotTriggerType.PERIODIC, SnapshotTriggerType.UPGRADE]
    assert history[1].trigger_nonce == 6
    assert status.job_status.state is FlinkJobState.RUNNING
    assert status.conditions[0].status == "True"
    assert resource.metadata.generation == 3 and resource.metadata.finalizers == [
        "flinkdeployments.flink.apache.org/finalizer"
    ]


def test_snapshot_fields_are_typed() -> None:
    resource = parse_resource(load("savepoint-snapshot.yaml"))
    assert isinstance(resource, FlinkStateSnapshot)
    reference, savepoint = resource.spec.job_reference, resource.spec.savepoint
    assert reference is not None and reference.kind is JobKind.FLINK_DEPLOYMENT
    assert savepoint is not None and savepoint.format_type is SavepointFormatType.NATIVE
    imported = parse_resource(load("imported-savepoint.yaml"))
    assert isinstance(imported, FlinkStateSnapshot) and imported.spec.savepoint is not None
    # Upstream defaults apply to what the user left out.
    assert imported.spec.savepoint.dispose_on_delete is True
    assert imported.spec.savepoint.format_type is SavepointFormatType.CANONICAL
    assert imported.spec.backoff_limit == -1


@pytest.mark.parametrize("name", ["application.yaml", "session-cluster.yaml", "session-job.yaml"])
def test_stored_lifecycle_state_matches_the_computed_one(name: str) -> None:
    resource = parse_resource(load(name))
    assert isinstance(resource, FlinkDeployment | FlinkSessionJob)
    assert compute_lifecycle_state(resource.status) is resource.status.lifecycle_state


def test_specs_written_by_the_java_operator_can_be_read() -> None:
    deployment = parse_resource(load("application.yaml"))
    assert isinstance(deployment, FlinkDeployment)
    stored = deployment.status.reconciliation_status.last_reconciled_spec
    assert stored is not None
    spec = read_spec(stored, FlinkDeploymentSpec)
    assert spec.job is not None and spec.job.parallelism == 12 and spec.ingress is None
    assert spec.job_manager is not None and spec.job_manager.resource is not None
    assert spec.job_manager.resource.cpu == 1.0
    session_job = parse_resource(load("session-job.yaml"))
    assert isinstance(session_job, FlinkSessionJob)
    stored = session_job.status.reconciliation_status.last_reconciled_spec
    assert stored is not None
    assert read_spec(stored, FlinkSessionJobSpec).deployment_name == "shared-session"
