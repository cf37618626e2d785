"""The status transitions of the write-ahead protocol (contract §2.2), as pure functions on status copies.

Each function takes a status and returns a changed deep copy; nothing here writes anything. The controller
persists the result before (intent) or after (outcome) the world-changing step it belongs to:

* `before_deployment_attempt`: intent. UPGRADING, the target spec stored with `job.state=suspended`,
  `observedGeneration` = the generation being deployed, error cleared. A crash after this write resumes the
  deployment, never a second one of something else.
* `for_deployed_spec`: outcome. DEPLOYED, the spec stored with its real `job.state`; pending manual trigger
  nonces of the previous spec are kept; a suspended spec (or a savepoint redeploy) is stable at once.
* `for_already_upgraded`: what the observer records when it finds the deployment of an UPGRADING intent
  already running (the outcome write was lost).
* `mark_reconciled_suspended`: the reconciled job has stopped (a CANCELED job): the stored spec's
  `job.state` becomes suspended in place, `observedGeneration` untouched.
* `check_stable`: DEPLOYED with a RUNNING job (or a FINISHED one that was meant to run) becomes stable.
"""

from __future__ import annotations

import math
from typing import TypeVar

from flink_operator.api import (
    API_VERSION,
    CommonStatus,
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    FlinkJobState,
    JobManagerDeploymentStatus,
    JobState,
    ReconciliationState,
    SpecModel,
    TaskManagerInfo,
    UpgradeMode,
    read_spec_with_meta,
    stored_job_state,
    write_spec_with_meta,
)
from flink_operator.controllers.common import stored_spec

St = TypeVar("St", bound=CommonStatus)
_NONCE_KEYS = ("savepointTriggerNonce", "checkpointTriggerNonce")


def copy_status(status: St) -> St:
    return status.model_copy(deep=True)


def before_deployment_attempt(
    status: St,
    spec: SpecModel,
    *,
    generation: int | None,
    now_ms: int,
    upgrade_mode: UpgradeMode | None = None,
) -> St:
    """Intent: UPGRADING (ROLLING_BACK kept), target stored suspended, error cleared."""
    result = copy_status(status)
    reconciliation = result.reconciliation_status
    first = reconciliation.last_reconciled_spec is None or (
        stored_spec.first_deployment(reconciliation.last_reconciled_spec)
        and reconciliation.last_stable_spec is None
    )
    result.error = None
    reconciliation.reconciliation_timestamp = now_ms
    if reconciliation.state is not ReconciliationState.ROLLING_BACK:
        reconciliation.state = ReconciliationState.UPGRADING
    reconciliation.last_reconciled_spec = stored_spec.store(
        spec, first_deployment=first, job_state=JobState.SUSPENDED, upgrade_mode=upgrade_mode
    )
    result.observed_generation = generation
    return result


def _nonces(text: str | None) -> dict[str, object]:
    if text is None:
        return {}
    try:
        job = read_spec_with_meta(text).spec.get("job")
    except ValueError:
        return {}
    if not isinstance(job, dict):
        return {}
    return {key: job[key] for key in _NONCE_KEYS if key in job}


def for_deployed_spec(
    status: St,
    spec: SpecModel,
    *,
    generation: int | None,
    now_ms: int,
    name: str,
    upgrade_mode: UpgradeMode | None = None,
    mark_stable: bool = False,
) -> St:
    """Outcome: DEPLOYED (ROLLED_BACK when rolling back) with `spec` as the reconciled spec.

    The manual trigger nonces of the previously reconciled spec are carried over, so an upgrade never
    swallows a savepoint or checkpoint the user asked for and the operator has not taken yet.
    """
    result = copy_status(status)
    reconciliation = result.reconciliation_status
    previous = reconciliation.last_reconciled_spec
    first = previous is None or (
        stored_spec.first_deployment(previous) and reconciliation.last_stable_spec is None
    )
    body = stored_spec.spec_json(spec, upgrade_mode=upgrade_mode)
    job = body.get("job")
    if isinstance(job, dict) and previous is not None:
        kept = _nonces(previous)
        for key in _NONCE_KEYS:
            if key in kept:
                job[key] = kept[key]
            else:
                job.pop(key, None)
    result.error = None
    reconciliation.reconciliation_timestamp = now_ms
    reconciliation.state = (
        ReconciliationState.ROLLED_BACK
        if reconciliation.state is ReconciliationState.ROLLING_BACK
        else ReconciliationState.DEPLOYED
    )
    reconciliation.last_reconciled_spec = write_spec_with_meta(body, API_VERSION, first)
    result.observed_generation = generation
    if isinstance(result, FlinkDeploymentStatus) and isinstance(spec, FlinkDeploymentSpec):
        result.task_manager = task_manager_info(spec, name)
    suspended = isinstance(job, dict) and job.get("state") == JobState.SUSPENDED.value
    if suspended or mark_stable:
        reconciliation.mark_reconciled_spec_as_stable()
    return result


def for_already_upgraded(status: St) -> St:
    """The intent's deployment is running: record it as deployed (job state unknown until observed)."""
    result = copy_status(status)
    reconciliation = result.reconciliation_status
    text = reconciliation.last_reconciled_spec
    if text is not None and stored_job_state(text) is not None:
        reconciliation.last_reconciled_spec = stored_spec.edit(text, job_state=JobState.RUNNING)
    reconciliation.state = ReconciliationState.DEPLOYED
    result.job_status.state = FlinkJobState.RECONCILING
    if isinstance(result, FlinkDeploymentStatus):
        result.job_manager_deployment_status = JobManagerDeploymentStatus.DEPLOYING
    return result


def mark_reconciled_suspended(status: St) -> St:
    result = copy_status(status)
    text = result.reconciliation_status.last_reconciled_spec
    if text is not None and stored_job_state(text) is not None:
        result.reconciliation_status.last_reconciled_spec = stored_spec.edit(
            text, job_state=JobState.SUSPENDED
        )
    return result


def check_stable(status: St) -> St:
    """Mark the reconciled spec stable when the job shows it works (§2.2 checkAndUpdateStableSpec)."""
    reconciliation = status.reconciliation_status
    if (
        reconciliation.state is not ReconciliationState.DEPLOYED
        or reconciliation.is_last_reconciled_spec_stable
    ):
        return status
    job_state = status.job_status.state
    reconciled = stored_job_state(reconciliation.last_reconciled_spec)
    if job_state is FlinkJobState.RUNNING or (
        job_state is FlinkJobState.FINISHED and reconciled == JobState.RUNNING.value
    ):
        result = copy_status(status)
        result.reconciliation_status.mark_reconciled_spec_as_stable()
        return result
    return status


def task_manager_info(spec: FlinkDeploymentSpec, name: str, slots: int = 1) -> TaskManagerInfo:
    """`status.taskManager` for the scale subresource: selector and replicas; empty when suspended."""
    job = spec.job
    if job is None:
        replicas = spec.task_manager.replicas if spec.task_manager and spec.task_manager.replicas else 0
        return TaskManagerInfo(label_selector=f"component=taskmanager,app={name}", replicas=replicas)
    if job.state is JobState.SUSPENDED:
        return TaskManagerInfo(label_selector="", replicas=0)
    if spec.task_manager is not None and spec.task_manager.replicas is not None:
        replicas = spec.task_manager.replicas
    else:
        replicas = math.ceil(max(job.parallelism, 1) / max(slots, 1))
    return TaskManagerInfo(label_selector=f"component=taskmanager,app={name}", replicas=replicas)
