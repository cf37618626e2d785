"""Per-resource ("dynamic") options (contract §5.6, §5.9): snapshots, health checks, rollback, upgrades,
JobManager lifecycle, session deletion, pod templates, blue/green timing.

Each is set in the operator configuration and may be overridden by a resource in `spec.flinkConfiguration`
(read them from the resource's effective configuration, see `layering.effective_flink_configuration`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from flink_operator.config.option import Scope
from flink_operator.config.registry import declare, declare_optional
from flink_operator.config.values import (
    BOOLEAN,
    DURATION,
    INTEGER,
    MAP,
    SCHEDULE,
    enum_type,
)

DOCS_SECTION = "Per-resource behaviour (dynamic options)"

_P = "kubernetes.operator."
_DYN = Scope.DYNAMIC
_EMPTY_MAP: Mapping[str, str] = MappingProxyType({})


class CheckpointType(enum.Enum):
    FULL = "FULL"
    INCREMENTAL = "INCREMENTAL"


class SavepointFormatType(enum.Enum):
    CANONICAL = "CANONICAL"
    NATIVE = "NATIVE"


# --- snapshots ----------------------------------------------------------------------------------------

PERIODIC_SAVEPOINT_INTERVAL = declare(
    _P + "periodic.savepoint.interval", SCHEDULE, None,
    "Trigger savepoints periodically: a duration (`6 h`) or a Quartz cron expression (`0 0 2 * * ?`). "
    "Empty or zero disables periodic savepoints.",
    scope=_DYN,
)
PERIODIC_CHECKPOINT_INTERVAL = declare(
    _P + "periodic.checkpoint.interval", SCHEDULE, None,
    "Trigger checkpoints periodically: a duration or a Quartz cron expression. Empty or zero disables "
    "them.",
    scope=_DYN,
)
SAVEPOINT_TRIGGER_GRACE_PERIOD = declare(
    _P + "savepoint.trigger.grace-period", DURATION, timedelta(minutes=1),
    "Within this time after a savepoint trigger failed, the trigger is retried.",
    scope=_DYN,
    deprecated_keys=(_P + "observer.savepoint.trigger.grace-period",),
)
CHECKPOINT_TRIGGER_GRACE_PERIOD = declare(
    _P + "checkpoint.trigger.grace-period", DURATION, timedelta(minutes=1),
    "Within this time after a manual checkpoint trigger failed, the trigger is retried.",
    scope=_DYN,
)
CHECKPOINT_TYPE = declare(
    _P + "checkpoint.type", enum_type(CheckpointType), CheckpointType.FULL,
    "Type of checkpoints triggered by the operator.",
    scope=_DYN,
)
SAVEPOINT_FORMAT_TYPE = declare(
    _P + "savepoint.format.type", enum_type(SavepointFormatType), SavepointFormatType.CANONICAL,
    "Format of savepoints triggered by the operator.",
    scope=_DYN,
)
SAVEPOINT_CLEANUP_ENABLED = declare(
    _P + "savepoint.cleanup.enabled", BOOLEAN, True,
    "Remove savepoints (and their FlinkStateSnapshot resources) beyond the history limits.",
    scope=_DYN,
)
SAVEPOINT_DISPOSE_ON_DELETE = declare(
    _P + "savepoint.dispose-on-delete", BOOLEAN, False,
    "Savepoint FlinkStateSnapshots created by the operator dispose their data when deleted.",
    scope=_DYN,
)
SAVEPOINT_HISTORY_MAX_AGE = declare(
    _P + "savepoint.history.max.age", DURATION, timedelta(days=1),
    "Savepoints older than this are cleaned up (bounded by `savepoint.history.max.age.threshold`).",
    scope=_DYN,
)
SAVEPOINT_HISTORY_MAX_COUNT = declare(
    _P + "savepoint.history.max.count", INTEGER, 10,
    "At most this many savepoints are kept (bounded by `savepoint.history.max.count.threshold`).",
    scope=_DYN,
)
SNAPSHOT_RESOURCE_ENABLED = declare(
    _P + "snapshot.resource.enabled", BOOLEAN, True,
    "Record snapshots as FlinkStateSnapshot resources (off when the CRD is not installed).",
    scope=_DYN,
)

# --- health checks and recovery -----------------------------------------------------------------------

CLUSTER_HEALTH_CHECK_ENABLED = declare(
    _P + "cluster.health-check.enabled", BOOLEAN, False,
    "Restart jobs found unhealthy (too many restarts, or no checkpoint progress).",
    scope=_DYN,
)
CLUSTER_HEALTH_CHECK_RESTARTS_THRESHOLD = declare(
    _P + "cluster.health-check.restarts.threshold", INTEGER, 64,
    "A job that restarted more often than this within the window is unhealthy.",
    scope=_DYN,
)
CLUSTER_HEALTH_CHECK_RESTARTS_WINDOW = declare(
    _P + "cluster.health-check.restarts.window", DURATION, timedelta(minutes=2),
    "Window in which restarts are counted.",
    scope=_DYN,
)
CLUSTER_HEALTH_CHECK_CHECKPOINT_PROGRESS_ENABLED = declare(
    _P + "cluster.health-check.checkpoint-progress.enabled", BOOLEAN, True,
    "A job without a completed checkpoint within the window is unhealthy.",
    scope=_DYN,
)
CLUSTER_HEALTH_CHECK_CHECKPOINT_PROGRESS_WINDOW = declare_optional(
    _P + "cluster.health-check.checkpoint-progress.window", DURATION,
    "Checkpoint progress window; at least (and by default) max(checkpoint interval, checkpoint timeout) "
    "x (tolerable failures + 2).",
    scope=_DYN,
)
JM_DEPLOYMENT_RECOVERY_ENABLED = declare(
    _P + "jm-deployment-recovery.enabled", BOOLEAN, True,
    "Recreate a JobManager Deployment that disappeared.",
    scope=_DYN,
    deprecated_keys=(_P + "reconciler.jm-deployment-recovery.enabled",),
)
JM_DEPLOYMENT_SHUTDOWN_TTL = declare(
    _P + "jm-deployment.shutdown-ttl", DURATION, timedelta(days=1),
    "Delete the JobManager of a finished or failed application after this time.",
    scope=_DYN,
)
JM_DEPLOYMENT_STARTUP_PROBE_ENABLED = declare(
    _P + "jm-deployment.startup.probe.enabled", BOOLEAN, True,
    "Give the JobManager a startup probe on its REST port.",
    scope=_DYN,
)
JOB_RESULT_STORE_CLEANUP_ENABLED = declare(
    _P + "job-result-store.cleanup.enabled", BOOLEAN, True,
    "After an HA deployment started, remove the JobResultStore directories of earlier deployments of the "
    "cluster (keeping the previous one), when the HA storage is reachable as files by the operator. "
    "Not an upstream option (upstream leaves them to be deleted by hand).",
    scope=_DYN,
)
EXCEPTION_LABEL_MAPPER = declare(
    _P + "exception.label.mapper", MAP, _EMPTY_MAP,
    "`regex:label,...`: an error whose message matches a regex gets the label in "
    "`status.error.additionalMetadata.labels`.",
    scope=_DYN,
)

# --- rollback and upgrades ----------------------------------------------------------------------------

DEPLOYMENT_ROLLBACK_ENABLED = declare(
    _P + "deployment.rollback.enabled", BOOLEAN, False,
    "Roll back an upgrade that does not become stable within the readiness timeout to the last stable "
    "spec, keeping the job's state (with or without HA; see docs/operations.md).",
    scope=_DYN,
)
DEPLOYMENT_READINESS_TIMEOUT = declare(
    _P + "deployment.readiness.timeout", DURATION, timedelta(minutes=5),
    "Time an upgraded deployment has to become stable before it is rolled back.",
    scope=_DYN,
)
JOB_RESTART_FAILED = declare(
    _P + "job.restart.failed", BOOLEAN, False,
    "Redeploy jobs that reached FAILED.",
    scope=_DYN,
)
JOB_SAVEPOINT_ON_DELETION = declare(
    _P + "job.savepoint-on-deletion", BOOLEAN, False,
    "Take a savepoint when the resource is deleted.",
    scope=_DYN,
)
JOB_DRAIN_ON_SAVEPOINT_DELETION = declare(
    _P + "job.drain-on-savepoint-deletion", BOOLEAN, False,
    "Drain the job (`drain=true`) when stopping it with a savepoint on deletion.",
    scope=_DYN,
)
JOB_UPGRADE_IGNORE_PENDING_SAVEPOINT = declare(
    _P + "job.upgrade.ignore-pending-savepoint", BOOLEAN, False,
    "Upgrade without waiting for a pending savepoint to finish.",
    scope=_DYN,
)
JOB_UPGRADE_INPLACE_SCALING_ENABLED = declare(
    _P + "job.upgrade.inplace-scaling.enabled", BOOLEAN, True,
    "Apply parallelism changes in place through the resource-requirements API (Flink 1.18+, adaptive "
    "scheduler) instead of a redeploy.",
    scope=_DYN,
)
JOB_UPGRADE_LAST_STATE_FALLBACK_ENABLED = declare(
    _P + "job.upgrade.last-state-fallback.enabled", BOOLEAN, True,
    "A savepoint upgrade may use the last checkpoint when the job is not running but HA metadata exists.",
    scope=_DYN,
)
JOB_UPGRADE_LAST_STATE_JOB_CANCEL_ENABLED = declare(
    _P + "job.upgrade.last-state.job-cancel.enabled", BOOLEAN, False,
    "Cancel the job during a last-state upgrade instead of deleting the cluster.",
    scope=_DYN,
)
JOB_UPGRADE_LAST_STATE_MAX_ALLOWED_CHECKPOINT_AGE = declare_optional(
    _P + "job.upgrade.last-state.max.allowed.checkpoint.age", DURATION,
    "A running job whose latest checkpoint is older than this is upgraded with a savepoint instead of "
    "last-state.",
    scope=_DYN,
)

# --- sessions and pod templates ------------------------------------------------------

SESSION_DELETION_BLOCK_ON_SESSION_JOBS = declare(
    _P + "session.deletion.block-on-session-jobs", BOOLEAN, True,
    "Do not delete a session cluster while FlinkSessionJobs still reference it.",
    scope=_DYN,
)
SESSION_DELETION_BLOCK_ON_UNMANAGED_JOBS = declare(
    _P + "session.deletion.block-on-unmanaged-jobs", BOOLEAN, True,
    "Do not delete a session cluster while jobs not managed by the operator run on it.",
    scope=_DYN,
    deprecated_keys=(_P + "session.block-on-unmanaged-jobs",),
)
POD_TEMPLATE_MERGE_ARRAYS_BY_NAME = declare(
    _P + "pod-template.merge-arrays-by-name", BOOLEAN, False,
    "Merge pod-template arrays (containers, volumes, ...) by `name` instead of by position.",
    scope=_DYN,
)
# Listener plugin options (`kubernetes.operator.plugins.listeners.<name>.*`) are declared with the plugin
# system in `flink_operator.plugins`.

# --- blue/green (FlinkBlueGreenDeployment.spec.configuration) -----------------------------------------

BLUEGREEN_ABORT_GRACE_PERIOD = declare(
    _P + "bluegreen.abort.grace-period", DURATION, timedelta(minutes=10),
    "A blue/green transition not finished within this time is aborted.",
    scope=_DYN,
)
BLUEGREEN_RECONCILIATION_RESCHEDULE_INTERVAL = declare(
    _P + "bluegreen.reconciliation.reschedule-interval", DURATION, timedelta(seconds=15),
    "Reschedule interval of blue/green deployments during a transition.",
    scope=_DYN,
)
BLUEGREEN_DEPLOYMENT_DELETION_DELAY = declare(
    _P + "bluegreen.deployment-deletion.delay", DURATION, timedelta(0),
    "Delay before the previous deployment of a blue/green pair is deleted.",
    scope=_DYN,
)
