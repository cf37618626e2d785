"""The generated CRDs: checked-in copies current, size under the apply limit, structural, upstream's shape."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from flink_operator.api.crds import (
    REGENERATE_COMMAND,
    crd_file_name,
    crd_manifest,
    crd_manifests,
    render_crd,
    render_crds,
)

pytestmark = pytest.mark.unit

CRD_DIR = Path(__file__).resolve().parents[3] / "deploy" / "crds"
APPLY_LIMIT = 262_144  # bytes of the last-applied annotation a client-side `kubectl apply` can store


def _schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = crd_manifest(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _node(kind: str, *path: str) -> dict[str, Any]:
    node = _schema(kind)
    for name in path:
        node = node["properties"][name]
    return node


def _walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, child in node.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], f"{path}.*")


def test_checked_in_crds_match_the_models() -> None:
    expected = {crd_file_name(manifest): render_crd(manifest) for manifest in crd_manifests()}
    present = {path.name for path in CRD_DIR.glob("*.yaml")}
    assert present == set(expected), f"deploy/crds is out of date; regenerate with `{REGENERATE_COMMAND}`"
    for name, text in expected.items():
        assert (CRD_DIR / name).read_text(encoding="utf-8") == text, (
            f"deploy/crds/{name} differs from the models; regenerate with `{REGENERATE_COMMAND}`"
        )


def test_each_crd_fits_a_client_side_apply() -> None:
    for manifest in crd_manifests():
        size = len(render_crd(manifest).encode())
        print(f"{crd_file_name(manifest)}: {size} bytes ({size / APPLY_LIMIT:.1%} of the apply limit)")
        assert size < APPLY_LIMIT


def test_rendered_stream_holds_all_three_documents() -> None:
    import yaml

    documents = list(yaml.safe_load_all(render_crds()))
    assert [d["spec"]["names"]["kind"] for d in documents] == [
        "FlinkDeployment",
        "FlinkSessionJob",
        "FlinkStateSnapshot",
    ]


@pytest.mark.parametrize("manifest", crd_manifests(), ids=lambda m: m["spec"]["names"]["kind"])
def test_schema_is_structural(manifest: dict[str, Any]) -> None:
    schema = manifest["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        typed = "type" in node
        open_node = node.get("x-kubernetes-preserve-unknown-fields") is True
        int_or_string = node.get("x-kubernetes-int-or-string") is True
        assert typed or open_node or int_or_string, f"{path or '<root>'} has no type"
        assert "required" not in node and "default" not in node, f"{path}: no required lists or defaults"
        assert not {"$ref", "anyOf", "oneOf", "allOf", "nullable"} & set(node), f"{path}: not structural"
        if node.get("type") == "object" and not open_node:
            assert not ("properties" in node and "additionalProperties" in node), path


@pytest.mark.parametrize("manifest", crd_manifests(), ids=lambda m: m["spec"]["names"]["kind"])
def test_manifest_is_a_valid_customresourcedefinition(manifest: dict[str, Any]) -> None:
    kubernetes_validate.validate(manifest, "1.35", strict=True)


def test_names_scope_and_subresources_follow_upstream() -> None:
    deployment, session_job, snapshot = (m["spec"] for m in crd_manifests())
    assert deployment["names"] == {
        "kind": "FlinkDeployment",
        "plural": "flinkdeployments",
        "singular": "flinkdeployment",
        "shortNames": ["flinkdep"],
    }
    assert session_job["names"]["shortNames"] == ["sessionjob"]
    assert snapshot["names"]["shortNames"] == ["flinksnp"]
    for spec in (deployment, session_job, snapshot):
        assert spec["group"] == "flink.apache.org" and spec["scope"] == "Namespaced"
        (version,) = spec["versions"]
        assert (version["name"], version["served"], version["storage"]) == ("v1beta1", True, True)
    assert deployment["versions"][0]["subresources"] == {
        "status": {},
        "scale": {
            "specReplicasPath": ".spec.taskManager.replicas",
            "statusReplicasPath": ".status.taskManager.replicas",
            "labelSelectorPath": ".status.taskManager.labelSelector",
        },
    }
    assert session_job["versions"][0]["subresources"] == {"status": {}}
    assert snapshot["versions"][0]["subresources"] == {"status": {}}


def test_printer_columns_follow_upstream() -> None:
    def columns(kind: str) -> list[tuple[str, str, str, int]]:
        version = crd_manifest(kind)["spec"]["versions"][0]
        return [
            (c["name"], c["type"], c["jsonPath"], c["priority"]) for c in version["additionalPrinterColumns"]
        ]

    job_columns = [
        ("Job Status", "string", ".status.jobStatus.state", 0),
        ("Lifecycle State", "string", ".status.lifecycleState", 0),
    ]
    assert columns("FlinkDeployment") == job_columns
    assert columns("FlinkSessionJob") == job_columns
    assert columns("FlinkStateSnapshot") == [
        ("Path", "string", ".status.path", 0),
        ("Result Timestamp", "string", ".status.resultTimestamp", 0),
        ("Snapshot State", "string", ".status.state", 0),
    ]


def test_free_form_fields() -> None:
    for kind in ("FlinkDeployment", "FlinkSessionJob"):
        assert _node(kind, "spec", "flinkConfiguration") == {
            "description": "Flink configuration overrides (nested or flat).",
            "x-kubernetes-preserve-unknown-fields": True,
        }
    for path in (("podTemplate",), ("jobManager", "podTemplate"), ("taskManager", "podTemplate")):
        node = _node("FlinkDeployment", "spec", *path)
        assert node["type"] == "object" and node["x-kubernetes-preserve-unknown-fields"] is True
        assert "properties" not in node
    assert _node("FlinkDeployment", "spec", "logConfiguration")["additionalProperties"] == {"type": "string"}
    assert _node("FlinkDeployment", "status", "clusterInfo")["additionalProperties"] == {"type": "string"}


def test_quantities_are_int_or_string() -> None:
    for role in ("jobManager", "taskManager"):
        resources = _node("FlinkDeployment", "spec", role, "resources")
        for key in ("limits", "requests"):
            assert resources["properties"][key]["additionalProperties"] == {
                "x-kubernetes-int-or-string": True
            }


def test_java_longs_are_int64_and_ints_are_plain_integers() -> None:
    longs = [
        ("FlinkDeployment", "spec", "restartNonce"),
        ("FlinkDeployment", "spec", "job", "savepointTriggerNonce"),
        ("FlinkDeployment", "spec", "job", "savepointRedeployNonce"),
        ("FlinkDeployment", "status", "observedGeneration"),
        ("FlinkDeployment", "status", "reconciliationStatus", "reconciliationTimestamp"),
        ("FlinkSessionJob", "status", "jobStatus", "savepointInfo", "lastPeriodicSavepointTimestamp"),
    ]
    for kind, *path in longs:
        assert _node(kind, *path)["format"] == "int64", path
    ints = [
        ("FlinkDeployment", "spec", "job", "parallelism"),
        ("FlinkDeployment", "spec", "taskManager", "replicas"),
        ("FlinkStateSnapshot", "spec", "backoffLimit"),
        ("FlinkStateSnapshot", "status", "failures"),
    ]
    for kind, *path in ints:
        assert _node(kind, *path) | {"description": ""} == {"type": "integer", "description": ""}, path


def test_enums_carry_upstream_values() -> None:
    assert _node("FlinkDeployment", "spec", "job", "upgradeMode")["enum"] == [
        "savepoint",
        "last-state",
        "stateless",
    ]
    assert _node("FlinkDeployment", "spec", "mode")["enum"] == ["native", "standalone"]
    assert _node("FlinkDeployment", "status", "jobManagerDeploymentStatus")["enum"] == [
        "READY",
        "DEPLOYED_NOT_READY",
        "DEPLOYING",
        "MISSING",
        "ERROR",
    ]
    assert _node("FlinkStateSnapshot", "spec", "jobReference", "kind")["enum"] == [
        "FlinkDeployment",
        "FlinkSessionJob",
    ]
    assert _node("FlinkStateSnapshot", "spec", "checkpoint") == {
        "description": "Checkpoint request.",
        "type": "object",
    }
