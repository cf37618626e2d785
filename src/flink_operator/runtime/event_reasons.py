"""The vocabulary of Kubernetes Events the operator emits: types, components and upstream's reasons
(contract §6), so that dashboards and alerts written for the upstream operator keep working.

Plain strings (StrEnum members are `str`); the recorder accepts any reason, these are the canonical ones.
"""

from __future__ import annotations

import enum


class EventType(enum.StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


class Component(enum.StrEnum):
    """`source.component` of an event, also the prefix of its name."""

    OPERATOR = "Operator"
    JOB_MANAGER_DEPLOYMENT = "JobManagerDeployment"
    JOB = "Job"
    SNAPSHOT = "Snapshot"


class Reason(enum.StrEnum):
    """Upstream's `EventRecorder.Reason` values, spelled as they appear in `Event.reason`."""

    SUSPENDED = "Suspended"
    SPEC_CHANGED = "SpecChanged"
    ROLLBACK = "Rollback"
    SUBMIT = "Submit"
    JOB_STATUS_CHANGED = "JobStatusChanged"
    SAVEPOINT_ERROR = "SavepointError"
    CHECKPOINT_ERROR = "CheckpointError"
    CLEANUP = "Cleanup"
    CLEANUP_FAILED = "CleanupFailed"
    MISSING = "Missing"
    VALIDATION_ERROR = "ValidationError"
    RECOVER_DEPLOYMENT = "RecoverDeployment"
    RESTART_UNHEALTHY_JOB = "RestartUnhealthyJob"
    SCALING_REPORT = "ScalingReport"
    INEFFECTIVE_SCALING = "IneffectiveScaling"
    MEMORY_PRESSURE = "MemoryPressure"
    RESOURCE_QUOTA_REACHED = "ResourceQuotaReached"
    AUTOSCALER_ERROR = "AutoscalerError"
    SCALING = "Scaling"
    UNSUPPORTED_FLINK_VERSION = "UnsupportedFlinkVersion"
    SNAPSHOT_ERROR = "SnapshotError"
    SNAPSHOT_ABANDONED = "SnapshotAbandoned"
    JOB_EXCEPTION = "JobException"
    ERROR = "Error"
    # Reasons upstream passes as plain strings, outside its enum.
    UPGRADE_FAILED = "UpgradeFailed"
    RESTORE_FAILED = "RestoreFailed"
    CHECKPOINT_NOT_FOUND = "CheckpointNotFound"
    INGRESS_MANAGEMENT = "IngressManagement"
    SCALING_LIMITED = "ScalingLimited"
    SCALING_VETOED = "ScalingVetoed"
