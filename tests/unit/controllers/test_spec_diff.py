"""The typed spec diff (contract §3.7): every row of the field table, key rules, nonces, redaction."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from flink_operator.api import FlinkDeploymentSpec, FlinkSessionJobSpec, KubernetesDeploymentMode
from flink_operator.controllers.common.spec_diff import DiffType, diff_specs

pytestmark = pytest.mark.unit

NATIVE = KubernetesDeploymentMode.NATIVE
STANDALONE = KubernetesDeploymentMode.STANDALONE

BASE: dict[str, Any] = {
    "image": "flink:2.3",
    "flinkVersion": "v2_3",
    "serviceAccount": "flink",
    "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2", "s3.secret-key": "hunter22"},
    "jobManager": {"resource": {"memory": "1g", "cpu": 1}},
    "taskManager": {"resource": {"memory": "1g", "cpu": 1}},
    "job": {"jarURI": "local:///job.jar", "parallelism": 2, "upgradeMode": "savepoint"},
}


def deployment(change: dict[str, Any] | None = None, **top: Any) -> FlinkDeploymentSpec:
    document = copy.deepcopy(BASE)
    for path, value in (change or {}).items():
        node = document
        parts = path.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    document.update(top)
    return FlinkDeploymentSpec.from_dict(document)


def diff_type(change: dict[str, Any], deploy_mode: KubernetesDeploymentMode = NATIVE, **top: Any) -> DiffType:
    return diff_specs(deployment(), deployment(change, **top), mode=deploy_mode).type


def test_identical_specs_are_ignore() -> None:
    assert diff_specs(deployment(), deployment()).type is DiffType.IGNORE
    assert diff_specs(deployment(), deployment()).changes == ()


def test_defaults_spelled_out_equal_defaults_left_out() -> None:
    explicit = deployment({"job/state": "running", "job/args": [], "jobManager/replicas": 1})
    assert diff_specs(deployment(), explicit).type is DiffType.IGNORE


@pytest.mark.parametrize(
    "field",
    ["savepointTriggerNonce", "checkpointTriggerNonce", "autoscalerResetNonce"],
)
def test_ignored_job_nonces(field: str) -> None:
    assert diff_type({f"job/{field}": 5}) is DiffType.IGNORE


@pytest.mark.parametrize(
    ("field", "value"),
    [("initialSavepointPath", "file:/sp"), ("upgradeMode", "last-state"), ("allowNonRestoredState", True)],
)
def test_ignored_job_fields(field: str, value: Any) -> None:
    assert diff_type({f"job/{field}": value}) is DiffType.IGNORE


def test_savepoint_redeploy_nonce() -> None:
    assert diff_type({"job/savepointRedeployNonce": 1}) is DiffType.SAVEPOINT_REDEPLOY
    before = deployment({"job/savepointRedeployNonce": 1})
    assert (
        diff_specs(before, deployment({"job/savepointRedeployNonce": 2})).type is DiffType.SAVEPOINT_REDEPLOY
    )
    assert diff_specs(before, deployment()).type is DiffType.IGNORE  # back to null is ignored


def test_restart_nonce() -> None:
    assert diff_type({}, restartNonce=1) is DiffType.UPGRADE
    with_nonce = deployment(restartNonce=1)
    assert diff_specs(with_nonce, deployment(restartNonce=2)).type is DiffType.UPGRADE
    assert diff_specs(with_nonce, deployment()).type is DiffType.IGNORE


@pytest.mark.parametrize("change", [{"job/parallelism": 4}, {"taskManager/replicas": 3}])
def test_parallelism_and_replicas_scale_only_in_standalone(change: dict[str, Any]) -> None:
    assert diff_type(change, NATIVE) is DiffType.UPGRADE
    assert diff_type(change, STANDALONE) is DiffType.SCALE


@pytest.mark.parametrize(
    "key", ["job.autoscaler.enabled", "parallelism.default", "kubernetes.operator.savepoint.format.type"]
)
def test_ignored_configuration_keys(key: str) -> None:
    assert diff_type({f"flinkConfiguration/{key}": "x"}) is DiffType.IGNORE


def test_vertex_parallelism_overrides_scale_in_native_upgrade_in_standalone() -> None:
    change = {"flinkConfiguration/pipeline.jobvertex-parallelism-overrides": "a:2"}
    assert diff_type(change, NATIVE) is DiffType.SCALE
    assert diff_type(change, STANDALONE) is DiffType.UPGRADE


def test_nested_and_flat_configuration_forms_are_compared_as_flat_keys() -> None:
    nested = deployment(
        {"flinkConfiguration": {"taskmanager": {"numberOfTaskSlots": 2}, "s3.secret-key": "hunter22"}}
    )
    assert diff_specs(deployment(), nested).type is DiffType.IGNORE
    changed = diff_specs(deployment(), deployment({"flinkConfiguration/state.backend.type": "rocksdb"}))
    assert changed.type is DiffType.UPGRADE
    assert changed.paths == ("flinkConfiguration.state.backend.type",)


@pytest.mark.parametrize(
    ("change", "top"),
    [
        ({"flinkConfiguration/execution.checkpointing.interval": "1 s"}, {}),
        ({}, {"image": "flink:2.4"}),
        ({}, {"imagePullPolicy": "Always"}),
        ({}, {"serviceAccount": "other"}),
        ({}, {"flinkVersion": "v2_2"}),
        ({}, {"ingress": {"template": "{{name}}.example.com"}}),
        ({}, {"podTemplate": {"metadata": {"labels": {"a": "b"}}}}),
        ({"jobManager/replicas": 2}, {}),
        ({"jobManager/resource/memory": "2g"}, {}),
        ({"taskManager/resource/memory": "2g"}, {}),
        ({"taskManager/podTemplate": {"metadata": {"labels": {"a": "b"}}}}, {}),
        ({}, {"logConfiguration": {"log4j-console.properties": "x"}}),
        ({}, {"mode": "standalone"}),
        ({"job/jarURI": "local:///other.jar"}, {}),
        ({"job/entryClass": "demo.Other"}, {}),
        ({"job/args": ["--x"]}, {}),
        ({"job/state": "suspended"}, {}),
    ],
)
def test_upgrade_fields(change: dict[str, Any], top: dict[str, Any]) -> None:
    assert diff_type(change, **top) is DiffType.UPGRADE


def test_deployment_name_of_session_jobs_is_upgrade() -> None:
    before = FlinkSessionJobSpec.from_dict({"deploymentName": "a", "job": {"jarURI": "https://x/j.jar"}})
    after = FlinkSessionJobSpec.from_dict({"deploymentName": "b", "job": {"jarURI": "https://x/j.jar"}})
    result = diff_specs(before, after)
    assert result.type is DiffType.UPGRADE
    assert "FlinkSessionJobSpec[deploymentName : a -> b]" in result.describe()


def test_largest_change_wins() -> None:
    mixed = deployment(
        {"job/upgradeMode": "stateless", "job/parallelism": 4, "job/savepointRedeployNonce": 3}
    )
    result = diff_specs(deployment(), mixed, mode=STANDALONE)
    assert result.type is DiffType.SAVEPOINT_REDEPLOY
    assert {c.path: c.type for c in result.changes} == {
        "job.parallelism": DiffType.SCALE,
        "job.upgradeMode": DiffType.IGNORE,
        "job.savepointRedeployNonce": DiffType.SAVEPOINT_REDEPLOY,
    }


def test_description_names_paths_but_never_secret_or_free_form_values() -> None:
    after = deployment(
        {
            "flinkConfiguration/s3.secret-key": "correct-horse",
            "flinkConfiguration/state.backend.type": "rocksdb",
            "job/parallelism": 4,
            "job/args": ["--password", "sw0rdfish"],
        },
        podTemplate={"spec": {"containers": [{"name": "x", "env": [{"name": "TOKEN", "value": "t0ken-v"}]}]}},
    )
    result = diff_specs(deployment(), after)
    text = result.describe()
    assert text.startswith("Diff: FlinkDeploymentSpec[")
    assert "job.parallelism : 2 -> 4" in text
    for path in (
        "flinkConfiguration.s3.secret-key",
        "flinkConfiguration.state.backend.type",
        "job.args",
        "podTemplate",
    ):
        assert path in text
    for secret in ("hunter22", "correct-horse", "sw0rdfish", "t0ken-v", "rocksdb"):
        assert secret not in text
        assert secret not in repr(result)
