"""The Helm chart rendered by the real Helm engine: lint, Kubernetes schema of every object, CRDs equal to the
generated ones, and what each values variation must produce (security, probes, RBAC, webhooks,
cert-manager, plugins, listeners, watched namespaces), including that the rendered configuration loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from tests.support.helm_chart import (
    CHART,
    REPO,
    config_yaml,
    find,
    lint,
    one,
    operator_container,
    render,
    render_error,
)

from flink_operator.config import load_declared_options, load_default_configuration
from flink_operator.plugins._options import PluginSettings
from flink_operator.webhook import WebhookSettings

pytestmark = pytest.mark.unit

JSON = dict[str, Any]
KUBERNETES_VERSION = "1.30.0"
CONFIGURATION = "flink-operator-flink-system-webhook-configuration"

VARIATIONS: dict[str, JSON] = {
    "defaults": {},
    "watched-namespaces": {"watchNamespaces": ["team-a", "team-b"]},
    "webhook-off": {"webhook": {"create": False}},
    "cert-manager": {"webhook": {"certManager": {"enabled": True}}},
    "plugins": {
        "plugins": {
            "pipPackages": ["flink-operator-sample-plugins==0.1.0"],
            "pipIndexUrl": "https://pypi.example.com/simple",
            "volume": {"persistentVolumeClaim": {"claimName": "flink-plugins"}},
            "listeners": {"audit-sink": {"class": "sample:Listener", "url": "https://audit.example.com/events"}},
            "mutators": {"sample-team-annotation": {"team": "streaming"}},
        }
    },
    "single-replica-nodes": {"replicas": 1, "rbac": {"nodesRule": {"create": True}}},
}

ALL_VERBS = {"get", "list", "watch", "create", "update", "patch", "delete"}
# Exactly what the operator calls (docs/install.md has this table with the reasons).
OPERATOR_RULES = {
    ("flink.apache.org", "flinkdeployments"): ALL_VERBS,
    ("flink.apache.org", "flinksessionjobs"): ALL_VERBS,
    ("flink.apache.org", "flinkstatesnapshots"): ALL_VERBS,
    ("flink.apache.org", "flinkdeployments/status"): {"get", "update", "patch"},
    ("flink.apache.org", "flinksessionjobs/status"): {"get", "update", "patch"},
    ("flink.apache.org", "flinkstatesnapshots/status"): {"get", "update", "patch"},
    ("flink.apache.org", "flinkdeployments/finalizers"): {"update"},
    ("flink.apache.org", "flinksessionjobs/finalizers"): {"update"},
    ("flink.apache.org", "flinkstatesnapshots/finalizers"): {"update"},
    ("", "services"): ALL_VERBS,
    ("", "configmaps"): ALL_VERBS,
    ("", "pods"): {"get", "list", "watch"},
    ("", "events"): {"get", "list", "watch", "create", "update", "patch"},
    ("apps", "deployments"): ALL_VERBS,
    ("networking.k8s.io", "ingresses"): ALL_VERBS,
}


def grants(role: JSON) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[JSON]]:
    return {name: render(values) for name, values in VARIATIONS.items()}


@pytest.mark.parametrize("variation", sorted(VARIATIONS))
def test_lint_is_clean(variation: str) -> None:
    report = lint(VARIATIONS[variation])
    assert report["errors"] == []
    # Severity 2 is a warning, 3 an error; `icon is recommended` (1, info) is all that may remain.
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("variation", sorted(VARIATIONS))
def test_every_object_is_valid_for_kubernetes(rendered: dict[str, list[JSON]], variation: str) -> None:
    for obj in rendered[variation]:
        if obj["apiVersion"].startswith("cert-manager.io/"):
            continue  # not a Kubernetes kind; checked below
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_crds_are_the_generated_ones() -> None:
    generated = sorted((REPO / "deploy" / "crds").glob("*.yaml"))
    shipped = sorted((CHART / "crds").glob("*.yaml"))
    assert [p.name for p in shipped] == [p.name for p in generated]
    for ours, theirs in zip(shipped, generated, strict=True):
        assert ours.read_bytes() == theirs.read_bytes(), f"{ours.name} differs from deploy/crds; copy it"


@pytest.mark.parametrize("variation", sorted(VARIATIONS))
def test_rendered_configuration_loads_in_the_operator(
    rendered: dict[str, list[JSON]], variation: str, tmp_path: Path
) -> None:
    (tmp_path / "config.yaml").write_text(config_yaml(rendered[variation]))
    load_declared_options()
    container = operator_container(rendered[variation])
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    loaded = load_default_configuration({**env, "FLINK_CONF_DIR": str(tmp_path)}).configuration
    settings = WebhookSettings.from_config(loaded, "flink-system")
    assert settings.port == 9443 and settings.service_name == "flink-operator-webhook-service"
    plugins = PluginSettings.from_config(loaded.as_dict(), env)
    assert str(plugins.plugins_dir) == "/opt/flink/plugins"


def test_operator_pod_is_locked_down_and_probed(rendered: dict[str, list[JSON]]) -> None:
    objects = rendered["defaults"]
    deployment = one(objects, "Deployment", "flink-operator")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = operator_container(objects)
    assert container["args"] == ["run", "--webhook"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 8085, "metrics": 9999, "webhook": 9443}
    env = {e["name"]: e for e in container["env"]}
    assert env["OPERATOR_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert env["FLINK_CONF_DIR"]["value"] == "/opt/flink/conf"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/opt/flink/conf"] == "flink-operator-config"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["flink-operator-config"]["configMap"]["name"] == "flink-operator-config"
    assert volumes[mounts["/tmp"]]["emptyDir"] == {}
    assert volumes[mounts["/opt/flink/artifacts"]]["emptyDir"] == {}
    assert one(objects, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert one(objects, "Service", "flink-operator-metrics")["spec"]["ports"][0]["targetPort"] == "metrics"
    webhook_service = one(objects, "Service", "flink-operator-webhook-service")
    assert webhook_service["spec"]["ports"] == [
        {"name": "webhook", "port": 443, "targetPort": "webhook", "protocol": "TCP"}
    ]


def test_cluster_wide_rbac_is_exactly_what_the_operator_uses(rendered: dict[str, list[JSON]]) -> None:
    objects = rendered["defaults"]
    assert grants(one(objects, "ClusterRole", "flink-operator")) == OPERATOR_RULES
    binding = one(objects, "ClusterRoleBinding", "flink-operator-role-binding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "flink-operator", "namespace": "flink-system"}
    ]
    own = one(objects, "Role", "flink-operator-self", "flink-system")
    rules = {(r["resources"][0], tuple(r.get("resourceNames", ())), tuple(r["verbs"])) for r in own["rules"]}
    assert rules == {
        ("leases", (), ("create",)),
        ("leases", ("flink-operator-lease",), ("get", "update")),
        ("secrets", (), ("create",)),
        ("secrets", ("flink-operator-webhook-cert",), ("get", "update")),
    }
    cluster = one(objects, "ClusterRole", "flink-operator-flink-system-cluster")
    assert [(r["resources"], r["resourceNames"], r["verbs"]) for r in cluster["rules"]] == [
        (["validatingwebhookconfigurations"], [CONFIGURATION], ["get", "patch"]),
        (["mutatingwebhookconfigurations"], [CONFIGURATION], ["get", "patch"]),
    ]
    job_role = one(objects, "Role", "flink", "flink-system")
    assert grants(job_role)[("", "pods")] == ALL_VERBS
    assert set(grants(job_role)) == {("", "pods"), ("", "configmaps"), ("apps", "deployments"),
                                     ("apps", "deployments/finalizers")}
    assert one(objects, "ServiceAccount", "flink", "flink-system")


def test_webhooks_fail_closed_without_side_effects_and_leave_ca_bundle_alone(
    rendered: dict[str, list[JSON]],
) -> None:
    kinds = (("ValidatingWebhookConfiguration", "/validate"), ("MutatingWebhookConfiguration", "/mutate"))
    for kind, path in kinds:
        configuration = one(rendered["defaults"], kind, CONFIGURATION)
        (webhook,) = configuration["webhooks"]
        assert webhook["failurePolicy"] == "Fail" and webhook["sideEffects"] == "None"
        assert webhook["clientConfig"] == {
            "service": {"name": "flink-operator-webhook-service", "namespace": "flink-system", "path": path,
                        "port": 443}
        }
        assert "namespaceSelector" not in webhook
        assert "annotations" not in configuration["metadata"]


def test_watched_namespaces_get_roles_and_selectors(rendered: dict[str, list[JSON]]) -> None:
    objects = rendered["watched-namespaces"]
    assert not find(objects, "ClusterRole", "flink-operator")
    for namespace in ("team-a", "team-b"):
        assert grants(one(objects, "Role", "flink-operator", namespace)) == OPERATOR_RULES
        assert one(objects, "RoleBinding", "flink-operator-role-binding", namespace)
        assert one(objects, "ServiceAccount", "flink", namespace)
        assert one(objects, "Role", "flink", namespace)
    assert not find(objects, "Role", "flink", "flink-system")
    selector = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                      "values": ["team-a", "team-b"]}]}
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        assert one(objects, kind)["webhooks"][0]["namespaceSelector"] == selector
    env = {e["name"]: e.get("value") for e in operator_container(objects)["env"]}
    assert env["WATCH_NAMESPACES"] == "team-a,team-b"
    assert 'kubernetes.operator.watched.namespaces: "team-a,team-b"' in config_yaml(objects)


def test_webhook_off_renders_no_webhook_and_no_certificate_rights(rendered: dict[str, list[JSON]]) -> None:
    objects = rendered["webhook-off"]
    assert operator_container(objects)["args"] == ["run"]
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        assert not find(objects, kind)
    assert not find(objects, "Service", "flink-operator-webhook-service")
    assert not find(objects, "ClusterRole", "flink-operator-flink-system-cluster")
    own = one(objects, "Role", "flink-operator-self")
    assert all("secrets" not in rule["resources"] for rule in own["rules"])


def test_cert_manager_issues_and_injects_and_the_operator_serves_the_mounted_files(
    rendered: dict[str, list[JSON]],
) -> None:
    objects = rendered["cert-manager"]
    assert one(objects, "Issuer")["spec"] == {"selfSigned": {}}
    certificate = one(objects, "Certificate", "flink-operator-serving-cert")
    assert certificate["spec"]["dnsNames"] == [
        "flink-operator-webhook-service.flink-system.svc",
        "flink-operator-webhook-service.flink-system.svc.cluster.local",
    ]
    secret = certificate["spec"]["secretName"]
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        annotations = one(objects, kind)["metadata"]["annotations"]
        assert annotations == {"cert-manager.io/inject-ca-from": "flink-system/flink-operator-serving-cert"}
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert {"name": "webhook-certs", "secret": {"secretName": secret}} in pod["volumes"]
    config = config_yaml(objects)
    assert "kubernetes.operator.webhook.tls.cert-file: /certs/tls.crt" in config
    assert "cert.secret-name" not in config
    assert not find(objects, "ClusterRole", "flink-operator-flink-system-cluster")


def test_plugins_without_a_custom_image(rendered: dict[str, list[JSON]]) -> None:
    objects = rendered["plugins"]
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    assert init["command"][:3] == ["python", "-m", "pip"] and "--target" in init["command"]
    assert init["args"] == [
        "--index-url=https://pypi.example.com/simple", "flink-operator-sample-plugins==0.1.0"
    ]
    assert init["securityContext"]["readOnlyRootFilesystem"] is True
    container = operator_container(objects)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["OPERATOR_LIB"] == "/opt/flink/operator-lib"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/opt/flink/plugins"]]["persistentVolumeClaim"] == {"claimName": "flink-plugins"}
    assert volumes[mounts["/opt/flink/operator-lib"]]["emptyDir"] == {}
    config = config_yaml(objects)
    assert 'kubernetes.operator.plugins.listeners.audit-sink.class: "sample:Listener"' in config
    url = "https://audit.example.com/events"
    assert f'kubernetes.operator.plugins.listeners.audit-sink.url: "{url}"' in config
    assert 'kubernetes.operator.plugins.mutators.sample-team-annotation.team: "streaming"' in config


def test_single_replica_and_nodes_rule(rendered: dict[str, list[JSON]]) -> None:
    objects = rendered["single-replica-nodes"]
    assert not find(objects, "PodDisruptionBudget")
    cluster = one(objects, "ClusterRole", "flink-operator-flink-system-cluster")
    assert {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]} in cluster["rules"]


def test_replicas_without_leader_election_are_refused() -> None:
    message = render_error({"replicas": 2, "leaderElection": {"enabled": False}})
    assert "leaderElection.enabled" in message
    objects = render({"replicas": 1, "leaderElection": {"enabled": False}})
    assert one(objects, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}
