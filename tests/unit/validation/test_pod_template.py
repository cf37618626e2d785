"""Pod templates checked against the Kubernetes Pod schema: partial templates pass, faults name their path."""

from typing import Any

import pytest

from flink_operator.api import Problem
from flink_operator.validation.pod_template import (
    DEFAULT_KUBERNETES_VERSION,
    supported_kubernetes_versions,
    validate_pod_template,
)

pytestmark = pytest.mark.unit

PREFIX = "spec.jobManager.podTemplate"


def check(template: Any, version: str | None = None) -> list[str]:
    return [str(problem) for problem in validate_pod_template(template, PREFIX, version)]


VALID_TEMPLATES: dict[str, dict[str, Any]] = {
    "empty": {},
    "metadata only": {"metadata": {"labels": {"team": "data"}, "annotations": {"a": "b"}}},
    "main container without image": {
        "spec": {
            "containers": [
                {
                    "name": "flink-main-container",
                    "volumeMounts": [{"mountPath": "/opt/flink/log", "name": "logs"}],
                    "env": [{"name": "TZ", "value": "UTC"}],
                    "resources": {"limits": {"cpu": 2, "memory": "4Gi"}, "requests": {"cpu": "500m"}},
                }
            ],
            "volumes": [{"name": "logs", "emptyDir": {}}],
        }
    },
    "sidecar and init container": {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "pod-template"},
        "spec": {
            "initContainers": [{"name": "fetch", "image": "busybox", "command": ["sh", "-c", "true"]}],
            "containers": [
                {"name": "flink-main-container"},
                {"name": "fluentbit", "image": "fluent/fluent-bit:3.0", "ports": [{"containerPort": 2020}]},
            ],
        },
    },
    "no containers at all": {
        "spec": {
            "serviceAccountName": "flink",
            "securityContext": {"runAsUser": 9999},
            "tolerations": [
                {"key": "dedicated", "operator": "Equal", "value": "flink", "effect": "NoSchedule"}
            ],
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["flink"]}]}
                        ]
                    }
                }
            },
        }
    },
}


@pytest.mark.parametrize("template", VALID_TEMPLATES.values(), ids=list(VALID_TEMPLATES))
def test_partial_templates_are_valid(template: dict[str, Any]) -> None:
    assert check(template) == []


def test_wrong_types_name_the_field() -> None:
    template = {
        "spec": {"containers": [{"name": "flink-main-container", "ports": [{"containerPort": "8081"}]}]}
    }
    assert check(template) == [
        f'{PREFIX}.spec.containers[0].ports[0].containerPort: expected an integer, got string "8081"'
    ]
    assert check({"spec": {"containers": {"name": "x"}}}) == [
        f"{PREFIX}.spec.containers: expected a list, got an object"
    ]
    assert check({"metadata": {"labels": {"app.kubernetes.io/name": 3}}}) == [
        f'{PREFIX}.metadata.labels["app.kubernetes.io/name"]: expected a string, got integer 3'
    ]


def test_unknown_fields_are_reported() -> None:
    template = {
        "spec": {
            "containers": [{"name": "flink-main-container", "volumeMount": []}],
            "nodeSelectors": {"a": "b"},
        },
        "extra": 1,
    }
    assert check(template) == [
        f"{PREFIX}.extra: unknown field",
        f"{PREFIX}.spec.containers[0].volumeMount: unknown field",
        f"{PREFIX}.spec.nodeSelectors: unknown field",
    ]


def test_required_fields_that_a_template_cannot_omit() -> None:
    template = {
        "spec": {
            "containers": [{"image": "sidecar:1"}],
            "volumes": [{"emptyDir": {}}],
            "initContainers": [{"name": "init", "volumeMounts": [{"name": "v"}], "env": [{"value": "x"}]}],
        }
    }
    assert check(template) == [
        f"{PREFIX}.spec.containers[0].name: required field is missing",
        f"{PREFIX}.spec.initContainers[0].env[0].name: required field is missing",
        f"{PREFIX}.spec.initContainers[0].volumeMounts[0].mountPath: required field is missing",
        f"{PREFIX}.spec.volumes[0].name: required field is missing",
    ]


def test_quantities_and_enums() -> None:
    template = {
        "kind": "Deployment",
        "spec": {"containers": [{"name": "flink-main-container", "resources": {"limits": {"memory": [1]}}}]},
    }
    assert check(template) == [
        f'{PREFIX}.kind: unknown value string "Deployment"; allowed values: Pod',
        f"{PREFIX}.spec.containers[0].resources.limits.memory: expected a string or a number, got a list",
    ]


def test_non_object_template() -> None:
    assert check("containers") == [f'{PREFIX}: expected an object (a Pod template), got string "containers"']


def test_kubernetes_version_is_a_parameter() -> None:
    versions = supported_kubernetes_versions()
    assert DEFAULT_KUBERNETES_VERSION in versions and "1.25" in versions
    # A field added in Kubernetes 1.33 (container lifecycle stopSignal) is unknown to the 1.30 schema.
    template = {"spec": {"containers": [{"name": "c", "lifecycle": {"stopSignal": "SIGTERM"}}]}}
    assert check(template, "1.33") == []
    assert check(template, "1.30") == [f"{PREFIX}.spec.containers[0].lifecycle.stopSignal: unknown field"]
    with pytest.raises(ValueError, match=r"no Pod schema for Kubernetes '1\.2'"):
        validate_pod_template({}, PREFIX, "1.2")


def test_problems_are_plain_values() -> None:
    (problem,) = validate_pod_template({"spec": {"hostNetwork": "yes"}}, "spec.podTemplate")
    assert problem == Problem("spec.podTemplate.spec.hostNetwork", 'expected a boolean, got string "yes"')
