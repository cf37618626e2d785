"""JobManager observation from the Deployment, its pods and events (§2.4, §3.4)."""

from __future__ import annotations

from typing import Any

import pytest

from flink_operator.api.enums import JobManagerDeploymentStatus as Status
from flink_operator.kube.observation import assess_jobmanager, deployment_generation

pytestmark = pytest.mark.unit

JSON = dict[str, Any]


def deployment(*, replicas: int = 1, available: int = 0, generation: str | None = "3", **status: Any) -> JSON:
    metadata: JSON = {"name": "demo", "namespace": "flink"}
    if generation is not None:
        metadata["annotations"] = {"flinkdeployment.flink.apache.org/generation": generation}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {"replicas": replicas},
        "status": {"availableReplicas": available, **status},
    }


def pod(
    name: str = "demo-abc",
    *,
    waiting: JSON | None = None,
    terminated: JSON | None = None,
    last: JSON | None = None,
    conditions: list[JSON] | None = None,
    init: bool = False,
) -> JSON:
    container: JSON = {"name": "flink-main-container", "state": {}}
    if waiting is not None:
        container["state"]["waiting"] = waiting
    if terminated is not None:
        container["state"]["terminated"] = terminated
    if last is not None:
        container["lastState"] = {"terminated": last}
    key = "initContainerStatuses" if init else "containerStatuses"
    return {
        "metadata": {"name": name},
        "status": {key: [container], "conditions": conditions or []},
    }


def test_missing_and_deleting() -> None:
    assert assess_jobmanager(None).status is Status.MISSING
    being_deleted = deployment()
    being_deleted["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    result = assess_jobmanager(being_deleted)
    assert result.status is Status.MISSING and result.generation == 3


def test_available_replicas_mean_deployed_not_ready() -> None:
    result = assess_jobmanager(deployment(available=1))
    assert result.status is Status.DEPLOYED_NOT_READY
    assert result.available_replicas == 1 and result.generation == 3
    # an available Deployment wins over stale pod problems (the pods listed may be old ones)
    assert assess_jobmanager(deployment(available=1), [pod(waiting={"reason": "ErrImagePull"})]).status is (
        Status.DEPLOYED_NOT_READY
    )


def test_starting_pods_are_deploying() -> None:
    result = assess_jobmanager(deployment(), [pod(waiting={"reason": "ContainerCreating"})])
    assert result.status is Status.DEPLOYING and result.error_reason is None
    assert assess_jobmanager(deployment(replicas=0)).status is Status.DEPLOYING


@pytest.mark.parametrize(
    "reason", ["ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "RunContainerError"]
)
def test_stuck_containers_are_errors(reason: str) -> None:
    result = assess_jobmanager(
        deployment(), [pod(waiting={"reason": reason, "message": f"{reason} for image flink:nope"})]
    )
    assert result.status is Status.ERROR
    assert result.error_reason == reason
    assert result.message == f"[demo-abc/flink-main-container] {reason}: {reason} for image flink:nope"


def test_init_containers_count_too() -> None:
    result = assess_jobmanager(deployment(), [pod(init=True, waiting={"reason": "ImagePullBackOff"})])
    assert result.status is Status.ERROR and result.error_reason == "ImagePullBackOff"


def test_crash_loop_reports_the_last_termination() -> None:
    result = assess_jobmanager(
        deployment(),
        [
            pod(
                waiting={"reason": "CrashLoopBackOff", "message": "back-off 40s"},
                last={"reason": "Error", "exitCode": 1, "message": "Could not start cluster entrypoint"},
            )
        ],
    )
    assert result.status is Status.ERROR and result.error_reason == "CrashLoopBackOff"
    assert result.message == (
        "[demo-abc/flink-main-container] CrashLoopBackOff - last exit: Error, exit code 1: "
        "Could not start cluster entrypoint"
    )


def test_oom_killed() -> None:
    looping = assess_jobmanager(
        deployment(),
        [pod(waiting={"reason": "CrashLoopBackOff"}, last={"reason": "OOMKilled", "exitCode": 137})],
    )
    assert looping.status is Status.ERROR and looping.error_reason == "OOMKilled"
    assert "OOMKilled, exit code 137" in looping.message and "memory" in looping.message
    now = assess_jobmanager(deployment(), [pod(terminated={"reason": "OOMKilled", "exitCode": 137})])
    assert now.error_reason == "OOMKilled"
    # a past OOM of a container that runs again is not (yet) an error
    recovered = assess_jobmanager(deployment(), [pod(last={"reason": "OOMKilled", "exitCode": 137})])
    assert recovered.status is Status.DEPLOYING


def test_unschedulable() -> None:
    result = assess_jobmanager(
        deployment(),
        [
            pod(
                conditions=[
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/3 nodes are available: 3 Insufficient cpu.",
                    }
                ]
            )
        ],
    )
    assert result.status is Status.ERROR and result.error_reason == "Unschedulable"
    assert result.message == "[demo-abc] Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."


def test_failed_mount_needs_a_pod_that_never_initialised() -> None:
    event = {
        "reason": "FailedMount",
        "involvedObject": {"kind": "Pod", "name": "demo-abc"},
        "message": 'MountVolume.SetUp failed for volume "data": secret "creds" not found',
    }
    stuck = pod(conditions=[{"type": "Initialized", "status": "False"}, {"type": "Ready", "status": "False"}])
    result = assess_jobmanager(deployment(), [stuck], [event])
    assert result.status is Status.ERROR and result.error_reason == "FailedMount"
    assert 'secret "creds" not found' in result.message
    initialised = pod(
        conditions=[{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "False"}]
    )
    assert assess_jobmanager(deployment(), [initialised], [event]).status is Status.DEPLOYING
    other_pod = {**event, "involvedObject": {"kind": "Pod", "name": "someone-else"}}
    assert assess_jobmanager(deployment(), [stuck], [other_pod]).status is Status.DEPLOYING
    # events.k8s.io/v1 shape
    new_style = {"reason": "FailedMount", "regarding": {"name": "demo-abc"}, "note": "timed out"}
    assert (
        assess_jobmanager(deployment(), [stuck], [new_style]).message == "[demo-abc] FailedMount: timed out"
    )


def test_replica_failure() -> None:
    result = assess_jobmanager(
        deployment(
            conditions=[
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "reason": "FailedCreate",
                    "message": 'pods "demo-x" is forbidden: exceeded quota',
                }
            ]
        )
    )
    assert result.status is Status.ERROR and result.error_reason == "FailedCreate"
    assert result.message == 'FailedCreate: pods "demo-x" is forbidden: exceeded quota'


def test_pods_being_deleted_are_ignored() -> None:
    old = pod(waiting={"reason": "ErrImagePull"})
    old["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert assess_jobmanager(deployment(), [old]).status is Status.DEPLOYING


def test_generation_annotation() -> None:
    assert deployment_generation(deployment(generation="12")) == 12
    assert deployment_generation(deployment(generation=None)) is None
    assert deployment_generation(deployment(generation="twelve")) is None
