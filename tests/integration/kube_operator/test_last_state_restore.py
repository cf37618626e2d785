"""A last-state upgrade of a FlinkDeployment without HA metadata cancels the job and restores from its latest
retained checkpoint. Flink serves checkpoint statistics from a cache (`web.refresh-interval`, here 2 s), so
right after the cancel they can still name a checkpoint that a later one subsumed and deleted. Through the
real wiring on the Kubernetes runtime, the FlinkDeployment controller must restore from a checkpoint that
exists: the latest one."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.support.conditions import until
from tests.support.deployment_driver import deployment_document
from tests.support.kube_operator_env import KubeOperatorStack

from flink_operator.flink.rest import FlinkRestClient
from flink_operator.flink.service import ClusterRef
from flink_operator.testing.fake_flink import FakeCluster
from flink_operator.testing.fake_flink_jobs import FakeJob

pytestmark = pytest.mark.integration

NAME = "counts"
REF = ClusterRef("default", NAME)
CONFIG = {"execution.checkpointing.interval": "50 ms", "web.refresh-interval": "2000"}


def latest_path(job: FakeJob) -> str | None:
    latest = job.latest_completed(savepoint=False)
    return latest.external_path if latest is not None else None


async def stale_statistics(cluster: FakeCluster, job: FakeJob, stack: KubeOperatorStack) -> str:
    """Read the statistics once (Flink caches the answer), then let a later checkpoint subsume the one they
    name; returns that (deleted) checkpoint's path."""
    async with httpx.AsyncClient(trust_env=False) as http:
        client = FlinkRestClient(cluster.base_url, timeout=5.0, http=http)
        cached = None
        deadline = asyncio.get_running_loop().time() + 10.0
        # The operator's own reads may have cached statistics from before the first checkpoint.
        while cached is None or not cached.external_path:
            assert asyncio.get_running_loop().time() < deadline, "statistics naming a checkpoint"
            cached = (await client.checkpoint_stats(job.jid)).latest.completed
            await asyncio.sleep(0.05)
        await until(lambda: latest_path(job) != cached.external_path, what="a later checkpoint", within=5)
        again = (await client.checkpoint_stats(job.jid)).latest.completed
        assert again is not None and again.external_path == cached.external_path, "served from the cache"
    assert not stack.world.flink.snapshots.exists(cached.external_path), "the cached one was deleted"
    return cached.external_path


async def test_last_state_upgrade_by_cancel_restores_from_a_checkpoint_that_exists(
    stack: KubeOperatorStack,
) -> None:
    world, env = stack.world, stack.env
    await env.start_operator()
    async with world.kubelet():
        await env.create(deployment_document(NAME, upgrade_mode="last-state", config=CONFIG))
        first = (await env.wait_settled(NAME, 1))["status"]["jobStatus"]["jobId"]
        old_job = world.fake_cluster(REF).jobs[first]
        stale = await stale_statistics(world.fake_cluster(REF), old_job, stack)

        await env.patch_job(NAME, parallelism=2)
        status = (await env.wait_settled(NAME, 2))["status"]
        restore_path = status["jobStatus"]["upgradeSavepointPath"]
        assert restore_path and restore_path != stale, "not the subsumed checkpoint of the cached statistics"
        assert restore_path == latest_path(old_job), "the cancelled job's latest checkpoint"
        assert world.cluster_configuration(REF)["execution.state-recovery.path"] == restore_path
        new_job = world.fake_cluster(REF).jobs[status["jobStatus"]["jobId"]]
        assert new_job.restore_from == restore_path
        assert new_job.restored is not None and new_job.restored.count > 0, "the new job has the old state"
    assert "RestoreFailed" not in await env.reasons(NAME)
