"""`status.conditions`: upstream's `Running` condition (§2.5) and a `Ready` condition for `kubectl wait`.

Running (as upstream): application -> "True" iff the job is RUNNING, reason = the job state in CamelCase,
message "Job status <STATE>" (absent while the job state is unknown, i.e. before the first deployment);
session -> "True" iff the JobManager is READY, reason/message from the JobManager status.

Ready (ours), evaluated in this order, first match wins:

| situation                                                   | status | reason       |
|-------------------------------------------------------------|--------|--------------|
| lifecycle DELETING or DELETED                               | False  | Deleting     |
| the current generation failed validation                    | False  | InvalidSpec  |
| lifecycle FAILED                                            | False  | Failed       |
| lifecycle SUSPENDED                                         | False  | Suspended    |
| lifecycle UPGRADING / ROLLING_BACK / CREATED                | False  | Upgrading / RollingBack / Deploying |
| observedGeneration != metadata.generation                   | False  | Reconciling  |
| lifecycle ROLLED_BACK                                       | False  | RolledBack   |
| lifecycle DEPLOYED (not yet stable)                         | False  | Deploying    |
| lifecycle STABLE, application: job RUNNING and JM READY     | True   | Ready        |
| lifecycle STABLE, session: JM READY                         | True   | Ready        |
| lifecycle STABLE otherwise                                  | False  | job state or JM status (*) |

(*) the job state in CamelCase (e.g. Finished, Restarting), or the JobManager status reason.

In words: Ready is True exactly when the resource runs the spec the user last wrote, that spec was accepted,
it has become stable, and the job (or session JobManager) is up right now. Both conditions keep their
`lastTransitionTime` while their status string does not change, and carry the resource generation in
`observedGeneration`.
"""

from __future__ import annotations

from flink_operator.api import (
    Condition,
    FlinkDeploymentStatus,
    FlinkJobState,
    JobManagerDeploymentStatus,
    ResourceLifecycleState,
    compute_lifecycle_state,
)

RUNNING = "Running"
READY = "Ready"

_JM_REASONS = {
    JobManagerDeploymentStatus.READY: (
        "JobManagerReady",
        "JobManager is running and ready to receive REST API calls",
    ),
    JobManagerDeploymentStatus.DEPLOYED_NOT_READY: (
        "DeployedNotReady",
        "JobManager is deployed but not yet ready to receive REST API calls",
    ),
    JobManagerDeploymentStatus.DEPLOYING: ("JobManagerIsDeploying", "JobManager process is starting up"),
    JobManagerDeploymentStatus.MISSING: ("JobManagerDeploymentMissing", "JobManager deployment not found"),
    JobManagerDeploymentStatus.ERROR: ("Error", "JobManager deployment failed"),
}


def camel_case(state: str) -> str:
    """`DEPLOYED_NOT_READY` -> `DeployedNotReady`, `RUNNING` -> `Running`."""
    return "".join(part.capitalize() for part in state.lower().split("_"))


def _condition(
    kind: str,
    ok: bool,
    reason: str,
    message: str,
    previous: list[Condition],
    now: str,
    generation: int | None,
) -> Condition:
    status = "True" if ok else "False"
    before = next((c for c in previous if c.type == kind), None)
    transition = before.last_transition_time if before is not None and before.status == status else None
    return Condition(
        type=kind,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=transition or now,
        observed_generation=generation,
    )


def running_condition(
    status: FlinkDeploymentStatus,
    *,
    session: bool,
    previous: list[Condition],
    now: str,
    generation: int | None,
) -> Condition | None:
    if session:
        reason, message = _JM_REASONS[status.job_manager_deployment_status]
        ok = status.job_manager_deployment_status is JobManagerDeploymentStatus.READY
        return _condition(RUNNING, ok, reason, message, previous, now, generation)
    state = status.job_status.state
    if state is None:
        return None
    ok = state is FlinkJobState.RUNNING
    return _condition(
        RUNNING, ok, camel_case(state.value), f"Job status {state.value}", previous, now, generation
    )


def ready_reason(
    status: FlinkDeploymentStatus, *, session: bool, generation: int | None, invalid_spec: str | None
) -> tuple[bool, str, str]:
    """(ready, reason, message) by the table in the module docstring."""
    lifecycle = compute_lifecycle_state(status)
    jm = status.job_manager_deployment_status
    job = status.job_status.state
    if lifecycle in (ResourceLifecycleState.DELETING, ResourceLifecycleState.DELETED):
        return False, "Deleting", "The resource is being deleted"
    if invalid_spec is not None:
        return False, "InvalidSpec", f"The latest spec was rejected: {invalid_spec}"
    if lifecycle is ResourceLifecycleState.FAILED:
        return False, "Failed", lifecycle.description
    if lifecycle is ResourceLifecycleState.SUSPENDED:
        return False, "Suspended", lifecycle.description
    if lifecycle is ResourceLifecycleState.UPGRADING:
        return False, "Upgrading", lifecycle.description
    if lifecycle is ResourceLifecycleState.ROLLING_BACK:
        return False, "RollingBack", lifecycle.description
    if lifecycle is ResourceLifecycleState.CREATED:
        return False, "Deploying", lifecycle.description
    if generation is not None and status.observed_generation != generation:
        return False, "Reconciling", f"Generation {generation} is not reconciled yet"
    if lifecycle is ResourceLifecycleState.ROLLED_BACK:
        return False, "RolledBack", lifecycle.description
    if lifecycle is ResourceLifecycleState.DEPLOYED:
        return False, "Deploying", lifecycle.description
    if session:
        if jm is JobManagerDeploymentStatus.READY:
            return True, "Ready", "The session cluster is running"
        return False, _JM_REASONS[jm][0], _JM_REASONS[jm][1]
    if job is FlinkJobState.RUNNING and jm is JobManagerDeploymentStatus.READY:
        return True, "Ready", "The job is running the latest spec"
    if job is None or job is FlinkJobState.RUNNING:
        return False, _JM_REASONS[jm][0], _JM_REASONS[jm][1]
    return False, camel_case(job.value), f"Job status {job.value}"


def ready_condition(
    status: FlinkDeploymentStatus,
    *,
    session: bool,
    previous: list[Condition],
    now: str,
    generation: int | None,
    invalid_spec: str | None = None,
) -> Condition:
    ok, reason, message = ready_reason(
        status, session=session, generation=generation, invalid_spec=invalid_spec
    )
    return _condition(READY, ok, reason, message, previous, now, generation)


def deployment_conditions(
    status: FlinkDeploymentStatus,
    *,
    session: bool,
    now: str,
    generation: int | None,
    invalid_spec: str | None = None,
) -> list[Condition]:
    """The conditions list to store: Running (when known), then Ready; other condition types are kept."""
    previous = list(status.conditions)
    ours = [
        c
        for c in (
            running_condition(status, session=session, previous=previous, now=now, generation=generation),
            ready_condition(
                status,
                session=session,
                previous=previous,
                now=now,
                generation=generation,
                invalid_spec=invalid_spec,
            ),
        )
        if c is not None
    ]
    others = [c for c in previous if c.type not in (RUNNING, READY)]
    return [*ours, *others]
