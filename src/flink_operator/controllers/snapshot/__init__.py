"""Savepoints and checkpoints: the FlinkStateSnapshot controller and the pure snapshot logic.

Pure parts (no I/O), one concept per module:

* `cron` — Quartz cron expressions (`CronExpression.parse`, `next_after`);
* `triggers` — when the operator snapshots a job itself (`should_trigger`, `is_due`, last trigger times);
* `state_machine` / `cleanup` / `decision` — the FlinkStateSnapshot state machine and its deletion;
* `retention` — which snapshot resources and legacy history entries to clean up;
* `legacy` — snapshot tracking in `status.jobStatus.savepointInfo/checkpointInfo` (resources disabled);
* `naming` — snapshot resource names, labels and the documents the operator creates;
* `settings`, `target`, `summary`, `timestamps` — the plain data those decisions read.

Shell: `controller` (the reconciler on the runtime, `snapshot_controller_spec`) and `notify` (listeners).
"""

from flink_operator.controllers.snapshot.controller import (
    FLINK_STATE_SNAPSHOT,
    FlinkStateSnapshotController,
    SnapshotControllerDeps,
    snapshot_controller_spec,
)
from flink_operator.controllers.snapshot.cron import CronError, CronExpression, parse_cron
from flink_operator.controllers.snapshot.decision import decide
from flink_operator.controllers.snapshot.naming import operator_snapshot, snapshot_labels, snapshot_name
from flink_operator.controllers.snapshot.notify import SnapshotListenerBridge
from flink_operator.controllers.snapshot.retention import (
    RetentionPolicy,
    legacy_history_pruning,
    policy_for,
    snapshots_to_delete,
)
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.summary import SnapshotSummary, snapshots_of_job
from flink_operator.controllers.snapshot.triggers import (
    TriggerRequest,
    TriggerTimestamps,
    is_due,
    recovered_last_trigger_ms,
    should_trigger,
)

__all__ = [
    "FLINK_STATE_SNAPSHOT",
    "CronError",
    "CronExpression",
    "FlinkStateSnapshotController",
    "RetentionPolicy",
    "SnapshotControllerDeps",
    "SnapshotListenerBridge",
    "SnapshotSettings",
    "SnapshotSummary",
    "TriggerRequest",
    "TriggerTimestamps",
    "decide",
    "is_due",
    "legacy_history_pruning",
    "operator_snapshot",
    "parse_cron",
    "policy_for",
    "recovered_last_trigger_ms",
    "should_trigger",
    "snapshot_controller_spec",
    "snapshot_labels",
    "snapshot_name",
    "snapshots_of_job",
    "snapshots_to_delete",
]
