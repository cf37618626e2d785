"""The write path: create, update (PUT), patch, server-side apply and delete, with real API semantics.

What is checked and done here, in the real server's order: type meta and namespace checks, names
and generateName, server-owned metadata (uid, creationTimestamp, generation bumped on non-metadata,
non-status changes, resourceVersion preconditions), the status subresource split both ways,
defaulting, pruning and schema validation of custom resources, mutating then validating admission,
field ownership, finalizers and deletionTimestamp, deletion propagation policies and dry runs.
No-op updates are not written (the resourceVersion stays). Races between a request's read and its
commit (possible only while admission webhooks are awaited) are retried for unconditional writes and
answered 409 for writes that named a resourceVersion.
"""

from __future__ import annotations

import copy
from typing import Any

from . import errors
from .deletes import delete
from .errors import ApiError, Cause
from .managed import apply as ssa_apply
from .managed import record_update
from .meta import generate_name, name_causes, new_uid, now
from .patching import PatchError, json_patch, merge_patch, strategic_merge_patch
from .resources import ResourceType
from .state import ClusterState, served
from .store import Stored
from .views import to_storage
from .write_rules import (
    JSON,
    AdmissionChain,
    AdmissionRequest,
    Result,
    WriteContext,
    admit,
    check_namespace,
    comparable,
    field_scope,
    metadata_of,
    normalise,
    raise_invalid,
    shape_of,
    spec_view,
    type_meta,
)

__all__ = [
    "APPLY",
    "JSON_PATCH",
    "MERGE",
    "STRATEGIC",
    "AdmissionChain",
    "AdmissionRequest",
    "Result",
    "WriteContext",
    "apply_patch",
    "create",
    "delete",
    "patch",
    "server_side_apply",
    "update",
]

_RETRIES = 5


# ---------------------------------------------------------------------------- create


async def create(
    state: ClusterState,
    rt: ResourceType,
    namespace: str,
    body: Any,
    ctx: WriteContext,
    applied: JSON | None = None,
) -> Result:
    obj = applied if applied is not None else type_meta(rt, body)
    if rt.view:
        obj = to_storage(rt.view, obj)
    metadata = metadata_of(obj)
    check_namespace(state, rt, namespace, obj, creating=True)
    if metadata.get("resourceVersion"):
        raise ApiError(500, "", "resourceVersion should not be set on objects to be created")
    if not metadata.get("name"):
        if metadata.get("generateName"):
            metadata["name"] = generate_name(str(metadata["generateName"]), state.rng)
        else:
            raise errors.invalid(
                rt.kind,
                rt.group,
                "",
                [errors.required_value("metadata.name", "name or generateName is required")],
            )
    name = str(metadata["name"])
    causes = name_causes(name, rt.name_rule)
    if metadata.get("generateName") and causes:
        causes = name_causes(str(metadata["generateName"]) + "a", rt.name_rule, "metadata.generateName")
    raise_invalid(rt, obj, causes)
    for field_name in ("uid", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
        metadata.pop(field_name, None)
    metadata["uid"] = new_uid()
    metadata["creationTimestamp"] = now()
    if rt.tracks_generation:
        metadata["generation"] = 1
    else:
        metadata.pop("generation", None)
    if rt.has_status() and rt.kind != "CustomResourceDefinition":
        obj.pop("status", None)
    causes = normalise(state, rt, obj, ctx)
    raise_invalid(rt, obj, causes)
    storage = state.store
    key = rt.key

    def revalidate(candidate: JSON) -> None:
        raise_invalid(rt, candidate, normalise(state, rt, candidate, ctx))

    admitted = await admit(
        state,
        rt,
        "CREATE",
        obj,
        None,
        namespace if rt.namespaced else "",
        name,
        "",
        ctx,
        revalidate if state.admission is not None else None,
    )
    assert admitted is not None
    obj = admitted
    if applied is None:
        obj["metadata"]["managedFields"] = record_update(
            None, obj, ctx.manager, rt.group_version, shape_of(rt), "all"
        )
    if storage.get(key, namespace if rt.namespaced else "", name) is not None:
        raise errors.already_exists(rt.plural, rt.group, name)
    if ctx.dry_run:
        return Result(201, obj)
    if rt.group_version != state.storage_type(rt).group_version:
        obj["apiVersion"] = state.storage_type(rt).group_version
    stored = storage.put(key, obj)
    return Result(201, served(rt, stored), stored if obj["apiVersion"] == rt.group_version else None)


# ---------------------------------------------------------------------------- update


def _merge_for_update(rt: ResourceType, old: JSON, new: JSON, subresource: str) -> JSON:
    if subresource == "status":
        result = copy.deepcopy(old)
        if "status" in new:
            result["status"] = new["status"]
        else:
            result.pop("status", None)
        if "managedFields" in new.get("metadata", {}):
            result["metadata"]["managedFields"] = new["metadata"]["managedFields"]
        return result
    result = new
    metadata = result["metadata"]
    if rt.has_status() and rt.kind != "CustomResourceDefinition":
        if "status" in old:
            result["status"] = copy.deepcopy(old["status"])
        else:
            result.pop("status", None)
    for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
        if key in old["metadata"]:
            metadata[key] = old["metadata"][key]
        else:
            metadata.pop(key, None)
    if "managedFields" not in metadata and "managedFields" in old["metadata"]:
        metadata["managedFields"] = old["metadata"]["managedFields"]
    return result


async def _update_core(
    state: ClusterState,
    rt: ResourceType,
    current: Stored,
    new: JSON,
    subresource: str,
    ctx: WriteContext,
    managed: str = "record",
) -> tuple[Result, bool]:
    """Validate, admit and commit `new` as the next version of `current`; (result, lost_race)."""
    old = current.obj
    if rt.view:
        new = to_storage(rt.view, new)
    result = _merge_for_update(rt, old, new, subresource)
    metadata = result["metadata"]
    metadata["name"], metadata["resourceVersion"] = (
        old["metadata"]["name"],
        old["metadata"]["resourceVersion"],
    )
    if rt.namespaced:
        metadata["namespace"] = old["metadata"]["namespace"]
    if old["metadata"].get("deletionTimestamp"):
        added = [
            f for f in metadata.get("finalizers") or [] if f not in (old["metadata"].get("finalizers") or [])
        ]
        if added:
            rendered = "[]string{" + ", ".join(f'"{f}"' for f in added) + "}"
            raise errors.invalid(
                rt.kind,
                rt.group,
                metadata["name"],
                [
                    errors.forbidden_value(
                        "metadata.finalizers",
                        "no new finalizers can be added if the object is being deleted, "
                        f"found new finalizers {rendered}",
                    )
                ],
            )
    causes = normalise(state, rt, result, ctx)
    raise_invalid(rt, result, causes)

    def revalidate(candidate: JSON) -> None:
        raise_invalid(rt, candidate, normalise(state, rt, candidate, ctx))

    namespace = current.namespace
    admitted = await admit(
        state,
        rt,
        "UPDATE",
        result,
        old,
        namespace,
        current.name,
        subresource,
        ctx,
        revalidate if state.admission is not None else None,
    )
    assert admitted is not None
    result = admitted
    if rt.tracks_generation and spec_view(result) != spec_view(old):
        result["metadata"]["generation"] = int(old["metadata"].get("generation", 0)) + 1
    if managed == "record":
        result["metadata"]["managedFields"] = record_update(
            old,
            result,
            ctx.manager,
            rt.group_version,
            shape_of(rt),
            field_scope(rt, subresource),
            subresource,
        )
    key = rt.key
    if state.store.get(key, namespace, current.name) is not current:
        return Result(409, {}), True
    if comparable(result) == comparable(old):
        return Result(200, served(rt, current), current), False
    if ctx.dry_run:
        return Result(200, result), False
    if result["metadata"].get("deletionTimestamp") and not result["metadata"].get("finalizers"):
        final = state.store.delete(key, namespace, current.name, result)
        state.kick_gc()
        assert final is not None
        return Result(200, served(rt, final)), False
    result["apiVersion"] = state.storage_type(rt).group_version
    stored = state.store.put(key, result)
    if result["metadata"].get("deletionTimestamp"):
        state.kick_gc()
    return Result(
        200, served(rt, stored), stored if result["apiVersion"] == rt.group_version else None
    ), False


def _get_current(state: ClusterState, rt: ResourceType, namespace: str, name: str) -> Stored:
    current = state.store.get(rt.key, namespace if rt.namespaced else "", name)
    if current is None:
        raise errors.not_found(rt.plural, rt.group, name)
    return current


async def update(
    state: ClusterState,
    rt: ResourceType,
    namespace: str,
    name: str,
    body: Any,
    subresource: str,
    ctx: WriteContext,
) -> Result:
    obj = type_meta(rt, body)
    metadata = metadata_of(obj)
    if metadata.get("name") and metadata["name"] != name:
        raise errors.bad_request(
            f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})"
        )
    if rt.namespaced and metadata.get("namespace") and metadata["namespace"] != namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    metadata["name"] = name
    wanted_rv = str(metadata.get("resourceVersion") or "")
    for _ in range(_RETRIES):
        current = _get_current(state, rt, namespace, name)
        if wanted_rv:
            if wanted_rv != str(current.rv):
                raise errors.stale(rt.plural, rt.group, name)
        elif not rt.allow_unconditional_update:
            raise errors.invalid(
                rt.kind,
                rt.group,
                name,
                [
                    Cause(
                        "FieldValueInvalid",
                        "metadata.resourceVersion",
                        "Invalid value: 0x0: must be specified for an update",
                    )
                ],
            )
        result, lost = await _update_core(state, rt, current, copy.deepcopy(obj), subresource, ctx)
        if not lost:
            return result
        if wanted_rv:
            raise errors.stale(rt.plural, rt.group, name)
    raise errors.stale(rt.plural, rt.group, name)


# ---------------------------------------------------------------------------- patch

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
APPLY_CBOR = "application/apply-patch+cbor"


def apply_patch(rt: ResourceType, base: JSON, patch_type: str, patch: Any) -> JSON:
    try:
        if patch_type == MERGE:
            if not isinstance(patch, dict):
                raise PatchError(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}",
                    bad_request=True,
                )
            return merge_patch(base, patch)  # type: ignore[no-any-return]
        if patch_type == JSON_PATCH:
            return json_patch(base, patch)
        return strategic_merge_patch(base, patch)
    except PatchError as exc:
        if exc.bad_request:
            raise errors.bad_request(str(exc)) from None
        raise errors.unprocessable(str(exc)) from None


async def patch(
    state: ClusterState,
    rt: ResourceType,
    namespace: str,
    name: str,
    patch_type: str,
    body: Any,
    subresource: str,
    ctx: WriteContext,
) -> Result:
    if patch_type == APPLY:
        return await server_side_apply(state, rt, namespace, name, body, subresource, ctx)
    for _ in range(_RETRIES):
        current = _get_current(state, rt, namespace, name)
        patched = apply_patch(rt, copy.deepcopy(served(rt, current)), patch_type, body)
        if not isinstance(patched.get("metadata"), dict):
            raise errors.bad_request("metadata must be an object")
        patched_rv = str(patched["metadata"].get("resourceVersion") or "")
        precondition = bool(patched_rv) and patched_rv != str(current.rv)
        if precondition:
            raise errors.stale(rt.plural, rt.group, name)
        if patched.get("metadata", {}).get("name") != name:
            raise errors.bad_request(
                f"the name of the object ({patched['metadata'].get('name')}) does not match "
                f"the name on the URL ({name})"
            )
        obj = type_meta(rt, patched)
        explicit_rv = isinstance(body, dict) and "resourceVersion" in (body.get("metadata") or {})
        result, lost = await _update_core(state, rt, current, obj, subresource, ctx)
        if not lost:
            return result
        if explicit_rv:
            raise errors.stale(rt.plural, rt.group, name)
    raise errors.stale(rt.plural, rt.group, name)


async def server_side_apply(
    state: ClusterState,
    rt: ResourceType,
    namespace: str,
    name: str,
    body: Any,
    subresource: str,
    ctx: WriteContext,
) -> Result:
    if not ctx.field_manager:
        raise errors.bad_request("PATCH requests with the apply content type require a fieldManager")
    applied = type_meta(rt, body)
    metadata = metadata_of(applied)
    if metadata.get("name") and metadata["name"] != name:
        raise errors.bad_request(
            f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})"
        )
    if metadata.get("managedFields"):
        raise errors.bad_request("metadata.managedFields must be nil")
    metadata["name"] = name
    if rt.namespaced and metadata.get("namespace") and metadata["namespace"] != namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    wanted_rv = str(metadata.pop("resourceVersion", "") or "")
    shape = shape_of(rt)
    for _ in range(_RETRIES):
        current = state.store.get(rt.key, namespace if rt.namespaced else "", name)
        if current is None:
            if subresource:
                raise errors.not_found(rt.plural, rt.group, name)
            obj = ssa_apply(None, applied, ctx.field_manager, ctx.force, rt.group_version, shape, "all")
            return await create(state, rt, namespace, None, ctx, applied=obj)
        if wanted_rv and wanted_rv != str(current.rv):
            raise errors.stale(rt.plural, rt.group, name)
        base = copy.deepcopy(served(rt, current))
        merged = ssa_apply(
            base,
            applied,
            ctx.field_manager,
            ctx.force,
            rt.group_version,
            shape,
            field_scope(rt, subresource),
            subresource,
        )
        merged["metadata"]["resourceVersion"] = str(current.rv)
        result, lost = await _update_core(state, rt, current, merged, subresource, ctx, managed="keep")
        if not lost:
            return result
    raise errors.stale(rt.plural, rt.group, name)
