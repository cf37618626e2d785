"""The fake Flink server as a server: many virtual clusters, their addressing, the /_fake control API, and
running it as its own process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.integration.flink_rest.conftest import QUICK_CONFIG
from tests.support.fake_jars import fake_jar

from flink_operator.flink.rest import (
    ClusterUnreachable,
    FlinkRestClient,
    FlinkRestError,
    JarRunRequest,
    JobState,
    RetryPolicy,
    TriggerFailed,
    wait_for_job_running,
    wait_for_savepoint,
)
from flink_operator.testing.fake_flink import FakeFlinkServer

pytestmark = pytest.mark.integration


async def test_hundreds_of_clusters_share_one_server_and_stay_independent(server: FakeFlinkServer) -> None:
    clusters = [await server.add_cluster(f"c{i}", config=QUICK_CONFIG) for i in range(300)]
    assert len({c.base_url for c in clusters}) == 300
    jar_bytes = fake_jar()
    # As the operator does: one shared connection pool, bounded parallelism (httpcore's pool gets slow
    # when many more requests queue than it has connections).
    bound = asyncio.Semaphore(32)
    async with httpx.AsyncClient(trust_env=False) as shared:

        async def submit(index: int) -> str:
            async with (
                bound,
                FlinkRestClient(clusters[index].base_url, http=shared, flink_version="2.3") as flink,
            ):
                jar = await flink.upload_jar(jar_bytes, filename="job.jar")
                return (await flink.run_jar(jar, JarRunRequest(parallelism=1 + index % 2))).jobid

        jobs = await asyncio.gather(*(submit(i) for i in range(300)))
        async with FlinkRestClient(clusters[7].base_url, http=shared) as flink:
            await wait_for_job_running(flink, jobs[7], within=10)
            assert [j.jid for j in await flink.jobs_overview()] == [jobs[7]]
            await flink.cancel_job(jobs[7])
    assert all(list(c.jobs) == [job] for c, job in zip(clusters, jobs, strict=True))
    assert clusters[8].jobs[jobs[8]].state is not JobState.CANCELLING
    assert [c.submissions[0].parallelism for c in clusters[:4]] == [1, 2, 1, 2]


async def test_addresses_names_and_unknown_clusters(server: FakeFlinkServer) -> None:
    cluster = await server.add_cluster("orders-eu.1")
    assert cluster.base_url == f"{server.url}/clusters/orders-eu.1"
    with pytest.raises(ValueError, match="already exists"):
        await server.add_cluster("orders-eu.1")
    with pytest.raises(ValueError, match="must be 1-253 characters"):
        await server.add_cluster("bad/name")
    with pytest.raises(ValueError, match="unknown fake cluster settings"):
        await server.add_cluster("x", slots=3)
    async with httpx.AsyncClient(trust_env=False) as http:
        root = await http.get(f"{server.url}/overview")
        assert root.status_code == 404 and root.json() == {
            "errors": ["Unable to load requested file /overview."]
        }
    async with FlinkRestClient(f"{server.url}/clusters/nobody", retry=RetryPolicy.none()) as flink:
        with pytest.raises(ClusterUnreachable):
            await flink.overview()
    await server.remove_cluster("orders-eu.1")
    async with FlinkRestClient(cluster.base_url, retry=RetryPolicy.none()) as flink:
        with pytest.raises(ClusterUnreachable):
            await flink.overview()


async def test_bad_requests_are_answered_as_flink_answers_them(server: FakeFlinkServer) -> None:
    cluster = await server.add_cluster("c", config=QUICK_CONFIG)
    async with FlinkRestClient(cluster.base_url) as flink:
        jar = await flink.upload_jar(fake_jar("demo.CounterJob"), filename="job.jar")
        for body, detail in (
            ({"parallelism": "two"}, "JarRunRequestBody"),
            ({"jobId": "xyz"}, "JarRunRequestBody"),
            ({"programArgsList": [1, 2]}, "JarRunRequestBody"),
            ({"flinkConfiguration": {"a": 1}}, "JarRunRequestBody"),
        ):
            with pytest.raises(FlinkRestError) as raised:
                await flink.request("POST", f"/jars/{jar}/run", json_body=body)
            assert raised.value.status == 400 and detail in str(raised.value.messages)
        with pytest.raises(FlinkRestError, match="Only Jar files are allowed"):
            await flink.request(
                "POST", "/jars/upload", files={"jarfile": ("job.zip", b"PK", "application/zip")}
            )
        with pytest.raises(FlinkRestError, match="Neither a 'Main-Class'"):
            other = await flink.upload_jar(fake_jar(None, "demo.Other"), filename="plain.jar")
            await flink.run_jar(other, JarRunRequest())
        with pytest.raises(FlinkRestError, match="does not exist in"):
            await flink.delete_jar("nope.jar")
        with pytest.raises(FlinkRestError) as raised:
            await flink.request("GET", "/jobs/overview/extra/path")
        assert raised.value.status == 404
        job = (await flink.run_jar(jar, JarRunRequest())).jobid
        with pytest.raises(FlinkRestError) as raised:
            await flink.request("PUT", f"/jobs/{job}/resource-requirements", json_body={"v": 1})
        assert raised.value.status == 400
        unknown = await flink.stop_with_savepoint("f" * 32, "file:///tmp/x")
        with pytest.raises(TriggerFailed) as failed:
            await wait_for_savepoint(flink, "f" * 32, unknown)
        assert failed.value.job_missing


async def test_control_api_drives_a_server_in_another_process(tmp_path: Path) -> None:
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, read with a timeout below
        [sys.executable, "-m", "flink_operator.testing.fake_flink", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), timeout=30)
        url = json.loads(line)["url"]
        assert url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(trust_env=False, base_url=url) as control:
            created = await control.post(
                "/_fake/clusters",
                json={
                    "name": "remote",
                    "flink_version": "1.20.5",
                    "config": QUICK_CONFIG,
                    "dedicated_port": True,
                },
            )
            assert created.status_code == 201, created.text
            cluster_url = created.json()["url"]
            bad = await control.post("/_fake/clusters", json={"name": "x", "no_such_setting": 1})
            assert bad.status_code == 400 and "unknown fake cluster settings" in bad.json()["error"]
            async with FlinkRestClient(cluster_url) as flink:
                assert (await flink.config()).flink_version == "1.20.5"
                jar = await flink.upload_jar(fake_jar(), filename="job.jar")
                job = (await flink.run_jar(jar, JarRunRequest(program_args=["--keys", "2"]))).jobid
                await wait_for_job_running(flink, job)
                fault = await control.post(
                    "/_fake/clusters/remote/faults", json={"path": "/overview", "status": 502, "times": 1}
                )
                assert fault.status_code == 201
                with pytest.raises(FlinkRestError) as raised:
                    async with FlinkRestClient(cluster_url, retry=RetryPolicy.none()) as once:
                        await once.overview()
                assert raised.value.status == 502
                assert (
                    await control.post(f"/_fake/clusters/remote/jobs/{job}/fail", json={})
                ).status_code == 200
                submissions = (await control.get("/_fake/clusters/remote/submissions")).json()["submissions"]
                assert submissions[0]["program_args"] == ["--keys", "2"]
                down = await control.post("/_fake/clusters/remote/jobmanager", json={"up": False})
                assert down.json()["up"] is False
                with pytest.raises(ClusterUnreachable, match="cannot connect"):
                    await flink.overview()
                await control.post("/_fake/clusters/remote/jobmanager", json={"up": True})
                assert (await flink.overview()).jobs_running == 0
            listed = (await control.get("/_fake/clusters")).json()["clusters"]
            assert [c["name"] for c in listed] == ["remote"]
            assert (await control.get("/_fake/clusters/nobody")).status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
