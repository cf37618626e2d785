"""The real kubectl, default settings, against the emulator: get, apply, create, patch, delete, wait, -w."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from kube_emulator import ThreadedApiServer

from .conftest import REPO, Kubectl

pytestmark = pytest.mark.e2e

CRDS = REPO / "deploy" / "crds"
DEPLOYMENT = """\
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: basic
spec:
  image: flink:1.20
  flinkVersion: v1_20
  serviceAccount: flink
  jobManager:
    resource: {memory: 2048m, cpu: 1}
  taskManager:
    resource: {memory: 2048m, cpu: 1}
  job:
    jarURI: local:///opt/flink/examples/streaming/StateMachineExample.jar
    parallelism: {parallelism}
    upgradeMode: stateless
"""


def flink_deployment(parallelism: int = 2) -> str:
    return DEPLOYMENT.replace("{parallelism}", str(parallelism))


def install_crds(kubectl: Kubectl) -> None:
    if not (CRDS / "flinkdeployments.flink.apache.org.yaml").is_file():
        pytest.fail(f"the operator's CRDs are missing under {CRDS}")
    out = kubectl.run("apply", "-f", str(CRDS)).stdout
    assert "customresourcedefinition.apiextensions.k8s.io/flinkdeployments.flink.apache.org created" in out


def wait_for_output(process: subprocess.Popen[str], text: str, deadline_s: float = 20) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + deadline_s
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if text in line:
            return lines
    raise AssertionError(f"{text!r} not printed; got {lines}")


def test_kubectl_version_and_api_resources(kubectl: Kubectl) -> None:
    assert "Server Version: v1." in kubectl.run("version").stdout
    resources = kubectl.run("api-resources").stdout
    assert "configmaps" in resources and "leases" in resources and "deployments" in resources


def test_kubectl_get_prints_crd_printer_columns(kubectl: Kubectl, cluster: ThreadedApiServer) -> None:
    install_crds(kubectl)
    kubectl.run("apply", "-f", "-", stdin=flink_deployment())
    cluster.set_status(
        "flink.apache.org/v1beta1",
        "FlinkDeployment",
        "basic",
        {"jobStatus": {"state": "RUNNING"}, "lifecycleState": "STABLE"},
        namespace="default",
    )
    table = kubectl.run("get", "flinkdeployments").stdout.splitlines()
    assert table[0].split() == ["NAME", "JOB", "STATUS", "LIFECYCLE", "STATE"]
    assert table[1].split() == ["basic", "RUNNING", "STABLE"]
    assert kubectl.run("get", "flinkdep", "basic", "-o", "jsonpath={.spec.job.parallelism}").stdout == "2"


def test_kubectl_apply_client_side_creates_then_configures(kubectl: Kubectl) -> None:
    install_crds(kubectl)
    assert (
        "flinkdeployment.flink.apache.org/basic created"
        in kubectl.run("apply", "-f", "-", stdin=flink_deployment()).stdout
    )
    assert (
        "flinkdeployment.flink.apache.org/basic unchanged"
        in kubectl.run("apply", "-f", "-", stdin=flink_deployment()).stdout
    )
    result = kubectl.run("apply", "-f", "-", stdin=flink_deployment(4))
    assert "flinkdeployment.flink.apache.org/basic configured" in result.stdout and not result.stderr
    obj = json.loads(kubectl.run("get", "flinkdeployment", "basic", "-o", "json").stdout)
    assert obj["spec"]["job"]["parallelism"] == 4 and obj["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]


def test_kubectl_apply_builtins_uses_strategic_merge(kubectl: Kubectl) -> None:
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: main, image: "nginx:1", env: [{name: A, value: "1"}]}
"""
    kubectl.run("apply", "-f", "-", stdin=manifest)
    result = kubectl.run("apply", "-f", "-", stdin=manifest.replace("nginx:1", "nginx:2"))
    assert "deployment.apps/web configured" in result.stdout and not result.stderr
    image = kubectl.run(
        "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    )
    assert image.stdout == "nginx:2"


def test_kubectl_apply_server_side(kubectl: Kubectl) -> None:
    kubectl.require(21, "--show-managed-fields")
    install_crds(kubectl)
    assert (
        "serverside-applied"
        in kubectl.run("apply", "--server-side", "-f", "-", stdin=flink_deployment()).stdout
    )
    obj = json.loads(
        kubectl.run("get", "flinkdeployment", "basic", "-o", "json", "--show-managed-fields").stdout
    )
    assert [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]] == [
        ("kubectl", "Apply")
    ]
    kubectl.run("apply", "--server-side", "-f", "-", stdin=flink_deployment(3))
    assert (
        kubectl.run("get", "flinkdeployment", "basic", "-o", "jsonpath={.spec.job.parallelism}").stdout == "3"
    )


def test_kubectl_create_from_file_and_typed_creates(kubectl: Kubectl) -> None:
    install_crds(kubectl)
    assert "created" in kubectl.run("create", "-f", "-", stdin=flink_deployment()).stdout
    duplicate = kubectl.run("create", "-f", "-", stdin=flink_deployment(), check=False)
    assert (
        duplicate.returncode != 0
        and "AlreadyExists" in duplicate.stderr
        and "already exists" in duplicate.stderr
    )
    kubectl.run("create", "namespace", "team")
    kubectl.run("create", "configmap", "conf", "-n", "team", "--from-literal=a=1", "--from-literal=b=2")
    kubectl.run("create", "secret", "generic", "creds", "-n", "team", "--from-literal=password=s3cret")
    kubectl.run("create", "serviceaccount", "flink", "-n", "team")
    assert json.loads(kubectl.run("get", "cm", "conf", "-n", "team", "-o", "json").stdout)["data"] == {
        "a": "1",
        "b": "2",
    }
    secret = json.loads(kubectl.run("get", "secret", "creds", "-n", "team", "-o", "json").stdout)
    assert secret["type"] == "Opaque" and secret["data"] == {"password": "czNjcmV0"}
    assert kubectl.run("get", "sa", "-n", "team", "-o", "name").stdout.strip() == "serviceaccount/flink"


def test_kubectl_patch_types_and_status_subresource(kubectl: Kubectl) -> None:
    kubectl.require(24, "patch --subresource")
    install_crds(kubectl)
    kubectl.run("apply", "-f", "-", stdin=flink_deployment())
    kubectl.run(
        "patch", "flinkdeployment", "basic", "--type=merge", "-p", '{"spec":{"job":{"parallelism":5}}}'
    )
    kubectl.run(
        "patch",
        "flinkdeployment",
        "basic",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/image","value":"flink:2.0"}]',
    )
    kubectl.run(
        "patch",
        "flinkdeployment",
        "basic",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"lifecycleState":"DEPLOYED"},"spec":{"image":"ignored"}}',
    )
    obj = json.loads(kubectl.run("get", "flinkdeployment", "basic", "-o", "json").stdout)
    assert (obj["spec"]["job"]["parallelism"], obj["spec"]["image"]) == (5, "flink:2.0")
    assert obj["status"]["lifecycleState"] == "DEPLOYED"
    strategic = kubectl.run("patch", "flinkdeployment", "basic", "-p", '{"spec":{"image":"x"}}', check=False)
    assert strategic.returncode != 0
    assert (
        "application/strategic-merge-patch+json is not supported by flink.apache.org/v1beta1"
        in strategic.stderr
    )


def test_kubectl_wait_for_condition_and_jsonpath(kubectl: Kubectl, cluster: ThreadedApiServer) -> None:
    kubectl.require(23, "wait --for=jsonpath")
    install_crds(kubectl)
    kubectl.run("apply", "-f", "-", stdin=flink_deployment())
    by_condition = kubectl.popen("wait", "--for=condition=Ready", "flinkdeployment/basic", "--timeout=30s")
    by_path = kubectl.popen(
        "wait", "--for=jsonpath={.status.jobStatus.state}=RUNNING", "flinkdeployment/basic", "--timeout=30s"
    )
    try:
        cluster.set_status(
            "flink.apache.org/v1beta1",
            "FlinkDeployment",
            "basic",
            {"jobStatus": {"state": "RUNNING"}, "conditions": [{"type": "Ready", "status": "True"}]},
            namespace="default",
        )
        assert by_condition.wait(30) == 0 and by_path.wait(30) == 0
        assert "condition met" in (by_condition.stdout.read() if by_condition.stdout else "")
    finally:
        for process in (by_condition, by_path):
            if process.poll() is None:
                process.kill()
                process.wait()


def test_kubectl_get_watch_prints_changes(kubectl: Kubectl, cluster: ThreadedApiServer) -> None:
    install_crds(kubectl)
    kubectl.run("apply", "-f", "-", stdin=flink_deployment())
    watcher = kubectl.popen("get", "flinkdeployments", "-w")
    try:
        wait_for_output(watcher, "basic")
        cluster.set_status(
            "flink.apache.org/v1beta1",
            "FlinkDeployment",
            "basic",
            {"jobStatus": {"state": "FAILED"}},
            namespace="default",
        )
        assert wait_for_output(watcher, "FAILED")[-1].split() == ["basic", "FAILED"]
    finally:
        watcher.kill()
        watcher.wait()


def test_kubectl_delete_and_errors(kubectl: Kubectl) -> None:
    kubectl.run("create", "configmap", "gone", "--from-literal=a=1")
    assert 'configmap "gone" deleted' in kubectl.run("delete", "configmap", "gone").stdout
    missing = kubectl.run("get", "configmap", "gone", check=False)
    assert (
        missing.returncode != 0
        and 'Error from server (NotFound): configmaps "gone" not found' in missing.stderr
    )
    invalid = kubectl.run("create", "configmap", "Bad_Name", check=False)
    assert (
        invalid.returncode != 0 and 'is invalid: metadata.name: Invalid value: "Bad_Name"' in invalid.stderr
    )
    unknown = kubectl.run("get", "widgets", check=False)
    assert unknown.returncode != 0 and 'the server doesn\'t have a resource type "widgets"' in unknown.stderr


def test_kubectl_strict_validation_rejects_unknown_fields(kubectl: Kubectl) -> None:
    kubectl.require(25, "server-side field validation")
    install_crds(kubectl)
    bad = flink_deployment().replace("  image: flink:1.20\n", "  image: flink:1.20\n  imag: typo\n")
    result = kubectl.run("apply", "-f", "-", stdin=bad, check=False)
    assert result.returncode != 0 and 'unknown field "spec.imag"' in result.stderr


def test_kubectl_labels_selectors_and_namespace_deletion(kubectl: Kubectl, tmp_path: Path) -> None:
    kubectl.run("create", "namespace", "team")
    kubectl.run("create", "configmap", "a", "-n", "team")
    kubectl.run("label", "configmap", "a", "-n", "team", "tier=one")
    assert (
        kubectl.run("get", "cm", "-n", "team", "-l", "tier=one", "-o", "name").stdout.strip() == "configmap/a"
    )
    assert 'namespace "team" deleted' in kubectl.run("delete", "namespace", "team", "--timeout=30s").stdout
    assert kubectl.run("get", "namespace", "team", check=False).returncode != 0


def _missing_or_different(sent: object, stored: object, path: str = "") -> list[str]:
    """Where the object kubectl rendered differs from what the server stored (server additions ignored)."""
    if isinstance(sent, dict) and isinstance(stored, dict):
        problems = []
        for key, value in sent.items():
            if key == "creationTimestamp" or (
                key == "status" and not any(value.values() if isinstance(value, dict) else [value])
            ):
                continue
            if key not in stored:
                problems.append(f"{path}.{key} missing")
            else:
                problems += _missing_or_different(value, stored[key], f"{path}.{key}")
        return problems
    if isinstance(sent, list) and isinstance(stored, list) and len(sent) == len(stored):
        return [
            p
            for i, (a, b) in enumerate(zip(sent, stored, strict=True))
            for p in _missing_or_different(a, b, f"{path}[{i}]")
        ]
    return [] if sent == stored else [f"{path}: sent {sent!r}, stored {stored!r}"]


@pytest.mark.parametrize(
    "command",
    [
        ["deployment", "web", "--image=nginx:1.25", "--port=80", "--replicas=0", "--", "sh", "-c", "echo hi"],
        ["service", "clusterip", "svc", "--tcp=80:8080", "--tcp=443:https"],
        ["configmap", "conf", "--from-literal=a=1"],
        ["secret", "generic", "creds", "--from-literal=k=v"],
        ["serviceaccount", "robot"],
    ],
)
def test_kubectl_typed_creates_store_what_kubectl_sent(kubectl: Kubectl, command: list[str]) -> None:
    rendered = kubectl.run("create", command[0], "--dry-run=client", "-o", "json", *command[1:])
    sent = json.loads(rendered.stdout)
    kubectl.run("create", *command)  # kubectl 1.32+ sends these bodies as protobuf
    stored = json.loads(kubectl.run("get", command[0], sent["metadata"]["name"], "-o", "json").stdout)
    assert _missing_or_different(sent, stored) == []
