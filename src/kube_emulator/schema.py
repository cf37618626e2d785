"""Structural OpenAPI v3 schemas of custom resources: pruning, defaulting and validation.

Implements what the real server does with a CRD's `openAPIV3Schema` on every write: unknown fields
are pruned (reported so `fieldValidation=Strict|Warn` can act on them), `default:` values are
applied, then the object is validated (type, nullable, enum, required, numeric bounds, lengths,
pattern, item counts, uniqueness, int-or-string, oneOf/anyOf/allOf/not). `x-kubernetes-validations`
(CEL rules) are not evaluated. `format` is checked for the common `int32`/`int64` only.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from .errors import (
    Cause,
    invalid_value,
    required_value,
    type_invalid,
    unsupported_value,
)

JSON = dict[str, Any]

_ROOT_KEEP = ("apiVersion", "kind", "metadata")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _preserves(schema: JSON) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune(obj: JSON, schema: JSON) -> tuple[JSON, list[str]]:
    """Return a copy of `obj` without fields the schema does not declare, and their paths."""
    unknown: list[str] = []
    pruned = _prune(copy.deepcopy(obj), schema, "", unknown, root=True)
    return pruned, unknown


def _prune(value: Any, schema: JSON, path: str, unknown: list[str], root: bool = False) -> Any:
    if isinstance(value, dict):
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        embedded = root or schema.get("x-kubernetes-embedded-resource")
        if props is None and isinstance(additional, dict):
            return {k: _prune(v, additional, _join(path, k), unknown) for k, v in value.items()}
        props = props or {}
        result: JSON = {}
        for key, item in value.items():
            if embedded and key in _ROOT_KEEP:
                result[key] = item  # object metadata is the server's business, never the schema's
            elif key in props:
                result[key] = _prune(item, props[key], _join(path, key), unknown)
            elif _preserves(schema) or additional is True:
                result[key] = item
            else:
                unknown.append(_join(path, key))
        return result
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [_prune(v, items, f"{path}[{i}]", unknown) for i, v in enumerate(value)]
    return value


def apply_defaults(obj: JSON, schema: JSON) -> JSON:
    """Return a copy of `obj` with every missing field that has a schema `default` filled in."""
    return _default(copy.deepcopy(obj), schema)  # type: ignore[no-any-return]


def _default(value: Any, schema: JSON) -> Any:
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if "default" in sub and (key not in value or (value[key] is None and not sub.get("nullable"))):
                value[key] = copy.deepcopy(sub["default"])
        for key, item in list(value.items()):
            if key == "metadata" and isinstance(item, dict) and "name" in item:
                continue
            if key in props:
                value[key] = _default(item, props[key])
            elif isinstance(schema.get("additionalProperties"), dict):
                value[key] = _default(item, schema["additionalProperties"])
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_default(v, schema["items"]) for v in value]
    return value


def validate(obj: JSON, schema: JSON) -> list[Cause]:
    """Every schema violation of `obj` (status included), as `Invalid` status causes."""
    causes: list[Cause] = []
    for key, value in obj.items():
        if key in _ROOT_KEEP:
            continue
        sub = (schema.get("properties") or {}).get(key)
        if sub is not None:
            _validate(value, sub, key, causes)
    for key in schema.get("required") or []:
        if key not in obj and key not in _ROOT_KEEP:
            causes.append(required_value(key))
    return causes


_TYPE_CHECKS = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def _validate(value: Any, schema: JSON, path: str, causes: list[Cause]) -> None:
    if value is None:
        if not schema.get("nullable") and schema.get("type") and not _preserves(schema):
            causes.append(
                Cause(
                    "FieldValueTypeInvalid",
                    path,
                    f'Invalid value: "null": {path} in body must be of type {schema["type"]}: "null"',
                )
            )
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or _TYPE_CHECKS["integer"](value)):
            causes.append(type_invalid(path, value, "integer,string"))
            return
    else:
        expected = schema.get("type")
        if expected and expected in _TYPE_CHECKS and not _TYPE_CHECKS[expected](value):
            causes.append(type_invalid(path, value, expected))
            return
    _check_value(value, schema, path, causes)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if key not in value:
                causes.append(required_value(_join(path, key)))
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                _validate(item, props[key], _join(path, key), causes)
            elif isinstance(additional, dict):
                _validate(item, additional, _join(path, key), causes)
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            causes.append(
                invalid_value(
                    path,
                    len(value),
                    f"{path} in body should have at least {schema['minProperties']} properties",
                )
            )
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            causes.append(
                Cause(
                    "TooMany",
                    path,
                    f"Too many: {len(value)}: must have at most {schema['maxProperties']} items",
                )
            )
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                _validate(item, items, f"{path}[{i}]", causes)
        if "minItems" in schema and len(value) < schema["minItems"]:
            causes.append(
                invalid_value(
                    path, len(value), f"{path} in body should have at least {schema['minItems']} items"
                )
            )
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            causes.append(
                Cause(
                    "FieldValueTooMany",
                    path,
                    f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
                )
            )
        if schema.get("uniqueItems") or schema.get("x-kubernetes-list-type") == "set":
            seen: list[Any] = []
            for i, item in enumerate(value):
                if item in seen:
                    causes.append(
                        Cause("FieldValueDuplicate", f"{path}[{i}]", f"Duplicate value: {_render(item)}")
                    )
                seen.append(item)


def _render(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _check_value(value: Any, schema: JSON, path: str, causes: list[Cause]) -> None:
    if "enum" in schema and value not in schema["enum"]:
        causes.append(unsupported_value(path, value, list(schema["enum"])))
    if isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, path, causes)
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            causes.append(
                invalid_value(
                    path, value, f"{path} in body should be at least {schema['minLength']} chars long"
                )
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            causes.append(
                Cause(
                    "FieldValueTooLong", path, f"Too long: may not be more than {schema['maxLength']} bytes"
                )
            )
        if "pattern" in schema and not re.search(schema["pattern"], value):
            causes.append(invalid_value(path, value, f"{path} in body should match '{schema['pattern']}'"))
    for combinator in ("allOf", "anyOf", "oneOf"):
        subs = schema.get(combinator)
        if not subs:
            continue
        results = []
        for sub in subs:
            sub_causes: list[Cause] = []
            _validate(value, {k: v for k, v in sub.items()} | {"nullable": True}, path, sub_causes)
            results.append(not sub_causes)
        if combinator == "allOf" and not all(results):
            causes.append(invalid_value(path, value, f"{path} in body must validate all the schemas (allOf)"))
        if combinator == "anyOf" and not any(results):
            causes.append(
                invalid_value(path, value, f"{path} in body must validate at least one schema (anyOf)")
            )
        if combinator == "oneOf" and results.count(True) != 1:
            causes.append(
                invalid_value(path, value, f"{path} in body must validate one and only one schema (oneOf)")
            )
    if isinstance(schema.get("not"), dict):
        sub_causes = []
        _validate(value, schema["not"], path, sub_causes)
        if not sub_causes:
            causes.append(
                invalid_value(path, value, f"{path} in body should not be valid against the schema")
            )


def _check_number(value: float, schema: JSON, path: str, causes: list[Cause]) -> None:
    if "minimum" in schema:
        low = schema["minimum"]
        if value < low or (schema.get("exclusiveMinimum") is True and value == low):
            op = "greater than" if schema.get("exclusiveMinimum") is True else "greater than or equal to"
            causes.append(invalid_value(path, value, f"{path} in body should be {op} {low}"))
    if "maximum" in schema:
        high = schema["maximum"]
        if value > high or (schema.get("exclusiveMaximum") is True and value == high):
            op = "less than" if schema.get("exclusiveMaximum") is True else "less than or equal to"
            causes.append(invalid_value(path, value, f"{path} in body should be {op} {high}"))
    if "multipleOf" in schema and schema["multipleOf"] and value % schema["multipleOf"]:
        causes.append(
            invalid_value(path, value, f"{path} in body should be a multiple of {schema['multipleOf']}")
        )
    if schema.get("format") == "int32" and isinstance(value, int) and not -(2**31) <= value < 2**31:
        causes.append(invalid_value(path, value, f"{path} in body must be of type int32"))
