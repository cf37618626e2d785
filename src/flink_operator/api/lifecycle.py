"""The lifecycle state of a FlinkDeployment or FlinkSessionJob, computed from its status (contract §2.1).

A pure function of the status: the operator stores its result in `status.lifecycleState` before each status
write. Only DELETING and DELETED are taken from the stored value (they are set during cleanup and cannot be
derived).
"""

from __future__ import annotations

from flink_operator.api.deployment import FlinkDeploymentStatus
from flink_operator.api.enums import (
    FlinkJobState,
    JobManagerDeploymentStatus,
    JobState,
    ReconciliationState,
    ResourceLifecycleState,
)
from flink_operator.api.spec_with_meta import stored_job_state
from flink_operator.api.status import CommonStatus

TERMINAL_ERROR_MARKERS = (
    "Manual restore required.",
    "It is possible that the job has finished or terminally failed, or the configmaps have been deleted.",
    "HA metadata is not available",
)
"""Error texts that mean a FlinkDeployment without a JobManager cannot recover by itself."""

_STICKY = (ResourceLifecycleState.DELETING, ResourceLifecycleState.DELETED)


def compute_lifecycle_state(status: CommonStatus) -> ResourceLifecycleState:
    """The lifecycle state, evaluated in upstream's order.

    A stored spec that cannot be read counts as "not suspended" (the rule about suspended jobs is skipped).
    """
    if status.lifecycle_state in _STICKY:
        return status.lifecycle_state
    reconciliation = status.reconciliation_status
    if reconciliation.last_reconciled_spec is None:
        return ResourceLifecycleState.FAILED if status.error else ResourceLifecycleState.CREATED
    if reconciliation.state is ReconciliationState.UPGRADING:
        return ResourceLifecycleState.UPGRADING
    if reconciliation.state is ReconciliationState.ROLLING_BACK:
        return ResourceLifecycleState.ROLLING_BACK
    if stored_job_state(reconciliation.last_reconciled_spec) == JobState.SUSPENDED.value:
        return ResourceLifecycleState.SUSPENDED
    if status.job_status.state is FlinkJobState.FAILED:
        return ResourceLifecycleState.FAILED
    if isinstance(status, FlinkDeploymentStatus) and _jobmanager_lost_for_good(status):
        return ResourceLifecycleState.FAILED
    if reconciliation.state is ReconciliationState.ROLLED_BACK:
        return ResourceLifecycleState.ROLLED_BACK
    if reconciliation.is_last_reconciled_spec_stable:
        return ResourceLifecycleState.STABLE
    return ResourceLifecycleState.DEPLOYED


def _jobmanager_lost_for_good(status: FlinkDeploymentStatus) -> bool:
    if status.job_manager_deployment_status not in (
        JobManagerDeploymentStatus.MISSING,
        JobManagerDeploymentStatus.ERROR,
    ):
        return False
    error = status.error or ""
    return any(marker in error for marker in TERMINAL_ERROR_MARKERS)
