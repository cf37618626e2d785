"""The operator as it is started for real (`start_operator`, `kubernetes.operator.runtime: kubernetes`)
walks a FlinkDeployment through deploy -> STABLE -> savepoint upgrade -> suspend -> delete, in native and in
standalone mode, against the API emulator. A kubelet stand-in makes JobManager Deployments available and
starts a fake Flink cluster from each cluster's own ConfigMap, so what Flink runs is what the operator wrote
into Kubernetes. The Kubernetes objects are checked at every step.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from tests.support.deployment_driver import deployment_document
from tests.support.kube_flink import KubeFlinkWorld
from tests.support.kube_operator_env import KubeOperatorStack

from flink_operator.flink.service import ClusterRef
from flink_operator.kube import names

pytestmark = pytest.mark.integration

JSON = dict[str, Any]
NAME = "orders"
REF = ClusterRef("default", NAME)
LOG4J = "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\n"
INGRESS = {"template": "flink.example.com/{{namespace}}/{{name}}(/|$)(.*)", "className": "nginx"}
CHECKPOINTS = {"execution.checkpointing.interval": "50 ms"}
POD_TEMPLATE = {
    "spec": {"containers": [{"name": "flink-main-container", "env": [{"name": "TEAM", "value": "payments"}]}]}
}
TASKMANAGER = {
    "resource": {"memory": "1g", "cpu": 1},
    "podTemplate": {"metadata": {"labels": {"pool": "spot"}}},
}


def generation_annotation(obj: JSON | None) -> str:
    assert obj is not None
    return str(obj["metadata"]["annotations"]["flinkdeployment.flink.apache.org/generation"])


def main_container(pod_template: JSON) -> JSON:
    containers = pod_template["spec"]["containers"]
    return next(c for c in containers if c["name"] == "flink-main-container")


def ingress_of(world: KubeFlinkWorld) -> JSON | None:
    return world.get("networking.k8s.io/v1", "Ingress", NAME, "default")


def check_objects(
    world: KubeFlinkWorld, mode: str, config_file: str, owner_uid: str, generation: int
) -> None:
    """The cluster's objects as a running deployment of `generation` must have them."""
    objects = world.objects_of(REF)
    expected = {"ConfigMap/flink-config-orders", "Deployment/orders", "Service/orders", "Service/orders-rest"}
    expected.add("ConfigMap/pod-template-orders" if mode == "native" else "Deployment/orders-taskmanager")
    assert set(objects) == expected

    jobmanager = objects["Deployment/orders"]
    assert generation_annotation(jobmanager) == str(generation)
    assert jobmanager["metadata"]["labels"]["type"] == f"flink-{mode}-kubernetes"
    (owner,) = jobmanager["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["blockOwnerDeletion"]) == ("FlinkDeployment", owner_uid, True)
    container = main_container(jobmanager["spec"]["template"])
    assert {"name": "TEAM", "value": "payments"} in container["env"], "spec.podTemplate reached the pod"
    assert container["startupProbe"]["httpGet"]["path"] == "/config"

    for key in ("ConfigMap/flink-config-orders", "Service/orders", "Service/orders-rest"):
        (child_owner,) = objects[key]["metadata"]["ownerReferences"]
        assert (child_owner["kind"], child_owner["name"]) == ("Deployment", "orders"), key

    data = objects["ConfigMap/flink-config-orders"]["data"]
    other_file = "flink-conf.yaml" if config_file == "config.yaml" else "config.yaml"
    assert config_file in data and other_file not in data, "the file the image's Flink version reads"
    assert data["log4j-console.properties"] == LOG4J, "spec.logConfiguration reached the ConfigMap"
    conf = world.cluster_configuration(REF)
    assert not [key for key in conf if key.startswith("kubernetes.operator.")], "operator keys stay out"

    if mode == "native":
        template_map = objects["ConfigMap/pod-template-orders"]
        template = yaml.safe_load(template_map["data"][names.TASKMANAGER_POD_TEMPLATE_FILE])
        assert template["metadata"]["labels"]["pool"] == "spot"
        assert "startupProbe" not in main_container(template)
        assert template_map["metadata"]["ownerReferences"][0]["name"] == "orders"
    else:
        taskmanagers = objects["Deployment/orders-taskmanager"]
        assert taskmanagers["spec"]["template"]["metadata"]["labels"]["pool"] == "spot"
        assert taskmanagers["metadata"]["ownerReferences"][0]["uid"] == owner_uid


@pytest.mark.parametrize(
    ("mode", "flink_version", "config_file"),
    [("native", "v2_3", "config.yaml"), ("standalone", "v1_20", "flink-conf.yaml")],
)
async def test_deploy_upgrade_suspend_delete(
    stack: KubeOperatorStack, mode: str, flink_version: str, config_file: str
) -> None:
    world, env = stack.world, stack.env
    await env.start_operator()
    async with world.kubelet() as started:
        created = await env.create(
            deployment_document(
                NAME,
                upgrade_mode="savepoint",
                config=CHECKPOINTS,
                mode=mode,
                flinkVersion=flink_version,
                ingress=INGRESS,
                logConfiguration={"log4j-console.properties": LOG4J},
                podTemplate=POD_TEMPLATE,
                taskManager=TASKMANAGER,
            )
        )
        uid = created["metadata"]["uid"]

        # deploy -> STABLE
        document = await env.wait_settled(NAME, 1)
        status = document["status"]
        assert status["jobManagerDeploymentStatus"] == "READY"
        job_id = status["jobStatus"]["jobId"]
        check_objects(world, mode, config_file, uid, 1)
        assert world.cluster_configuration(REF)["$internal.pipeline.job-id"] == job_id
        assert list(world.fake_cluster(REF).jobs) == [job_id]
        assert world.fake_cluster(REF).jobs[job_id].state.value == "RUNNING"
        assert status["clusterInfo"]["rest-url"] == f"{world.flink.url}/clusters/default.{NAME}"
        ingress = ingress_of(world)
        assert ingress is not None
        (ingress_owner,) = ingress["metadata"]["ownerReferences"]
        assert (ingress_owner["uid"], ingress_owner["controller"]) == (uid, True)
        (rule,) = ingress["spec"]["rules"]
        assert rule["host"] == "flink.example.com"
        (path,) = rule["http"]["paths"]
        assert path["path"] == "/default/orders(/|$)(.*)"
        assert path["backend"]["service"] == {"name": "orders-rest", "port": {"number": 8081}}
        assert ingress["spec"]["ingressClassName"] == "nginx"

        # savepoint upgrade (and the Ingress removed from the spec): stop with a savepoint, the new
        # JobManager restores from it
        await env.patch_spec(NAME, {"job": {"parallelism": 2}, "ingress": None})
        document = await env.wait_settled(NAME, 2)
        status = document["status"]
        savepoint = status["jobStatus"]["upgradeSavepointPath"]
        assert savepoint and "savepoint" in savepoint
        check_objects(world, mode, config_file, uid, 2)
        conf = world.cluster_configuration(REF)
        assert conf["execution.state-recovery.path"] == savepoint
        assert conf["parallelism.default"] == "2"
        new_job_id = status["jobStatus"]["jobId"]
        assert world.fake_cluster(REF).jobs[new_job_id].restore_from == savepoint
        assert ingress_of(world) is None, "the Ingress goes with spec.ingress"
        assert len(started) == 2

        # suspend: stopped with a savepoint, the cluster's objects are gone
        await env.patch_job(NAME, state="suspended")
        document = await env.wait_settled(NAME, 3, state="SUSPENDED")
        suspended_at = document["status"]["jobStatus"]["upgradeSavepointPath"]
        assert suspended_at and suspended_at != savepoint
        await world.wait_gone(REF)
        await env.wait_for(
            NAME,
            lambda d: (d or {}).get("status", {}).get("jobManagerDeploymentStatus") == "MISSING",
            what="JobManager MISSING after the suspend",
        )

        # delete: nothing of the resource is left
        await env.delete(NAME)
        await env.wait_for(NAME, lambda d: d is None, what="resource deleted")
        await world.wait_gone(REF)
        assert ingress_of(world) is None
    reasons = await env.reasons(NAME)
    assert {"Submit", "SpecChanged", "JobStatusChanged", "Suspended"} <= set(reasons)
    assert not [e for e in await env.events(NAME) if e.get("type") == "Warning"]
