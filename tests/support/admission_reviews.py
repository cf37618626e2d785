"""AdmissionReview requests as the API server sends them, decoded responses, and a plugin host with the
default validator (offline host resolution) plus plugins named by configuration keys only."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from flink_operator.config import DefaultConfiguration
from flink_operator.plugins._host import PluginHost
from flink_operator.validation import DefaultValidator, offline_resolver

JSON = dict[str, Any]


def review_request(
    obj: JSON | None,
    *,
    operation: str = "CREATE",
    old: JSON | None = None,
    kind: str | None = None,
    group: str = "flink.apache.org",
    namespace: str | None = None,
) -> JSON:
    source = obj if obj is not None else old or {}
    kind = kind or str(source.get("kind"))
    metadata = source.get("metadata") or {}
    plural = kind.lower() + "s"
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": group, "version": "v1beta1", "kind": kind},
            "resource": {"group": group, "version": "v1beta1", "resource": plural},
            "name": metadata.get("name", ""),
            "namespace": namespace if namespace is not None else metadata.get("namespace", "default"),
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin"},
            "object": obj,
            "oldObject": old,
            "dryRun": False,
        },
    }


def decoded_patch(review: JSON) -> list[JSON]:
    """The JSONPatch operations of a response (empty when it carries none)."""
    response = review["response"]
    if "patch" not in response:
        return []
    assert response["patchType"] == "JSONPatch"
    return list(json.loads(base64.b64decode(response["patch"])))


def plugin_host(
    config: dict[str, str] | None = None, *, tmp_path: Path | None = None, entry_points: Any = ()
) -> PluginHost:
    """Default validator (no DNS), default mutator, and the plugins `config` names; installed entry points
    only when `entry_points=None`."""
    values = dict(config or {})
    defaults = DefaultConfiguration(values=values)
    plugins_dir = str((tmp_path or Path("/nonexistent")) / "no-plugins")
    return PluginHost.load(
        values,
        default_validator=DefaultValidator(defaults, resolve_host=offline_resolver),
        registry=CollectorRegistry(),
        environ={"FLINK_PLUGINS_DIR": plugins_dir},
        entry_points=entry_points,
    )


def webhook_configurations(namespace: str, service: str = "flink-operator-webhook-service") -> list[JSON]:
    """The Validating and Mutating configurations the Helm chart installs (no caBundle: the webhook sets it),
    named `flink-operator-<namespace>-webhook-configuration`."""

    def configuration(kind: str, webhook: str, path: str, resources: list[str]) -> JSON:
        return {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": kind,
            "metadata": {"name": f"flink-operator-{namespace}-webhook-configuration"},
            "webhooks": [
                {
                    "name": webhook,
                    "admissionReviewVersions": ["v1"],
                    "clientConfig": {
                        "service": {"name": service, "namespace": namespace, "path": path, "port": 443}
                    },
                    "rules": [
                        {
                            "apiGroups": ["flink.apache.org"],
                            "apiVersions": ["*"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": resources,
                            "scope": "Namespaced",
                        }
                    ],
                    "failurePolicy": "Fail",
                    "sideEffects": "None",
                    "timeoutSeconds": 10,
                }
            ],
        }

    return [
        configuration(
            "ValidatingWebhookConfiguration", "validationwebhook.flink.apache.org", "/validate",
            ["flinkdeployments", "flinksessionjobs", "flinkstatesnapshots"],
        ),
        configuration(
            "MutatingWebhookConfiguration", "mutationwebhook.flink.apache.org", "/mutate",
            ["flinkdeployments", "flinksessionjobs"],
        ),
    ]
