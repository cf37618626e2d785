"""The REST client over real HTTP against the fake server: retries, timeouts, unreachable clusters, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.integration.flink_rest.conftest import quick_config
from tests.support.fake_jars import fake_jar

from flink_operator.flink.rest import (
    ClusterUnreachable,
    FlinkRestClient,
    FlinkRestError,
    JarRunRequest,
    JobNotFound,
    RetryPolicy,
    wait_for_job_running,
)
from flink_operator.testing.fake_flink import FakeFlinkServer, FaultRule

pytestmark = pytest.mark.integration

FAST_RETRY = RetryPolicy(attempts=3, initial_backoff=0.01, max_backoff=0.05, jitter=0)


async def test_idempotent_get_is_retried_on_5xx_until_it_succeeds(
    server: FakeFlinkServer, tmp_path: Path
) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    cluster.inject(FaultRule(path="/overview", method="GET", times=2, status=503, message="leader election"))
    async with FlinkRestClient(cluster.base_url, retry=FAST_RETRY) as flink:
        overview = await flink.overview()
    assert overview.taskmanagers == 1
    assert cluster.requests == 3


async def test_retries_give_up_with_flinks_message(server: FakeFlinkServer, tmp_path: Path) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    cluster.inject(FaultRule(path="/overview", times=5, status=503, message="leader election in progress"))
    async with FlinkRestClient(cluster.base_url, retry=FAST_RETRY) as flink:
        with pytest.raises(FlinkRestError) as raised:
            await flink.overview()
    assert raised.value.status == 503
    assert raised.value.root_cause == "leader election in progress"
    assert cluster.requests == 3


async def test_a_sent_jar_run_is_never_repeated(server: FakeFlinkServer, tmp_path: Path) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    async with FlinkRestClient(cluster.base_url, retry=FAST_RETRY) as flink:
        jar = await flink.upload_jar(fake_jar(), filename="job.jar")
        await flink.flink_version()  # read once (GET /config) and cached; not part of what is counted
        cluster.inject(FaultRule(path="/jars/*/run", method="POST", status=503))
        before = cluster.requests
        with pytest.raises(FlinkRestError) as raised:
            await flink.run_jar(jar, JarRunRequest())
        assert raised.value.status == 503
        assert cluster.requests == before + 1
        cluster.inject(FaultRule(path="/jobs/*/savepoints", method="POST", drop_connection=True))
        job = (await flink.run_jar(jar, JarRunRequest())).jobid
        await wait_for_job_running(flink, job)
        before = cluster.requests
        with pytest.raises(ClusterUnreachable):
            await flink.trigger_savepoint(job)
        assert cluster.requests == before + 1, "a dropped POST must not be sent again"
    assert [s.job_id for s in cluster.submissions] == [job]


async def test_dropped_connection_on_a_get_is_retried(server: FakeFlinkServer, tmp_path: Path) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    cluster.inject(FaultRule(path="/jobs/overview", drop_connection=True, times=1))
    async with FlinkRestClient(cluster.base_url, retry=FAST_RETRY) as flink:
        assert await flink.jobs_overview() == []


async def test_connection_refused_is_retried_even_for_posts_then_reported(
    server: FakeFlinkServer, tmp_path: Path
) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path), dedicated_port=True)
    await server.jobmanager_down("c")
    patient = RetryPolicy(attempts=8, initial_backoff=0.05, max_backoff=0.1, jitter=0)
    async with FlinkRestClient(cluster.base_url, retry=FAST_RETRY) as flink:
        with pytest.raises(ClusterUnreachable, match="cannot connect") as raised:
            await flink.upload_jar(fake_jar(), filename="job.jar")
        assert raised.value.status is None
    async with FlinkRestClient(cluster.base_url, retry=patient) as flink:
        revive = asyncio.get_running_loop().call_later(
            0.15, lambda: asyncio.ensure_future(server.jobmanager_up("c"))
        )
        jar = await flink.upload_jar(fake_jar(), filename="job.jar")  # nothing was sent while refused
        revive.cancel()
        assert jar in [j.id for j in await flink.list_jars()]


async def test_a_slow_answer_times_out_as_unreachable(server: FakeFlinkServer, tmp_path: Path) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    cluster.inject(FaultRule(path="/overview", status=None, delay=1.0, times=None))
    async with FlinkRestClient(cluster.base_url, timeout=0.1, retry=RetryPolicy.none()) as flink:
        with pytest.raises(ClusterUnreachable, match="timed out"):
            await flink.overview()
        cluster.clear_faults()
        assert (await flink.config()).flink_version == "2.3.0"


async def test_unknown_job_is_job_not_found_and_not_retried(server: FakeFlinkServer, tmp_path: Path) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    unknown = "ab" * 16
    async with FlinkRestClient(cluster.base_url, retry=FAST_RETRY) as flink:
        with pytest.raises(JobNotFound) as raised:
            await flink.job_status(unknown)  # Flink answers this one with a 500
    assert raised.value.status == 500 and raised.value.job_id == unknown
    assert cluster.requests == 1


async def test_shared_http_client_serves_many_clusters(server: FakeFlinkServer, tmp_path: Path) -> None:
    import httpx

    clusters = [await server.add_cluster(f"c{i}", config=quick_config(tmp_path)) for i in range(3)]
    async with httpx.AsyncClient(trust_env=False) as shared:
        clients = [FlinkRestClient(c.base_url, http=shared) for c in clusters]
        jars = [
            await client.upload_jar(fake_jar(), filename=f"job{i}.jar") for i, client in enumerate(clients)
        ]
        for client in clients:
            await client.aclose()  # does not close the shared pool
        assert [len(c.jars) for c in clusters] == [1, 1, 1]
        assert all(jar in c.jars for jar, c in zip(jars, clusters, strict=True))
        assert (await shared.get(f"{clusters[0].base_url}/overview")).status_code == 200
