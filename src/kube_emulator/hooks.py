"""Test hooks: what a test may do to the emulated cluster besides speaking the Kubernetes API.

Read the request log, inject faults, cut open watches, compact the history (forcing 410 on resume),
seed objects, set the status of any object (e.g. mark a Deployment available, since no controllers
run), and map a Service reference to a local address for admission webhooks. Async methods must run
on the server's event loop (`EmbeddedApiServer` in the test's loop); `ThreadedApiServer` offers
blocking wrappers.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import writes
from .admission import WebhookAdmission
from .errors import ApiError
from .faults import Faults
from .http_api import HttpApi, RequestRecord
from .resources import ResourceType
from .state import ClusterState

JSON = dict[str, Any]


class ClusterHooks:
    def __init__(self, state: ClusterState, http: HttpApi, admission: WebhookAdmission) -> None:
        self.state = state
        self._http = http
        self._admission = admission

    # ------------------------------------------------------------------ observation

    @property
    def faults(self) -> Faults:
        return self._http.faults

    @property
    def resource_version(self) -> int:
        return self.state.store.rv

    def requests(self, method: str = "", path: str = "") -> list[RequestRecord]:
        """Logged requests, optionally only those with `method` whose path matches the `path` regex."""
        pattern = re.compile(path) if path else None
        return [
            r
            for r in list(self._http.request_log)
            if (not method or r.method == method.upper()) and (pattern is None or pattern.search(r.path))
        ]

    def clear_requests(self) -> None:
        self._http.request_log.clear()

    def webhook_calls(self) -> list[JSON]:
        """Every AdmissionReview sent to a webhook (with the webhook name and URL), oldest first."""
        return list(self._admission.calls)

    def open_watches(self) -> int:
        return self.state.hub.open_count()

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> JSON | None:
        rt = self.resource_type(api_version, kind)
        stored = self.state.store.get(rt.key, namespace if rt.namespaced else "", name)
        return copy.deepcopy(stored.obj) if stored is not None else None

    def resource_type(self, api_version: str, kind: str) -> ResourceType:
        group, _, version = api_version.rpartition("/")
        for rt in self.state.registry.in_group_version(group, version):
            if rt.kind == kind:
                return rt
        raise LookupError(f"no resource of kind {kind!r} is served at {api_version!r}")

    # ------------------------------------------------------------------ disruption

    def compact(self) -> None:
        """Forget the change history: watches resuming from an older resourceVersion get 410 Gone."""
        self.state.store.compact()

    def cut_watches(self, api_version: str = "", kind: str = "") -> int:
        """Close open watch streams (all, or one resource's); returns how many were closed."""
        if kind:
            rt = self.resource_type(api_version, kind)
            return self.state.hub.close_all(rt.key)
        return self.state.hub.close_all()

    def map_service(self, namespace: str, name: str, port: int, address: str) -> None:
        """Route webhook calls for Service `namespace/name:port` to `address` (host:port)."""
        self._admission.service_addresses[(namespace, name, port)] = address

    # ------------------------------------------------------------------ writes

    async def create(self, obj: JSON, admission: bool = False) -> JSON:
        """Create an object through the normal write path (admission webhooks skipped unless asked)."""
        rt = self.resource_type(obj.get("apiVersion", ""), obj.get("kind", ""))
        namespace = (obj.get("metadata") or {}).get("namespace") or ("default" if rt.namespaced else "")
        ctx = writes.WriteContext(internal=not admission, field_manager="kube-emulator-test")
        result = await writes.create(self.state, rt, namespace, obj, ctx)
        return result.obj

    async def seed(self, objects: list[JSON]) -> list[JSON]:
        """Create many objects (CRDs first, then namespaces, then the rest); existing ones are replaced."""

        def order(obj: JSON) -> int:
            return {"CustomResourceDefinition": 0, "Namespace": 1}.get(obj.get("kind", ""), 2)

        created = []
        for obj in sorted(objects, key=order):
            try:
                created.append(await self.create(obj))
            except ApiError as exc:
                if exc.code != 409:
                    raise
                created.append(await self.replace(obj))
        return created

    async def replace(self, obj: JSON) -> JSON:
        rt = self.resource_type(obj.get("apiVersion", ""), obj.get("kind", ""))
        metadata = obj.get("metadata") or {}
        namespace = metadata.get("namespace") or ("default" if rt.namespaced else "")
        body = copy.deepcopy(obj)
        body["metadata"].pop("resourceVersion", None)
        current = self.get(rt.group_version, rt.kind, metadata["name"], namespace)
        if current is not None:
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        ctx = writes.WriteContext(internal=True, field_manager="kube-emulator-test")
        return (await writes.update(self.state, rt, namespace, metadata["name"], body, "", ctx)).obj

    async def set_status(
        self, api_version: str, kind: str, name: str, status: JSON, namespace: str = "", merge: bool = True
    ) -> JSON:
        """Write an object's status through its status subresource (merged by default)."""
        rt = self.resource_type(api_version, kind)
        ctx = writes.WriteContext(internal=True, field_manager="kube-emulator-test")
        if merge:
            result = await writes.patch(
                self.state,
                rt,
                namespace,
                name,
                writes.MERGE,
                {"status": status},
                "status" if rt.has_status() else "",
                ctx,
            )
        else:
            current = self.get(api_version, kind, name, namespace)
            if current is None:
                raise LookupError(f"{kind} {namespace}/{name} does not exist")
            current["status"] = status
            result = await writes.update(
                self.state, rt, namespace, name, current, "status" if rt.has_status() else "", ctx
            )
        return result.obj

    async def mark_deployment_available(
        self, name: str, namespace: str = "default", replicas: int | None = None
    ) -> JSON:
        """Give a Deployment the status a controller reports once all replicas are up to date and ready."""
        deployment = self.get("apps/v1", "Deployment", name, namespace)
        if deployment is None:
            raise LookupError(f"Deployment {namespace}/{name} does not exist")
        count = replicas if replicas is not None else int((deployment.get("spec") or {}).get("replicas", 1))
        stamp = deployment["metadata"]["creationTimestamp"]
        status = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "replicas": count,
            "updatedReplicas": count,
            "readyReplicas": count,
            "availableReplicas": count,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastUpdateTime": stamp,
                    "lastTransitionTime": stamp,
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{name}" has successfully progressed.',
                    "lastUpdateTime": stamp,
                    "lastTransitionTime": stamp,
                },
            ],
        }
        if count == 0:
            status = {"observedGeneration": status["observedGeneration"], "conditions": status["conditions"]}
        return await self.set_status("apps/v1", "Deployment", name, status, namespace, merge=False)

    async def delete(
        self, api_version: str, kind: str, name: str, namespace: str = "", propagation: str = "Background"
    ) -> JSON:
        rt = self.resource_type(api_version, kind)
        ctx = writes.WriteContext(internal=True, field_manager="kube-emulator-test")
        return (
            await writes.delete(self.state, rt, namespace, name, {"propagationPolicy": propagation}, ctx)
        ).obj
