"""The restore point the Kubernetes runtimes name for a stopped job is a checkpoint that still exists, even
though Flink serves checkpoint statistics from a cache (here 1 s) that can still name a checkpoint a later
one has subsumed and deleted. Against the honest fake Flink REST server, which caches as Flink does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from tests.support.conditions import until

from flink_operator.flink.artifacts import ArtifactSettings
from flink_operator.flink.kubernetes.jobs import JobTimeouts, RestJobs
from flink_operator.flink.rest import FlinkRestClient
from flink_operator.flink.service import ClusterRef, SuspendMode
from flink_operator.testing.fake_flink import FakeCluster, FakeFlinkServer
from flink_operator.testing.fake_flink_jobs import FakeJob
from flink_operator.testing.fake_runtime import job_jar

pytestmark = pytest.mark.integration

REF = ClusterRef("default", "stale")
CONFIG = {
    "execution.checkpointing.interval": "50 ms",
    "execution.checkpointing.dir": "file:/checkpoints",
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
    "web.refresh-interval": "1000",
}


@dataclass
class Setup:
    server: FakeFlinkServer
    cluster: FakeCluster
    job: FakeJob
    client: FlinkRestClient
    tmp_path: Path
    jar_id: str

    def rest_jobs(self) -> RestJobs:
        return RestJobs(
            lambda _ref: self.client,
            timeouts=JobTimeouts(cancel=10.0, savepoint=10.0),
            artifacts_dir=self.tmp_path,
            artifact_settings=ArtifactSettings(),
        )

    def latest_path(self) -> str:
        latest = self.job.latest_completed(savepoint=False)
        assert latest is not None and latest.external_path
        return latest.external_path

    async def stale_statistics(self) -> str:
        """Read the statistics once (Flink caches the answer), then let a later checkpoint subsume the
        checkpoint they name; returns that (deleted) checkpoint's path."""
        await until(lambda: self.job.latest_completed(savepoint=False) is not None, what="a checkpoint")
        cached = (await self.client.checkpoint_stats(self.job.jid)).latest.completed
        assert cached is not None and cached.external_path
        await until(lambda: self.latest_path() != cached.external_path, what="a later checkpoint", within=5)
        again = (await self.client.checkpoint_stats(self.job.jid)).latest.completed
        assert again is not None and again.external_path == cached.external_path, "served from the cache"
        assert not self.server.snapshots.exists(cached.external_path), "the cached one was deleted"
        return cached.external_path


@pytest_asyncio.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with FakeFlinkServer() as server, httpx.AsyncClient(trust_env=False) as http:
        cluster = await server.add_cluster("stale", config=dict(CONFIG))
        jar = cluster.upload_jar("Counter.jar", job_jar("demo.CounterJob"))
        job = cluster.run_jar(jar.id, {"entryClass": "demo.CounterJob", "flinkConfiguration": CONFIG}, [])
        client = FlinkRestClient(cluster.base_url, timeout=5.0, http=http)
        yield Setup(server, cluster, job, client, tmp_path, jar.id)


async def test_last_state_cancel_names_a_checkpoint_that_exists(setup: Setup) -> None:
    stale = await setup.stale_statistics()
    result = await setup.rest_jobs().cancel_job(REF, setup.job.jid, SuspendMode.LAST_STATE)
    assert result.final_state == "CANCELED"
    assert result.checkpoint_path is not None and result.checkpoint_path != stale
    assert result.checkpoint_path == setup.latest_path()
    assert setup.server.snapshots.exists(result.checkpoint_path)


async def test_a_job_stopped_elsewhere_is_read_past_the_cache_too(setup: Setup) -> None:
    # The job is cancelled by someone else (or before an operator restart): its end time comes from Flink.
    await setup.stale_statistics()
    setup.cluster.cancel(setup.job.jid)
    await until(lambda: setup.job.state.is_terminal, what="job cancelled")
    checkpoint = await setup.rest_jobs().latest_checkpoint(REF, setup.job.jid)
    assert checkpoint is not None
    assert checkpoint.external_path == setup.latest_path()
    assert setup.server.snapshots.exists(checkpoint.external_path)


async def test_a_checkpoint_deleted_on_cancellation_is_no_restore_point(setup: Setup) -> None:
    config = {**CONFIG, "execution.checkpointing.externalized-checkpoint-retention": "DELETE_ON_CANCELLATION"}
    job = setup.cluster.run_jar(
        setup.jar_id, {"entryClass": "demo.CounterJob", "flinkConfiguration": config}, []
    )
    await until(lambda: job.latest_completed(savepoint=False) is not None, what="a checkpoint")
    result = await setup.rest_jobs().cancel_job(REF, job.jid, SuspendMode.LAST_STATE)
    assert result.final_state == "CANCELED"
    assert result.checkpoint_path is None, "Flink reports it discarded"
