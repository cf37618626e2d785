"""Deleting a session cluster and its session jobs in every order converges (upstream wedged here:
FLINK-39618, FLINK-37766, FLINK-39271). A session with session jobs is not torn down under them: it says
which ones block it (Warning + condition) and proceeds once they are being deleted and have cancelled their
jobs. Unmanaged jobs and an unreachable session hold nothing forever."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.support.operator_env import condition
from tests.support.sessionjob_env import error_text, job_id, session_job

from flink_operator.controllers.sessionjob import FORCE_DELETION_ANNOTATION
from flink_operator.flink.service import JobSpec, SessionJobRequest

pytestmark = pytest.mark.integration

NAMES = ("one", "two")


async def _session_with_jobs(env: Any) -> dict[str, str]:
    await env.create_session("session")
    for name in NAMES:
        await env.create_job(session_job(name, "session"))
    ids: dict[str, str] = {}
    for name in NAMES:
        jid = job_id(await env.wait_running(name))
        assert jid is not None
        ids[name] = jid
    return ids


async def _all_gone(env: Any, *, within: float = 15.0) -> None:
    for name in NAMES:
        await env.wait_gone("job", name, within=within)
    await env.wait_gone("session", "session", within=within)
    assert env.fake.running_jobs() == []


async def test_session_first_is_blocked_by_its_jobs_then_proceeds(make_env: Any) -> None:
    env = await make_env()
    ids = await _session_with_jobs(env)
    await env.delete_session("session")
    blocked = await env.wait_for(
        "session", lambda d: condition(d, "DeletionBlocked").get("status") == "True", what="blocked"
    )
    assert condition(blocked, "DeletionBlocked")["reason"] == "SessionJobsExist"
    assert "The session jobs [one, two] should be deleted first" in error_text(blocked)
    warnings = await env.wait_session_events("session", "CleanupFailed")
    assert "[one, two]" in warnings[0]["message"]
    assert sorted(jid for jid, _ in env.live_jobs("session")) == sorted(ids.values()), "jobs keep running"
    for name in NAMES:
        await env.delete_job(name)
    await _all_gone(env)
    job_warnings = [e for name in NAMES for e in await env.job_events(name) if e["reason"] == "CleanupFailed"]
    assert job_warnings == [], "the jobs were cancelled normally: the session waited for them"


async def test_jobs_first_then_session(make_env: Any) -> None:
    env = await make_env()
    ids = await _session_with_jobs(env)
    for name in NAMES:
        await env.delete_job(name)
    for name in NAMES:
        await env.wait_gone("job", name)
    assert env.all_jobs("session") == {jid: "CANCELED" for jid in ids.values()}
    await env.delete_session("session")
    await _all_gone(env)


async def test_session_and_jobs_deleted_at_once(make_env: Any) -> None:
    env = await make_env()
    ids = await _session_with_jobs(env)
    cluster = env.fake.cluster(env.ref("session"))
    await asyncio.gather(env.delete_session("session"), *(env.delete_job(name) for name in NAMES))
    await _all_gone(env)
    assert {jid: cluster.jobs[jid].state.value for jid in ids.values()} == dict.fromkeys(
        ids.values(), "CANCELED"
    )
    cancelled = [e for name in NAMES for e in await env.job_events(name) if e["reason"] == "CleanupFailed"]
    assert cancelled == [], f"every job was cancelled while the session waited: {cancelled}"


async def test_unreachable_session_and_its_jobs_converge(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.jm-deployment-recovery.enabled": "false"})
    await _session_with_jobs(env)
    env.kill_session_jobmanager("session")
    await env.wait_for(
        "session", lambda d: (d or {}).get("status", {}).get("jobManagerDeploymentStatus") == "MISSING"
    )
    await env.delete_session("session")
    for name in NAMES:
        await env.delete_job(name)
    await _all_gone(env)


async def test_unmanaged_jobs_hold_the_session_for_a_bounded_time(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    unmanaged = "ab" * 16
    await env.fake.submit_job(
        SessionJobRequest(
            cluster=env.ref("session"),
            job_name="by-hand",
            job=JobSpec(None, "demo.CounterJob"),
            job_id=unmanaged,
        )
    )
    await env.delete_session("session")
    waiting = await env.wait_for(
        "session", lambda d: condition(d, "DeletionBlocked").get("reason") == "UnmanagedJobsRunning"
    )
    assert unmanaged in condition(waiting, "DeletionBlocked")["message"]
    await env.wait_gone("session", "session", within=10)
    warnings = [e["message"] for e in await env.session_events("session") if e["reason"] == "CleanupFailed"]
    assert any("although jobs" in m and unmanaged in m for m in warnings), warnings


async def test_force_deletion_skips_the_wait_and_jobs_follow(make_env: Any) -> None:
    env = await make_env()
    await _session_with_jobs(env)
    await env.delete_session("session")
    await env.wait_for("session", lambda d: condition(d, "DeletionBlocked").get("status") == "True")
    await env.annotate_session("session", {FORCE_DELETION_ANNOTATION: "true"})
    await env.wait_gone("session", "session", within=5)
    for name in NAMES:
        await env.wait_job(name, lambda d: "not found" in error_text(d), what="the job sees its session gone")
        await env.delete_job(name)
    await _all_gone(env, within=5)


async def test_without_blocking_the_session_goes_with_its_jobs(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.session.deletion.block-on-session-jobs": "false"})
    await _session_with_jobs(env)
    await env.delete_session("session")
    await env.wait_gone("session", "session", within=5)
    for name in NAMES:
        await env.delete_job(name)
    await _all_gone(env, within=5)
