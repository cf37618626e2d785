"""Rules on a FlinkStateSnapshot (contract §4.4, FlinkStateSnapshot rules, plus three of our own).

Upstream: exactly one of savepoint/checkpoint; a job reference unless the savepoint already exists; a new
snapshot's target must exist. Ours: an existing savepoint needs its path, the target must run a job (a
session cluster has nothing to snapshot), and `backoffLimit` is -1 or more.
"""

from __future__ import annotations

from collections.abc import Iterator

from flink_operator.api import FlinkDeployment, FlinkStateSnapshotState, Problem
from flink_operator.validation.context import resource_label
from flink_operator.validation.rule import got, rule
from flink_operator.validation.subjects import SnapshotSubject


def _already_exists(s: SnapshotSubject) -> bool:
    savepoint = s.snapshot.spec.savepoint
    return savepoint is not None and savepoint.already_exists


@rule("snapshot-type", "Exactly one of spec.savepoint and spec.checkpoint is set.")
def snapshot_type(s: SnapshotSubject) -> Iterator[Problem]:
    spec = s.snapshot.spec
    if spec.savepoint is not None and spec.checkpoint is not None:
        yield Problem(
            "spec.checkpoint", "must not be set together with spec.savepoint; create one resource each"
        )
    elif spec.savepoint is None and spec.checkpoint is None:
        yield Problem("spec", "exactly one of spec.savepoint and spec.checkpoint must be set (got neither)")


@rule(
    "snapshot-job-reference",
    "spec.jobReference names the job (kind and name), unless the savepoint already exists.",
)
def snapshot_job_reference(s: SnapshotSubject) -> Iterator[Problem]:
    if _already_exists(s):
        return
    reference = s.snapshot.spec.job_reference
    if reference is None:
        yield Problem(
            "spec.jobReference",
            "required field is missing: the FlinkDeployment or FlinkSessionJob to snapshot (not needed for a "
            "savepoint with alreadyExists: true)",
        )
        return
    if reference.kind is None:
        yield Problem(
            "spec.jobReference.kind", "required field is missing; allowed: FlinkDeployment, FlinkSessionJob"
        )
    if reference.name is None or not reference.name.strip():
        yield Problem("spec.jobReference.name", "required field is missing")


@rule("snapshot-existing-savepoint-path", "A savepoint with alreadyExists: true has spec.savepoint.path.")
def snapshot_existing_savepoint_path(s: SnapshotSubject) -> Iterator[Problem]:
    savepoint = s.snapshot.spec.savepoint
    if savepoint is not None and savepoint.already_exists and not (savepoint.path or "").strip():
        yield Problem(
            "spec.savepoint.path",
            "required when spec.savepoint.alreadyExists is true: where the savepoint is",
        )


@rule("snapshot-target-found", "The job named by spec.jobReference exists when a new snapshot is requested.")
def snapshot_target_found(s: SnapshotSubject) -> Iterator[Problem]:
    reference = s.snapshot.spec.job_reference
    if not s.target_looked_up or s.target is not None or _already_exists(s):
        return
    if reference is None or reference.kind is None or not reference.name:
        return  # reported by snapshot-job-reference
    if s.snapshot.status.state is not FlinkStateSnapshotState.TRIGGER_PENDING:
        return
    namespace = s.snapshot.metadata.namespace or "default"
    yield Problem(
        "spec.jobReference",
        f"target {reference.kind.value} {namespace}/{reference.name} was not found",
    )


@rule(
    "snapshot-target-has-job",
    "The FlinkDeployment named by spec.jobReference runs a job (not a session cluster).",
)
def snapshot_target_has_job(s: SnapshotSubject) -> Iterator[Problem]:
    target = s.target
    if isinstance(target, FlinkDeployment) and target.spec.job is None and not _already_exists(s):
        yield Problem(
            "spec.jobReference",
            f"FlinkDeployment {resource_label(target)} is a session cluster and runs no job of its own; "
            "reference the FlinkSessionJob instead",
        )


@rule("snapshot-backoff-limit", "spec.backoffLimit is -1 (unlimited retries) or more.")
def snapshot_backoff_limit(s: SnapshotSubject) -> Iterator[Problem]:
    limit = s.snapshot.spec.backoff_limit
    if limit < -1:
        yield Problem("spec.backoffLimit", f"must be >= -1 (-1: retry without limit) (got {got(limit)})")
