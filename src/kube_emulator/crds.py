"""CustomResourceDefinitions: checking a CRD object and turning it into served resource types.

A stored CRD becomes one `ResourceType` per served version (kind, names, scope, status/scale
subresources, printer columns, selectable fields and the version's structural schema). Only the
checks clients trip over are made (names, group, scope, versions, storage version, schema root);
structural-schema rules beyond that are trusted.
"""

from __future__ import annotations

from typing import Any

from .errors import Cause, invalid_value, required_value, unsupported_value
from .resources import PrinterColumn, ResourceType

JSON = dict[str, Any]


def crd_causes(crd: JSON) -> list[Cause]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    causes: list[Cause] = []
    if not group:
        causes.append(required_value("spec.group"))
    elif "." not in group:
        causes.append(invalid_value("spec.group", group, "should be a domain with at least one dot"))
    for key in ("plural", "kind"):
        if not names.get(key):
            causes.append(required_value(f"spec.names.{key}"))
    expected = f"{names.get('plural', '')}.{group}"
    if crd.get("metadata", {}).get("name") != expected:
        causes.append(
            invalid_value(
                "metadata.name",
                crd.get("metadata", {}).get("name"),
                'must be spec.names.plural+"."+spec.group',
            )
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(unsupported_value("spec.scope", spec.get("scope"), ["Cluster", "Namespaced"]))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(
            required_value("spec.versions", "must have exactly one version marked as storage version")
        )
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(
            invalid_value(
                "spec.versions",
                versions and [v.get("name") for v in versions],
                "must have exactly one version marked as storage version",
            )
        )
    for i, version in enumerate(versions):
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            causes.append(
                required_value(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required")
            )
        elif schema.get("type") != "object":
            causes.append(
                invalid_value(
                    f"spec.versions[{i}].schema.openAPIV3Schema.type",
                    schema.get("type"),
                    "must be object at the root",
                )
            )
    return causes


def resource_types(crd: JSON) -> list[ResourceType]:
    spec = crd["spec"]
    names = spec["names"]
    storage = next((v["name"] for v in spec["versions"] if v.get("storage")), "")
    types = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        schema = (version.get("schema") or {}).get("openAPIV3Schema") or {"type": "object"}
        columns = tuple(
            PrinterColumn(
                c["name"],
                c.get("type", "string"),
                c.get("jsonPath", ""),
                c.get("description", ""),
                int(c.get("priority", 0)),
                c.get("format", ""),
            )
            for c in version.get("additionalPrinterColumns") or []
        )
        selectable = frozenset(f["jsonPath"].lstrip(".") for f in version.get("selectableFields") or [])
        types.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                kind=names["kind"],
                plural=names["plural"],
                singular=names.get("singular") or names["kind"].lower(),
                namespaced=spec.get("scope") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=frozenset(k for k in ("status", "scale") if k in subresources),
                custom=True,
                tracks_generation=True,
                allow_unconditional_update=False,
                returns_deleted_object=True,
                field_selectors=frozenset({"metadata.name", "metadata.namespace"}) | selectable,
                printer_columns=columns,
                schema=schema,
                preserve_unknown=bool(schema.get("x-kubernetes-preserve-unknown-fields")),
                storage_version=storage,
            )
        )
    return types
