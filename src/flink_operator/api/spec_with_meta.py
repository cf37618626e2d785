"""The stored form of `lastReconciledSpec` / `lastStableSpec` (contract §2.2).

Written as compact JSON `{"spec": <spec>, "resource_metadata": {"apiVersion": ..., "firstDeployment": ...}}`.
Also read: the old format (the plain spec, possibly with an `apiVersion` key) and specs written by the Java
operator, which spell out unset fields as `null` and may carry fields this version does not model (both are
ignored when reading into a model). Reading never changes the stored string; comparing two stored specs is
plain string equality, as upstream does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from flink_operator.api.base import SpecModel
from flink_operator.api.enums import UpgradeMode
from flink_operator.api.problems import problems_from_validation_error

METADATA_KEY = "resource_metadata"

S = TypeVar("S", bound=SpecModel)


@dataclass(frozen=True)
class ReconciliationMetadata:
    """What the operator stores next to a reconciled spec."""

    api_version: str | None
    first_deployment: bool


@dataclass(frozen=True)
class StoredSpec:
    """A stored spec as plain JSON, with its metadata (None for the old format)."""

    spec: dict[str, Any]
    metadata: ReconciliationMetadata | None


def write_spec_with_meta(
    spec: SpecModel | Mapping[str, Any], api_version: str, first_deployment: bool
) -> str:
    """The JSON string stored in `lastReconciledSpec` / `lastStableSpec`."""
    body = spec.to_dict() if isinstance(spec, SpecModel) else dict(spec)
    wrapper = {"spec": body, METADATA_KEY: {"apiVersion": api_version, "firstDeployment": first_deployment}}
    return json.dumps(wrapper, separators=(",", ":"), ensure_ascii=False)


def read_spec_with_meta(text: str) -> StoredSpec:
    """Split a stored spec into spec JSON and metadata; raises `ValueError` naming what is wrong."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"stored spec is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ValueError(f"stored spec must be a JSON object, got {type(document).__name__}")
    metadata = document.get(METADATA_KEY)
    if metadata is None:
        # Old format: the spec itself, with the resource apiVersion mixed in.
        document.pop("apiVersion", None)
        return StoredSpec(spec=document, metadata=None)
    spec = document.get("spec")
    if not isinstance(spec, dict) or not isinstance(metadata, dict):
        raise ValueError(f"stored spec must have object fields 'spec' and '{METADATA_KEY}'")
    return StoredSpec(
        spec=spec,
        metadata=ReconciliationMetadata(
            api_version=metadata.get("apiVersion"),
            first_deployment=bool(metadata.get("firstDeployment", False)),
        ),
    )


def spec_from_stored(stored: StoredSpec, spec_type: type[S]) -> S:
    """The stored spec as a model, ignoring nulls and unknown fields; `ValueError` on wrong types."""
    try:
        return spec_type.model_validate(
            _without_nulls(stored.spec), by_alias=True, by_name=False, extra="ignore"
        )
    except ValidationError as error:
        problems = "; ".join(str(problem) for problem in problems_from_validation_error(error, ("spec",)))
        raise ValueError(f"stored spec does not match {spec_type.__name__}: {problems}") from error


def read_spec(text: str, spec_type: type[S]) -> S:
    """Shorthand for `spec_from_stored(read_spec_with_meta(text), spec_type)`."""
    return spec_from_stored(read_spec_with_meta(text), spec_type)


def stored_job_state(text: str | None) -> str | None:
    """`spec.job.state` of a stored spec (`None` without a job, or when the text cannot be read)."""
    if text is None:
        return None
    try:
        spec = read_spec_with_meta(text).spec
    except ValueError:
        return None
    job = spec.get("job")
    if not isinstance(job, dict):
        return None
    state = job.get("state")
    # Upstream's default for a job without an explicit state.
    return state if isinstance(state, str) else "running"


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def stored_upgrade_mode(text: str | None) -> UpgradeMode | None:
    """The `job.upgradeMode` a stored spec records (how its state was carried; a job without one is
    stateless); None when nothing is stored, the spec has no job, or it cannot be read."""
    if text is None:
        return None
    try:
        job = read_spec_with_meta(text).spec.get("job")
    except ValueError:
        return None
    if not isinstance(job, dict):
        return None
    try:
        return UpgradeMode(job.get("upgradeMode", UpgradeMode.STATELESS.value))
    except ValueError:
        return None
