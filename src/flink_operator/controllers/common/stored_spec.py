"""Writing and editing `lastReconciledSpec` / `lastStableSpec` texts (upstream's JSON form, §2.2).

Thin helpers over `flink_operator.api.write_spec_with_meta` / `read_spec_with_meta` for the edits the
controllers make: record a spec with a different `job.state` or `job.upgradeMode`, or change those fields in
place in an existing text (keeping everything else, including fields this version does not model and the
stored metadata). Reading never changes a text, so two texts compare equal exactly when upstream's would.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from flink_operator.api import (
    API_VERSION,
    JobState,
    SpecModel,
    UpgradeMode,
    read_spec,
    read_spec_with_meta,
    write_spec_with_meta,
)

S = TypeVar("S", bound=SpecModel)


def spec_json(
    spec: SpecModel, *, job_state: JobState | None = None, upgrade_mode: UpgradeMode | None = None
) -> dict[str, Any]:
    """The JSON form of `spec` (fields as set) with `job.state` / `job.upgradeMode` replaced when given."""
    body = spec.to_dict()
    job = body.get("job")
    if isinstance(job, dict):
        job = dict(job)
        if job_state is not None:
            job["state"] = job_state.value
        if upgrade_mode is not None:
            job["upgradeMode"] = upgrade_mode.value
        body["job"] = job
    return body


def store(
    spec: SpecModel,
    *,
    first_deployment: bool,
    job_state: JobState | None = None,
    upgrade_mode: UpgradeMode | None = None,
    api_version: str = API_VERSION,
) -> str:
    """The stored text of `spec`, optionally with another `job.state` / `job.upgradeMode`."""
    return write_spec_with_meta(
        spec_json(spec, job_state=job_state, upgrade_mode=upgrade_mode), api_version, first_deployment
    )


def edit(text: str, *, job_state: JobState | None = None, upgrade_mode: UpgradeMode | None = None) -> str:
    """`text` with `job.state` / `job.upgradeMode` changed in place; metadata and other fields kept."""
    stored = read_spec_with_meta(text)
    body = copy.deepcopy(stored.spec)
    job = body.get("job")
    if not isinstance(job, dict):
        return text
    if job_state is not None:
        job["state"] = job_state.value
    if upgrade_mode is not None:
        job["upgradeMode"] = upgrade_mode.value
    metadata = stored.metadata
    return write_spec_with_meta(
        body,
        (metadata.api_version if metadata and metadata.api_version else API_VERSION),
        metadata.first_deployment if metadata else False,
    )


def load(text: str | None, spec_type: type[S]) -> S | None:
    """The stored spec as a model; None when absent. `ValueError` naming the problem when unreadable."""
    if text is None:
        return None
    return read_spec(text, spec_type)


def first_deployment(text: str | None) -> bool:
    if text is None:
        return True
    try:
        metadata = read_spec_with_meta(text).metadata
    except ValueError:
        return False
    return bool(metadata and metadata.first_deployment)
