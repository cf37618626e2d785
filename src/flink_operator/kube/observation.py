"""What Kubernetes says about a JobManager (its Deployment, pods and their events) as a status (§2.4, §3.4).

`assess_jobmanager(deployment, pods, events)` is pure. Its answer is one of

* MISSING: no Deployment (or one being deleted);
* DEPLOYED_NOT_READY: the Deployment has available replicas: Kubernetes is done, the REST API has yet to
  answer (the runtime promotes this to READY once it does);
* ERROR: something that will not fix itself without a change: the ReplicaSet cannot create pods
  (`ReplicaFailure`/`FailedCreate`), a container is stuck (`CrashLoopBackOff`, `ImagePullBackOff`,
  `ErrImagePull`, `InvalidImageName`, `RunContainerError`, `CreateContainerConfigError`,
  `CreateContainerError`), was killed for memory (`OOMKilled`), the pod cannot be scheduled (`Unschedulable`),
  or a never-initialised pod has a `FailedMount` event;
* DEPLOYING: anything else (pods starting, images being pulled, ...).

For ERROR the assessment carries the Kubernetes reason (for the Warning event) and a message that names
the pod, the container and the reason, e.g. `[demo-7f9c/flink-main-container] ImagePullBackOff: Back-off
pulling image "flink:nope"`. Not guaranteed: an ERROR may still clear by itself (an image appearing, a
node joining); the next observation then reports what it sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flink_operator.api.constants import ANNOTATION_GENERATION
from flink_operator.api.enums import JobManagerDeploymentStatus as JobManagerStatus

JSON = Mapping[str, Any]

STUCK_WAITING_REASONS = (
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "RunContainerError",
    "CreateContainerConfigError",
    "CreateContainerError",
)
OOM_KILLED = "OOMKilled"
UNSCHEDULABLE = "Unschedulable"
FAILED_MOUNT = "FailedMount"
FAILED_CREATE = "FailedCreate"


@dataclass(frozen=True)
class JobManagerAssessment:
    """The JobManager's state as Kubernetes shows it.

    `error_reason` is the Kubernetes reason behind an ERROR (the event reason); `message` explains any
    state in words; `generation` is the resource generation the Deployment was made for, if annotated.
    """

    status: JobManagerStatus
    message: str
    error_reason: str | None = None
    generation: int | None = None
    available_replicas: int = 0


def deployment_generation(deployment: JSON) -> int | None:
    """The `flinkdeployment.flink.apache.org/generation` annotation as a number (None if absent or bad)."""
    annotations = (deployment.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(ANNOTATION_GENERATION)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _name(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("name", "?"))


def _failed_create(deployment: JSON) -> str | None:
    for condition in (deployment.get("status") or {}).get("conditions") or []:
        if (
            condition.get("type") == "ReplicaFailure"
            and condition.get("status", "True") == "True"
            and condition.get("reason") == FAILED_CREATE
        ):
            return str(condition.get("message") or "the ReplicaSet could not create pods")
    return None


def _termination_text(terminated: JSON) -> str:
    parts = []
    if terminated.get("reason"):
        parts.append(str(terminated["reason"]))
    if terminated.get("exitCode") is not None:
        parts.append(f"exit code {terminated['exitCode']}")
    text = ", ".join(parts) or "terminated"
    message = str(terminated.get("message") or "").strip()
    return f"{text}: {message}" if message else text


def _container_problem(pod: JSON, status: JSON) -> tuple[str, str] | None:
    """(reason, message) when a container is stuck; None when it may still come up."""
    where = f"[{_name(pod)}/{status.get('name', '?')}]"
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    terminated = state.get("terminated") or {}
    waiting = state.get("waiting") or {}
    if terminated.get("reason") == OOM_KILLED or (
        waiting.get("reason") == "CrashLoopBackOff" and last.get("reason") == OOM_KILLED
    ):
        source = terminated if terminated.get("reason") == OOM_KILLED else last
        return OOM_KILLED, (
            f"{where} {_termination_text(source)}; the container exceeded its memory limit "
            "(raise the memory of this role)"
        )
    reason = waiting.get("reason")
    if reason not in STUCK_WAITING_REASONS:
        return None
    if reason == "CrashLoopBackOff":
        detail = _termination_text(last) if last else str(waiting.get("message") or "restarting")
        return reason, f"{where} CrashLoopBackOff - last exit: {detail}"
    message = waiting.get("message")
    return reason, f"{where} {reason}: {message}" if message else f"{where} {reason}"


def _conditions(pod: JSON) -> dict[str, JSON]:
    return {str(c.get("type")): c for c in (pod.get("status") or {}).get("conditions") or []}


def _pod_problem(pod: JSON, events: Sequence[JSON]) -> tuple[str, str] | None:
    status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(key) or []:
            problem = _container_problem(pod, container)
            if problem is not None:
                return problem
    conditions = _conditions(pod)
    scheduled = conditions.get("PodScheduled")
    if (
        scheduled is not None
        and scheduled.get("status") == "False"
        and scheduled.get("reason") == UNSCHEDULABLE
    ):
        why = scheduled.get("message") or UNSCHEDULABLE
        return UNSCHEDULABLE, f"[{_name(pod)}] Unschedulable: {why}"
    ready = conditions.get("Ready", {}).get("status") == "True"
    initialized = conditions.get("Initialized", {}).get("status") == "True"
    if not ready and not initialized:
        for event in events:
            involved = event.get("involvedObject") or event.get("regarding") or {}
            if event.get("reason") == FAILED_MOUNT and involved.get("name") == _name(pod):
                message = event.get("message") or event.get("note") or FAILED_MOUNT
                return FAILED_MOUNT, f"[{_name(pod)}] FailedMount: {message}"
    return None


def assess_jobmanager(
    deployment: JSON | None, pods: Sequence[JSON] = (), events: Sequence[JSON] = ()
) -> JobManagerAssessment:
    """The JobManager status Kubernetes implies (see the module docstring)."""
    if deployment is None:
        return JobManagerAssessment(JobManagerStatus.MISSING, "JobManager deployment not found")
    generation = deployment_generation(deployment)
    if (deployment.get("metadata") or {}).get("deletionTimestamp"):
        return JobManagerAssessment(
            JobManagerStatus.MISSING, "JobManager deployment is being deleted", generation=generation
        )
    replicas = int((deployment.get("spec") or {}).get("replicas", 1) or 0)
    available = int((deployment.get("status") or {}).get("availableReplicas") or 0)
    if replicas > 0 and available > 0:
        return JobManagerAssessment(
            JobManagerStatus.DEPLOYED_NOT_READY,
            f"JobManager deployment has {available} available replica(s)",
            generation=generation,
            available_replicas=available,
        )
    failed = _failed_create(deployment)
    if failed is not None:
        return JobManagerAssessment(
            JobManagerStatus.ERROR,
            f"FailedCreate: {failed}",
            error_reason=FAILED_CREATE,
            generation=generation,
        )
    for pod in pods:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        problem = _pod_problem(pod, events)
        if problem is not None:
            return JobManagerAssessment(
                JobManagerStatus.ERROR, problem[1], error_reason=problem[0], generation=generation
            )
    if replicas == 0:
        return JobManagerAssessment(
            JobManagerStatus.DEPLOYING, "JobManager deployment is scaled to zero", generation=generation
        )
    return JobManagerAssessment(
        JobManagerStatus.DEPLOYING, "JobManager pods are starting", generation=generation
    )
