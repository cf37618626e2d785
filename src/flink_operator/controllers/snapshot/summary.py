"""`SnapshotSummary`: the few facts about a FlinkStateSnapshot that trigger decisions and retention read.

Built from a document as the informer cache holds it (no full model validation, so one malformed snapshot
never hides the others). The trigger type comes from the `snapshot.trigger-type` label (MANUAL when the
user did not set one, as upstream); the kind from `spec.savepoint` / `spec.checkpoint`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flink_operator.api import (
    LABEL_SNAPSHOT_TRIGGER_TYPE,
    FlinkStateSnapshotState,
    JobKind,
    SnapshotTriggerType,
)
from flink_operator.controllers.snapshot.timestamps import from_k8s_time
from flink_operator.flink.service import SnapshotKind

IN_FLIGHT = frozenset({FlinkStateSnapshotState.TRIGGER_PENDING, FlinkStateSnapshotState.IN_PROGRESS})


def trigger_type_of(labels: Mapping[str, str] | None) -> SnapshotTriggerType:
    """The trigger type a snapshot's labels declare (MANUAL when absent or unknown)."""
    value = (labels or {}).get(LABEL_SNAPSHOT_TRIGGER_TYPE, "")
    try:
        parsed = SnapshotTriggerType(value.upper())
    except ValueError:
        return SnapshotTriggerType.MANUAL
    return SnapshotTriggerType.MANUAL if parsed is SnapshotTriggerType.UNKNOWN else parsed


@dataclass(frozen=True)
class SnapshotSummary:
    name: str
    namespace: str
    kind: SnapshotKind
    trigger_type: SnapshotTriggerType
    state: FlinkStateSnapshotState
    created_ms: int
    job_kind: JobKind | None = None
    job_name: str | None = None
    path: str | None = None
    deleting: bool = False
    failures: int = 0

    @property
    def in_flight(self) -> bool:
        """Triggered or about to be (including a retry waiting for its backoff)."""
        return self.state in IN_FLIGHT

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> SnapshotSummary | None:
        """None for a document that is not a readable snapshot (no kind, no name)."""
        metadata = document.get("metadata") or {}
        spec = document.get("spec") or {}
        status = document.get("status") or {}
        name = metadata.get("name")
        if not isinstance(name, str) or not isinstance(spec, dict) or not isinstance(status, dict):
            return None
        if isinstance(spec.get("savepoint"), dict):
            kind = SnapshotKind.SAVEPOINT
        elif isinstance(spec.get("checkpoint"), dict):
            kind = SnapshotKind.CHECKPOINT
        else:
            return None
        try:
            state = FlinkStateSnapshotState(status.get("state") or FlinkStateSnapshotState.TRIGGER_PENDING)
        except ValueError:
            state = FlinkStateSnapshotState.TRIGGER_PENDING
        reference = spec.get("jobReference") or {}
        job_kind = None
        if isinstance(reference, dict) and isinstance(reference.get("kind"), str):
            try:
                job_kind = JobKind(reference["kind"])
            except ValueError:
                job_kind = None
        job_name = reference.get("name") if isinstance(reference, dict) else None
        failures = status.get("failures")
        return cls(
            name=name,
            namespace=str(metadata.get("namespace") or ""),
            kind=kind,
            trigger_type=trigger_type_of(metadata.get("labels")),
            state=state,
            created_ms=from_k8s_time(metadata.get("creationTimestamp")) or 0,
            job_kind=job_kind,
            job_name=job_name if isinstance(job_name, str) else None,
            path=status.get("path") if isinstance(status.get("path"), str) else None,
            deleting=bool(metadata.get("deletionTimestamp")),
            failures=failures if isinstance(failures, int) else 0,
        )


def snapshots_of_job(
    documents: Iterable[Mapping[str, Any]], namespace: str, job_kind: JobKind, job_name: str
) -> list[SnapshotSummary]:
    """The readable snapshots that reference one job (by `spec.jobReference`, not by label: a label value
    cannot hold names longer than 63 characters)."""
    found = []
    for document in documents:
        summary = SnapshotSummary.from_document(document)
        if (
            summary is not None
            and summary.namespace == namespace
            and summary.job_kind is job_kind
            and summary.job_name == job_name
        ):
            found.append(summary)
    return found
