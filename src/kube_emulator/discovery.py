"""Discovery and OpenAPI documents, computed from the registry (so CRDs appear as soon as they are stored).

Serves `/version`, legacy discovery (`/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`),
aggregated discovery (`apidiscovery.k8s.io/v2` and `v2beta1`, which kubectl asks for first) and an
OpenAPI v3 index plus per group-version documents. The OpenAPI documents carry what kubectl needs:
PATCH operations tagged with their group/version/kind and the `fieldValidation` parameter (so kubectl
leaves validation to the server) and, for custom resources, their schemas. Built-in kinds get no
schemas, and their PATCH operations do not advertise strategic merge, so kubectl computes apply
patches from its compiled-in types as it does when a server's spec lacks them. `/openapi/v2` is an
empty (but valid, JSON or protobuf) document: older kubectl versions download it for client-side
validation and skip kinds it does not describe.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import Registry, ResourceType

JSON = dict[str, Any]

_SUB_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "finalize": ["update"],
}


def version_info(server_version: str) -> JSON:
    major, minor = server_version.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": server_version,
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _legacy_resource(rt: ResourceType) -> list[JSON]:
    main: JSON = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        main["shortNames"] = list(rt.short_names)
    if rt.categories:
        main["categories"] = list(rt.categories)
    main["storageVersionHash"] = hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).hexdigest()[
        :11
    ]
    out = [main]
    for sub in sorted(rt.subresources):
        sub_kind = "Scale" if sub == "scale" else rt.kind
        entry: JSON = {
            "name": f"{rt.plural}/{sub}",
            "singularName": "",
            "namespaced": rt.namespaced,
            "kind": sub_kind,
            "verbs": _SUB_VERBS.get(sub, ["get"]),
        }
        if sub == "scale":
            entry["group"], entry["version"] = "autoscaling", "v1"
        out.append(entry)
    return out


def api_versions(address: str) -> JSON:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def resource_list(registry: Registry, group: str, version: str) -> JSON:
    resources: list[JSON] = []
    for rt in registry.in_group_version(group, version):
        resources += _legacy_resource(rt)
    body: JSON = {
        "kind": "APIResourceList",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
    if group:
        body["apiVersion"] = "v1"
    return body


def _group(name: str, versions: list[str]) -> JSON:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group(registry: Registry, name: str) -> JSON | None:
    versions = registry.groups().get(name)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def api_group_list(registry: Registry) -> JSON:
    groups = [_group(name, versions) for name, versions in _ordered_groups(registry) if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _ordered_groups(registry: Registry) -> list[tuple[str, list[str]]]:
    groups = registry.groups()
    builtin_first = sorted(
        groups.items(), key=lambda item: ("." in item[0] and not item[0].endswith(".k8s.io"), item[0])
    )
    return builtin_first


def aggregated(registry: Registry, core: bool, version: str) -> JSON:
    """An `APIGroupDiscoveryList` for `/api` (core) or `/apis` (every named group)."""
    items = []
    for name, versions in _ordered_groups(registry):
        if bool(name) == core:
            continue
        entries = []
        for v in versions:
            resources = []
            for rt in registry.in_group_version(name, v):
                entry: JSON = {
                    "resource": rt.plural,
                    "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
                    "scope": "Namespaced" if rt.namespaced else "Cluster",
                    "singularResource": rt.singular,
                    "verbs": list(rt.verbs),
                }
                if rt.short_names:
                    entry["shortNames"] = list(rt.short_names)
                if rt.categories:
                    entry["categories"] = list(rt.categories)
                subs = []
                for sub in sorted(rt.subresources):
                    kind = (
                        {"group": "autoscaling", "version": "v1", "kind": "Scale"}
                        if sub == "scale"
                        else {"group": rt.group, "version": rt.version, "kind": rt.kind}
                    )
                    subs.append(
                        {"subresource": sub, "responseKind": kind, "verbs": _SUB_VERBS.get(sub, ["get"])}
                    )
                if subs:
                    entry["subresources"] = subs
                resources.append(entry)
            entries.append({"version": v, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": name, "creationTimestamp": None}, "versions": entries})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }


# ------------------------------------------------------------------------------------------ OpenAPI v3


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(rt: ResourceType) -> str:
    if rt.group:
        reverse = ".".join(reversed(rt.group.split(".")))
        return f"{reverse}.{rt.version}.{rt.kind}"
    return f"io.k8s.api.core.{rt.version}.{rt.kind}"


def openapi_document(registry: Registry, group: str, version: str, server_version: str) -> JSON | None:
    if not registry.has_group_version(group, version):
        return None
    paths: JSON = {}
    schemas: JSON = {}
    for rt in registry.in_group_version(group, version):
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        ref = {"$ref": f"#/components/schemas/{_schema_name(rt)}"}
        content_types = [
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        ]
        patch = {
            "operationId": f"patch{rt.kind}",
            "parameters": [
                {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}},
            ],
            "requestBody": {
                "content": {ct: {"schema": {"type": "object"}} for ct in content_types},
                "required": True,
            },
            "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": gvk,
        }
        prefix = f"/{_gv_path(group, version)}"
        item = (
            f"{prefix}/namespaces/{{namespace}}/{rt.plural}/{{name}}"
            if rt.namespaced
            else f"{prefix}/{rt.plural}/{{name}}"
        )
        paths[item] = {
            "patch": patch,
            "get": {
                "operationId": f"read{rt.kind}",
                "x-kubernetes-action": "get",
                "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}},
            },
        }
        schema: JSON = dict(rt.schema) if rt.custom and rt.schema else {"type": "object"}
        if rt.custom:
            props = dict(schema.get("properties") or {})
            props.setdefault("apiVersion", {"type": "string"})
            props.setdefault("kind", {"type": "string"})
            props.setdefault("metadata", {"type": "object"})
            schema["properties"] = props
        schema["x-kubernetes-group-version-kind"] = [gvk]
        schemas[_schema_name(rt)] = schema
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": server_version},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def openapi_index(registry: Registry, server_version: str) -> JSON:
    paths = {}
    for group, versions in registry.groups().items():
        for version in versions:
            doc = openapi_document(registry, group, version, server_version)
            digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper()
            path = _gv_path(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


# ------------------------------------------------------------------------------------------ OpenAPI v2

def openapi_v2(server_version: str) -> JSON:
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": server_version},
        "paths": {},
        "definitions": {},
    }


def _length_delimited(number: int, payload: bytes) -> bytes:
    length, encoded = len(payload), bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([number << 3 | 2]) + bytes(encoded) + payload


def openapi_v2_protobuf(server_version: str) -> bytes:
    """The same document in gnostic's OpenAPI v2 protobuf form (swagger = 1, info = 2 {title, version})."""
    info = _length_delimited(1, b"Kubernetes") + _length_delimited(2, server_version.encode())
    return _length_delimited(1, b"2.0") + _length_delimited(2, info)
