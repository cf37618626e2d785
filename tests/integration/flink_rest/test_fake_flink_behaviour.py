"""The fake Flink server's model through the REST client: state kept across restores, snapshots on disk,
failures and restarts, JobManager loss with and without HA, lazy metrics, caches, version differences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.flink_rest.conftest import quick_config
from tests.support.fake_jars import fake_jar
from tests.support.rest_scenario import counter_gauges

from flink_operator.flink.rest import (
    ClaimMode,
    ClusterUnreachable,
    DeadlineExceeded,
    FlinkRestClient,
    FlinkRestError,
    JarRunRequest,
    JobNotFound,
    JobState,
    JobTerminated,
    TriggerFailed,
    read_fresh_vertex_metrics,
    wait_for_checkpoint,
    wait_for_checkpoint_details,
    wait_for_disposal,
    wait_for_job_running,
    wait_for_job_state,
    wait_for_savepoint,
)
from flink_operator.flink.rest.waiting import poll_until
from flink_operator.testing.fake_flink import FakeFlinkServer

pytestmark = pytest.mark.integration

ARGS = ("--sleepMs", "2", "--keys", "4")


async def _running_job(flink: FlinkRestClient, *args: str, **request: object) -> str:
    jar = await flink.upload_jar(fake_jar(), filename="counter-job.jar")
    job = (await flink.run_jar(jar, JarRunRequest(program_args=args or ARGS, **request))).jobid  # type: ignore[arg-type]
    await wait_for_job_running(flink, job, within=10)
    return job


async def test_restore_continues_the_counter_and_snapshots_are_files(
    server: FakeFlinkServer, tmp_path: Path
) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    async with FlinkRestClient(cluster.base_url) as flink:
        job = await _running_job(flink, "--sleepMs", "2", "--keys", "4", "--checkpointMs", "50")
        first, highest = await counter_gauges(flink, job, 10)
        assert first == 1 and highest >= 1
        await poll_until(
            lambda: flink.checkpoint_stats(job),
            lambda stats: stats if stats.counts.completed >= 3 else None,
            within=5,
            what="three periodic checkpoints",
        )
        checkpoints = sorted((tmp_path / "checkpoints" / job).glob("chk-*/_metadata"))
        assert len(checkpoints) == 1, "one retained checkpoint; older ones are subsumed"
        trigger = await flink.stop_with_savepoint(job)
        savepoint = await wait_for_savepoint(flink, job, trigger, within=10)
        assert await wait_for_job_state(flink, job, {JobState.FINISHED}, within=10) is JobState.FINISHED
        metadata = Path(savepoint.removeprefix("file:")) / "_metadata"
        saved = json.loads(metadata.read_text())
        assert saved["job_id"] == job and saved["count"] > 0

        assert not list((tmp_path / "checkpoints" / job).glob("chk-*/_metadata")), (
            "not externalised: a finished job's checkpoints are deleted"
        )

        resumed = await _running_job(flink, savepoint_path=savepoint, claim_mode=ClaimMode.NO_CLAIM)
        first, _ = await counter_gauges(flink, resumed, 10)
        assert first > saved["count"] // 4, "the per-key counts continue from the savepoint"
        restored = (await flink.checkpoint_stats(resumed)).latest.restored
        assert restored is not None and restored.external_path == savepoint
        assert cluster.submissions[-1].savepoint_path == savepoint
        assert cluster.submissions[-1].claim_mode == "NO_CLAIM"

        trigger = await flink.dispose_savepoint(savepoint)
        await wait_for_disposal(flink, trigger, within=5)
        assert not metadata.exists()


async def test_manual_checkpoint_details_lag_behind_like_flinks_cache(
    server: FakeFlinkServer, tmp_path: Path
) -> None:
    config = quick_config(tmp_path, **{"rest.cache.checkpoint-statistics.timeout": "400ms"})
    cluster = await server.add_cluster("c", config=config)
    async with FlinkRestClient(cluster.base_url) as flink:
        job = await _running_job(flink)
        await flink.checkpoint_stats(job)  # loads the cache before the checkpoint exists
        checkpoint = await wait_for_checkpoint(flink, job, await flink.trigger_checkpoint(job), within=5)
        details = await wait_for_checkpoint_details(flink, job, checkpoint, within=5)
        assert details.external_path == f"file:{tmp_path}/checkpoints/{job}/chk-{checkpoint}"


async def test_savepoint_failures_and_directories(server: FakeFlinkServer, tmp_path: Path) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    bare = await server.add_cluster("bare", config={"web.refresh-interval": "50"})
    async with FlinkRestClient(cluster.base_url) as flink:
        job = await _running_job(flink)
        cluster.fail_next_savepoints(1, "Checkpoint Coordinator is suspending.")
        with pytest.raises(TriggerFailed) as raised:
            await wait_for_savepoint(flink, job, await flink.trigger_savepoint(job), within=5)
        assert raised.value.reason == "Checkpoint Coordinator is suspending."
        assert not raised.value.job_missing
        target = tmp_path / "elsewhere"
        location = await wait_for_savepoint(
            flink, job, await flink.trigger_savepoint(job, f"file://{target}")
        )
        assert location.startswith(f"file:{target}/savepoint-{job[:6]}-")
        assert await flink.job_status(job) is JobState.RUNNING
    async with FlinkRestClient(bare.base_url) as flink:
        job = await _running_job(flink)
        with pytest.raises(FlinkRestError) as refused:
            await flink.trigger_savepoint(job)
        assert refused.value.status == 400
        assert "Config key [execution.checkpointing.savepoint-dir] is not set" in refused.value.root_cause


async def test_failed_job_restarts_from_its_checkpoint_or_fails(
    server: FakeFlinkServer, tmp_path: Path
) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    async with FlinkRestClient(cluster.base_url) as flink:
        job = await _running_job(flink, "--sleepMs", "2", "--checkpointMs", "50")
        await wait_for_checkpoint(flink, job, await flink.trigger_checkpoint(job))
        cluster.fail_job(job, "connection to the broker lost", exception_class="java.io.IOException")
        assert await flink.job_status(job) is JobState.RESTARTING
        await wait_for_job_running(flink, job, within=5)
        first, _ = await counter_gauges(flink, job, 10)
        assert first > 1, "restarted from the latest checkpoint"
        latest = (await flink.exceptions(job)).latest
        assert latest is not None and latest.exception_name == "java.io.IOException"
        restarts = await _fresh_job_metric(flink, job, "numRestarts")
        assert restarts == 1

        cluster.fail_job(job, "poison record", recoverable=False)
        with pytest.raises(JobTerminated) as ended:
            await wait_for_job_state(flink, job, {JobState.RUNNING, JobState.CANCELED}, within=5)
        assert ended.value.state == "FAILED" and ended.value.reason == "poison record"


async def _fresh_job_metric(flink: FlinkRestClient, job: str, name: str) -> float:
    values = await poll_until(
        lambda: flink.job_metrics(job, [name]),
        lambda v: v if int(v.get(name) or 0) >= 1 else None,
        within=5,
        what=name,
    )
    return float(values[name] or 0)


async def test_jobmanager_loss_without_and_with_ha(server: FakeFlinkServer, tmp_path: Path) -> None:
    plain = await server.add_cluster("plain", config=quick_config(tmp_path / "p"), dedicated_port=True)
    ha = await server.add_cluster(
        "ha",
        config=quick_config(
            tmp_path / "h", **{"high-availability.type": "zookeeper", "web.upload.dir": "/x"}
        ),
        dedicated_port=True,
    )
    async with FlinkRestClient(plain.base_url) as a, FlinkRestClient(ha.base_url) as b:
        lost = await _running_job(a, "--sleepMs", "2", "--checkpointMs", "50")
        kept = await _running_job(b, "--sleepMs", "2", "--checkpointMs", "50")
        await wait_for_checkpoint(b, kept, await b.trigger_checkpoint(kept))
        for name in ("plain", "ha"):
            await server.jobmanager_down(name)
        with pytest.raises(ClusterUnreachable, match="cannot connect"):
            await a.overview()
        for name in ("plain", "ha"):
            await server.jobmanager_up(name)
        with pytest.raises(JobNotFound):
            await a.job_status(lost)
        assert await a.list_jars() == [], "uploads are lost with the JobManager unless web.upload.dir is set"
        await wait_for_job_running(b, kept, within=5)
        restored = (await b.checkpoint_stats(kept)).latest.restored
        assert restored is not None and not restored.is_savepoint
        assert len(await b.list_jars()) == 1
        # A crash leaves the retained checkpoint of the lost job on disk.
        assert list((tmp_path / "p" / "checkpoints" / lost).glob("chk-*/_metadata"))


async def test_cluster_shutdown_and_graceful_checkpoint_cleanup(
    server: FakeFlinkServer, tmp_path: Path
) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path))
    async with FlinkRestClient(cluster.base_url) as flink:
        job = await _running_job(flink, "--sleepMs", "2", "--checkpointMs", "50")
        await wait_for_checkpoint(flink, job, await flink.trigger_checkpoint(job))
        await flink.shutdown_cluster()
        with pytest.raises(ClusterUnreachable):
            await flink.overview()
    # Default retention (not externalised): a graceful JobManager stop deletes the job's checkpoints.
    assert not list((tmp_path / "checkpoints" / job).glob("chk-*/_metadata"))


async def test_metrics_are_fetched_lazily(server: FakeFlinkServer, tmp_path: Path) -> None:
    config = quick_config(tmp_path, **{"metrics.fetcher.update-interval": "300ms"})
    cluster = await server.add_cluster("c", config=config)
    async with FlinkRestClient(cluster.base_url) as flink:
        job = await _running_job(flink)
        vertex = (await flink.job_details(job)).vertices[0].id
        assert await flink.vertex_subtask_metrics(job, vertex, ["busyTimeMsPerSecond"]) == {}, (
            "before any fetch"
        )
        fresh = await read_fresh_vertex_metrics(
            flink, job, vertex, ["busyTimeMsPerSecond"], ["max"], within=5
        )
        assert fresh["busyTimeMsPerSecond"].max == 1000.0
        cluster.set_vertex_metrics(job, 0, {"busyTimeMsPerSecond": 250.0})
        stale = await flink.vertex_subtask_metrics(job, vertex, ["busyTimeMsPerSecond"])
        assert stale["busyTimeMsPerSecond"].max == 1000.0, "a read within the interval is the old snapshot"
        changed = await poll_until(
            lambda: flink.vertex_subtask_metrics(job, vertex, ["busyTimeMsPerSecond"]),
            lambda m: m if m["busyTimeMsPerSecond"].max == 250.0 else None,
            within=5,
            what="the overridden metric",
        )
        assert changed["busyTimeMsPerSecond"].sum == 250.0
        cluster.set_vertex_metrics(job, 0, {"busyTimeMsPerSecond": float("nan")})
        nan = await poll_until(
            lambda: flink.vertex_subtask_metrics(job, vertex, ["busyTimeMsPerSecond"]),
            lambda m: m if m["busyTimeMsPerSecond"].max is None else None,
            within=5,
            what='"NaN" (as 1.20 sends it) read as no value',
        )
        assert nan["busyTimeMsPerSecond"].avg is None
        with pytest.raises(DeadlineExceeded):  # a fresh read wants a value, and NaN is none
            await read_fresh_vertex_metrics(flink, job, vertex, ["busyTimeMsPerSecond"], within=0.8)
        slots = await flink.jobmanager_metrics(["taskSlotsTotal", "nope"])
        assert slots == {"taskSlotsTotal": "4"}


async def test_version_flavours_differ_where_flink_does(server: FakeFlinkServer, tmp_path: Path) -> None:
    new = await server.add_cluster("new", config=quick_config(tmp_path / "n"), flink_version="2.3.0")
    old = await server.add_cluster("old", config=quick_config(tmp_path / "o"), flink_version="1.20.5")
    for cluster, expected_args in ((new, ()), (old, ("--sleepMs", "7"))):
        async with FlinkRestClient(cluster.base_url) as flink:
            jar = await flink.upload_jar(fake_jar(), filename="job.jar")
            body = {"programArgs": "--sleepMs 7"}  # the string form: 2.x ignores it silently
            answer = await flink.request("POST", f"/jars/{jar}/run", json_body=body)
            assert cluster.submissions[-1].program_args == expected_args
            assert ("applicationId" in answer) is (cluster is new)
            await flink.run_jar(jar, JarRunRequest(program_args=["--keys", "3"]))
            assert cluster.submissions[-1].body["programArgsList"] == ["--keys", "3"]
            assert "programArgs" not in cluster.submissions[-1].body


async def test_waiting_gives_up_with_what_it_saw(server: FakeFlinkServer, tmp_path: Path) -> None:
    cluster = await server.add_cluster("c", config=quick_config(tmp_path), taskmanagers=0)
    async with FlinkRestClient(cluster.base_url) as flink:
        jar = await flink.upload_jar(fake_jar(), filename="job.jar")
        job = (await flink.run_jar(jar, JarRunRequest())).jobid
        with pytest.raises(DeadlineExceeded) as raised:
            await wait_for_job_running(flink, job, within=0.5)
        assert raised.value.last_observed is JobState.CREATED  # waiting for slots
        cluster.set_taskmanagers(1)
        await wait_for_job_running(flink, job, within=5)
