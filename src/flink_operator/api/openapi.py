"""Structural OpenAPI v3 schemas derived from the resource models, as the CRDs carry them.

The schema follows upstream's CRDs: JSON types, enums, `format: int64` for Java longs, int-or-string for
Kubernetes quantities, free-form objects kept with `x-kubernetes-preserve-unknown-fields`; no `required`
lists and no defaults (validation is the operator's job, and upstream YAML must apply unchanged).
Descriptions are the one-line attribute docstrings of the models.
"""

from __future__ import annotations

import enum
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from flink_operator.api.base import OpenApi


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The object schema of a model: one property per field, by JSON name."""
    properties: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        node = annotation_schema(info.annotation, tuple(info.metadata))
        if info.description:
            node = {"description": _first_line(info.description), **node}
        properties[info.alias or name] = node
    schema: dict[str, Any] = {"type": "object"}
    if properties:
        schema["properties"] = properties
    return schema


def annotation_schema(annotation: Any, metadata: tuple[Any, ...] = ()) -> dict[str, Any]:
    """The schema of one type annotation (with any `Annotated` metadata already split off)."""
    for marker in metadata:
        if isinstance(marker, OpenApi):
            return marker.schema()
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return annotation_schema(args[0], (*args[1:], *metadata))
    if origin is Union or origin is types.UnionType:
        present = [arg for arg in args if arg is not type(None)]
        if len(present) != 1:
            raise TypeError(f"no CRD schema for union {annotation!r}")
        return annotation_schema(present[0])
    if origin is Literal:
        return {"type": "string"}
    if origin is list:
        return {"type": "array", "items": annotation_schema(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": annotation_schema(args[1])}
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return {"type": "string", "enum": [member.value for member in annotation]}
        if issubclass(annotation, BaseModel):
            return model_schema(annotation)
        for python_type, json_type in _SCALARS:
            if issubclass(annotation, python_type):
                return {"type": json_type}
    # JSON values of unknown shape (e.g. inside kept metadata fields).
    return {"x-kubernetes-preserve-unknown-fields": True}


_SCALARS: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (str, "string"),
    (int, "integer"),
    (float, "number"),
)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0]
