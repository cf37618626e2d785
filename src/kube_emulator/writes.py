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
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import errors
from .builtin_defaults import apply_builtin_defaults
from .crds import crd_causes
from .errors import ApiError, Cause
from .managed import Shape, record_update
from .managed import apply as ssa_apply
from .meta import generate_name, metadata_causes, name_causes, new_uid, now
from .patching import PatchError, json_patch, merge_patch, strategic_merge_patch
from .resources import ResourceType
from .schema import apply_defaults, prune, validate
from .state import CRD_KEY, NAMESPACES, ClusterState, served
from .store import Stored

JSON = dict[str, Any]
_BUILTIN_KINDS_CORE = {
    "ConfigMap",
    "Secret",
    "Service",
    "Pod",
    "Namespace",
    "Event",
    "ServiceAccount",
    "Endpoints",
    "PersistentVolumeClaim",
    "Node",
}
_RETRIES = 5


@dataclass
class WriteContext:
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = ""
    force: bool = False
    user_agent: str = ""
    internal: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def manager(self) -> str:
        return self.field_manager or (
            self.user_agent.split("/", 1)[0][:128] if self.user_agent else "unknown"
        )


@dataclass
class AdmissionRequest:
    rt: ResourceType
    operation: str  # CREATE, UPDATE or DELETE
    namespace: str
    name: str
    obj: JSON | None
    old: JSON | None
    subresource: str
    dry_run: bool
    options: JSON
    warnings: list[str] = field(default_factory=list)


class AdmissionChain(Protocol):
    async def mutate(self, request: AdmissionRequest) -> JSON: ...

    async def validate(self, request: AdmissionRequest) -> None: ...


@dataclass
class Result:
    code: int
    obj: JSON
    stored: Stored | None = None


# ---------------------------------------------------------------------------- helpers


def _type_meta(rt: ResourceType, body: Any) -> JSON:
    if not isinstance(body, dict):
        raise errors.bad_request(
            f"the object provided is unrecognized (must be of type {rt.kind}): "
            f"cannot unmarshal {type(body).__name__} into an object"
        )
    obj = copy.deepcopy(body)
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not api_version and not kind:
        return {"apiVersion": rt.group_version, "kind": rt.kind, **obj}
    api_version = api_version or rt.group_version
    group = api_version.rpartition("/")[0]
    if rt.custom:
        if group != rt.group:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({rt.group_version})"
            )
        if kind != rt.kind:
            name = (obj.get("metadata") or {}).get("name", "")
            raise errors.invalid(
                rt.kind, rt.group, name, [errors.invalid_value("kind", kind, f"must be {rt.kind}")]
            )
    else:
        version = api_version.rpartition("/")[2]
        if kind and kind != rt.kind:
            internal_group = rt.group.split(".")[0] if rt.group else "core"
            if kind in _BUILTIN_KINDS_CORE or kind in ("Deployment", "Lease", "Ingress", "Role"):
                reason = f"converting ({version}.{kind}) to ({internal_group}.{rt.kind}): unknown conversion"
            else:
                reason = f'no kind "{kind}" is registered for version "{api_version}"'
            raise errors.bad_request(
                f'{kind} in version "{version}" cannot be handled as a {rt.kind}: {reason}'
            )
        if api_version != rt.group_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({rt.group_version})"
            )
    # apiVersion and kind lead, so list responses can strip them from the cached encoding cheaply.
    return {"apiVersion": rt.group_version, "kind": rt.kind,
            **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}}


def _metadata(obj: JSON) -> JSON:
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = obj["metadata"] = {}
    if not isinstance(metadata, dict):
        raise errors.bad_request("metadata must be an object")
    return metadata


def _check_namespace(
    state: ClusterState, rt: ResourceType, namespace: str, obj: JSON, creating: bool
) -> None:
    metadata = obj["metadata"]
    if not rt.namespaced:
        metadata.pop("namespace", None)
        return
    body_ns = metadata.get("namespace")
    if body_ns and body_ns != namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    metadata["namespace"] = namespace
    if creating:
        phase = state.namespace_phase(namespace)
        if phase is None:
            raise errors.not_found("namespaces", "", namespace)
        if phase == "Terminating":
            raise errors.forbidden(
                f'{errors.qualified(rt.plural, rt.group)} "{metadata.get("name", "")}" is '
                f"forbidden: unable to create new content in namespace {namespace} because it "
                f"is being terminated",
                rt.plural,
                rt.group,
                metadata.get("name", ""),
            )


def shape_of(rt: ResourceType) -> Shape:
    return Shape(rt.schema) if rt.custom else Shape(None)


_OMIT_EMPTY_METADATA = ("labels", "annotations", "finalizers", "ownerReferences", "managedFields",
                        "generateName")


def _normalise(state: ClusterState, rt: ResourceType, obj: JSON, ctx: WriteContext) -> list[Cause]:
    """Default, prune and validate `obj` in place; returns the validation causes."""
    metadata = obj["metadata"]
    for key in _OMIT_EMPTY_METADATA:  # ObjectMeta's fields are `omitempty`, for custom resources too
        if key in metadata and not metadata[key]:
            del metadata[key]
    if rt.custom and rt.schema is not None:
        pruned, unknown = prune(obj, rt.schema)
        if unknown:
            if ctx.field_validation == "Strict":
                listed = ", ".join(f'unknown field "{u}"' for u in unknown)
                raise errors.bad_request(
                    f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                    f"strict decoding error: {listed}"
                )
            if ctx.field_validation != "Ignore":
                ctx.warnings += [f'unknown field "{u}"' for u in unknown]
        defaulted = apply_defaults(pruned, rt.schema)
        obj.clear()
        obj.update(defaulted)
        causes = validate(obj, rt.schema)
    else:
        apply_builtin_defaults(rt.group, rt.kind, obj)
        causes = []
    if (rt.group, rt.plural) == CRD_KEY:
        causes += crd_causes(obj)
    causes += metadata_causes(obj["metadata"])
    return causes


def _spec_view(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _comparable(obj: JSON) -> JSON:
    metadata = {
        k: v for k, v in obj.get("metadata", {}).items() if k not in ("resourceVersion", "managedFields")
    }
    return dict(obj, metadata=metadata)


def _scope(rt: ResourceType, subresource: str) -> str:
    if subresource == "status":
        return "status"
    return "main" if rt.has_status() else "all"


async def _admit(
    state: ClusterState,
    rt: ResourceType,
    operation: str,
    obj: JSON | None,
    old: JSON | None,
    namespace: str,
    name: str,
    subresource: str,
    ctx: WriteContext,
    validate_causes: Any,
) -> JSON | None:
    """Mutating admission, then object validation (`validate_causes`), then validating admission."""
    options: JSON = {"kind": f"{operation.capitalize()}Options", "apiVersion": "meta.k8s.io/v1"}
    if ctx.field_manager and operation != "DELETE":
        options["fieldManager"] = ctx.field_manager
    request = AdmissionRequest(
        rt, operation, namespace, name, obj, old, subresource, ctx.dry_run, options, ctx.warnings
    )
    chain: AdmissionChain | None = state.admission
    if chain is not None and not ctx.internal and obj is not None:
        mutated = await chain.mutate(request)
        if mutated is not obj:
            obj = mutated
            request.obj = obj
    if validate_causes is not None and obj is not None:
        validate_causes(obj)
    if chain is not None and not ctx.internal:
        await chain.validate(request)
    return obj


def _raise_invalid(rt: ResourceType, obj: JSON, causes: list[Cause]) -> None:
    if causes:
        raise errors.invalid(rt.kind, rt.group, obj["metadata"].get("name", ""), causes)


# ---------------------------------------------------------------------------- create


async def create(
    state: ClusterState,
    rt: ResourceType,
    namespace: str,
    body: Any,
    ctx: WriteContext,
    applied: JSON | None = None,
) -> Result:
    obj = applied if applied is not None else _type_meta(rt, body)
    metadata = _metadata(obj)
    _check_namespace(state, rt, namespace, obj, creating=True)
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
    _raise_invalid(rt, obj, causes)
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
    causes = _normalise(state, rt, obj, ctx)
    _raise_invalid(rt, obj, causes)
    storage = state.store
    key = (rt.group, rt.plural)

    def revalidate(candidate: JSON) -> None:
        _raise_invalid(rt, candidate, _normalise(state, rt, candidate, ctx))

    admitted = await _admit(
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
    causes = _normalise(state, rt, result, ctx)
    _raise_invalid(rt, result, causes)

    def revalidate(candidate: JSON) -> None:
        _raise_invalid(rt, candidate, _normalise(state, rt, candidate, ctx))

    namespace = current.namespace
    admitted = await _admit(
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
    if rt.tracks_generation and _spec_view(result) != _spec_view(old):
        result["metadata"]["generation"] = int(old["metadata"].get("generation", 0)) + 1
    if managed == "record":
        result["metadata"]["managedFields"] = record_update(
            old, result, ctx.manager, rt.group_version, shape_of(rt), _scope(rt, subresource), subresource
        )
    key = (rt.group, rt.plural)
    if state.store.get(key, namespace, current.name) is not current:
        return Result(409, {}), True
    if _comparable(result) == _comparable(old):
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
    current = state.store.get((rt.group, rt.plural), namespace if rt.namespaced else "", name)
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
    obj = _type_meta(rt, body)
    metadata = _metadata(obj)
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


def _apply_patch(rt: ResourceType, base: JSON, patch_type: str, patch: Any) -> JSON:
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
        patched = _apply_patch(rt, copy.deepcopy(served(rt, current)), patch_type, body)
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
        obj = _type_meta(rt, patched)
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
    applied = _type_meta(rt, body)
    metadata = _metadata(applied)
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
        current = state.store.get((rt.group, rt.plural), namespace if rt.namespaced else "", name)
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
            _scope(rt, subresource),
            subresource,
        )
        merged["metadata"]["resourceVersion"] = str(current.rv)
        result, lost = await _update_core(state, rt, current, merged, subresource, ctx, managed="keep")
        if not lost:
            return result
    raise errors.stale(rt.plural, rt.group, name)


# ---------------------------------------------------------------------------- delete


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
    current = _get_current(state, rt, namespace, name)
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
    await _admit(state, rt, "DELETE", None, current.obj, current.namespace, name, "", ctx, None)
    obj = copy.deepcopy(current.obj)
    metadata = obj["metadata"]
    finalizers = list(metadata.get("finalizers") or [])
    if policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
    if policy == "Orphan" and "orphan" not in finalizers:
        finalizers.append("orphan")
    key = (rt.group, rt.plural)
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
