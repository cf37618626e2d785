"""Hypothesis strategies for flink.apache.org documents, derived from the resource models.

`valid_documents(kind)` draws documents the models accept (pod templates drawn from a few valid ones);
`corrupt(document, data)` breaks one typed field of a document and says which path it broke.
"""

from __future__ import annotations

import enum
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from hypothesis import strategies as st
from pydantic import BaseModel

from flink_operator.api import RESOURCE_MODELS, StatusModel
from flink_operator.api.base import OpenApi
from flink_operator.api.crds import crd_manifest

POD_TEMPLATES: list[dict[str, Any]] = [
    {},
    {"spec": {"containers": [{"name": "flink-main-container", "env": [{"name": "A", "value": "1"}]}]}},
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": {"team": "data"}},
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
            "volumes": [{"name": "logs", "emptyDir": {}}],
        },
    },
    {
        "spec": {
            "tolerations": [{"key": "dedicated", "operator": "Exists"}],
            "nodeSelector": {"pool": "flink"},
        }
    },
]

_TEXT = st.text(max_size=12)
_KEYS = st.text(min_size=1, max_size=10)
JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=3),
    max_leaves=8,
)
JSON_OBJECTS = st.dictionaries(_KEYS, JSON_VALUES, max_size=4)


def _from_schema_hint(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if schema.get("x-kubernetes-int-or-string"):
        return st.integers() | st.sampled_from(["1", "500m", "2Gi", "1.5"])
    if schema.get("format") == "int64":
        return st.integers(min_value=-(2**63), max_value=2**63 - 1)
    if schema.get("type") == "number":
        return st.integers(-1000, 1000) | st.floats(allow_nan=False, allow_infinity=False)
    if schema.get("type") == "object":  # pod templates
        return st.sampled_from(POD_TEMPLATES)
    return JSON_OBJECTS  # flinkConfiguration


def annotation_strategy(annotation: Any, metadata: tuple[Any, ...] = ()) -> st.SearchStrategy[Any]:
    for marker in metadata:
        if isinstance(marker, OpenApi):
            return _from_schema_hint(marker.schema())
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return annotation_strategy(args[0], (*args[1:], *metadata))
    if origin is Union or origin is types.UnionType:
        present = [arg for arg in args if arg is not type(None)]
        inner = st.one_of([annotation_strategy(arg) for arg in present])
        return inner | st.none() if len(present) < len(args) else inner
    if origin is Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(annotation_strategy(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(_KEYS, annotation_strategy(args[1]), max_size=3)
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return st.sampled_from([member.value for member in annotation])
        if issubclass(annotation, BaseModel):
            return model_strategy(annotation)
        if issubclass(annotation, bool):
            return st.booleans()
        if issubclass(annotation, str):
            return _TEXT
        if issubclass(annotation, int):
            return st.integers(min_value=-(2**31), max_value=2**31 - 1)
    return JSON_VALUES


def model_strategy(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Documents of one model: any subset of its fields; status models also get unknown fields."""
    optional = {
        info.alias or name: annotation_strategy(info.annotation, tuple(info.metadata))
        for name, info in model.model_fields.items()
    }
    known = st.fixed_dictionaries({}, optional=optional)
    if not issubclass(model, StatusModel):
        return known
    unknown = st.dictionaries(_KEYS.filter(lambda key: key not in optional), JSON_VALUES, max_size=2)
    return st.builds(lambda a, b: {**b, **a}, known, unknown)


def valid_documents(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    model = RESOURCE_MODELS[kind]
    return st.builds(
        lambda metadata, body: {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": kind,
            "metadata": metadata,
            **body,
        },
        model_strategy(model.model_fields["metadata"].annotation),  # type: ignore[arg-type]
        st.fixed_dictionaries(
            {},
            optional={
                "spec": model_strategy(model.model_fields["spec"].annotation),  # type: ignore[arg-type]
                "status": model_strategy(model.model_fields["status"].annotation),  # type: ignore[arg-type]
            },
        ),
    )


def _wrong_value(schema: dict[str, Any]) -> Any:
    if schema.get("x-kubernetes-int-or-string"):
        return 1.5
    if "enum" in schema:
        return "no-such-value"
    return {
        "string": 12345,
        "integer": "12",
        "number": "1.5",
        "boolean": "yes",
        "array": "not-a-list",
        "object": 7,
    }[schema["type"]]


def typed_paths(
    value: Any, schema: dict[str, Any], path: tuple[str | int, ...] = ()
) -> list[tuple[Any, ...]]:
    """Paths in `value` whose schema node has a checked type (free-form content excluded)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        # Pod templates are typed at their root (an object), their content is checked elsewhere.
        return [(path, schema)] if "type" in schema and path else []
    found = [(path, schema)] if path else []
    if isinstance(value, dict) and "properties" in schema:
        for key, child in value.items():
            if key in schema["properties"]:
                found += typed_paths(child, schema["properties"][key], (*path, key))
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, child in value.items():
            found += typed_paths(child, schema["additionalProperties"], (*path, key))
    elif isinstance(value, list) and "items" in schema:
        for index, child in enumerate(value):
            found += typed_paths(child, schema["items"], (*path, index))
    return found


def corrupt(document: dict[str, Any], data: st.DataObject) -> tuple[dict[str, Any], tuple[str | int, ...]]:
    """A copy of `document` with one typed field given a value of the wrong type; and that field's path."""
    import copy

    schema = crd_manifest(document["kind"])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    candidates = [(p, s) for p, s in typed_paths(document, schema) if p[0] not in ("apiVersion", "kind")]
    path, node = data.draw(st.sampled_from(candidates))
    broken = copy.deepcopy(document)
    target: Any = broken
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = _wrong_value(node)
    return broken, path


def add_unknown_field(
    document: dict[str, Any], data: st.DataObject
) -> tuple[dict[str, Any], tuple[str | int, ...]] | None:
    """A copy of `document` with an unknown key added to one of its spec objects (None if it has none)."""
    import copy

    schema = crd_manifest(document["kind"])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    objects = [
        path
        for path, node in typed_paths(document, schema)
        if path[0] == "spec" and "properties" in node and isinstance(_get(document, path), dict)
    ]
    if "spec" in document and isinstance(document["spec"], dict):
        objects.append(("spec",))
    if not objects:
        return None
    path = data.draw(st.sampled_from(objects))
    broken = copy.deepcopy(document)
    _get(broken, path)["surplusField"] = 1
    return broken, (*path, "surplusField")


def _get(document: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        document = document[part]
    return document
