"""The Kubernetes calls the runtimes make, on plain JSON objects (a thin shell over `KubeApi`).

Kinds, "not found is None", "already exists means replace", label-selected lists, and bounded waits for
objects to disappear. Every write goes through `KubeApi`, so the leader-election write gate applies.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

from flink_operator.runtime.kinds import EVENT, Kind
from flink_operator.runtime.kube_api import KubeApi, status_code

JSON = dict[str, Any]

DEPLOYMENT = Kind("apps", "v1", "Deployment", "deployments")
SERVICE = Kind("", "v1", "Service", "services")
CONFIG_MAP = Kind("", "v1", "ConfigMap", "configmaps")
POD = Kind("", "v1", "Pod", "pods")
INGRESS = Kind("networking.k8s.io", "v1", "Ingress", "ingresses")
KINDS = {kind.kind: kind for kind in (DEPLOYMENT, SERVICE, CONFIG_MAP, POD, INGRESS, EVENT)}


def kind_of(obj: Mapping[str, Any]) -> Kind:
    kind = KINDS.get(str(obj.get("kind")))
    if kind is None or kind.api_version != obj.get("apiVersion"):
        raise ValueError(f"no runtime support for {obj.get('apiVersion')}/{obj.get('kind')}")
    return kind


def selector(labels: Mapping[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in labels.items())


class ObjectsApi:
    """Get, list, create-or-replace, patch and delete JSON objects; wait for them to go."""

    def __init__(self, api: KubeApi, *, field_manager: str = "flink-operator", poll_interval: float = 0.25):
        self.api = api
        self.field_manager = field_manager
        self.poll_interval = poll_interval

    async def get(self, kind: Kind, name: str, namespace: str) -> JSON | None:
        try:
            return await self.api.get(kind, name, namespace)
        except Exception as error:
            if status_code(error) == 404:
                return None
            raise

    async def list(
        self,
        kind: Kind,
        namespace: str,
        labels: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> list[JSON]:
        if fields:
            params = {"fieldSelector": selector(fields)}
            if labels:
                params["labelSelector"] = selector(labels)
            body = await self.api.request("GET", kind.collection_path(namespace), params=params)
            return list(body.get("items") or [])
        _, items = await self.api.list_raw(kind, namespace, label_selector=selector(labels or {}) or None)
        return [json.loads(raw) for raw in items]

    async def create(self, obj: Mapping[str, Any]) -> JSON:
        kind = kind_of(obj)
        return await self.api.create(kind, obj, obj["metadata"].get("namespace"))

    async def create_or_replace(self, obj: Mapping[str, Any]) -> JSON:
        """Create; if it exists, replace it (the current resourceVersion is taken, so no 409 loop)."""
        kind = kind_of(obj)
        metadata = obj["metadata"]
        try:
            return await self.api.create(kind, obj, metadata.get("namespace"))
        except Exception as error:
            if status_code(error) != 409:
                raise
        current = await self.get(kind, metadata["name"], metadata["namespace"])
        if current is None:
            return await self.api.create(kind, obj, metadata.get("namespace"))
        body = dict(obj)
        body["metadata"] = {**dict(metadata), "resourceVersion": current["metadata"]["resourceVersion"]}
        return await self.api.replace(kind, body)

    async def merge_patch(
        self, kind: Kind, name: str, namespace: str, patch: Mapping[str, Any]
    ) -> JSON | None:
        try:
            return await self.api.patch(kind, name, namespace, patch, field_manager=self.field_manager)
        except Exception as error:
            if status_code(error) == 404:
                return None
            raise

    async def delete(self, kind: Kind, name: str, namespace: str, *, propagation: str | None = None) -> bool:
        """Delete; False when it did not exist."""
        try:
            await self.api.delete(kind, name, namespace, propagation=propagation)
        except Exception as error:
            if status_code(error) == 404:
                return False
            raise
        return True

    async def wait_gone(self, kind: Kind, name: str, namespace: str, *, within: float) -> bool:
        """Whether the object was gone within `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            if await self.get(kind, name, namespace) is None:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self.poll_interval)

    async def wait_none_labelled(
        self, kind: Kind, namespace: str, labels: Mapping[str, str], *, within: float
    ) -> bool:
        """Whether no object with `labels` was left within `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            if not await self.list(kind, namespace, labels):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self.poll_interval)
