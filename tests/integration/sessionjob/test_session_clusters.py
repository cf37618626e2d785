"""Session clusters (FlinkDeployments without `spec.job`) through the real operator on the fake runtime:
deploy -> STABLE once REST answers (Running/Ready from the JobManager), a spec change redeploys keeping HA
data and the session jobs come back, a lost JobManager is recovered."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.operator_env import condition
from tests.support.sessionjob_env import job_id, session_job, status_of

pytestmark = pytest.mark.integration


async def test_session_cluster_becomes_stable_with_conditions(make_env: Any) -> None:
    env = await make_env()
    document = await env.create_session("session")
    status = status_of(document)
    assert status["observedGeneration"] == 1
    assert status["clusterInfo"]["rest-url"].startswith("http://127.0.0.1:")
    assert not (status.get("jobStatus") or {}).get("state"), "a session cluster has no job of its own"
    running = condition(document, "Running")
    assert running["status"] == "True" and running["reason"] == "JobManagerReady"
    assert condition(document, "Ready")["status"] == "True"
    deployed = [r for r in env.fake.deployed if r.ref == env.ref("session")]
    assert len(deployed) == 1 and deployed[0].job is None
    assert deployed[0].configuration["execution.target"] == "kubernetes-session"
    assert "Submit" in [e["reason"] for e in await env.session_events("session")]


async def test_spec_change_redeploys_and_session_jobs_come_back(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    await env.create_job(session_job("stateless", "session"))
    await env.create_job(session_job("stateful", "session", upgrade_mode="savepoint"))
    before = {name: job_id(await env.wait_running(name)) for name in ("stateless", "stateful")}
    stateful = env.fake_job("session", before["stateful"])
    old_cluster = env.fake.cluster(env.ref("session"))
    await env.wait_for("session", lambda _: stateful.latest_completed() is not None, what="a checkpoint")

    await env.patch_session("session", {"flinkConfiguration": {"taskmanager.numberOfTaskSlots": "6"}})
    await env.wait_session("session", generation=2)
    assert env.fake.cluster(env.ref("session")) is not old_cluster, "the session cluster was deployed again"
    assert "SpecChanged" in [e["reason"] for e in await env.session_events("session")]

    after = {name: job_id(await env.wait_running(name, within=15)) for name in ("stateless", "stateful")}
    assert all(after[name] != before[name] for name in after)
    assert sorted(jid for jid, _ in env.live_jobs("session")) == sorted(after.values())
    restored = env.fake_job("session", after["stateful"]).restored
    assert restored is not None and restored.count > 0, "the stateful job continued from its checkpoint"
    assert env.fake_job("session", after["stateless"]).restored is None


async def test_lost_session_jobmanager_is_recovered(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    first = env.fake.cluster(env.ref("session"))
    env.kill_session_jobmanager("session")
    await env.wait_for(
        "session", lambda _: env.fake.cluster(env.ref("session")) is not first, what="redeployed"
    )
    await env.wait_session("session")
    assert "RecoverDeployment" in [e["reason"] for e in await env.session_events("session")]
