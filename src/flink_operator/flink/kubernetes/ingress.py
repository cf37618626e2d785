"""Keeping a FlinkDeployment's Ingress in line with `spec.ingress` (contract §10.2): the I/O around
`flink_operator.kube.ingress.build_ingress`.

`reconcile_ingress` creates or replaces the Ingress named after the resource when the spec has one, and
deletes it when the spec has none (only an Ingress the operator made: labelled `component=ingress`).
Upstream calls this during deploys of application and session clusters; `kubernetes.operator.ingress.manage`
(false: do nothing) is the caller's to check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flink_operator.api.constants import COMPONENT_INGRESS, LABEL_COMPONENT
from flink_operator.api.spec import IngressSpec
from flink_operator.flink.kubernetes.objects_api import INGRESS, ObjectsApi
from flink_operator.kube.ingress import build_ingress

JSON = dict[str, Any]


async def reconcile_ingress(
    objects: ObjectsApi,
    ingress: IngressSpec | None,
    *,
    name: str,
    namespace: str,
    rest_port: int,
    owner: Mapping[str, Any] | None,
) -> JSON | None:
    """The Ingress as now stored (None when there is none); raises `IngressTemplateError` for a bad
    template before anything is written."""
    if ingress is None:
        current = await objects.get(INGRESS, name, namespace)
        labels = ((current or {}).get("metadata") or {}).get("labels") or {}
        if current is not None and labels.get(LABEL_COMPONENT) == COMPONENT_INGRESS:
            await objects.delete(INGRESS, name, namespace)
        return None
    wanted = build_ingress(ingress, name=name, namespace=namespace, rest_port=rest_port, owner=owner)
    return await objects.create_or_replace(wanted)
