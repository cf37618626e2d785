"""The operator killed in the middle of a session-job upgrade, at every step boundary, and a fresh one started
on the same API server and Flink runtime: it converges to the new spec, state continues from the snapshot
taken, and the new spec's job is submitted once — never a duplicate job."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.pausing_flink import PausingFlink
from tests.support.sessionjob_env import SessionJobEnv, job_id, session_job

from flink_operator.testing.fake_runtime import FakeFlinkService
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

BOUNDARIES = [
    ("cancel_job", False),  # intent written (savepoint: stop marker), the stop not sent
    ("cancel_job", True),  # the job stopped, the outcome (UPGRADING + new job id + restore path) not written
    ("submit_job", False),  # the UPGRADING intent written, nothing submitted
    ("submit_job", True),  # the new job submitted, the outcome (DEPLOYED) not written
]
CASES = [(mode, method, after) for mode in ("savepoint", "last-state") for method, after in BOUNDARIES]


@pytest.mark.parametrize(
    ("mode", "method", "after"),
    CASES,
    ids=[f"{m}-{'after' if a else 'before'}-{c}" for m, c, a in CASES],
)
async def test_killed_mid_upgrade_converges_without_a_duplicate_job(
    api_server: EmbeddedApiServer,
    tmp_path: Any,
    fake_flink: FakeFlinkService,
    mode: str,
    method: str,
    after: bool,
) -> None:
    flink = PausingFlink(fake_flink)
    env = SessionJobEnv(api_server, tmp_path, fake_flink, service=flink)
    await env.setup()
    try:
        first = await env.start_operator("operator-1")
        await env.create_session("session")
        await env.create_job(session_job("job", "session", upgrade_mode=mode))
        old = env.fake_job("session", job_id(await env.wait_running("job")))
        await until(lambda: old.count() > 30 and old.latest_completed() is not None, what="progress")
        counted_before = old.count()

        flink.arm(method, after=after)
        await env.patch_job_spec("job", {"parallelism": 2})
        await until(flink.paused.is_set, within=10, what=f"the operator reaches {method}")
        await first.kill()
        flink.disarm()

        await env.start_operator("operator-2")
        document = await env.wait_running("job", generation=2, within=20)
        new = env.fake_job("session", job_id(document))

        assert env.live_jobs("session") == [(new.jid, "RUNNING")], "exactly one job runs"
        assert len(env.all_jobs("session")) == 2, f"jobs ever submitted: {env.all_jobs('session')}"
        assert new.jid != old.jid and new.parallelism == 2
        assert new.restored is not None, "the new job restored the old job's state"
        if mode == "savepoint":
            savepoints = [c for c in old.checkpoints.records if c.is_savepoint and c.status == "COMPLETED"]
            assert len(savepoints) == 1, f"{len(savepoints)} savepoints were taken"
            assert new.restored.path == savepoints[0].external_path
            assert new.restored.count >= counted_before, "the counter continues from the savepoint"
        else:
            assert "chk-" in new.restored.path and new.restored.count > 0
    finally:
        await env.close()
