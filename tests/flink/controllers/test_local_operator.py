"""The operator with the local runtime and real Flink 2.x: a FlinkDeployment of the counter job deploys,
upgrades with a savepoint (the count continues), shows its Web UI address, and is deleted without leaving a
process behind. The wiring is the real one (`flink_operator.app`) on the Kubernetes API emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.deployment_driver import deployment_document
from tests.support.flink_local import (
    counter_gauges,
    flink_home_for,
    processes_with_marker,
    wait_count_at_least,
)
from tests.support.operator_env import OperatorEnv

from flink_operator.flink.local.jobs import build_counter_job
from flink_operator.flink.rest import FlinkRestClient
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.flink


async def test_counter_job_deploys_upgrades_with_a_savepoint_and_is_deleted(
    api_server: EmbeddedApiServer, tmp_path: Path
) -> None:
    home = flink_home_for("v2_3")
    if home is None:
        pytest.skip("no Flink 2.x distribution installed")
    jar = build_counter_job(home, tmp_path / "job")
    state = tmp_path / "state"
    env = OperatorEnv(
        api_server,
        tmp_path,
        None,
        {
            "kubernetes.operator.runtime": "local",
            "kubernetes.operator.local.state-dir": str(state),
            "kubernetes.operator.observer.progress-check.interval": "500 ms",
        },
    )
    await env.setup()
    try:
        await env.start_operator("operator-1")
        document = deployment_document(
            "counter",
            upgrade_mode="savepoint",
            config={
                "execution.checkpointing.interval": "1 s",
                "execution.checkpointing.dir": f"file://{state}/checkpoints",
                "execution.checkpointing.savepoint-dir": f"file://{state}/savepoints",
                "taskmanager.numberOfTaskSlots": "2",
                "metrics.fetcher.update-interval": "500",
            },
        )
        document["spec"]["job"].update(jarURI=f"local://{jar}", args=["--sleepMs", "5", "--keys", "8"])
        await env.create(document)
        first = await env.wait_settled("counter", 1, within=120)
        url = first["status"]["clusterInfo"]["rest-url"]
        assert url.startswith("http://127.0.0.1:")
        job_id = first["status"]["jobStatus"]["jobId"]
        async with FlinkRestClient(url) as client:
            counted = await wait_count_at_least(client, job_id, 200, within=60)

        await env.patch_job("counter", parallelism=2)
        second = await env.wait_settled("counter", 2, within=180)
        new_job = second["status"]["jobStatus"]["jobId"]
        assert new_job != job_id
        assert "savepoint-" in second["status"]["jobStatus"]["upgradeSavepointPath"]
        async with FlinkRestClient(second["status"]["clusterInfo"]["rest-url"]) as client:
            first_count, _ = await counter_gauges(client, new_job, within=60)
        assert first_count >= counted - 2, "the restored job continues counting from the savepoint"
        print(f"\ncounted {counted} before the upgrade; the restored job's first count per key {first_count}")

        await env.delete("counter")
        await env.wait_for("counter", lambda d: d is None, within=60, what="the resource is gone")
        assert not processes_with_marker(str(state / "clusters")), "a Flink process was left behind"
    finally:
        await env.close()
