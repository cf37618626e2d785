"""The FlinkSessionJob controller against real Flink 2.x (local runtime): the counter job is uploaded and run
on a session cluster, upgraded with a savepoint (the count continues) and with last-state (cancel keeping
checkpoints, restore from the latest), and cancelled on deletion. One session cluster for the module."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.flink_local import (
    FAST_TEST_CONFIG,
    counter_gauges,
    flink_home_for,
    kill_all,
    processes_with_marker,
    wait_count_at_least,
)
from tests.support.sessionjob_env import SessionJobEnv, job_id, session_job, status_of

from flink_operator.flink.local.jobs import build_counter_job
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.rest import FlinkRestClient
from flink_operator.flink.service import ClusterRef
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.flink


async def test_session_job_submit_upgrades_and_delete_on_real_flink(
    api_server: EmbeddedApiServer, tmp_path: Path
) -> None:
    home = flink_home_for("v2_3")
    if home is None:
        pytest.skip("no Flink 2.x distribution installed")
    jar = build_counter_job(home, tmp_path / "job")
    state = tmp_path / "state"
    flink = LocalFlinkService(
        LocalFlinkSettings(state_dir=state, flink_homes={"v2_3": home}, stop_timeout=5.0)
    )
    env = SessionJobEnv(
        api_server,
        tmp_path,
        flink,  # type: ignore[arg-type]
        {"kubernetes.operator.observer.progress-check.interval": "500 ms"},
    )
    await env.setup()
    try:
        await env.start_operator()
        await env.create_session(
            "session",
            config={
                **FAST_TEST_CONFIG,
                "jobmanager.scheduler": "default",
                "jobmanager.memory.process.size": "1024m",
                "taskmanager.memory.process.size": "1024m",
                "taskmanager.numberOfTaskSlots": "4",
                "execution.checkpointing.dir": f"file://{state}/checkpoints",
                "execution.checkpointing.savepoint-dir": f"file://{state}/savepoints",
            },
            within=120,
        )
        url = flink.rest_url(ClusterRef("default", "session"))
        assert url is not None

        document = session_job("counter", "session", upgrade_mode="savepoint")
        document["spec"]["job"].update(jarURI=f"file://{jar}", args=["--sleepMs", "5", "--keys", "8"])
        await env.create_job(document)
        first = job_id(await env.wait_running("counter", generation=1, within=120))
        assert first is not None
        async with FlinkRestClient(url) as client:
            counted = await wait_count_at_least(client, first, 200, within=60)

            await env.patch_job_spec("counter", {"parallelism": 2})
            upgraded = await env.wait_running("counter", generation=2, within=120)
            second = job_id(upgraded)
            assert second not in (None, first)
            assert "savepoint-" in status_of(upgraded)["jobStatus"]["upgradeSavepointPath"]
            first_count, _ = await counter_gauges(client, str(second), within=60)
            assert first_count >= counted - 2, "the savepoint upgrade continues the count"
            counted = await wait_count_at_least(client, str(second), first_count + 100, within=60)

            await env.patch_job_spec("counter", {"parallelism": 1, "upgradeMode": "last-state"})
            restored = await env.wait_running("counter", generation=3, within=120)
            third = job_id(restored)
            assert third not in (None, first, second)
            assert "chk-" in status_of(restored)["jobStatus"]["upgradeSavepointPath"]
            third_count, _ = await counter_gauges(client, str(third), within=60)
            assert third_count > first_count, "the last-state upgrade restored from a retained checkpoint"

            await env.delete_job("counter")
            await env.wait_gone("job", "counter", within=60)
            jobs = {job.jid: job.state.value for job in await client.jobs_overview()}
            assert jobs[str(third)] == "CANCELED"
            assert [j for j, s in jobs.items() if s == "RUNNING"] == []
        print(f"\ncounted {counted}; last-state restore started at {third_count} per key")
    finally:
        await env.close()
        await flink.stop_all()
        await flink.close()
        left = processes_with_marker(str(state))
        kill_all(left)
        assert not left, f"Flink processes left: {left}"
