"""HA ConfigMap rules, the Ingress builder, and the REST address with its override option."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from flink_operator.api.spec import IngressSpec, IngressTLS
from flink_operator.config import ConfigError, Configuration, load_declared_options
from flink_operator.kube import ha
from flink_operator.kube.ingress import IngressTemplateError, build_ingress, owner_reference
from flink_operator.kube.kube_options import REST_URL_TEMPLATE
from flink_operator.kube.rest_address import rest_url

pytestmark = pytest.mark.unit

JSON = dict[str, Any]


def config_map(name: str, data: dict[str, str] | None = None, **labels: str) -> JSON:
    return {"metadata": {"name": name, "labels": labels}, "data": data or {}}


def test_ha_metadata_by_name() -> None:
    assert ha.is_ha_metadata(config_map("demo-cluster-config-map")) is False
    assert ha.is_ha_metadata(config_map("demo-0000000000000000-config-map")) is True
    assert ha.is_ha_metadata(config_map("demo-jobmanager-leader")) is True
    assert ha.is_ha_metadata(config_map("flink-config-demo")) is False
    assert ha.is_ha_metadata(config_map("demo-x-config-map", component="autoscaler")) is False
    deleted = config_map("demo-jobmanager-leader")
    deleted["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert ha.is_ha_metadata(deleted) is False
    assert ha.ha_metadata_available([config_map("demo-cluster-config-map"), deleted]) is False


def test_checkpoints_and_job_graphs() -> None:
    job_map = config_map(
        "demo-00000000000000000000000000000001-config-map",
        {"checkpointID-0000000000000000007": "...", "counter": "8"},
    )
    assert ha.has_checkpoint([job_map]) is True
    assert ha.has_checkpoint([config_map("demo-cluster-config-map", {"checkpointID-1": "x"})]) is False
    leader = config_map(
        "demo-cluster-config-map", {"jobGraph-abc": "x", "executionPlan-def": "y", "other": "z"}
    )
    assert ha.job_graph_keys(leader) == ["jobGraph-abc", "executionPlan-def"]


OWNER = owner_reference("flink.apache.org/v1beta1", "FlinkDeployment", "demo", "uid-1")


def test_ingress_host_and_path() -> None:
    spec = IngressSpec(
        template="flink.example.com/{{namespace}}/{{NAME}}(/|$)(.*)",
        class_name="nginx",
        annotations={"nginx.ingress.kubernetes.io/rewrite-target": "/$2"},
        labels={"team": "data"},
        tls=[IngressTLS(hosts=["flink.example.com"], secret_name="tls-cert")],
    )
    ingress = build_ingress(spec, name="demo", namespace="flink", rest_port=8081, owner=OWNER)
    assert ingress["metadata"] == {
        "name": "demo",
        "namespace": "flink",
        "labels": {"team": "data", "component": "ingress"},
        "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/$2"},
        "ownerReferences": [OWNER],
    }
    assert ingress["spec"] == {
        "ingressClassName": "nginx",
        "rules": [
            {
                "host": "flink.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/flink/demo(/|$)(.*)",
                            "pathType": "ImplementationSpecific",
                            "backend": {"service": {"name": "demo-rest", "port": {"number": 8081}}},
                        }
                    ]
                },
            }
        ],
        "tls": [{"hosts": ["flink.example.com"], "secretName": "tls-cert"}],
    }
    kubernetes_validate.validate(ingress, "1.35", strict=True)


def test_ingress_host_only_and_path_only() -> None:
    host_only = build_ingress(
        IngressSpec(template="{{name}}.{{namespace}}.flink.example.com"),
        name="demo",
        namespace="ns",
        rest_port=9000,
    )
    rule = host_only["spec"]["rules"][0]
    assert rule["host"] == "demo.ns.flink.example.com"
    assert rule["http"]["paths"][0]["path"] == "/"
    assert rule["http"]["paths"][0]["backend"]["service"]["port"]["number"] == 9000
    path_only = build_ingress(
        IngressSpec(template="/{{namespace}}/{{name}}"), name="demo", namespace="ns", rest_port=1
    )
    assert "host" not in path_only["spec"]["rules"][0]
    assert path_only["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/ns/demo"
    for ingress in (host_only, path_only):
        kubernetes_validate.validate(ingress, "1.35", strict=True)


def test_ingress_template_errors() -> None:
    with pytest.raises(IngressTemplateError, match="required"):
        build_ingress(IngressSpec(), name="demo", namespace="ns", rest_port=1)
    with pytest.raises(IngressTemplateError, match="unknown placeholder"):
        build_ingress(
            IngressSpec(template="{{cluster}}.example.com"), name="demo", namespace="ns", rest_port=1
        )


def test_rest_url_default_and_template() -> None:
    assert rest_url("demo", "flink", 8081) == "http://demo-rest.flink.svc:8081"
    assert rest_url("demo", "flink", 8081, "http://127.0.0.1:9999/clusters/{namespace}.{name}/") == (
        "http://127.0.0.1:9999/clusters/flink.demo"
    )
    assert rest_url("demo", "flink", 8081, "https://{service}.{namespace}.svc.cluster.local:{port}") == (
        "https://demo-rest.flink.svc.cluster.local:8081"
    )


def test_rest_url_template_option_is_checked_when_loaded() -> None:
    load_declared_options()
    assert Configuration({}).get(REST_URL_TEMPLATE) is None
    good = Configuration({REST_URL_TEMPLATE.key: "http://localhost:{port}"})
    assert good.get(REST_URL_TEMPLATE) == "http://localhost:{port}"
    with pytest.raises(ConfigError, match=r"unknown: \{cluster\}"):
        Configuration({REST_URL_TEMPLATE.key: "http://{cluster}:8081"}).get(REST_URL_TEMPLATE)
    with pytest.raises(ConfigError, match="starting with http"):
        Configuration({REST_URL_TEMPLATE.key: "{service}:{port}"}).get(REST_URL_TEMPLATE)
