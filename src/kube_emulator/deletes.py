"""Deletion: preconditions, propagation policies, finalizers, `deletionTimestamp`, namespace/CRD teardown.

An object with finalizers (including the `foregroundDeletion`/`orphan` ones a propagation policy
adds, a Namespace's `kubernetes` finalizer and a CRD's cleanup finalizer) is only marked for
deletion; the garbage collector (`gc`) and clients finish the job. Everything else is removed at
once and answered with the deleted object or a `Success` status, as the real server does per kind.
"""

from __future__ import annotations

import copy

from . import errors
from .meta import now
from .resources import ResourceType
from .state import CRD_KEY, NAMESPACES, ClusterState, served
from .store import Stored
from .write_rules import JSON, Result, WriteContext, admit


def _success(rt: ResourceType, name: str, uid: str) -> JSON:
    details: JSON = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = rt.plural
    details["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


async def delete(
    state: ClusterState, rt: ResourceType, namespace: str, name: str, options: JSON, ctx: WriteContext
) -> Result:
    current = state.store.get(rt.key, namespace if rt.namespaced else "", name)
    if current is None:
        raise errors.not_found(rt.plural, rt.group, name)
    preconditions = options.get("preconditions") or {}
    if preconditions.get("uid") and preconditions["uid"] != current.obj["metadata"].get("uid"):
        raise errors.conflict(
            rt.plural,
            rt.group,
            name,
            f"Precondition failed: UID in precondition: {preconditions['uid']}, UID in object "
            f"meta: {current.obj['metadata'].get('uid')}",
        )
    if preconditions.get("resourceVersion") and str(preconditions["resourceVersion"]) != str(current.rv):
        raise errors.conflict(
            rt.plural,
            rt.group,
            name,
            f"Precondition failed: ResourceVersion in precondition: "
            f"{preconditions['resourceVersion']}, ResourceVersion in object meta: {current.rv}",
        )
    policy = options.get("propagationPolicy")
    if policy is None and options.get("orphanDependents") is not None:
        policy = "Orphan" if options["orphanDependents"] else "Background"
    if policy not in (None, "Background", "Foreground", "Orphan"):
        raise errors.invalid(
            "DeleteOptions",
            "",
            "",
            [
                errors.unsupported_value(
                    "propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"]
                )
            ],
        )
    await admit(state, rt, "DELETE", None, current.obj, current.namespace, name, "", ctx, None)
    obj = copy.deepcopy(current.obj)
    metadata = obj["metadata"]
    finalizers = list(metadata.get("finalizers") or [])
    if policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
    if policy == "Orphan" and "orphan" not in finalizers:
        finalizers.append("orphan")
    key = rt.key
    if key == NAMESPACES:
        obj.setdefault("status", {})["phase"] = "Terminating"
    if key == CRD_KEY and "customresourcecleanup.apiextensions.k8s.io" not in finalizers:
        finalizers.append("customresourcecleanup.apiextensions.k8s.io")
    spec_finalizers = (obj.get("spec") or {}).get("finalizers") if key == NAMESPACES else None
    if finalizers or spec_finalizers:
        if metadata.get("deletionTimestamp") and finalizers == list(metadata.get("finalizers") or []):
            return Result(200, served(rt, current), current)
        if finalizers:
            metadata["finalizers"] = finalizers
        if not metadata.get("deletionTimestamp"):
            metadata["deletionTimestamp"] = now()
            metadata["deletionGracePeriodSeconds"] = 0
            if rt.tracks_generation:
                metadata["generation"] = int(metadata.get("generation", 0)) + 1
        if ctx.dry_run:
            return Result(200, served(rt, Stored(obj, current.rv, b"")))
        stored = state.store.put(key, obj)
        state.kick_gc()
        return Result(200, served(rt, stored), stored)
    if ctx.dry_run:
        return Result(
            200,
            served(rt, current) if rt.returns_deleted_object else _success(rt, name, metadata.get("uid", "")),
        )
    final = state.store.delete(key, current.namespace, name)
    state.kick_gc()
    assert final is not None
    if rt.returns_deleted_object:
        return Result(200, served(rt, final), final)
    return Result(200, _success(rt, name, metadata.get("uid", "")))
