"""A real local session cluster (Flink 2.x and 1.20) driven through LocalFlinkService: start, submit,
checkpoint, savepoint, stop-with-savepoint and resume, cancel, last-state restore, in-place rescale.

One session cluster per Flink version is shared by the module; every test runs its own job and ends it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from tests.flink.local.conftest import VERSIONS, counter_jar, local_settings
from tests.support.flink_local import (
    FAST_TEST_CONFIG,
    counter_gauges,
    wait_count_at_least,
    wait_ready,
    wait_until,
)

from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.rest import FlinkRestClient, wait_for_job_running, wait_for_parallelism
from flink_operator.flink.service import (
    ClusterRef,
    ClusterRequest,
    JobSpec,
    SessionJobRequest,
    SnapshotResult,
    SnapshotState,
    SnapshotTrigger,
    SuspendMode,
)

pytestmark = [pytest.mark.flink, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Session:
    service: LocalFlinkService
    ref: ClusterRef
    jar: Path
    version: str

    @property
    def rest(self) -> FlinkRestClient:
        return self.service._rest(self.ref)

    async def submit(self, *, restore: str | None = None, parallelism: int = 1) -> str:
        job_id = uuid.uuid4().hex
        spec = JobSpec(
            f"file://{self.jar}", "demo.CounterJob", ("--sleepMs", "5", "--keys", "16"), parallelism
        )
        request = SessionJobRequest(self.ref, "counter", spec, job_id, restore_path=restore)
        assert await self.service.submit_job(request) == job_id
        await wait_for_job_running(self.rest, job_id, within=60)
        return job_id


async def checkpoint_after_counting(session: Session, job_id: str) -> None:
    """Wait for the job to count and then for a checkpoint triggered after that: it holds a count for every
    key (one taken while the job was starting may not, and a job restored from it starts some key at 1)."""
    service, ref = session.service, session.ref
    await wait_count_at_least(session.rest, job_id, 10)
    before = await service.latest_checkpoint(ref, job_id)

    async def a_later_checkpoint() -> bool | None:
        latest = await service.latest_checkpoint(ref, job_id)
        newer = latest is not None and (before is None or latest.checkpoint_id > before.checkpoint_id + 1)
        return True if newer else None

    await wait_until(a_later_checkpoint, within=60, what=f"a checkpoint of job {job_id} after it counted")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=VERSIONS)
async def session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Session]:
    version: str = request.param
    base = tmp_path_factory.mktemp(f"session-{version}")
    jar = counter_jar(version, base / "job")
    service = LocalFlinkService(local_settings(base / "state", version))
    ref = ClusterRef("tests", f"session-{version.replace('_', '-')}")
    try:
        deployed = await service.deploy_session_cluster(
            ClusterRequest(ref, version, FAST_TEST_CONFIG, generation=1)
        )
        assert deployed.started
        await wait_ready(service, ref)
        yield Session(service, ref, jar, version)
    finally:
        await service.delete_cluster(ref, delete_ha_data=True)
        await service.close()


async def test_session_cluster_runs_the_requested_version_once(session: Session) -> None:
    again = await session.service.deploy_session_cluster(
        ClusterRequest(session.ref, session.version, FAST_TEST_CONFIG, generation=1)
    )
    assert not again.started, "a repeated deploy of the same generation must not start a second cluster"
    info = await session.service.cluster_info(session.ref)
    assert info.flink_version.startswith("1.20" if session.version == "v1_20" else "2.")
    assert info.total_memory_bytes == 2 * 384 * 1024 * 1024
    url = session.service.rest_url(session.ref)
    assert url is not None and url.startswith("http://127.0.0.1:")


async def test_submit_is_idempotent_and_cancel_ends_the_job(session: Session) -> None:
    job_id = await session.submit()
    again = SessionJobRequest(
        session.ref, "counter", JobSpec(f"file://{session.jar}", "demo.CounterJob"), job_id
    )
    assert await session.service.submit_job(again) == job_id
    running = [j for j in await session.service.list_jobs(session.ref) if j.state == "RUNNING"]
    assert [j.job_id for j in running] == [job_id]

    result = await session.service.cancel_job(session.ref, job_id, SuspendMode.STATELESS)
    assert result.final_state == "CANCELED"
    repeat = await session.service.cancel_job(session.ref, job_id, SuspendMode.STATELESS)
    assert repeat.final_state == "CANCELED"
    status = await session.service.job_status(session.ref, job_id)
    assert status is not None and status.terminal


async def test_checkpoint_savepoint_stop_and_resume_keep_counting(session: Session) -> None:
    service, ref = session.service, session.ref
    job_id = await session.submit()
    await wait_count_at_least(session.rest, job_id, 20)

    checkpoint = await service.trigger_checkpoint(ref, job_id)
    done = await wait_until(
        lambda: _finished(service, ref, checkpoint), within=60, what="manual checkpoint", interval=0.1
    )
    assert done.state is SnapshotState.COMPLETED and done.location and done.checkpoint_id
    assert done.location.endswith(f"/{job_id}/chk-{done.checkpoint_id}")
    latest = await service.latest_checkpoint(ref, job_id)
    assert latest is not None and latest.checkpoint_id >= done.checkpoint_id

    savepoint = await service.trigger_savepoint(ref, job_id)
    taken = await wait_until(
        lambda: _finished(service, ref, savepoint), within=60, what="savepoint", interval=0.1
    )
    assert taken.state is SnapshotState.COMPLETED and taken.location
    assert (Path(taken.location.removeprefix("file:")) / "_metadata").is_file()

    _, count_before = await counter_gauges(session.rest, job_id)
    stopped = await service.cancel_job(ref, job_id, SuspendMode.SAVEPOINT)
    assert stopped.final_state == "FINISHED" and stopped.savepoint_path

    resumed = await session.submit(restore=stopped.savepoint_path)
    first, highest = await counter_gauges(session.rest, resumed)
    assert first > 1, "the restored counter must continue from its saved count"
    assert highest >= count_before // 4, (first, highest, count_before)
    stats = await session.rest.checkpoint_stats(resumed)
    assert stats.latest.restored is not None and stats.latest.restored.external_path == stopped.savepoint_path
    await service.cancel_job(ref, resumed, SuspendMode.STATELESS)
    await service.dispose_savepoint(ref, taken.location)
    assert not await asyncio.to_thread(os.path.exists, taken.location.removeprefix("file:"))


async def test_last_state_cancel_keeps_a_checkpoint_to_restore_from(session: Session) -> None:
    service, ref = session.service, session.ref
    job_id = await session.submit()
    await checkpoint_after_counting(session, job_id)

    result = await service.cancel_job(ref, job_id, SuspendMode.LAST_STATE)
    assert result.final_state == "CANCELED" and result.checkpoint_path
    assert (Path(result.checkpoint_path.removeprefix("file:")) / "_metadata").is_file(), "retained on cancel"

    restored = await session.submit(restore=result.checkpoint_path)
    first, _ = await counter_gauges(session.rest, restored)
    assert first > 1
    await service.cancel_job(ref, restored, SuspendMode.STATELESS)


async def test_in_place_rescale_with_the_adaptive_scheduler(session: Session) -> None:
    service, ref = session.service, session.ref
    job_id = await session.submit(parallelism=1)
    await checkpoint_after_counting(session, job_id)
    vertices = [v.id for v in (await session.rest.job_details(job_id)).vertices]

    await service.rescale_job(ref, job_id, {vertex: 2 for vertex in vertices})
    details = await wait_for_parallelism(session.rest, job_id, {vertex: 2 for vertex in vertices}, within=90)
    assert all(v.parallelism == 2 for v in details.vertices)
    await wait_for_job_running(session.rest, job_id, within=60)
    first, _ = await counter_gauges(session.rest, job_id)
    assert first > 1, "a rescale restores the state from the latest checkpoint"
    metrics = await service.job_metrics(ref, job_id, ["numRestarts", "numberOfCompletedCheckpoints"])
    assert "numberOfCompletedCheckpoints" in metrics
    await service.cancel_job(ref, job_id, SuspendMode.STATELESS)


async def _finished(
    service: LocalFlinkService, ref: ClusterRef, trigger: SnapshotTrigger
) -> SnapshotResult | None:
    result = await service.snapshot_result(ref, trigger)
    return None if result.state is SnapshotState.IN_PROGRESS else result
