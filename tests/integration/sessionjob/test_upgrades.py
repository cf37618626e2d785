"""Session-job upgrades, suspend/resume, restartNonce and manual savepoints on the fake Flink runtime: a
stateful upgrade continues the counter of the old job; a stateless one starts from zero."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.sessionjob_env import job_id, job_state, lifecycle, session_job, status_of

pytestmark = pytest.mark.integration


async def _running_with_checkpoint(env: Any, name: str, *, generation: int = 1) -> Any:
    document = await env.wait_running(name, generation=generation)
    job = env.fake_job("session", job_id(document))
    await until(
        lambda: job.count() > 20 and job.latest_completed() is not None,
        what="progress and a checkpoint",
    )
    return job


@pytest.mark.parametrize(
    ("mode", "final_state"),
    [("stateless", "CANCELED"), ("savepoint", "FINISHED"), ("last-state", "CANCELED")],
)
async def test_upgrade_modes(make_env: Any, mode: str, final_state: str) -> None:
    env = await make_env()
    await env.create_session("session")
    await env.create_job(session_job("job", "session", upgrade_mode=mode))
    old = await _running_with_checkpoint(env, "job")
    counted = old.count()
    await env.patch_job_spec("job", {"parallelism": 2})
    document = await env.wait_running("job", generation=2)
    new = env.fake_job("session", job_id(document))
    assert new.jid != old.jid and new.parallelism == 2
    assert old.state.value == final_state
    assert [jid for jid, _ in env.live_jobs("session")] == [new.jid], "exactly one job runs"
    if mode == "stateless":
        assert new.restored is None
        assert status_of(document)["jobStatus"].get("upgradeSavepointPath") is None
    else:
        assert new.restored is not None, "the new job restored the old job's state"
        assert new.restored.count > 0 and new.count() >= new.restored.count
        assert status_of(document)["jobStatus"]["upgradeSavepointPath"] == new.restored.path
        if mode == "savepoint":
            assert new.restored.count >= counted, "stop-with-savepoint captured the latest count"
            assert "savepoint" in new.restored.path
        else:
            assert "chk-" in new.restored.path, "last-state restores from the retained checkpoint"
    reasons = [e["reason"] for e in await env.job_events("job")]
    assert reasons.count("SpecChanged") == 1 and "Suspended" in reasons


async def test_suspend_and_resume_keep_state(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    await env.create_job(session_job("job", "session", upgrade_mode="savepoint"))
    old = await _running_with_checkpoint(env, "job")
    await env.patch_job_spec("job", {"state": "suspended"})
    suspended = await env.wait_job(
        "job", lambda d: lifecycle(d) == "SUSPENDED" and status_of(d).get("observedGeneration") == 2
    )
    assert env.live_jobs("session") == []
    saved = status_of(suspended)["jobStatus"]["upgradeSavepointPath"]
    assert saved and "savepoint" in saved
    await env.patch_job_spec("job", {"state": "running"})
    document = await env.wait_running("job", generation=3)
    new = env.fake_job("session", job_id(document))
    assert new.jid != old.jid
    assert new.restored is not None and new.restored.path == saved and new.restored.count >= 20


async def test_job_created_suspended_is_not_submitted(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    await env.create_job(session_job("job", "session", state="suspended"))
    await env.wait_job("job", lambda d: lifecycle(d) == "CREATED")
    await env.patch_job_spec("job", {"state": "running"})
    await env.wait_running("job", generation=2)
    assert len(env.live_jobs("session")) == 1


async def test_restart_nonce_restarts_the_job(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    await env.create_job(session_job("job", "session", upgrade_mode="last-state"))
    old = await _running_with_checkpoint(env, "job")
    await env.kube.patch(env.job_kind, "job", "default", {"spec": {"restartNonce": 7}})
    document = await env.wait_running("job", generation=2)
    assert job_id(document) != old.jid
    new = env.fake_job("session", job_id(document))
    assert new.restored is not None and new.restored.count > 0
    assert [jid for jid, _ in env.live_jobs("session")] == [new.jid]


async def test_manual_savepoint_through_the_trigger_nonce(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.snapshot.resource.enabled": "false"})
    await env.create_session("session")
    await env.create_job(session_job("job", "session", upgrade_mode="savepoint"))
    old = await _running_with_checkpoint(env, "job")
    await env.patch_job_spec("job", {"savepointTriggerNonce": 1})

    def taken(document: Any) -> bool:
        last = (status_of(document).get("jobStatus") or {}).get("savepointInfo", {}).get(
            "lastSavepoint"
        ) or {}
        return last.get("triggerNonce") == 1 and bool(last.get("location"))

    document = await env.wait_job("job", taken, what="the manual savepoint")
    assert job_id(document) == old.jid, "a manual savepoint does not restart the job"
    assert job_state(document) == "RUNNING"
    info = status_of(document)["jobStatus"]["savepointInfo"]
    assert info["lastSavepoint"]["triggerType"] == "MANUAL"
    assert not info.get("triggerId")


async def test_failed_job_is_restarted_when_configured(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.job.restart.failed": "true"})
    await env.create_session("session")
    await env.create_job(session_job("job", "session", upgrade_mode="last-state"))
    old = await _running_with_checkpoint(env, "job")
    env.fake.cluster(env.ref("session")).fail_job(old.jid, "boom", recoverable=False)
    document = await env.wait_job(
        "job", lambda d: job_id(d) not in (None, old.jid) and job_state(d) == "RUNNING", within=15
    )
    new = env.fake_job("session", job_id(document))
    assert new.restored is not None
    assert "Error" in [e["reason"] for e in await env.job_events("job")]
