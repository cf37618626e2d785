"""The operator killed in the middle of a savepoint upgrade, at every step boundary, and a fresh operator
started on the same API server and Flink runtime: it converges to the new spec, the job's state continues
from the one savepoint taken, and exactly one job runs."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.deployment_driver import deployment_document
from tests.support.operator_env import OperatorEnv
from tests.support.pausing_flink import PausingFlink

from flink_operator.testing.fake_runtime import FakeFlinkService, wait_until_running
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

BOUNDARIES = [
    ("cancel_job", False),  # intent (stop marker) written, stop-with-savepoint not sent
    ("cancel_job", True),  # stopped with a savepoint, outcome (UPGRADING + path) not written
    ("delete_cluster", False),  # UPGRADING intent written, old cluster still there
    ("deploy_application_cluster", False),  # old cluster removed, new one not deployed
    ("deploy_application_cluster", True),  # new cluster deployed, outcome (DEPLOYED) not written
]


@pytest.mark.parametrize(
    ("method", "after"), BOUNDARIES, ids=[f"{'after' if a else 'before'}-{m}" for m, a in BOUNDARIES]
)
async def test_killed_mid_savepoint_upgrade_converges_once(
    api_server: EmbeddedApiServer, tmp_path: Any, fake_flink: FakeFlinkService, method: str, after: bool
) -> None:
    flink = PausingFlink(fake_flink)
    env = OperatorEnv(api_server, tmp_path, flink, {"execution.checkpointing.interval": "50 ms"})  # type: ignore[arg-type]
    await env.setup()
    try:
        first = await env.start_operator("operator-1")
        await env.create(
            deployment_document(
                "demo", upgrade_mode="savepoint", config={"execution.checkpointing.interval": "50 ms"}
            )
        )
        await env.wait_settled("demo", 1)
        old = await wait_until_running(fake_flink, env.ref("demo"))
        await until(lambda: old.count() > 30, what="the job counts")
        counted_before = old.count()

        flink.arm(method, after=after)
        await env.patch_job("demo", parallelism=2)
        await until(flink.paused.is_set, within=10, what=f"the operator reaches {method}")
        await first.kill()
        flink.disarm()

        await env.start_operator("operator-2")
        document = await env.wait_settled("demo", 2, within=20)
        new = await wait_until_running(fake_flink, env.ref("demo"))

        assert [job for _, job, _ in fake_flink.running_jobs()] == [new.jid], "exactly one job runs"
        assert new.jid != old.jid and new.parallelism == 2
        savepoints = [c for c in old.checkpoints.records if c.is_savepoint and c.status == "COMPLETED"]
        assert len(savepoints) == 1, f"{len(savepoints)} savepoints were taken"
        assert new.restored is not None and new.restored.path == savepoints[0].external_path
        assert new.restored.count >= counted_before, "the counter continues from the savepoint"
        assert len([d for d in fake_flink.deployed if d.generation == 2]) == 1, "the new spec deployed once"
        assert document["status"]["jobStatus"]["jobId"] == new.jid
        print(
            f"\nkilled {flink.frozen_at}: restored count {new.restored.count} (>= {counted_before}), "
            f"one savepoint, one deployment of generation 2"
        )
    finally:
        await env.close()
