"""When a FlinkDeployment is looked at again after a reconcile (contract §3.5), as a pure function.

`Requeue.after` is the delay in seconds (None: only a change of the resource triggers the next reconcile).
`Requeue.periodic` marks the routine re-observation of a settled resource, which the runtime queues with low
priority so that it never delays reconciles caused by user changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from flink_operator.api import (
    FlinkDeploymentStatus,
    FlinkJobState,
    JobManagerDeploymentStatus,
    ReconciliationState,
)
from flink_operator.controllers.common.settings import ResourceSettings


@dataclass(frozen=True)
class Requeue:
    after: float | None
    periodic: bool = False

    @classmethod
    def never(cls) -> Requeue:
        return cls(None)

    @classmethod
    def now(cls) -> Requeue:
        return cls(0.0)


_TRANSITIONS = (ReconciliationState.UPGRADING, ReconciliationState.ROLLING_BACK)


def reschedule(
    previous: FlinkDeploymentStatus,
    current: FlinkDeploymentStatus,
    settings: ResourceSettings,
) -> Requeue:
    """The reschedule after a reconcile that went from `previous` to `current` status."""
    if current.job_status.state is FlinkJobState.CANCELLING:
        return Requeue(settings.progress_check_interval)
    state = current.reconciliation_status.state
    if state in _TRANSITIONS and previous.reconciliation_status.state is not state:
        return Requeue.now()
    if state in _TRANSITIONS:
        # Still upgrading after this loop (waiting for a pending condition): look again soon.
        return Requeue(settings.progress_check_interval)
    jm = current.job_manager_deployment_status
    if jm is JobManagerDeploymentStatus.DEPLOYING:
        return Requeue(settings.progress_check_interval)
    if jm is JobManagerDeploymentStatus.DEPLOYED_NOT_READY:
        return Requeue(settings.rest_ready_delay)
    if jm is JobManagerDeploymentStatus.READY and current.job_status.state in (
        None,
        FlinkJobState.RECONCILING,
        FlinkJobState.INITIALIZING,
        FlinkJobState.CREATED,
    ):
        # The job is still starting: a stable state is seconds away, not a reconcile interval.
        return Requeue(settings.progress_check_interval)
    return Requeue(settings.reconcile_interval, periodic=True)
