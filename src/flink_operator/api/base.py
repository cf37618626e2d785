"""Base classes and field types shared by all resource models, and their round-trip serialisation.

Owns three things:

* the scalar and map types used by the models (`Str`, `Int`, `Long`, `Double`, `Bool`, `Quantity`,
  `StringMap`, `FreeFormObject`, `PodTemplate`): strict, so a document's numbers stay numbers and its strings
  stay strings, and each carries the OpenAPI schema node the CRD generator emits for it;
* `SpecModel` (unknown fields are errors, to catch typos) and `StatusModel` (unknown fields are kept, since
  other operator versions may write them);
* `to_dict()`: the JSON form of a model holding exactly the fields a document set, plus any field the code
  changed afterwards (also when a default-constructed nested object was mutated in place).

Documents are parsed by their JSON names only (`from_dict`); Python code may construct models by attribute
name. Nothing here validates cross-field rules (that is `flink_operator.validation`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, JsonValue, PlainValidator, Strict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


@dataclass(frozen=True)
class OpenApi:
    """Annotation marker: the CRD schema node for a type, used as-is instead of one derived from the type."""

    items: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, **schema: Any) -> OpenApi:
        return cls(tuple(schema.items()))

    def schema(self) -> dict[str, Any]:
        return dict(self.items)


def _number(value: object) -> float:
    # Integers are kept as integers so that `cpu: 1` is written back as `1`, not `1.0`.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number_type", "expected a number")
    return value


def _quantity(value: object) -> int | str:
    # Mirrors `x-kubernetes-int-or-string`: the API server accepts integers and strings, not fractions.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError(
            "quantity_type", "expected a Kubernetes quantity (an integer or a string such as '2Gi' or '500m')"
        )
    return value


def describe_value(value: object) -> str:
    """A short JSON-flavoured description of a value for messages: `string "2"`, `null`, `an object`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f'string "{shown}"'
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__} (not JSON; quote it in YAML)"


def _json_faults(
    value: object, path: tuple[str | int, ...], out: list[tuple[tuple[str | int, ...], str]]
) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                _json_faults(item, (*path, key), out)
            else:
                out.append((path, f"key {describe_value(key)} must be a string"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_faults(item, (*path, index), out)
    elif not (value is None or isinstance(value, str | int | float | bool)):
        out.append((path, f"expected a JSON value, got {describe_value(value)}"))


def _json_object(value: object) -> dict[str, JsonValue]:
    # Checked here rather than with pydantic's JsonValue so that a fault inside a free-form object is reported
    # with its exact path: faults travel in the error context and are expanded by `problems`.
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "expected an object")
    faults: list[tuple[tuple[str | int, ...], str]] = []
    _json_faults(value, (), faults)
    if faults:
        raise PydanticCustomError("json_faults", "not a JSON object", {"faults": faults})
    return value


Str = Annotated[str, Strict()]
Int = Annotated[int, Strict()]
"""A Java `int`."""
Long = Annotated[int, Strict(), OpenApi.of(type="integer", format="int64")]
"""A Java `long`."""
Double = Annotated[float, PlainValidator(_number), OpenApi.of(type="number")]
Bool = Annotated[bool, Strict()]
Quantity = Annotated[int | str, PlainValidator(_quantity), OpenApi.of(**{"x-kubernetes-int-or-string": True})]
StringMap = dict[str, Str]
FreeFormObject = Annotated[
    dict[str, JsonValue],
    PlainValidator(_json_object),
    OpenApi.of(**{"x-kubernetes-preserve-unknown-fields": True}),
]
"""Any JSON object, nested or flat (`flinkConfiguration`)."""
PodTemplate = Annotated[
    dict[str, JsonValue],
    PlainValidator(_json_object),
    OpenApi.of(type="object", **{"x-kubernetes-preserve-unknown-fields": True}),
]
"""A Pod-shaped object, checked against the Pod schema by `flink_operator.validation.pod_template`."""


class ApiModel(BaseModel):
    """Common configuration: camelCase JSON names, snake_case attributes, validated assignment."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        validate_assignment=True,
        use_attribute_docstrings=True,
        extra="forbid",
    )

    always_serialized: ClassVar[frozenset[str]] = frozenset()
    """Attribute names written by `to_dict()` even when never set (e.g. `apiVersion`, `kind`)."""

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Self:
        """Parse a document by its JSON field names; raises `pydantic.ValidationError`."""
        return cls.model_validate(document, by_alias=True, by_name=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: fields the document set or the code changed, by JSON name, enums as their values."""
        return _dump_model(self)


class SpecModel(ApiModel):
    """A user-written part of a resource: unknown fields are errors."""


class StatusModel(ApiModel):
    """An operator-written part of a resource: unknown fields are kept and written back unchanged."""

    model_config = ConfigDict(extra="allow")


_factory_defaults: dict[tuple[type[BaseModel], str], Any] = {}


def _factory_default(cls: type[BaseModel], name: str) -> Any:
    key = (cls, name)
    if key not in _factory_defaults:
        _factory_defaults[key] = cls.model_fields[name].get_default(call_default_factory=True)
    return _factory_defaults[key]


def _dump_model(model: BaseModel) -> dict[str, Any]:
    cls = type(model)
    fields_set = model.model_fields_set
    always: frozenset[str] = getattr(cls, "always_serialized", frozenset())
    out: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        value = getattr(model, name)
        # Defaults built by a factory are mutable: a nested object or list the code filled in must be
        # written even though the attribute itself was never assigned.
        if (
            name not in fields_set
            and name not in always
            and (info.default_factory is None or value == _factory_default(cls, name))
        ):
            continue
        out[info.alias or name] = _dump_value(value)
    if model.model_extra:
        for key, value in model.model_extra.items():
            out[key] = _dump_value(value)
    return out


def _dump_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _dump_model(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _dump_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_dump_value(item) for item in value]
    return value
