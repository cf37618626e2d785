"""Checking a pod template against the Kubernetes Pod schema (of a chosen Kubernetes version).

The CRDs keep pod templates as free-form objects (the embedded Pod schema would push the FlinkDeployment CRD
past the size `kubectl apply` accepts), so this module is where their shape is checked. It uses the strict
Pod JSON schemas shipped with `kubernetes-validate` (unknown fields are errors) and reports every fault with
the field path inside the resource, e.g.
`spec.jobManager.podTemplate.spec.containers[0].ports[0].containerPort`.

Partial templates are normal: Flink merges them into the pods it builds. So

* `apiVersion`, `kind` and `metadata` may be missing (the schema does not require them either);
* `spec.containers` may be missing (a template may only add volumes, init containers, affinity, ...);
* containers may lack `image` (Flink fills in the image of `flink-main-container`; the schema does not
  require it for sidecars either, the Pod admission does).

Every other `required` of the Pod schema is kept: a container, volume, volume mount, env var or port without
its required fields cannot become part of a valid pod whatever Flink adds. Only the shape is checked; values
the API server checks beyond the schema (names, quantities syntax, port ranges) are not.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import referencing
import referencing.jsonschema
from kubernetes_validate import utils as kubernetes_schemas

from flink_operator.api.base import describe_value
from flink_operator.api.problems import PathPart, Problem, format_path

DEFAULT_KUBERNETES_VERSION = "1.35"
"""Kubernetes version whose Pod schema is used unless another is asked for."""

# (path of the object inside the template, property) pairs a template may omit although the Pod schema
# requires them.
_OPTIONAL_IN_TEMPLATES = frozenset({(("spec",), "containers")})


def supported_kubernetes_versions() -> list[str]:
    """The `major.minor` versions for which a Pod schema is available."""
    return sorted(
        {_major_minor(version) for version in kubernetes_schemas.all_versions()},
        key=lambda v: tuple(int(p) for p in v.split(".")),
    )


def _major_minor(version: str) -> str:
    return ".".join(version.lstrip("v").split(".")[:2])


@functools.lru_cache(maxsize=4)
def _validator(kubernetes_version: str) -> jsonschema.protocols.Validator:
    wanted = _major_minor(kubernetes_version)
    matches = [v for v in kubernetes_schemas.all_versions() if _major_minor(v) == wanted]
    if not matches:
        raise ValueError(
            f"no Pod schema for Kubernetes {kubernetes_version!r}; "
            f"available: {', '.join(supported_kubernetes_versions())}"
        )
    directory = f"kubernetes-json-schema/v{matches[-1]}-local-strict"
    pod = kubernetes_schemas.schema_contents(f"{directory}/pod-v1.json", wanted)
    definitions = kubernetes_schemas.schema_contents(f"{directory}/_definitions.json", wanted)
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        [
            (pod["$id"], referencing.Resource.from_contents(pod)),
            (definitions["$id"], referencing.Resource.from_contents(definitions)),
        ]
    )
    validator: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(pod, registry=registry)
    return validator


def validate_pod_template(
    template: object,
    path: str = "podTemplate",
    kubernetes_version: str | None = None,
) -> list[Problem]:
    """Every schema fault of `template`, each naming its field path under `path`; empty when valid.

    Raises `ValueError` only for a `kubernetes_version` without a shipped schema.
    """
    validator = _validator(kubernetes_version or DEFAULT_KUBERNETES_VERSION)
    if not isinstance(template, Mapping):
        return [Problem(path, f"expected an object (a Pod template), got {describe_value(template)}")]
    problems: list[Problem] = []
    for error in validator.iter_errors(dict(template)):
        problems.extend(_problems(error, path))
    return sorted(problems, key=lambda p: p.path)


def _join(prefix: str, parts: list[PathPart]) -> str:
    suffix = format_path(parts)
    if not suffix:
        return prefix
    if not prefix:
        return suffix
    return prefix + suffix if suffix.startswith("[") else f"{prefix}.{suffix}"


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    names = [declared] if isinstance(declared, str) else list(declared)
    return [name for name in names if name != "null"]


_ARTICLES = {"object": "an object", "array": "a list", "integer": "an integer"}


def _expected(types: list[str]) -> str:
    return " or ".join(_ARTICLES.get(name, f"a {name}") for name in types) or "a value"


def _problems(error: jsonschema.ValidationError, prefix: str) -> Iterator[Problem]:
    where = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required":
        for name in error.validator_value:
            missing = isinstance(instance, Mapping) and name not in instance
            if missing and (tuple(where), name) not in _OPTIONAL_IN_TEMPLATES:
                yield Problem(_join(prefix, [*where, name]), "required field is missing")
    elif error.validator == "additionalProperties" and isinstance(instance, Mapping):
        known = error.schema.get("properties", {})
        for name in instance:
            if name not in known:
                yield Problem(_join(prefix, [*where, name]), "unknown field")
    elif error.validator == "type":
        got = describe_value(instance)
        yield Problem(_join(prefix, where), f"expected {_expected(_types(error.schema))}, got {got}")
    elif error.validator == "oneOf":
        alternatives = [name for option in error.validator_value for name in _types(option)]
        got = describe_value(instance)
        yield Problem(_join(prefix, where), f"expected {_expected(alternatives)}, got {got}")
    elif error.validator == "enum":
        allowed = ", ".join(str(value) for value in error.validator_value if value is not None)
        got = describe_value(instance)
        yield Problem(_join(prefix, where), f"unknown value {got}; allowed values: {allowed}")
    else:
        yield Problem(_join(prefix, where), error.message)
