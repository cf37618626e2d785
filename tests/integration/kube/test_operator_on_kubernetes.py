"""The operator with the Kubernetes runtimes on the API emulator: native and standalone, end to end.

The real operator wiring reconciles FlinkDeployments; the runtime creates the Kubernetes objects; a kubelet
stand-in (`KubeFlinkWorld.kubelet`) brings a JobManager up whenever a JobManager Deployment appears, as a
virtual cluster of the fake Flink REST server configured from the cluster's own ConfigMap, at the REST
address the runtime was told to use. Checked at each step: the objects in Kubernetes and what the
JobManager was given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.deployment_driver import deployment_document
from tests.support.kube_flink import KubeFlinkWorld
from tests.support.operator_env import OperatorEnv

from flink_operator.flink.kubernetes.runtimes import KubernetesRuntimes
from flink_operator.flink.service import ClusterRef, FlinkService
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

CHECKPOINTS = {"execution.checkpointing.interval": "50 ms"}


def annotation(deployment: dict[str, Any] | None) -> str:
    assert deployment is not None
    return str(deployment["metadata"]["annotations"]["flinkdeployment.flink.apache.org/generation"])


@pytest.mark.parametrize("mode", ["native", "standalone"])
async def test_deploy_savepoint_upgrade_suspend_delete(
    api_server: EmbeddedApiServer, api_kubeconfig: Path, tmp_path: Path, mode: str
) -> None:
    async with KubeFlinkWorld.start(api_server, api_kubeconfig) as world:
        runtimes = KubernetesRuntimes(world.native_service(), world.standalone_service())
        flink: FlinkService = runtimes if mode == "native" else runtimes.standalone
        env = OperatorEnv(api_server, tmp_path, flink)
        ref = ClusterRef("default", "orders")
        try:
            await env.setup()
            await env.start_operator()
            async with world.kubelet() as started:
                created = await env.create(
                    deployment_document("orders", upgrade_mode="savepoint", config=CHECKPOINTS, mode=mode)
                )
                document = await env.wait_settled("orders", 1)
                assert document["status"]["jobManagerDeploymentStatus"] == "READY"
                job_id = document["status"]["jobStatus"]["jobId"]
                objects = world.objects_of(ref)
                expected = {
                    "ConfigMap/flink-config-orders",
                    "Deployment/orders",
                    "Service/orders",
                    "Service/orders-rest",
                }
                if mode == "standalone":
                    expected.add("Deployment/orders-taskmanager")
                assert set(objects) == expected
                jobmanager = objects["Deployment/orders"]
                assert jobmanager["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
                assert jobmanager["metadata"]["labels"]["type"] == f"flink-{mode}-kubernetes"
                assert annotation(jobmanager) == "1"
                assert world.cluster_configuration(ref)["$internal.pipeline.job-id"] == job_id
                assert list(world.fake_cluster(ref).jobs) == [job_id]

                # savepoint upgrade: stop with a savepoint, new JobManager restores from it
                await env.patch_job("orders", parallelism=2)
                document = await env.wait_settled("orders", 2)
                savepoint = document["status"]["jobStatus"]["upgradeSavepointPath"]
                assert savepoint and "savepoint" in savepoint
                jobmanager = world.get("apps/v1", "Deployment", "orders", "default")
                assert annotation(jobmanager) == "2"
                conf = world.cluster_configuration(ref)
                assert conf["execution.state-recovery.path"] == savepoint
                assert conf["parallelism.default"] == "2"
                new_job = world.fake_cluster(ref).jobs[document["status"]["jobStatus"]["jobId"]]
                assert new_job.restore_from == savepoint
                assert len(started) == 2

                # suspend: stopped with a savepoint, nothing runs afterwards
                await env.patch_job("orders", state="suspended")
                document = await env.wait_settled("orders", 3, state="SUSPENDED")
                assert document["status"]["jobStatus"]["upgradeSavepointPath"] != savepoint

                # delete: nothing of the cluster is left
                await env.delete("orders")
                await env.wait_for("orders", lambda d: d is None, what="resource deleted")
                await world.wait_gone(ref)
        finally:
            await env.close()
            await runtimes.close()


HA = {
    **CHECKPOINTS,
    "high-availability.type": "kubernetes",
    "high-availability.storageDir": "file:/flink-ha",
}


def ha_maps(world: KubeFlinkWorld, ref: ClusterRef) -> list[str]:
    return sorted(
        key.split("/", 1)[1]
        for key, obj in world.objects_of(ref).items()
        if (obj["metadata"].get("labels") or {}).get("configmap-type") == "high-availability"
    )


async def test_last_state_with_kubernetes_ha(
    api_server: EmbeddedApiServer, api_kubeconfig: Path, tmp_path: Path
) -> None:
    async with KubeFlinkWorld.start(api_server, api_kubeconfig) as world:
        runtimes = KubernetesRuntimes(world.native_service(), world.standalone_service())
        env = OperatorEnv(api_server, tmp_path, runtimes)
        ref = ClusterRef("default", "ledger")
        try:
            await env.setup()
            await env.start_operator()
            async with world.kubelet() as started:
                await env.create(deployment_document("ledger", upgrade_mode="last-state", config=HA))
                document = await env.wait_settled("ledger", 1)
                job_id = document["status"]["jobStatus"]["jobId"]
                assert "Service/ledger" not in world.objects_of(ref)  # HA: no internal service
                assert ha_maps(world, ref) == sorted(
                    ["ledger-cluster-config-map", f"ledger-{job_id}-config-map"]
                )
                await until(
                    lambda: world.ha_checkpoint(ref, job_id) is not None, what="a checkpoint recorded in HA"
                )

                # last-state upgrade: the cluster goes, the HA ConfigMaps stay, the job resumes from them
                await env.patch_job("ledger", parallelism=2)
                document = await env.wait_settled("ledger", 2)
                assert len(started) == 2
                assert document["status"]["jobStatus"]["jobId"] == job_id
                resumed = world.fake_cluster(ref).jobs[job_id]
                assert resumed.restore_from is not None and "chk-" in resumed.restore_from
                assert ha_maps(world, ref) == sorted(
                    ["ledger-cluster-config-map", f"ledger-{job_id}-config-map"]
                )

                # suspend in last-state mode: cluster deleted, HA metadata kept for the resume
                await env.patch_job("ledger", state="suspended")
                await env.wait_settled("ledger", 3, state="SUSPENDED")
                assert world.get("apps/v1", "Deployment", "ledger", "default") is None
                assert ha_maps(world, ref) == sorted(
                    ["ledger-cluster-config-map", f"ledger-{job_id}-config-map"]
                )

                # deleting the resource removes the HA metadata too
                await env.delete("ledger")
                await env.wait_for("ledger", lambda d: d is None, what="resource deleted")
                await world.wait_gone(ref)
        finally:
            await env.close()
            await runtimes.close()
