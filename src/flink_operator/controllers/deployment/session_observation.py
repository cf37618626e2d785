"""Observing a session cluster (contract §3.4, session part), as a pure function.

`observe_session(status, facts, ...)` is the session counterpart of `observation.apply_observation`: the
JobManager status (with the `Missing` / `Error` events when it is lost or fails), the cluster info and REST
address once it answers, and upstream's session rule that a DEPLOYED session cluster is stable as soon as
its REST API answers. An UPGRADING intent counts as deployed once a JobManager of the intended generation
runs (ERROR included, so a broken spec is reported instead of redeployed in a loop); while one of that
generation is starting, nothing may be deployed. A session cluster has no job of its own: `jobStatus` stays
empty.
"""

from __future__ import annotations

from flink_operator.api import (
    FlinkDeploymentStatus,
    JobManagerDeploymentStatus,
    ReconciliationState,
    ResourceLifecycleState,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import status_updates
from flink_operator.controllers.common.errors import DEPLOYMENT_FAILED_TYPE, error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.deployment.observation import REST_URL_KEY, Facts, Observed
from flink_operator.flink.service import JobManagerStatus


def _upgrade_check(status: FlinkDeploymentStatus, facts: Facts) -> str:
    jm = facts.jm
    if jm is None or jm.status is JobManagerStatus.MISSING:
        return "not-upgraded"
    if jm.generation is None or jm.generation != status.observed_generation:
        return "not-upgraded"
    if jm.status in (JobManagerStatus.READY, JobManagerStatus.ERROR):
        return "upgraded"
    return "in-progress"


def observe_session(status: FlinkDeploymentStatus, facts: Facts, *, max_error_length: int = 2048) -> Observed:
    reconciliation = status.reconciliation_status
    if reconciliation.last_reconciled_spec is None:
        return Observed(status)
    result = status_updates.copy_status(status)
    if reconciliation.state is ReconciliationState.UPGRADING:
        check = _upgrade_check(status, facts)
        if check == "in-progress":
            return Observed(result, deployment_in_progress=True)
        if check == "not-upgraded":
            return Observed(result)
        result = status_updates.for_already_upgraded(result)
        result.job_status.state = None
    jm = facts.jm
    if jm is None:
        return Observed(result)
    events: list[EventSpec] = []
    previous = result.job_manager_deployment_status
    result.job_manager_deployment_status = JobManagerDeploymentStatus(jm.status.value)
    if jm.status is JobManagerStatus.MISSING:
        if previous not in (JobManagerDeploymentStatus.MISSING, JobManagerDeploymentStatus.ERROR):
            result.error = ev.MSG_MISSING_JM
            events.append(ev.warning(Reason.MISSING, Component.JOB_MANAGER_DEPLOYMENT, ev.MSG_MISSING_JM))
        return Observed(result, tuple(events))
    if jm.status is JobManagerStatus.ERROR:
        if previous is not JobManagerDeploymentStatus.ERROR:
            # As for application clusters: the Kubernetes reason (CrashLoopBackOff, ...) is the event's
            # reason and `additionalMetadata.reason` of status.error.
            message = jm.reason or "JobManager deployment failed"
            result.error = error_json(
                DEPLOYMENT_FAILED_TYPE, message, max_length=max_error_length, reason=jm.error_reason
            )
            events.append(
                ev.warning(jm.error_reason or Reason.ERROR, Component.JOB_MANAGER_DEPLOYMENT, message)
            )
        return Observed(result, tuple(events))
    if jm.status is not JobManagerStatus.READY:
        return Observed(result, tuple(events))
    info = dict(result.cluster_info)
    if facts.cluster_info:
        info.update(facts.cluster_info)
    if facts.rest_url or jm.rest_url:
        info[REST_URL_KEY] = str(facts.rest_url or jm.rest_url)
    if info != result.cluster_info:
        result.cluster_info = info
    reconciliation = result.reconciliation_status
    if (
        reconciliation.state is ReconciliationState.DEPLOYED
        and not reconciliation.is_last_reconciled_spec_stable
    ):
        reconciliation.mark_reconciled_spec_as_stable()
    if (
        result.lifecycle_state is not ResourceLifecycleState.DELETING
        and reconciliation.is_last_reconciled_spec_stable
    ):
        result.error = None
    return Observed(result, tuple(events))
