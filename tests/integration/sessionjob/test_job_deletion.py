"""Deleting FlinkSessionJobs: the job is cancelled while the session answers, and the finalizer is released in
bounded time when it does not (session gone, not ready, unreachable, forced) — never a wedged resource."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.sessionjob_env import job_id, session_job

from flink_operator.controllers.sessionjob import FORCE_DELETION_ANNOTATION

pytestmark = pytest.mark.integration


async def _running(env: Any, name: str = "job", **kwargs: Any) -> str:
    await env.create_job(session_job(name, "session", **kwargs))
    document = await env.wait_running(name)
    jid = job_id(document)
    assert jid is not None
    return jid


async def test_deleting_a_job_cancels_it(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    jid = await _running(env)
    await env.delete_job("job")
    await env.wait_gone("job", "job")
    assert env.all_jobs("session") == {jid: "CANCELED"}
    events = await env.job_events("job")
    assert "Cleanup" in [e["reason"] for e in events]
    assert "CleanupFailed" not in [e["reason"] for e in events]


async def test_savepoint_on_deletion_stops_with_a_savepoint(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.job.savepoint-on-deletion": "true"})
    await env.create_session("session")
    jid = await _running(env, upgrade_mode="savepoint")
    job = env.fake_job("session", jid)
    await env.delete_job("job")
    await env.wait_gone("job", "job")
    assert job.state.value == "FINISHED"
    assert any(c.is_savepoint and c.status == "COMPLETED" for c in job.checkpoints.records)


async def test_job_of_a_vanished_session_is_released_at_once(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.session.deletion.block-on-session-jobs": "false"})
    await env.create_session("session")
    await _running(env)
    await env.delete_session("session")
    await env.wait_gone("session", "session")
    await env.delete_job("job")
    await env.wait_gone("job", "job", within=2)


NO_RECOVERY = {"kubernetes.operator.jm-deployment-recovery.enabled": "false"}


async def _session_down(env: Any, name: str = "session") -> None:
    env.kill_session_jobmanager(name)
    await env.wait_job(
        "job",
        lambda d: "not ready (JobManager MISSING)" in str(d and d.get("status")),
        what="the session is down",
    )


async def test_session_not_ready_without_ha_releases_at_once(make_env: Any) -> None:
    env = await make_env(NO_RECOVERY)
    await env.create_session("session")
    await _running(env)
    await _session_down(env)
    await env.delete_job("job")
    await env.wait_gone("job", "job", within=2)


async def test_session_not_ready_with_ha_is_waited_for_then_released_with_a_warning(make_env: Any) -> None:
    env = await make_env(NO_RECOVERY)
    await env.create_session(
        "session",
        config={"high-availability.type": "kubernetes", "high-availability.storageDir": "file:///tmp/ha"},
    )
    jid = await _running(env)
    await _session_down(env)
    await env.delete_job("job")
    document = await env.get_job("job")
    assert document is not None, "with HA the job may come back: the operator waits for the session"
    await env.wait_gone("job", "job", within=10)
    warnings = [e for e in await env.job_events("job") if e["reason"] == "CleanupFailed"]
    assert len(warnings) == 1 and warnings[0]["type"] == "Warning"
    message = warnings[0]["message"]
    assert jid in message and "could not be cancelled" in message and "not ready" in message


async def test_unreachable_session_releases_after_the_timeout(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    jid = await _running(env)
    env.fake.fail_rest(env.ref("session"), status=503, times=None, path="/jobs*")
    await env.delete_job("job")
    await env.wait_gone("job", "job", within=10)
    warnings = [e for e in await env.job_events("job") if e["reason"] == "CleanupFailed"]
    assert warnings and "did not answer" in warnings[-1]["message"] and jid in warnings[-1]["message"]


async def test_force_annotation_releases_without_cancelling(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.session.deletion.job-cancel.timeout": "1 h"})
    await env.create_session("session")
    jid = await _running(env)
    env.fake.fail_rest(env.ref("session"), status=503, times=None, path="/jobs*")
    await env.delete_job("job")
    await env.annotate_job("job", {FORCE_DELETION_ANNOTATION: "true"})
    await env.wait_gone("job", "job", within=3)
    env.fake.clear_faults(env.ref("session"))
    assert env.all_jobs("session") == {jid: "RUNNING"}, "forced: the job was not cancelled"
    warnings = [e for e in await env.job_events("job") if e["reason"] == "CleanupFailed"]
    assert warnings and FORCE_DELETION_ANNOTATION in warnings[-1]["message"]


async def test_delete_kill_operator_and_resubmit(make_env: Any) -> None:
    """Upstream's sessionjob e2e step: delete the job, kill the operator, submit the same resource again."""
    env = await make_env()
    await env.create_session("session")
    first = await _running(env)
    await env.delete_job("job")
    await env.wait_gone("job", "job")
    await env.operators[-1].kill()
    await env.start_operator("operator-2")
    second = await _running(env)
    assert second != first
    assert env.live_jobs("session") == [(second, "RUNNING")]
