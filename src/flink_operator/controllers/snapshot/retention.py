"""Which snapshots to clean up (contract §3.16, savepoint history cleanup), as pure functions.

Snapshot resources (`snapshots_to_delete`), per kind, only the operator's PERIODIC and UPGRADE ones: sorted
by creation time, the newest COMPLETED one and the newest one overall are always kept; older ones are
deleted while there are more than `max_count`, or when created before `now - max_age`. Savepoints use
`kubernetes.operator.savepoint.history.max.count/age` (bounded by their thresholds, at least one);
checkpoints keep Flink's number of retained checkpoints and have no age limit. Ours on top of upstream:
snapshots still in flight are never deleted (deleting them would only wait for them), nor the one whose path
is the job's restore point (`jobStatus.upgradeSavepointPath`). Deleting a resource disposes its data only
through its own `disposeOnDelete`.

Legacy `savepointHistory` (`legacy_history_pruning`): the allowed count is `max_count` minus the COMPLETED
savepoint resources; the oldest entries above it go, and entries older than `max_age`. The newest entry
stays when no savepoint resource exists (upstream spares it from the age rule only; here also when a
protected restore point takes up the allowed count). With `savepoint.cleanup.enabled` each pruned entry is
disposed first and removed from the history only after its disposal succeeded; upstream removed it before,
so a failed disposal lost track of the data (FLINK-39439). The caller disposes in order and stops at the first
failure, which it reports and retries at the next regular reconcile, never in a tight loop. The restore
point is never pruned.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from flink_operator.api import FlinkStateSnapshotState, Savepoint, SnapshotTriggerType
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.summary import SnapshotSummary
from flink_operator.flink.service import SnapshotKind

_RETAINED_TRIGGERS = frozenset({SnapshotTriggerType.PERIODIC, SnapshotTriggerType.UPGRADE})


@dataclass(frozen=True)
class RetentionPolicy:
    max_count: int
    """At least 1."""
    max_age_ms: int | None = None
    """None: no age limit."""


def savepoint_policy(settings: SnapshotSettings) -> RetentionPolicy:
    return RetentionPolicy(max(1, settings.history_max_count), settings.history_max_age_ms)


def checkpoint_policy(settings: SnapshotSettings) -> RetentionPolicy:
    return RetentionPolicy(max(1, settings.checkpoints_retained), None)


def policy_for(kind: SnapshotKind, settings: SnapshotSettings) -> RetentionPolicy:
    return savepoint_policy(settings) if kind is SnapshotKind.SAVEPOINT else checkpoint_policy(settings)


def snapshots_to_delete(
    snapshots: Sequence[SnapshotSummary],
    kind: SnapshotKind,
    policy: RetentionPolicy,
    now_ms: int,
    *,
    protected_paths: Collection[str] = (),
) -> list[str]:
    """Names of the snapshot resources of one job and kind to delete, oldest first."""
    candidates = sorted(
        (s for s in snapshots if s.kind is kind and s.trigger_type in _RETAINED_TRIGGERS and not s.deleting),
        key=lambda s: (s.created_ms, s.name),
    )
    if not candidates:
        return []
    newest = candidates[-1]
    completed = [s for s in candidates if s.state is FlinkStateSnapshotState.COMPLETED]
    newest_completed = completed[-1] if completed else None
    remaining = len(candidates)
    doomed: list[str] = []
    for snapshot in candidates:
        if snapshot is newest or snapshot is newest_completed or snapshot.in_flight:
            continue
        if snapshot.path and snapshot.path in protected_paths:
            continue
        too_many = remaining > policy.max_count
        too_old = policy.max_age_ms is not None and snapshot.created_ms < now_ms - policy.max_age_ms
        if too_many or too_old:
            doomed.append(snapshot.name)
            remaining -= 1
    return doomed


@dataclass(frozen=True)
class HistoryPruning:
    """One legacy history entry to prune: dispose it first (when `dispose`), then drop it."""

    savepoint: Savepoint
    dispose: bool


def legacy_history_pruning(
    history: Sequence[Savepoint],
    policy: RetentionPolicy,
    *,
    completed_savepoint_resources: int,
    cleanup_enabled: bool,
    now_ms: int,
    protected_paths: Collection[str] = (),
) -> list[HistoryPruning]:
    """The legacy `savepointHistory` entries to prune, oldest first (see the module docstring)."""
    if not history:
        return []
    ordered = sorted(history, key=lambda s: s.time_stamp)
    allowed = policy.max_count - completed_savepoint_resources
    newest = ordered[-1]
    remaining = len(ordered)
    pruned: list[HistoryPruning] = []
    for entry in ordered:
        if entry.location and entry.location in protected_paths:
            continue
        if entry is newest and completed_savepoint_resources == 0:
            break
        too_many = remaining > allowed
        too_old = policy.max_age_ms is not None and entry.time_stamp < now_ms - policy.max_age_ms
        if too_many or too_old:
            pruned.append(HistoryPruning(entry, dispose=cleanup_enabled and bool(entry.location)))
            remaining -= 1
    return pruned


def without_entry(history: Sequence[Savepoint], entry: Savepoint) -> list[Savepoint]:
    """The history without one entry (matched by location and time, the first match only)."""
    result = list(history)
    for index, candidate in enumerate(result):
        if candidate.location == entry.location and candidate.time_stamp == entry.time_stamp:
            del result[index]
            break
    return result
