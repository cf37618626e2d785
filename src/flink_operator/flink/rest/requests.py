"""Request bodies the client sends, built by pure functions (so they are unit-testable per version).

The jar-run body always uses ``programArgsList``: Flink 2.x silently ignores the ``programArgs`` string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flink_operator.flink.rest.versions import ClaimMode, FlinkVersion

__all__ = [
    "CheckpointType",
    "JarRunRequest",
    "SavepointFormat",
    "checkpoint_trigger_body",
    "jar_run_body",
    "resource_requirements_body",
    "savepoint_trigger_body",
    "stop_body",
]

_JOB_ID_HEX = frozenset("0123456789abcdef")


class SavepointFormat(StrEnum):
    CANONICAL = "CANONICAL"
    NATIVE = "NATIVE"


class CheckpointType(StrEnum):
    FULL = "FULL"
    INCREMENTAL = "INCREMENTAL"
    CONFIGURED = "CONFIGURED"


@dataclass(frozen=True)
class JarRunRequest:
    """What to run from an uploaded jar. Only set fields are sent.

    ``parallelism`` is sent only when > 0 (0/None = the cluster default, as upstream does).
    ``flink_configuration`` values are sent as strings (Flink's configuration map is string-valued).
    """

    entry_class: str | None = None
    program_args: Sequence[str] = ()
    parallelism: int | None = None
    job_id: str | None = None
    savepoint_path: str | None = None
    allow_non_restored_state: bool | None = None
    claim_mode: ClaimMode | None = None
    flink_configuration: Mapping[str, Any] = field(default_factory=dict)


def _check_job_id(job_id: str) -> str:
    normalised = job_id.lower()
    if len(normalised) != 32 or not set(normalised) <= _JOB_ID_HEX:
        raise ValueError(f"job id must be 32 hexadecimal characters, got {job_id!r}")
    return normalised


def _config_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def jar_run_body(request: JarRunRequest, version: FlinkVersion) -> dict[str, Any]:
    """The JSON body of ``POST /jars/:jarid/run`` for a cluster running ``version``."""
    body: dict[str, Any] = {"programArgsList": [str(arg) for arg in request.program_args]}
    if request.entry_class:
        body["entryClass"] = request.entry_class
    if request.parallelism is not None and request.parallelism > 0:
        body["parallelism"] = request.parallelism
    if request.job_id:
        body["jobId"] = _check_job_id(request.job_id)
    if request.savepoint_path:
        body["savepointPath"] = request.savepoint_path
    if request.allow_non_restored_state is not None:
        body["allowNonRestoredState"] = request.allow_non_restored_state
    if request.claim_mode is not None:
        body[version.claim_mode_field] = request.claim_mode.value
    if request.flink_configuration:
        body["flinkConfiguration"] = {
            str(k): _config_value(v) for k, v in request.flink_configuration.items()
        }
    return body


def savepoint_trigger_body(
    target_directory: str | None, format_type: SavepointFormat | None, cancel_job: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {"cancel-job": cancel_job}
    if target_directory:
        body["target-directory"] = target_directory
    if format_type is not None:
        body["formatType"] = format_type.value
    return body


def stop_body(
    target_directory: str | None, drain: bool, format_type: SavepointFormat | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"drain": drain}
    if target_directory:
        body["targetDirectory"] = target_directory
    if format_type is not None:
        body["formatType"] = format_type.value
    return body


def checkpoint_trigger_body(checkpoint_type: CheckpointType) -> dict[str, Any]:
    return {"checkpointType": checkpoint_type.value}


def resource_requirements_body(parallelism: Mapping[str, int | tuple[int, int]]) -> dict[str, Any]:
    """``{vertex: upper}`` or ``{vertex: (lower, upper)}`` -> the PUT body; lower defaults to 1."""
    body: dict[str, Any] = {}
    for vertex_id, bounds in parallelism.items():
        lower, upper = (1, bounds) if isinstance(bounds, int) else bounds
        if lower < 1 or upper < lower:
            raise ValueError(
                f"parallelism bounds for vertex {vertex_id} must satisfy 1 <= lower <= upper, "
                f"got lower={lower}, upper={upper}"
            )
        body[vertex_id] = {"parallelism": {"lowerBound": lower, "upperBound": upper}}
    return body
