"""The scale subresource (`autoscaling/v1` Scale) of workloads: read and write `spec.replicas`."""

from __future__ import annotations

import json
from typing import Any

from . import errors, reads, writes
from .resources import ResourceType
from .state import ClusterState
from .store import Stored

JSON = dict[str, Any]


def scale_of(stored: Stored) -> JSON:
    """The autoscaling/v1 Scale view of a workload."""
    obj = stored.obj
    md = obj["metadata"]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: md[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in md
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in selector.items()),
        },
    }


def from_scale(stored: Stored, scale: Any) -> JSON:
    """The workload with `spec.replicas` taken from a Scale (its resourceVersion as the precondition)."""
    if not isinstance(scale, dict) or not isinstance(scale.get("spec"), dict):
        raise errors.bad_request("the body must be an autoscaling/v1 Scale")
    obj = json.loads(stored.raw)
    obj.setdefault("spec", {})["replicas"] = scale["spec"].get("replicas", 0)
    wanted_rv = (scale.get("metadata") or {}).get("resourceVersion")
    obj["metadata"]["resourceVersion"] = wanted_rv or ""
    obj.pop("status", None)
    return obj  # type: ignore[no-any-return]


async def patch_scale(
    state: ClusterState,
    rt: ResourceType,
    namespace: str,
    name: str,
    media: str,
    body: Any,
    ctx: writes.WriteContext,
) -> writes.Result:
    stored = reads.get(state, rt, namespace, name)
    scale = writes.apply_patch(rt, scale_of(stored), media, body)
    updated = from_scale(stored, scale)
    result = await writes.update(state, rt, namespace, name, updated, "", ctx)
    if result.stored is not None:
        return writes.Result(result.code, scale_of(result.stored))
    return result
