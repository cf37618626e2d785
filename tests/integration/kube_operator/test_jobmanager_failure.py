"""A JobManager pod in CrashLoopBackOff (status written by the test, as a kubelet would) is surfaced by the
operator (real wiring, Kubernetes runtime) as JobManager ERROR, a status.error naming the pod and the
Kubernetes reason, and one Warning event whose reason is the Kubernetes reason. Once the pod is replaced
by one that comes up, the deployment becomes STABLE and the error is cleared."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.deployment_driver import deployment_document
from tests.support.kube_operator_env import KubeOperatorStack

from flink_operator.flink.service import ClusterRef
from flink_operator.kube import names
from flink_operator.kube.names import DeploymentMode

pytestmark = pytest.mark.integration

JSON = dict[str, Any]
NAME = "fragile"
POD = "fragile-7d9c6b5f4-x2x8q"


def crash_looping_status() -> JSON:
    return {
        "phase": "Running",
        "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
            {"type": "PodScheduled", "status": "True"},
        ],
        "containerStatuses": [
            {
                "name": "flink-main-container",
                "image": "flink:2.3",
                "imageID": "",
                "ready": False,
                "restartCount": 4,
                "state": {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 1m20s restarting failed container",
                    }
                },
                "lastState": {
                    "terminated": {
                        "exitCode": 1,
                        "reason": "Error",
                        "message": "Could not load the job jar",
                    }
                },
            }
        ],
    }


def jm_status(document: JSON | None) -> str | None:
    return ((document or {}).get("status") or {}).get("jobManagerDeploymentStatus")


@pytest.mark.parametrize("mode", ["native", "standalone"])
async def test_crash_looping_jobmanager_is_reported_with_its_kubernetes_reason(
    stack: KubeOperatorStack, mode: str
) -> None:
    world, env = stack.world, stack.env
    ref = ClusterRef("default", NAME)
    hooks = world.api_server.hooks
    await env.start_operator()
    await env.create(deployment_document(NAME, upgrade_mode="stateless", mode=mode))
    await until(
        lambda: world.get("apps/v1", "Deployment", NAME, "default") is not None,
        within=10,
        what="JobManager Deployment created",
    )
    await hooks.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": POD,
                "namespace": "default",
                "labels": names.jobmanager_selector(NAME, DeploymentMode(mode)),
            },
            "spec": {"containers": [{"name": "flink-main-container", "image": "flink:2.3"}]},
        }
    )
    await hooks.set_status("v1", "Pod", POD, crash_looping_status(), "default", merge=False)

    document = await env.wait_for(NAME, lambda d: jm_status(d) == "ERROR", what="JobManager ERROR")
    assert document is not None
    status = document["status"]
    assert status["jobStatus"]["state"] == "RECONCILING"
    error = json.loads(status["error"])
    assert error["type"].endswith("DeploymentFailedException")
    assert error["additionalMetadata"] == {"reason": "CrashLoopBackOff"}
    assert POD in error["message"] and "flink-main-container" in error["message"]
    assert "CrashLoopBackOff" in error["message"] and "Could not load the job jar" in error["message"]
    warnings = [e for e in await env.events(NAME) if e.get("type") == "Warning"]
    assert [e["reason"] for e in warnings] == ["CrashLoopBackOff"]
    assert warnings[0]["message"] == error["message"]
    assert warnings[0]["source"]["component"] == "JobManagerDeployment"

    # The crash-looping pod is replaced by one that comes up: the deployment recovers by itself.
    await hooks.delete("v1", "Pod", POD, "default")
    async with world.kubelet():
        document = await env.wait_settled(NAME, 1)
    assert "error" not in document["status"]
    assert document["status"]["jobManagerDeploymentStatus"] == "READY"
    warnings = [e for e in await env.events(NAME) if e.get("type") == "Warning"]
    assert [(e["reason"], e.get("count", 1)) for e in warnings] == [("CrashLoopBackOff", 1)], (
        "reported once, not on every observation"
    )
    await env.delete(NAME)
    await env.wait_for(NAME, lambda d: d is None, what="resource deleted")
    await world.wait_gone(ref)
