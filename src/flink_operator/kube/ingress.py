"""The Ingress of a FlinkDeployment's REST API / web UI (contract §10.2): a pure builder.

`build_ingress` expands `spec.ingress.template` (`{{name}}`, `{{namespace}}`, any case; `http://` assumed
when no scheme is given), routes its host (none: any host) and path (none: `/`) to the REST Service
`<name>-rest` on `rest.port`, and carries the spec's class name, annotations, labels (plus
`component: ingress`, the selector of the operator's Ingress watch) and TLS entries. The Ingress is named
after the resource and owned by it (controller owner), so deleting the resource deletes it.
`networking.k8s.io/v1` is used (Kubernetes 1.19 and later).

Deliberate difference: a template without a path gets path `/` (upstream sends an empty path, which the
API server rejects for `pathType: Prefix` and only tolerates for `ImplementationSpecific`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flink_operator.api.constants import COMPONENT_INGRESS, LABEL_COMPONENT
from flink_operator.api.spec import IngressSpec
from flink_operator.kube.names import rest_service_name
from flink_operator.validation.ingress_template import IngressTemplateError, ingress_url

JSON = dict[str, Any]
INGRESS_API_VERSION = "networking.k8s.io/v1"

__all__ = ["INGRESS_API_VERSION", "IngressTemplateError", "build_ingress", "owner_reference"]


def owner_reference(api_version: str, kind: str, name: str, uid: str) -> JSON:
    """A controlling owner reference that blocks the owner's foreground deletion."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def build_ingress(
    ingress: IngressSpec,
    *,
    name: str,
    namespace: str,
    rest_port: int,
    owner: Mapping[str, Any] | None = None,
) -> JSON:
    """The Ingress for `spec.ingress` of resource `namespace/name`; raises `IngressTemplateError`."""
    if not ingress.template:
        raise IngressTemplateError("spec.ingress.template is required")
    url = ingress_url(ingress.template, name, namespace)
    path: JSON = {
        "path": url.path or "/",
        "pathType": "ImplementationSpecific",
        "backend": {"service": {"name": rest_service_name(name), "port": {"number": rest_port}}},
    }
    rule: JSON = {"http": {"paths": [path]}}
    if url.host:
        rule = {"host": url.host, **rule}
    metadata: JSON = {
        "name": name,
        "namespace": namespace,
        "labels": {**dict(ingress.labels or {}), LABEL_COMPONENT: COMPONENT_INGRESS},
    }
    if ingress.annotations:
        metadata["annotations"] = dict(ingress.annotations)
    if owner is not None:
        metadata["ownerReferences"] = [dict(owner)]
    spec: JSON = {}
    if ingress.class_name:
        spec["ingressClassName"] = ingress.class_name
    spec["rules"] = [rule]
    if ingress.tls:
        spec["tls"] = [
            {
                **({"hosts": list(tls.hosts)} if tls.hosts else {}),
                **({"secretName": tls.secret_name} if tls.secret_name else {}),
            }
            for tls in ingress.tls
        ]
    return {"apiVersion": INGRESS_API_VERSION, "kind": "Ingress", "metadata": metadata, "spec": spec}
