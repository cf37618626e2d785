"""Native and standalone runtimes against the API emulator and the fake Flink REST server.

Covers the object lifecycle (create -> available -> READY; repeat deploys; new generations; delete ->
nothing left), HA ConfigMaps kept or removed, owner references that let garbage collection remove
everything with the resource, pod failures seen through the API, and job operations through the REST
address override.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.kube_flink import NAMESPACE, KubeFlinkWorld

from flink_operator.api.spec import IngressSpec
from flink_operator.flink.kubernetes.ingress import reconcile_ingress
from flink_operator.flink.kubernetes.objects_api import ObjectsApi
from flink_operator.flink.kubernetes.runtimes import KubernetesRuntimes
from flink_operator.flink.kubernetes.service import KubernetesFlinkService
from flink_operator.flink.rest import FlinkRestClient, wait_for_job_running
from flink_operator.flink.service import (
    ClusterRef,
    ClusterRequest,
    DeploymentError,
    FlinkService,
    JobManagerStatus,
    JobSpec,
    SessionJobRequest,
    SuspendMode,
)
from flink_operator.kube.ingress import owner_reference
from flink_operator.kube.names import DeploymentMode
from flink_operator.testing.fake_runtime import job_jar

pytestmark = pytest.mark.integration

JOB_ID = "0000000000000000000000000000abcd"


def configuration(ref: ClusterRef, owner_uid: str | None = None, **extra: str) -> dict[str, str]:
    conf = {
        "kubernetes.cluster-id": ref.name,
        "kubernetes.namespace": ref.namespace,
        "kubernetes.container.image.ref": "flink:2.3",
        "kubernetes.service-account": "flink",
        "jobmanager.memory.process.size": "1024m",
        "taskmanager.memory.process.size": "1024m",
        "taskmanager.numberOfTaskSlots": "2",
        "parallelism.default": "2",
        "kubernetes.operator.job.restart.failed": "false",
    }
    if owner_uid is not None:
        conf["kubernetes.jobmanager.owner.reference"] = (
            f"apiVersion:flink.apache.org/v1beta1,kind:FlinkDeployment,name:{ref.name},uid:{owner_uid},"
            "blockOwnerDeletion:true,controller:false"
        )
    conf.update(extra)
    return conf


def application(ref: ClusterRef, generation: int = 1, **kwargs: Any) -> ClusterRequest:
    conf = kwargs.pop("configuration", None) or configuration(ref)
    return ClusterRequest(
        ref=ref,
        flink_version="v2_3",
        configuration=conf,
        generation=generation,
        job=JobSpec(
            jar_uri="local:///opt/flink/usrlib/job.jar", entry_class="demo.CounterJob", args=("--x", "1")
        ),
        job_id=JOB_ID,
        **kwargs,
    )


async def wait_for_running(service: KubernetesFlinkService, ref: ClusterRef) -> None:
    async with FlinkRestClient(service.rest_url(ref)) as client:
        await wait_for_job_running(client, JOB_ID, within=10)


def session(ref: ClusterRef, generation: int = 1, **extra: str) -> ClusterRequest:
    return ClusterRequest(
        ref=ref, flink_version="v1_20", configuration=configuration(ref, **extra), generation=generation
    )


async def test_native_application_lifecycle(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "orders")
    owner = await world.create_deployment_resource("orders")
    service = world.native_service()
    request = application(ref, configuration=configuration(ref, owner["metadata"]["uid"]))
    try:
        assert (await service.observe_jobmanager(ref)).status is JobManagerStatus.MISSING
        result = await service.deploy_application_cluster(request)
        assert result.started and result.job_id == JOB_ID
        assert result.rest_url == f"{world.flink.url}/clusters/flink.orders"
        objects = world.objects_of(ref)
        assert sorted(objects) == [
            "ConfigMap/flink-config-orders",
            "Deployment/orders",
            "Service/orders",
            "Service/orders-rest",
        ]
        deployment = objects["Deployment/orders"]
        assert deployment["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
        for key in ("ConfigMap/flink-config-orders", "Service/orders", "Service/orders-rest"):
            assert objects[key]["metadata"]["ownerReferences"][0]["uid"] == deployment["metadata"]["uid"]
        conf = world.cluster_configuration(ref)
        assert conf["$internal.pipeline.job-id"] == JOB_ID
        assert conf["pipeline.jars"] == "local:///opt/flink/usrlib/job.jar"
        assert "kubernetes.operator.job.restart.failed" not in conf

        observed = await service.observe_jobmanager(ref)
        assert observed.status is JobManagerStatus.DEPLOYING and observed.generation == 1

        await world.start_jobmanager(ref)
        ready = await service.observe_jobmanager(ref)
        assert ready.status is JobManagerStatus.READY, ready.reason
        assert ready.rest_url == result.rest_url
        jobs = await service.list_jobs(ref)
        assert [job.job_id for job in jobs] == [JOB_ID]
        submitted = world.fake_cluster(ref).submissions[0]
        assert submitted.program_args == ("--x", "1") and submitted.entry_class == "demo.CounterJob"

        # the same generation again: nothing restarts
        again = await service.deploy_application_cluster(request)
        assert again.started is False
        assert world.objects_of(ref)["Deployment/orders"]["metadata"]["uid"] == deployment["metadata"]["uid"]

        info = await service.cluster_info(ref)
        assert info.flink_version == "2.3.0"
        assert info.total_memory_bytes == 2 * 1024 * 2**20  # JobManager + one TaskManager
        assert info.total_cpu == 2.0

        await service.delete_cluster(ref, delete_ha_data=True)
        assert world.objects_of(ref) == {}
        await world.stop_jobmanager(ref)
        assert (await service.observe_jobmanager(ref)).status is JobManagerStatus.MISSING
    finally:
        await service.close()


async def test_repeat_deploy_completes_a_crashed_attempt(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "partial")
    service = world.native_service()
    try:
        await service.deploy_application_cluster(application(ref))
        await world.api_server.hooks.delete("v1", "ConfigMap", "flink-config-partial", NAMESPACE)
        await world.api_server.hooks.delete("v1", "Service", "partial-rest", NAMESPACE)
        assert "ConfigMap/flink-config-partial" not in world.objects_of(ref)
        result = await service.deploy_application_cluster(application(ref))
        assert result.started is False
        assert {"ConfigMap/flink-config-partial", "Service/partial-rest"} <= set(world.objects_of(ref))
    finally:
        await service.close()


async def test_new_generation_replaces_the_cluster(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "upgraded")
    service = world.native_service()
    try:
        await service.deploy_application_cluster(application(ref))
        first = world.objects_of(ref)["Deployment/upgraded"]["metadata"]["uid"]
        result = await service.deploy_application_cluster(
            application(ref, generation=2, restore_path="s3://b/savepoints/sp-7")
        )
        assert result.started
        deployment = world.objects_of(ref)["Deployment/upgraded"]
        assert deployment["metadata"]["uid"] != first
        assert deployment["metadata"]["annotations"]["flinkdeployment.flink.apache.org/generation"] == "2"
        assert world.cluster_configuration(ref)["execution.state-recovery.path"] == "s3://b/savepoints/sp-7"
        observed = await service.observe_jobmanager(ref)
        assert observed.generation == 2
    finally:
        await service.close()


async def test_ha_config_maps_kept_or_removed(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "stateful")
    service = world.native_service()
    ha = {"high-availability.type": "kubernetes", "high-availability.storageDir": "s3://b/ha"}
    request = application(ref, configuration=configuration(ref, **ha), ha_enabled=True)
    try:
        assert await service.ha_metadata_available(ref) is False
        await service.deploy_application_cluster(request)
        assert "Service/stateful" not in world.objects_of(ref)  # with HA there is no internal service
        conf = world.cluster_configuration(ref)
        assert conf["job-result-store.storage-path"].startswith("s3://b/ha/job-result-store/stateful/")
        assert conf["high-availability.cluster-id"] == "stateful"
        maps = await world.seed_ha_config_maps(ref, job_id=JOB_ID)
        assert await service.ha_metadata_available(ref) is True
        assert await service.ha_has_checkpoint(ref) is True

        await service.delete_cluster(ref, delete_ha_data=False)
        assert sorted(world.objects_of(ref)) == [f"ConfigMap/{name}" for name in sorted(maps)]
        assert await service.ha_metadata_available(ref) is True

        # a new deployment of the application removes the job graphs, keeps the checkpoints
        await service.deploy_application_cluster(
            application(ref, generation=2, configuration=request.configuration)
        )
        job_map = world.get("v1", "ConfigMap", maps[1])
        assert job_map is not None
        assert not [k for k in job_map["data"] if k.startswith("jobGraph-")]
        assert any(k.startswith("checkpointID-") for k in job_map["data"])
        cluster_map = world.get("v1", "ConfigMap", maps[0])
        assert cluster_map is not None and "address" in cluster_map["data"]
        assert not [k for k in cluster_map["data"] if k.startswith("executionPlan-")]

        await service.delete_cluster(ref, delete_ha_data=True)
        assert world.objects_of(ref) == {}
        assert await service.ha_metadata_available(ref) is False
    finally:
        await service.close()


async def test_garbage_collection_follows_the_resource(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "owned")
    owner = await world.create_deployment_resource("owned")
    service = world.standalone_service()
    try:
        await service.deploy_session_cluster(session(ref, **configuration(ref, owner["metadata"]["uid"])))
        assert "Deployment/owned-taskmanager" in world.objects_of(ref)
        await world.api_server.hooks.delete("flink.apache.org/v1beta1", "FlinkDeployment", "owned", NAMESPACE)
        await world.wait_gone(ref)
    finally:
        await service.close()


async def test_standalone_session_lifecycle(world: KubeFlinkWorld, tmp_path: Path) -> None:
    ref = ClusterRef(NAMESPACE, "shared")
    service = world.standalone_service()
    try:
        result = await service.deploy_session_cluster(session(ref))
        assert result.started and result.job_id is None
        objects = world.objects_of(ref)
        assert sorted(objects) == [
            "ConfigMap/flink-config-shared",
            "Deployment/shared",
            "Deployment/shared-taskmanager",
            "Service/shared",
            "Service/shared-rest",
        ]
        assert objects["Deployment/shared-taskmanager"]["spec"]["replicas"] == 1
        assert "flink-conf.yaml" in objects["ConfigMap/flink-config-shared"]["data"]  # Flink 1.20
        await service.scale_taskmanagers(ref, 3)
        tm = world.get("apps/v1", "Deployment", "shared-taskmanager")
        assert tm is not None and tm["spec"]["replicas"] == 3

        await world.start_jobmanager(ref, flink_version="1.20.1")
        assert (await service.observe_jobmanager(ref)).status is JobManagerStatus.READY

        jar = tmp_path / "counter.jar"
        jar.write_bytes(job_jar("demo.CounterJob"))
        job_id = await service.submit_job(
            SessionJobRequest(
                cluster=ref,
                job_name="counter",
                job=JobSpec(jar_uri=jar.as_uri(), entry_class=None),
                job_id="000000000000000000000000000000ef",
            )
        )
        assert job_id == "000000000000000000000000000000ef"
        assert [j.job_id for j in await service.list_jobs(ref)] == [job_id]

        await service.delete_cluster(ref, delete_ha_data=False)
        assert world.objects_of(ref) == {}
    finally:
        await service.close()


async def test_cancel_with_savepoint_through_the_rest_override(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "saving")
    service = world.native_service()
    conf = configuration(ref, **{"execution.checkpointing.savepoint-dir": "file:///savepoints"})
    try:
        await service.deploy_application_cluster(application(ref, configuration=conf))
        await world.start_jobmanager(ref)
        assert (await service.observe_jobmanager(ref)).status is JobManagerStatus.READY
        await wait_for_running(service, ref)
        result = await service.cancel_job(
            ref, JOB_ID, SuspendMode.SAVEPOINT, savepoint_dir="file:///savepoints"
        )
        assert result.final_state == "FINISHED"
        assert result.savepoint_path is not None and result.savepoint_path.startswith(
            "file:/savepoints/savepoint-"
        )
    finally:
        await service.close()


async def test_pod_failures_are_reported(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "broken")
    service = world.native_service()
    try:
        await service.deploy_application_cluster(application(ref))
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "broken-5d9c-x7k2q",
                "namespace": NAMESPACE,
                "labels": {"app": "broken", "component": "jobmanager", "type": "flink-native-kubernetes"},
            },
            "spec": {"containers": [{"name": "flink-main-container", "image": "flink:nope"}]},
        }
        await world.api_server.hooks.create(pod)
        await world.api_server.hooks.set_status(
            "v1",
            "Pod",
            "broken-5d9c-x7k2q",
            {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "name": "flink-main-container",
                        "ready": False,
                        "restartCount": 0,
                        "image": "flink:nope",
                        "imageID": "",
                        "state": {
                            "waiting": {
                                "reason": "ImagePullBackOff",
                                "message": 'Back-off pulling "flink:nope"',
                            }
                        },
                    }
                ],
            },
            NAMESPACE,
        )
        observed = await service.observe_jobmanager(ref)
        assert observed.status is JobManagerStatus.ERROR
        assert observed.error_reason == "ImagePullBackOff"
        assert observed.reason == (
            '[broken-5d9c-x7k2q/flink-main-container] ImagePullBackOff: Back-off pulling "flink:nope"'
        )
    finally:
        await service.close()


async def test_failed_mount_event(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "mounting")
    service = world.native_service()
    try:
        await service.deploy_session_cluster(session(ref))
        await world.api_server.hooks.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "mounting-1",
                    "namespace": NAMESPACE,
                    "labels": {
                        "app": "mounting",
                        "component": "jobmanager",
                        "type": "flink-native-kubernetes",
                    },
                },
                "spec": {"containers": [{"name": "flink-main-container", "image": "flink"}]},
            }
        )
        await world.api_server.hooks.create(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "mounting-1.1", "namespace": NAMESPACE},
                "involvedObject": {"kind": "Pod", "name": "mounting-1", "namespace": NAMESPACE},
                "reason": "FailedMount",
                "message": 'MountVolume.SetUp failed for volume "creds": secret "creds" not found',
                "type": "Warning",
            }
        )
        observed = await service.observe_jobmanager(ref)
        assert observed.status is JobManagerStatus.ERROR and observed.error_reason == "FailedMount"
        assert 'secret "creds" not found' in observed.reason
    finally:
        await service.close()


async def test_bad_requests_are_refused_before_anything_is_created(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "bad")
    service: KubernetesFlinkService = world.native_service()
    try:
        conf = configuration(ref)
        del conf["jobmanager.memory.process.size"]
        with pytest.raises(DeploymentError, match=r"jobmanager\.memory\.process\.size is not set"):
            await service.deploy_application_cluster(application(ref, configuration=conf))
        with pytest.raises(DeploymentError, match="needs a job"):
            await service.deploy_application_cluster(session(ref))
        assert world.objects_of(ref) == {}
        assert service.mode is DeploymentMode.NATIVE
    finally:
        await service.close()


async def test_ingress_follows_the_spec(world: KubeFlinkWorld) -> None:
    owner = await world.create_deployment_resource("web")
    reference = owner_reference(
        "flink.apache.org/v1beta1", "FlinkDeployment", "web", owner["metadata"]["uid"]
    )
    spec = IngressSpec(template="{{name}}.{{namespace}}.flink.example.com", class_name="nginx")
    stored = await reconcile_ingress(
        world_objects(world), spec, name="web", namespace=NAMESPACE, rest_port=8081, owner=reference
    )
    assert stored is not None and stored["spec"]["rules"][0]["host"] == "web.flink.flink.example.com"
    changed = IngressSpec(template="/{{namespace}}/{{name}}", annotations={"a": "b"})
    stored = await reconcile_ingress(
        world_objects(world), changed, name="web", namespace=NAMESPACE, rest_port=8081, owner=reference
    )
    assert stored is not None and "host" not in stored["spec"]["rules"][0]
    ingress = world.get("networking.k8s.io/v1", "Ingress", "web")
    assert ingress is not None and ingress["metadata"]["annotations"] == {"a": "b"}
    await reconcile_ingress(
        world_objects(world), None, name="web", namespace=NAMESPACE, rest_port=8081, owner=None
    )
    assert world.get("networking.k8s.io/v1", "Ingress", "web") is None
    # garbage collection: the resource owns its Ingress
    await reconcile_ingress(
        world_objects(world), spec, name="web", namespace=NAMESPACE, rest_port=8081, owner=reference
    )
    await world.api_server.hooks.delete("flink.apache.org/v1beta1", "FlinkDeployment", "web", NAMESPACE)
    await until(
        lambda: world.get("networking.k8s.io/v1", "Ingress", "web") is None,
        within=5,
        what="Ingress collected",
    )


def world_objects(world: KubeFlinkWorld) -> ObjectsApi:
    return ObjectsApi(world.kube, poll_interval=0.02)


async def test_rest_address_uses_the_rest_service_port_also_after_a_restart(world: KubeFlinkWorld) -> None:
    ref = ClusterRef(NAMESPACE, "ported")
    conf = configuration(ref, **{"rest.port": "9081", "rest.bind-port": "8081"})
    service = world.native_service(rest_url_template=None)
    assert isinstance(service, FlinkService)
    try:
        result = await service.deploy_session_cluster(
            ClusterRequest(ref=ref, flink_version="v2_3", configuration=conf, generation=1)
        )
        assert result.rest_url == "http://ported-rest.flink.svc:9081"
    finally:
        await service.close()
    restarted = world.native_service(rest_url_template=None)
    try:
        assert restarted.rest_url(ref) == "http://ported-rest.flink.svc:8081"  # nothing learned yet
        observed = await restarted.observe_jobmanager(ref)
        assert observed.status is JobManagerStatus.DEPLOYING
        assert observed.rest_url == restarted.rest_url(ref) == "http://ported-rest.flink.svc:9081"
    finally:
        await restarted.close()


async def test_runtimes_dispatch_by_mode(world: KubeFlinkWorld) -> None:
    runtimes = KubernetesRuntimes(world.native_service(), world.standalone_service())
    native_ref, standalone_ref = ClusterRef(NAMESPACE, "n1"), ClusterRef(NAMESPACE, "s1")
    try:
        await runtimes.deploy_session_cluster(session(native_ref))
        await runtimes.deploy_session_cluster(
            session(standalone_ref, **{"kubernetes.operator.deployment.mode": "standalone"})
        )
        assert "Deployment/s1-taskmanager" in world.objects_of(standalone_ref)
        assert "Deployment/n1-taskmanager" not in world.objects_of(native_ref)
        # a fresh facade (an operator restart) finds the mode from the objects, even without a JobManager
        restarted = KubernetesRuntimes(world.native_service(), world.standalone_service())
        await world.api_server.hooks.delete("apps/v1", "Deployment", "s1", NAMESPACE)
        await until(lambda: world.get("apps/v1", "Deployment", "s1") is None, what="JobManager deleted")
        assert (await restarted.observe_jobmanager(standalone_ref)).status is JobManagerStatus.MISSING
        await restarted.delete_cluster(standalone_ref, delete_ha_data=True)
        await restarted.delete_cluster(native_ref, delete_ha_data=True)
        assert world.objects_of(standalone_ref) == {} and world.objects_of(native_ref) == {}
        await restarted.close()
    finally:
        await runtimes.close()
