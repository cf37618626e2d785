"""Schemas of the built-in kinds (from kubernetes-validate's copy of the Kubernetes OpenAPI) and what a
real server does with them when it decodes a typed object.

A real API server decodes built-in objects into Go structs: fields it does not know are dropped
(reported under `fieldValidation=Strict|Warn`), values of the wrong JSON type fail the request
(400 `cannot unmarshal`), and required fields are checked by validation (422). This module does the
same from the OpenAPI schemas: `decode()` prunes and type-checks, `required_causes()` lists missing
required fields. Enums, formats and the hand-written validation rules of each kind are not checked.
When the schemas are not installed, built-in objects are stored as sent.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from .errors import Cause, required_value

JSON = dict[str, Any]
SCHEMA_VERSION = "1.32.0"


@functools.cache
def _definitions() -> dict[str, JSON]:
    try:
        import kubernetes_validate
    except ImportError:  # pragma: no cover - a declared dependency; degrade to storing objects as sent
        return {}
    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    wanted = root / f"v{SCHEMA_VERSION}-local-strict" / "_definitions.json"
    if not wanted.exists():
        candidates = sorted(root.glob("v*-local-strict/_definitions.json"))
        if not candidates:
            return {}
        wanted = candidates[-1]
    defs: dict[str, JSON] = json.loads(wanted.read_text())["$defs"]
    return defs


@functools.cache
def _by_kind() -> dict[tuple[str, str, str], str]:
    index = {}
    for name, schema in _definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            index[(gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))] = name
    return index


def schema_for(group: str, version: str, kind: str) -> JSON | None:
    name = _by_kind().get((group, version, kind))
    return _definitions()[name] if name else None


def _resolve(schema: JSON) -> JSON:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _definitions().get(ref[len("#/$defs/") :], {})
    return schema


def _types(schema: JSON) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if t != "null"}
    if "oneOf" in schema:
        out: set[str] = set()
        for option in schema["oneOf"]:
            out |= _types(_resolve(option))
        return out
    return set()


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fits(value: Any, types: set[str]) -> bool:
    if not types or value is None:
        return True
    checks = {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
    }
    return any(checks.get(t, True) for t in types)


def _go_type(schema: JSON, types: set[str]) -> str:
    if schema.get("format") in ("int32", "int64"):
        return str(schema["format"])
    if types == {"string", "integer"}:
        return "intstr.IntOrString"
    return {
        "string": "string",
        "boolean": "bool",
        "integer": "int64",
        "number": "float64",
        "array": "[]interface {}",
        "object": "struct",
    }.get(next(iter(sorted(types)), ""), "value")


class TypeMismatch:
    __slots__ = ("expected", "got", "path")

    def __init__(self, path: str, got: str, expected: str) -> None:
        self.path, self.got, self.expected = path, got, expected


def decode(obj: JSON, schema: JSON) -> tuple[JSON, list[str], list[TypeMismatch]]:
    """(object without unknown fields, their paths, type mismatches) as decoding into Go structs gives."""
    unknown: list[str] = []
    mismatches: list[TypeMismatch] = []
    result = _decode(obj, schema, "", unknown, mismatches)
    return result, unknown, mismatches


def _decode(value: Any, schema: JSON, path: str, unknown: list[str], mismatches: list[TypeMismatch]) -> Any:
    schema = _resolve(schema)
    types = _types(schema)
    if not _fits(value, types):
        mismatches.append(TypeMismatch(path, _json_type(value), _go_type(schema, types)))
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        if props is None:
            if isinstance(additional, dict):
                return {
                    k: _decode(v, additional, f"{path}.{k}" if path else k, unknown, mismatches)
                    for k, v in value.items()
                }
            return value
        out: JSON = {}
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key in props:
                out[key] = _decode(item, props[key], child, unknown, mismatches)
            elif isinstance(additional, dict):
                out[key] = _decode(item, additional, child, unknown, mismatches)
            elif additional is False:
                unknown.append(child)
            else:
                out[key] = item
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_decode(v, schema["items"], path, unknown, mismatches) for v in value]
    return value


def required_causes(obj: JSON, schema: JSON) -> list[Cause]:
    causes: list[Cause] = []
    _required(obj, schema, "", causes)
    return causes


def _required(value: Any, schema: JSON, path: str, causes: list[Cause]) -> None:
    schema = _resolve(schema)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if value.get(key) is None and key not in ("apiVersion", "kind", "metadata"):
                causes.append(required_value(f"{path}.{key}" if path else key))
        for key, item in value.items():
            if key in props:
                _required(item, props[key], f"{path}.{key}" if path else key, causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _required(item, schema["items"], f"{path}[{i}]", causes)
