"""Real local application clusters (Flink 2.x and 1.20): start from a savepoint, a JobManager killed with
SIGKILL detected, a last-state restart from the latest retained checkpoint; ZooKeeper HA on 2.x."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest
from tests.flink.local.conftest import VERSIONS, counter_jar, local_settings
from tests.support.flink_local import (
    FAST_TEST_CONFIG,
    counter_gauges,
    listening_addresses,
    wait_count_at_least,
    wait_job_running,
    wait_ready,
    wait_until,
)

from flink_operator.flink.local import processes
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.service import (
    ClusterRef,
    ClusterRequest,
    JobManagerObservation,
    JobManagerStatus,
    JobSpec,
    SuspendMode,
)

pytestmark = pytest.mark.flink


def app_request(
    ref: ClusterRef, version: str, jar: Path, generation: int, job_id: str, **fields: object
) -> ClusterRequest:
    job = JobSpec(f"local://{jar}", "demo.CounterJob", ("--sleepMs", "5", "--keys", "16"), parallelism=1)
    return ClusterRequest(
        ref,
        version,
        FAST_TEST_CONFIG,
        generation=generation,
        job=job,
        job_id=job_id,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("version", VERSIONS)
async def test_savepoint_restore_sigkill_detection_and_last_state_restart(
    version: str, tmp_path: Path, service_factory: list[LocalFlinkService]
) -> None:
    jar = counter_jar(version, tmp_path / "job")
    service = LocalFlinkService(local_settings(tmp_path / "state", version))
    service_factory.append(service)
    ref = ClusterRef("tests", "app")
    job_id = uuid.uuid4().hex

    first = await service.deploy_application_cluster(app_request(ref, version, jar, 1, job_id))
    assert first.started and first.job_id == job_id
    assert not (await service.deploy_application_cluster(app_request(ref, version, jar, 1, job_id))).started
    await wait_ready(service, ref)
    rest = service._rest(ref)
    await wait_job_running(service, ref, job_id)
    pids = [p.pid for record in service.list_clusters() for p in record.processes]
    assert all(host == "127.0.0.1" for host, _ in listening_addresses(pids))
    await wait_count_at_least(rest, job_id, 10)
    stopped = await service.cancel_job(ref, job_id, SuspendMode.SAVEPOINT)
    assert stopped.final_state == "FINISHED" and stopped.savepoint_path
    assert (await service.observe_jobmanager(ref)).status is JobManagerStatus.READY, (
        "JM kept after the job ends"
    )

    # Application mode from a savepoint: a new generation replaces the cluster and restores the counts.
    second = await service.deploy_application_cluster(
        app_request(ref, version, jar, 2, job_id, restore_path=stopped.savepoint_path)
    )
    assert second.started
    await wait_ready(service, ref)
    rest = service._rest(ref)
    await wait_job_running(service, ref, job_id)
    restored_first, _ = await counter_gauges(rest, job_id)
    assert restored_first > 1
    await wait_until(lambda: service.latest_checkpoint(ref, job_id), within=60, what="a periodic checkpoint")
    await wait_count_at_least(rest, job_id, restored_first + 20)

    # SIGKILL the JobManager: the service notices, reports why, and stops the orphaned TaskManager.
    (record,) = service.list_clusters()
    jm = record.process("jobmanager")
    assert jm is not None
    os.kill(jm.pid, signal.SIGKILL)
    observed = await wait_until(lambda: _gone(service, ref), within=30, what="the killed JobManager detected")
    assert observed.status is JobManagerStatus.MISSING and observed.exit_code == -signal.SIGKILL
    assert "SIGKILL" in observed.reason
    assert not any(processes.is_running(p) for p in record.processes), "TaskManagers must not outlive the JM"

    # Last-state: restart from the newest checkpoint the killed cluster retained.
    latest = await service.latest_checkpoint(ref, job_id)
    assert latest is not None
    third = await service.deploy_application_cluster(
        app_request(ref, version, jar, 3, job_id, restore_path=latest.external_path)
    )
    assert third.started
    await wait_ready(service, ref)
    rest = service._rest(ref)
    await wait_job_running(service, ref, job_id)
    last_first, _ = await counter_gauges(rest, job_id)
    assert last_first > restored_first
    stats = await rest.checkpoint_stats(job_id)
    assert stats.latest.restored is not None and stats.latest.restored.external_path == latest.external_path

    # Deleting the cluster stops it with SIGTERM; its checkpoints are retained for a later last-state restore.
    await wait_until(
        lambda: _newer_checkpoint(service, ref, job_id, latest.checkpoint_id), within=60, what="chk"
    )
    await service.delete_cluster(ref, delete_ha_data=True)
    assert (await service.observe_jobmanager(ref)).status is JobManagerStatus.MISSING
    kept = await service.latest_checkpoint(ref, job_id)
    assert kept is not None and kept.checkpoint_id > latest.checkpoint_id


async def _newer_checkpoint(
    service: LocalFlinkService, ref: ClusterRef, job_id: str, than: int
) -> bool | None:
    latest = await service.latest_checkpoint(ref, job_id)
    return True if latest is not None and latest.checkpoint_id > than else None


async def _gone(service: LocalFlinkService, ref: ClusterRef) -> JobManagerObservation | None:
    observed = await service.observe_jobmanager(ref)
    return observed if observed.status in (JobManagerStatus.MISSING, JobManagerStatus.ERROR) else None


async def test_zookeeper_ha_keeps_the_job_state_across_a_redeploy(
    tmp_path: Path, service_factory: list[LocalFlinkService]
) -> None:
    version = "v2_3"
    jar = counter_jar(version, tmp_path / "job")
    service = LocalFlinkService(local_settings(tmp_path / "state", version, zookeeper_tick_ms=500))
    service_factory.append(service)
    ref = ClusterRef("tests", "ha-app")
    job_id = uuid.uuid4().hex

    await service.deploy_application_cluster(app_request(ref, version, jar, 1, job_id, ha_enabled=True))
    await wait_ready(service, ref)
    rest = service._rest(ref)
    await wait_job_running(service, ref, job_id)
    await wait_count_at_least(rest, job_id, 10)
    await wait_until(lambda: _ha_checkpoint(service, ref), within=60, what="a checkpoint in HA metadata")
    assert await service.ha_metadata_available(ref)
    (record,) = service.list_clusters()
    zk = record.process("zookeeper")
    assert zk is not None and record.zookeeper_port is not None
    assert ("127.0.0.1", record.zookeeper_port) in listening_addresses([zk.pid])
    assert all(host == "127.0.0.1" for host, _ in listening_addresses([zk.pid]))

    # Last-state through HA: delete the cluster keeping HA data, deploy again without a restore path.
    await service.delete_cluster(ref, delete_ha_data=False)
    assert await service.ha_metadata_available(ref)
    await service.deploy_application_cluster(app_request(ref, version, jar, 2, job_id, ha_enabled=True))
    await wait_ready(service, ref)
    rest = service._rest(ref)
    await wait_job_running(service, ref, job_id)
    first, _ = await counter_gauges(rest, job_id)
    assert first > 1, "the job must resume from the checkpoint recorded in HA metadata"
    (second,) = service.list_clusters()
    assert second.job_result_store and second.job_result_store != record.job_result_store
    used = [f"file://{p}" for p in service.job_result_store_paths(ref)]
    assert used == [record.job_result_store, second.job_result_store]

    await service.delete_cluster(ref, delete_ha_data=True)
    assert not await service.ha_metadata_available(ref)
    assert not await service.ha_has_checkpoint(ref)


async def _ha_checkpoint(service: LocalFlinkService, ref: ClusterRef) -> bool | None:
    return True if await service.ha_has_checkpoint(ref) else None
