"""Names, labels and documents of FlinkStateSnapshot resources (contract §1.6, §3.16).

* `snapshot_name`: `<resource>-<savepoint|checkpoint>-<manual|periodic|upgrade>-<epochMillis>`, upstream's
  scheme, so tools that parse it keep working (the resource part is shortened when the whole would exceed
  the 253 characters of a Kubernetes name).
* `snapshot_labels`: the labels the operator keeps on every snapshot: `snapshot.type`,
  `snapshot.trigger-type` (MANUAL when the user set none), `snapshot.state`, `job-reference.kind`,
  `job-reference.name`. A value Kubernetes would refuse as a label (a job name longer than 63 characters)
  is left out instead of failing the write; the operator never relies on these labels itself.
* `operator_snapshot`: the document of a snapshot the operator creates for a job (periodic, manual by nonce,
  upgrade), with its trigger-type label and the job reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flink_operator.api import (
    API_VERSION,
    KIND_FLINK_STATE_SNAPSHOT,
    LABEL_SNAPSHOT_JOB_REFERENCE_KIND,
    LABEL_SNAPSHOT_JOB_REFERENCE_NAME,
    LABEL_SNAPSHOT_STATE,
    LABEL_SNAPSHOT_TRIGGER_TYPE,
    LABEL_SNAPSHOT_TYPE,
    SNAPSHOT_TYPE_CHECKPOINT,
    SNAPSHOT_TYPE_SAVEPOINT,
    FlinkStateSnapshotState,
    JobKind,
    SavepointFormatType,
    SnapshotTriggerType,
)
from flink_operator.controllers.snapshot.summary import trigger_type_of
from flink_operator.flink.service import SnapshotKind

MAX_NAME_LENGTH = 253
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

OPERATOR_SNAPSHOT_BACKOFF_LIMIT = 1
"""Retries of the snapshots the operator creates itself. Upstream leaves them at -1 (unlimited): a periodic
savepoint that keeps failing then retries with ever longer backoff and, being in flight, holds back the next
periodic one. One retry covers a transient failure; the schedule covers the rest."""


def snapshot_name(
    resource_name: str, kind: SnapshotKind, trigger_type: SnapshotTriggerType, epoch_ms: int
) -> str:
    suffix = f"-{kind.value}-{trigger_type.value.lower()}-{epoch_ms}"
    base = resource_name[: MAX_NAME_LENGTH - len(suffix)].rstrip("-.")
    return base + suffix


_OPERATOR_NAME = re.compile(r"(?P<job>.*)-(?P<kind>savepoint|checkpoint)-(?:manual|periodic|upgrade)-\d+")


def is_operator_snapshot(name: str, job_name: str, kind: SnapshotKind) -> bool:
    """Whether `name` is one the operator gives the snapshots it creates for `job_name` (see
    `snapshot_name`; the job part may have been shortened)."""
    match = _OPERATOR_NAME.fullmatch(name)
    if match is None or match.group("kind") != kind.value:
        return False
    job = match.group("job")
    return job == job_name or (len(name) == MAX_NAME_LENGTH and job_name.startswith(job))


def valid_label_value(value: str) -> bool:
    return len(value) <= 63 and _LABEL_VALUE.fullmatch(value) is not None


def snapshot_labels(document: Mapping[str, Any]) -> dict[str, str]:
    """The operator-maintained labels of a snapshot document (its current labels merged with them)."""
    metadata = document.get("metadata") or {}
    spec = document.get("spec") or {}
    status = document.get("status") or {}
    labels = dict(metadata.get("labels") or {})
    labels[LABEL_SNAPSHOT_TYPE] = (
        SNAPSHOT_TYPE_CHECKPOINT
        if spec.get("checkpoint") is not None and spec.get("savepoint") is None
        else SNAPSHOT_TYPE_SAVEPOINT
    )
    labels[LABEL_SNAPSHOT_TRIGGER_TYPE] = trigger_type_of(labels).value
    labels[LABEL_SNAPSHOT_STATE] = str(status.get("state") or FlinkStateSnapshotState.TRIGGER_PENDING.value)
    reference = spec.get("jobReference") or {}
    for label, value in (
        (LABEL_SNAPSHOT_JOB_REFERENCE_KIND, reference.get("kind")),
        (LABEL_SNAPSHOT_JOB_REFERENCE_NAME, reference.get("name")),
    ):
        if isinstance(value, str) and value and valid_label_value(value):
            labels[label] = value
        else:
            labels.pop(label, None)
    return labels


def operator_snapshot(
    *,
    namespace: str,
    job_kind: JobKind,
    job_name: str,
    kind: SnapshotKind,
    trigger_type: SnapshotTriggerType,
    epoch_ms: int,
    savepoint_path: str | None = None,
    savepoint_format: SavepointFormatType = SavepointFormatType.CANONICAL,
    dispose_on_delete: bool = False,
    already_exists: bool = False,
    backoff_limit: int = OPERATOR_SNAPSHOT_BACKOFF_LIMIT,
) -> dict[str, Any]:
    """A FlinkStateSnapshot the operator creates for a job."""
    spec: dict[str, Any] = {
        "jobReference": {"kind": job_kind.value, "name": job_name},
        "backoffLimit": backoff_limit,
    }
    if kind is SnapshotKind.SAVEPOINT:
        savepoint: dict[str, Any] = {
            "formatType": savepoint_format.value,
            "disposeOnDelete": dispose_on_delete,
            "alreadyExists": already_exists,
        }
        if savepoint_path:
            savepoint["path"] = savepoint_path
        spec["savepoint"] = savepoint
    else:
        spec["checkpoint"] = {}
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": KIND_FLINK_STATE_SNAPSHOT,
        "metadata": {
            "name": snapshot_name(job_name, kind, trigger_type, epoch_ms),
            "namespace": namespace,
            "labels": {LABEL_SNAPSHOT_TRIGGER_TYPE: trigger_type.value},
        },
        "spec": spec,
    }
    document["metadata"]["labels"] = snapshot_labels(document)
    return document
