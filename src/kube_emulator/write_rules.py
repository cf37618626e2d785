"""What every write goes through before it is stored: the shared rules of the write path.

Holds the request context (dry run, field manager, field validation, warnings), the admission
request handed to webhooks, and the checks and normalisation of one object: type meta (wrong kinds
and versions answered as a real server does), namespace checks, metadata normalisation, defaulting,
pruning and schema validation, and the mutating -> validating admission sequence.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import builtin_schemas, errors
from .builtin_defaults import apply_builtin_defaults
from .crds import crd_causes
from .errors import Cause
from .managed import Shape
from .meta import metadata_causes
from .resources import ResourceType
from .schema import apply_defaults, prune, validate
from .state import CRD_KEY, ClusterState
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


def type_meta(rt: ResourceType, body: Any) -> JSON:
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
    return {
        "apiVersion": rt.group_version,
        "kind": rt.kind,
        **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")},
    }


def metadata_of(obj: JSON) -> JSON:
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = obj["metadata"] = {}
    if not isinstance(metadata, dict):
        raise errors.bad_request("metadata must be an object")
    return metadata


def check_namespace(state: ClusterState, rt: ResourceType, namespace: str, obj: JSON, creating: bool) -> None:
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


_OMIT_EMPTY_METADATA = (
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "managedFields",
    "generateName",
)


def _report_unknown(rt: ResourceType, unknown: list[str], ctx: WriteContext) -> None:
    """Unknown fields are dropped; `fieldValidation=Strict` refuses them, `Warn` (the default) warns."""
    if not unknown:
        return
    if ctx.field_validation == "Strict":
        listed = ", ".join(f'unknown field "{u}"' for u in unknown)
        raise errors.bad_request(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
            f"strict decoding error: {listed}"
        )
    if ctx.field_validation != "Ignore":
        ctx.warnings += [f'unknown field "{u}"' for u in unknown]


def normalise(state: ClusterState, rt: ResourceType, obj: JSON, ctx: WriteContext) -> list[Cause]:
    """Default, prune and validate `obj` in place; returns the validation causes."""
    metadata = obj["metadata"]
    for key in _OMIT_EMPTY_METADATA:  # ObjectMeta's fields are `omitempty`, for custom resources too
        if key in metadata and not metadata[key]:
            del metadata[key]
    if rt.custom and rt.schema is not None:
        pruned, unknown = prune(obj, rt.schema)
        _report_unknown(rt, unknown, ctx)
        defaulted = apply_defaults(pruned, rt.schema)
        obj.clear()
        obj.update(defaulted)
        causes = validate(obj, rt.schema)
    else:
        stored_as = state.storage_type(rt)
        schema = builtin_schemas.schema_for(stored_as.group, stored_as.version, stored_as.kind)
        if schema is not None:
            decoded, unknown, mismatches = builtin_schemas.decode(obj, schema)
            if mismatches:
                first = mismatches[0]
                go_path = re.sub(r"\[\d+\]", "", first.path)
                raise errors.bad_request(
                    f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: json: cannot '
                    f"unmarshal {first.got} into Go struct field {rt.kind}.{go_path} of type {first.expected}"
                )
            _report_unknown(rt, unknown, ctx)
            obj.clear()
            obj.update(decoded)
        apply_builtin_defaults(stored_as.group, stored_as.kind, obj)
        causes = builtin_schemas.required_causes(obj, schema) if schema is not None else []
    if (rt.group, rt.plural) == CRD_KEY:
        causes += crd_causes(obj)
    causes += metadata_causes(obj["metadata"])
    return causes


def spec_view(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def comparable(obj: JSON) -> JSON:
    metadata = {
        k: v for k, v in obj.get("metadata", {}).items() if k not in ("resourceVersion", "managedFields")
    }
    return dict(obj, metadata=metadata)


def field_scope(rt: ResourceType, subresource: str) -> str:
    if subresource == "status":
        return "status"
    return "main" if rt.has_status() else "all"


async def admit(
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
    """Mutating admission, validation again if a webhook changed the object, then validating admission."""
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
            # The object was validated before admission; only a mutated one needs it again.
            obj = mutated
            request.obj = obj
            if validate_causes is not None:
                validate_causes(obj)
    if chain is not None and not ctx.internal:
        await chain.validate(request)
    return obj


def raise_invalid(rt: ResourceType, obj: JSON, causes: list[Cause]) -> None:
    if causes:
        raise errors.invalid(rt.kind, rt.group, obj["metadata"].get("name", ""), causes)
