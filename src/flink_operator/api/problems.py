"""Turning a raw document into a resource model, or into a list of problems that each name a field path.

Used by the offline `validate` command, the admission webhook and anything else that receives documents from
outside. Problems describe schema-level faults only (unknown fields, wrong types, unknown enum values, wrong
kind/apiVersion, invalid pod templates); semantic rules belong to the default validator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from flink_operator.api.base import describe_value
from flink_operator.api.constants import API_VERSION, KINDS
from flink_operator.api.deployment import FlinkDeployment
from flink_operator.api.session_job import FlinkSessionJob
from flink_operator.api.snapshot import FlinkStateSnapshot

FlinkResource = FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot
"""Any of the three resource models."""

RESOURCE_MODELS: dict[str, type[FlinkDeployment] | type[FlinkSessionJob] | type[FlinkStateSnapshot]] = {
    "FlinkDeployment": FlinkDeployment,
    "FlinkSessionJob": FlinkSessionJob,
    "FlinkStateSnapshot": FlinkStateSnapshot,
}

PathPart = str | int


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where (a field path such as `spec.job.parallelism`) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ResourceProblemsError(ValueError):
    """Raised by `load_resource` when a document is not a valid resource."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(parts: Iterable[PathPart]) -> str:
    """`("spec", "containers", 0, "a.b/c")` → `spec.containers[0]["a.b/c"]`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            out += f'["{escaped}"]'
    return out


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "float_type": "a number",
}


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    got = describe_value(error["input"])
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if error["input"] is None:
        return "must not be null (omit the field to use its default)"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got}"
    if kind == "enum":
        allowed = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
        return f"unknown value {got}; allowed values: {', '.join(allowed)}"
    if kind == "literal_error":
        expected = str((error.get("ctx") or {}).get("expected", ""))
        return f"expected {expected}, got {got}"
    return f"{error['msg']}, got {got}"


_KEY_MARKER = "[key]"


def _problems(detail: ErrorDetails, prefix: Sequence[PathPart]) -> list[Problem]:
    loc = [*prefix, *detail["loc"]]
    if detail["type"] == "json_faults":
        # Raised by the free-form object validator with the exact path of every non-JSON value inside.
        faults = (detail.get("ctx") or {}).get("faults", [])
        return [Problem(format_path([*loc, *inner]), message) for inner, message in faults]
    if loc and loc[-1] == _KEY_MARKER:
        # A map key of the wrong type (YAML reads `1:` as an integer key): name the map, not the key.
        return [Problem(format_path(loc[:-2]), f"key {describe_value(loc[-2])} must be a string")]
    return [Problem(format_path(loc), _message(detail))]


def problems_from_validation_error(error: ValidationError, prefix: Sequence[PathPart] = ()) -> list[Problem]:
    """One `Problem` per fault pydantic found, with paths by JSON name under `prefix`."""
    return [problem for detail in error.errors(include_url=False) for problem in _problems(detail, prefix)]


def _kind_problems(document: Mapping[str, Any]) -> list[Problem]:
    problems = []
    api_version = document.get("apiVersion")
    if api_version is None:
        problems.append(Problem("apiVersion", f"required field is missing; expected {API_VERSION}"))
    elif api_version != API_VERSION:
        problems.append(
            Problem("apiVersion", f"unsupported value {describe_value(api_version)}; expected {API_VERSION}")
        )
    kind = document.get("kind")
    allowed = ", ".join(KINDS)
    if kind is None:
        problems.append(Problem("kind", f"required field is missing; expected one of {allowed}"))
    elif kind not in RESOURCE_MODELS:
        problems.append(Problem("kind", f"unknown kind {describe_value(kind)}; expected one of {allowed}"))
    return problems


def _pod_template_problems(document: Mapping[str, Any], kubernetes_version: str | None) -> list[Problem]:
    # Imported here: the validation package builds on these models (a module-level import is circular).
    from flink_operator.validation.pod_template import validate_pod_template

    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        return []
    candidates: list[tuple[tuple[str, ...], object]] = [(("spec", "podTemplate"), spec.get("podTemplate"))]
    for role in ("jobManager", "taskManager"):
        section = spec.get(role)
        if isinstance(section, Mapping):
            candidates.append((("spec", role, "podTemplate"), section.get("podTemplate")))
    problems: list[Problem] = []
    for path, template in candidates:
        if isinstance(template, Mapping):
            problems.extend(
                Problem(message.path, message.message)
                for message in validate_pod_template(template, format_path(path), kubernetes_version)
            )
    return problems


def parse_resource(
    document: object,
    *,
    check_pod_templates: bool = True,
    kubernetes_version: str | None = None,
) -> FlinkResource | list[Problem]:
    """Parse a raw document into the model for its `kind`, or return every problem found.

    `check_pod_templates` also checks FlinkDeployment pod templates against the Kubernetes Pod schema of
    `kubernetes_version` (default: `flink_operator.validation.pod_template.DEFAULT_KUBERNETES_VERSION`).
    """
    if not isinstance(document, Mapping):
        return [Problem("", f"expected a resource object, got {describe_value(document)}")]
    problems = _kind_problems(document)
    if problems:
        return problems
    model = RESOURCE_MODELS[document["kind"]]
    resource: FlinkResource | None = None
    try:
        resource = model.from_dict(document)
    except ValidationError as error:
        problems = problems_from_validation_error(error)
    if check_pod_templates and document["kind"] == "FlinkDeployment":
        problems.extend(_pod_template_problems(document, kubernetes_version))
    if problems or resource is None:
        return problems
    return resource


def load_resource(document: object, *, check_pod_templates: bool = False) -> FlinkResource:
    """Like `parse_resource` but raises `ResourceProblemsError`; pod templates are not checked by default."""
    result = parse_resource(document, check_pod_templates=check_pod_templates)
    if isinstance(result, list):
        raise ResourceProblemsError(result)
    return result
