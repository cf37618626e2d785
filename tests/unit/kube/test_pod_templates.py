"""Pod-template layering (contract §10.1): JSON-tree merge, arrays by index or by name, resources, probe."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest

from flink_operator.api import FlinkDeployment
from flink_operator.kube.pod_templates import (
    STARTUP_PROBE,
    ExtraResources,
    layer_pod_template,
    merge_pod_templates,
    pod_templates_for,
)
from flink_operator.validation.pod_template import validate_pod_template

pytestmark = pytest.mark.unit

JSON = dict[str, Any]

COMMON: JSON = {
    "metadata": {"labels": {"team": "data", "tier": "batch"}},
    "spec": {
        "serviceAccountName": "common",
        "containers": [
            {
                "name": "flink-main-container",
                "args": ["a", "b"],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            },
            {"name": "sidecar", "image": "busybox"},
        ],
        "volumes": [{"name": "v1", "emptyDir": {}}],
        "securityContext": {"runAsUser": 9999},
    },
}
ROLE: JSON = {
    "metadata": {"labels": {"tier": "stream"}},
    "spec": {
        "containers": [
            {
                "name": "flink-main-container",
                "args": ["x", "y", "z"],
                "env": [{"name": "C", "value": "3"}],
            }
        ],
        "volumes": [{"name": "v2", "hostPath": {"path": "/data"}}, {"name": "v3", "emptyDir": {}}],
        "securityContext": None,
    },
}


def test_merge_by_index_follows_upstream() -> None:
    before = copy.deepcopy(COMMON)
    merged = merge_pod_templates(COMMON, ROLE)
    assert before == COMMON  # inputs untouched
    assert merged is not None
    assert merged["metadata"]["labels"] == {"team": "data", "tier": "stream"}
    main = merged["spec"]["containers"][0]
    # arrays of scalars: the base elements are kept, only the surplus is appended
    assert main["args"] == ["a", "b", "z"]
    # arrays of objects: element i is merged into element i
    assert main["env"] == [{"name": "C", "value": "3"}, {"name": "B", "value": "2"}]
    assert merged["spec"]["containers"][1] == {"name": "sidecar", "image": "busybox"}
    # volume 0 merged field by field (emptyDir and hostPath together), volume 1 appended
    assert merged["spec"]["volumes"] == [
        {"name": "v2", "emptyDir": {}, "hostPath": {"path": "/data"}},
        {"name": "v3", "emptyDir": {}},
    ]
    # an override that is not an object leaves the base object alone
    assert merged["spec"]["securityContext"] == {"runAsUser": 9999}
    assert merged["spec"]["serviceAccountName"] == "common"


def test_merge_by_name() -> None:
    merged = merge_pod_templates(COMMON, ROLE, merge_arrays_by_name=True)
    assert merged is not None
    main = merged["spec"]["containers"][0]
    assert main["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
        {"name": "C", "value": "3"},
    ]
    assert [v["name"] for v in merged["spec"]["volumes"]] == ["v1", "v2", "v3"]
    assert merged["spec"]["volumes"][0] == {"name": "v1", "emptyDir": {}}
    # scalar arrays have no names: still by index
    assert main["args"] == ["a", "b", "z"]
    override = {"spec": {"containers": [{"name": "sidecar", "image": "alpine"}, {"name": "new"}]}}
    merged = merge_pod_templates(COMMON, override, merge_arrays_by_name=True)
    assert merged is not None
    assert [c["name"] for c in merged["spec"]["containers"]] == ["flink-main-container", "sidecar", "new"]
    assert merged["spec"]["containers"][1]["image"] == "alpine"


def test_one_side_missing() -> None:
    assert merge_pod_templates(None, None) is None
    assert merge_pod_templates(COMMON, None) == COMMON
    assert merge_pod_templates(None, ROLE) == ROLE
    assert merge_pod_templates(COMMON, None) is not COMMON


def test_extra_resources_go_into_the_main_container() -> None:
    template = layer_pod_template(
        {"spec": {"containers": [{"name": "sidecar", "image": "x"}]}},
        None,
        extra=ExtraResources({"ephemeral-storage": "1Gi"}, {"ephemeral-storage": "2Gi", "nvidia.com/gpu": 1}),
    )
    assert template is not None
    assert template["spec"]["containers"][1] == {
        "name": "flink-main-container",
        "resources": {
            "requests": {"ephemeral-storage": "1Gi"},
            "limits": {"ephemeral-storage": "2Gi", "nvidia.com/gpu": 1},
        },
    }
    assert layer_pod_template(None, None, extra=ExtraResources({}, {})) is None


def test_startup_probe_added_unless_defined() -> None:
    template = layer_pod_template(None, None, startup_probe=True)
    assert template == {
        "spec": {"containers": [{"name": "flink-main-container", "startupProbe": STARTUP_PROBE}]}
    }
    own = {
        "spec": {
            "containers": [{"name": "flink-main-container", "startupProbe": {"exec": {"command": ["x"]}}}]
        }
    }
    layered = layer_pod_template(own, None, startup_probe=True)
    assert layered is not None
    assert layered["spec"]["containers"][0]["startupProbe"] == {"exec": {"command": ["x"]}}


def _deployment(spec: JSON) -> FlinkDeployment:
    return FlinkDeployment.from_dict(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": "x"},
            "spec": spec,
        }
    )


def test_templates_for_a_deployment_spec() -> None:
    deployment = _deployment(
        {
            "podTemplate": COMMON,
            "jobManager": {
                "resources": {"requests": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "3Gi"}},
                "podTemplate": ROLE,
            },
            "taskManager": {"resource": {"cpu": 1.0, "memory": "2g", "ephemeralStorage": "5Gi"}},
        }
    )
    templates = pod_templates_for(deployment.spec)
    assert templates.jobmanager is not None and templates.taskmanager is not None
    jm_main = templates.jobmanager["spec"]["containers"][0]
    assert jm_main["resources"] == {"requests": {"ephemeral-storage": "3Gi"}}
    assert jm_main["startupProbe"] == STARTUP_PROBE
    assert templates.jobmanager["metadata"]["labels"]["tier"] == "stream"
    tm_main = templates.taskmanager["spec"]["containers"][0]
    assert tm_main["resources"] == {
        "requests": {"ephemeral-storage": "5Gi"},
        "limits": {"ephemeral-storage": "5Gi"},
    }
    assert "startupProbe" not in tm_main
    assert templates.taskmanager["metadata"]["labels"]["tier"] == "batch"
    for template in (templates.jobmanager, templates.taskmanager):
        assert validate_pod_template(template) == []
    no_probe = pod_templates_for(_deployment({}).spec, jobmanager_startup_probe=False)
    assert no_probe.jobmanager is None and no_probe.taskmanager is None


def test_layered_templates_are_valid_pods() -> None:
    deployment = _deployment({"podTemplate": COMMON, "jobManager": {"podTemplate": ROLE}})
    template = pod_templates_for(deployment.spec).jobmanager
    assert template is not None
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, **{"spec": template["spec"]}}
    pod["spec"]["containers"][0]["image"] = "flink"
    kubernetes_validate.validate(pod, "1.35", strict=False)
