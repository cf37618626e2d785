"""What the FlinkDeployment controller hands a Kubernetes runtime: pod templates, log configuration, the
deployment mode and the Ingress as plain data in the request; the Kubernetes reason of a failed JobManager
in the event and status.error; the IngressManagement warning."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.deployment_driver import Driver, deployment_document

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentStatus,
    JobManagerDeploymentStatus,
    write_spec_with_meta,
)
from flink_operator.config import DefaultConfiguration
from flink_operator.controllers.deployment.observation import Facts, apply_observation
from flink_operator.flink.service import JobManagerObservation, JobManagerStatus

pytestmark = pytest.mark.unit

INGRESS = {"template": "flink.example.com/{{namespace}}/{{name}}(/|$)(.*)", "className": "nginx"}
LOG4J = "rootLogger.level = INFO\n"
POD_TEMPLATE = {
    "spec": {"containers": [{"name": "flink-main-container", "env": [{"name": "A", "value": "1"}]}]}
}


def driver(config: dict[str, str] | None = None, **spec: Any) -> Driver:
    resource = FlinkDeployment.from_dict(deployment_document("orders", **spec))
    world = Driver.of().world
    return Driver(world, resource, configuration=DefaultConfiguration(config or {}))


async def test_the_request_carries_templates_log_files_mode_and_ingress_as_content() -> None:
    run = driver(
        mode="standalone",
        ingress=INGRESS,
        logConfiguration={"log4j-console.properties": LOG4J},
        podTemplate=POD_TEMPLATE,
        taskManager={
            "resource": {"memory": "1g", "cpu": 1},
            "podTemplate": {"metadata": {"labels": {"r": "tm"}}},
        },
    )
    await run.reconcile()
    (request,) = run.world.deploys
    conf = request.configuration
    assert conf["kubernetes.operator.deployment.mode"] == "standalone"
    assert not any(key.startswith("kubernetes.pod-template-file") for key in conf), "no local files"
    assert "$internal.deployment.config-dir" not in conf
    assert request.log_files == {"log4j-console.properties": LOG4J}
    jm, tm = request.jobmanager_pod_template, request.taskmanager_pod_template
    assert jm is not None and tm is not None
    assert jm["spec"]["containers"][0]["startupProbe"]["httpGet"]["path"] == "/config"
    assert tm["metadata"]["labels"] == {"r": "tm"}
    assert "startupProbe" not in tm["spec"]["containers"][0]
    assert request.manage_ingress is True
    assert request.ingress == INGRESS
    assert "IngressManagement" not in run.reasons()


async def test_resource_options_shape_the_pod_templates() -> None:
    run = driver(
        config={"kubernetes.operator.jm-deployment.startup.probe.enabled": "false"},
        podTemplate=POD_TEMPLATE,
    )
    await run.reconcile()
    (request,) = run.world.deploys
    assert request.jobmanager_pod_template is not None
    assert "startupProbe" not in request.jobmanager_pod_template["spec"]["containers"][0]
    assert request.configuration["kubernetes.operator.deployment.mode"] == "native"


async def test_an_unmanaged_ingress_is_left_alone_with_a_warning() -> None:
    run = driver(config={"kubernetes.operator.ingress.manage": "false"}, ingress=INGRESS)
    await run.reconcile()
    (request,) = run.world.deploys
    assert request.manage_ingress is False and request.ingress is None
    warnings = [e for e in run.events if e.reason == "IngressManagement"]
    assert len(warnings) == 1 and warnings[0].is_warning
    assert "kubernetes.operator.ingress.manage" in warnings[0].message


async def test_no_ingress_in_the_spec_asks_the_runtime_to_remove_its_ingress() -> None:
    run = driver()
    await run.reconcile()
    (request,) = run.world.deploys
    assert request.manage_ingress is True and request.ingress is None


def deployed_status() -> FlinkDeploymentStatus:
    """Deployed, the JobManager still coming up."""
    text = write_spec_with_meta({"job": {"jarURI": "local:///j.jar"}}, "flink.apache.org/v1beta1", False)
    return FlinkDeploymentStatus.from_dict(
        {
            "reconciliationStatus": {"lastReconciledSpec": text, "state": "DEPLOYED"},
            "jobStatus": {"state": "RECONCILING", "jobId": "a" * 32},
            "jobManagerDeploymentStatus": "DEPLOYING",
        }
    )


def test_a_failed_jobmanager_is_reported_with_its_kubernetes_reason() -> None:
    message = "[orders-5d8f-abcde/flink-main-container] CrashLoopBackOff - last exit: Error, exit code 1"
    observation = JobManagerObservation(
        JobManagerStatus.ERROR, reason=message, generation=1, error_reason="CrashLoopBackOff"
    )
    observed = apply_observation(deployed_status(), Facts(jm=observation), now_ms=1)
    assert observed.status.job_manager_deployment_status is JobManagerDeploymentStatus.ERROR
    (event,) = observed.events
    assert event.reason == "CrashLoopBackOff" and event.is_warning and event.message == message
    error = json.loads(observed.status.error or "{}")
    assert error["type"].endswith("DeploymentFailedException")
    assert error["message"] == message
    assert error["additionalMetadata"] == {"reason": "CrashLoopBackOff"}

    again = apply_observation(observed.status, Facts(jm=observation), now_ms=2)
    assert again.events == (), "reported once, not on every observation"


def test_a_failed_jobmanager_without_a_known_reason_is_an_error_event() -> None:
    observation = JobManagerObservation(JobManagerStatus.ERROR, reason="process exited with code 1")
    observed = apply_observation(deployed_status(), Facts(jm=observation), now_ms=1)
    (event,) = observed.events
    assert event.reason == "Error"
    assert json.loads(observed.status.error or "{}")["additionalMetadata"] == {}
