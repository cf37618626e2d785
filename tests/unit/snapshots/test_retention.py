"""Retention of snapshot resources and of the legacy savepoint history: count, age, thresholds, the
newest-kept rules, in-flight and restore-point protection, and disposal before removal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flink_operator.api import FlinkStateSnapshotState, Savepoint, SnapshotTriggerType
from flink_operator.config import Configuration
from flink_operator.controllers.snapshot.retention import (
    HistoryPruning,
    RetentionPolicy,
    checkpoint_policy,
    legacy_history_pruning,
    savepoint_policy,
    snapshots_to_delete,
    without_entry,
)
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.summary import SnapshotSummary
from flink_operator.flink.service import SnapshotKind

pytestmark = pytest.mark.unit

HOUR = 3_600_000
NOW = 100 * HOUR
COMPLETED = FlinkStateSnapshotState.COMPLETED
SAVEPOINT = SnapshotKind.SAVEPOINT
CHECKPOINT = SnapshotKind.CHECKPOINT


def snap(
    name: str,
    hours_ago: float,
    *,
    kind: SnapshotKind = SAVEPOINT,
    trigger: SnapshotTriggerType = SnapshotTriggerType.PERIODIC,
    state: FlinkStateSnapshotState = COMPLETED,
    path: str | None = None,
    deleting: bool = False,
) -> SnapshotSummary:
    return SnapshotSummary(
        name=name,
        namespace="default",
        kind=kind,
        trigger_type=trigger,
        state=state,
        created_ms=int(NOW - hours_ago * HOUR),
        path=path or f"file:/sp/{name}",
        deleting=deleting,
    )


def test_count_keeps_the_newest_and_deletes_oldest_first() -> None:
    snapshots = [snap(f"s{i}", 10 - i) for i in range(6)]  # s0 oldest ... s5 newest
    assert snapshots_to_delete(snapshots, SAVEPOINT, RetentionPolicy(3), NOW) == ["s0", "s1", "s2"]


def test_age_deletes_old_ones_whatever_the_count() -> None:
    snapshots = [snap("old", 30), snap("mid", 20), snap("new", 1)]
    policy = RetentionPolicy(10, max_age_ms=24 * HOUR)
    assert snapshots_to_delete(snapshots, SAVEPOINT, policy, NOW) == ["old"]


def test_the_newest_completed_and_the_newest_overall_are_never_deleted() -> None:
    snapshots = [
        snap("done-old", 50),
        snap("done-newest", 40),
        snap("failed", 30, state=FlinkStateSnapshotState.FAILED),
        snap("abandoned", 20, state=FlinkStateSnapshotState.ABANDONED),
    ]
    policy = RetentionPolicy(1, max_age_ms=1 * HOUR)
    assert snapshots_to_delete(snapshots, SAVEPOINT, policy, NOW) == ["done-old", "failed"]


def test_in_flight_manual_other_kinds_and_deleting_ones_are_left_alone() -> None:
    snapshots = [
        snap("running", 50, state=FlinkStateSnapshotState.IN_PROGRESS),
        snap("pending", 49, state=FlinkStateSnapshotState.TRIGGER_PENDING),
        snap("manual", 48, trigger=SnapshotTriggerType.MANUAL),
        snap("checkpoint", 47, kind=CHECKPOINT),
        snap("going", 46, deleting=True),
        snap("upgrade", 45, trigger=SnapshotTriggerType.UPGRADE),
        snap("newest", 1),
    ]
    assert snapshots_to_delete(snapshots, SAVEPOINT, RetentionPolicy(1, 1 * HOUR), NOW) == ["upgrade"]


def test_the_restore_point_is_protected() -> None:
    snapshots = [snap("restore", 50, path="file:/sp/restore"), snap("other", 40), snap("newest", 1)]
    doomed = snapshots_to_delete(
        snapshots, SAVEPOINT, RetentionPolicy(1), NOW, protected_paths={"file:/sp/restore"}
    )
    assert doomed == ["other"]


def test_checkpoints_keep_the_number_flink_retains_and_have_no_age_limit() -> None:
    snapshots = [snap(f"c{i}", 1000 - i, kind=CHECKPOINT) for i in range(4)]
    settings = SnapshotSettings(checkpoints_retained=3)
    assert snapshots_to_delete(snapshots, CHECKPOINT, checkpoint_policy(settings), NOW) == ["c0"]
    assert checkpoint_policy(SnapshotSettings(checkpoints_retained=0)).max_count == 1


def test_policies_from_configuration_with_thresholds() -> None:
    operator = Configuration(
        {
            "kubernetes.operator.savepoint.history.max.count.threshold": "3",
            "kubernetes.operator.savepoint.history.max.age.threshold": "2 h",
        }
    )
    resource = Configuration(
        {
            "kubernetes.operator.savepoint.history.max.count": "7",
            "kubernetes.operator.savepoint.history.max.age": "5 h",
            "execution.checkpointing.num-retained": "4",
        }
    )
    settings = SnapshotSettings.from_configs(operator, resource)
    assert savepoint_policy(settings) == RetentionPolicy(3, int(timedelta(hours=2).total_seconds() * 1000))
    assert checkpoint_policy(settings) == RetentionPolicy(4, None)
    below = SnapshotSettings.from_configs(
        operator,
        Configuration(
            {
                "kubernetes.operator.savepoint.history.max.count": "0",
                "kubernetes.operator.savepoint.history.max.age": "1 h",
                "state.checkpoints.num-retained": "2",
            }
        ),
    )
    assert savepoint_policy(below) == RetentionPolicy(1, HOUR)
    assert below.checkpoints_retained == 2
    defaults = SnapshotSettings.from_configs(Configuration({}), Configuration({}))
    assert savepoint_policy(defaults) == RetentionPolicy(10, 24 * HOUR)


# --- legacy history --------------------------------------------------------------------------------------


def entry(name: str, hours_ago: float) -> Savepoint:
    return Savepoint(time_stamp=int(NOW - hours_ago * HOUR), location=f"file:/sp/{name}")


def names(plan: list[HistoryPruning]) -> list[str]:
    return [(p.savepoint.location or "").rsplit("/", 1)[-1] for p in plan]


def test_legacy_history_count_and_age_with_disposal_first() -> None:
    history = [entry("a", 5), entry("b", 4), entry("c", 3), entry("d", 2)]
    plan = legacy_history_pruning(
        history,
        RetentionPolicy(2, 48 * HOUR),
        completed_savepoint_resources=0,
        cleanup_enabled=True,
        now_ms=NOW,
    )
    assert names(plan) == ["a", "b"] and all(p.dispose for p in plan)
    aged = legacy_history_pruning(
        history,
        RetentionPolicy(10, int(3.5 * HOUR)),
        completed_savepoint_resources=0,
        cleanup_enabled=False,
        now_ms=NOW,
    )
    assert names(aged) == ["a", "b"] and not any(p.dispose for p in aged)


def test_legacy_history_counts_completed_snapshot_resources() -> None:
    history = [entry("a", 5), entry("b", 4), entry("c", 3)]
    plan = legacy_history_pruning(
        history, RetentionPolicy(3, None), completed_savepoint_resources=2, cleanup_enabled=True, now_ms=NOW
    )
    assert names(plan) == ["a", "b"]


def test_the_newest_legacy_entry_survives_age_only_without_resources() -> None:
    history = [entry("a", 50), entry("b", 40)]
    policy = RetentionPolicy(10, 24 * HOUR)
    assert names(
        legacy_history_pruning(
            history, policy, completed_savepoint_resources=0, cleanup_enabled=True, now_ms=NOW
        )
    ) == ["a"]
    assert names(
        legacy_history_pruning(
            history, policy, completed_savepoint_resources=1, cleanup_enabled=True, now_ms=NOW
        )
    ) == ["a", "b"]


def test_the_legacy_restore_point_is_never_pruned() -> None:
    history = [entry("a", 50), entry("b", 40), entry("c", 1)]
    plan = legacy_history_pruning(
        history,
        RetentionPolicy(1, None),
        completed_savepoint_resources=0,
        cleanup_enabled=True,
        now_ms=NOW,
        protected_paths={"file:/sp/a"},
    )
    assert names(plan) == ["b"]


def test_an_entry_is_removed_individually() -> None:
    history = [entry("a", 5), entry("b", 4)]
    assert without_entry(history, history[0]) == [history[1]]
    assert without_entry(history, entry("zzz", 1)) == history
