"""Submitting FlinkSessionJobs to session clusters: the controller on the API emulator with the fake Flink."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.sessionjob_env import error_text, job_id, job_state, lifecycle, session_job

from flink_operator.api import FINALIZER_FLINK_SESSION_JOB
from flink_operator.flink.service import ClusterRef
from flink_operator.runtime.kinds import NAMESPACE

pytestmark = pytest.mark.integration

RECORDER = "tests.support.plugin_classes:RecordingListener"


async def test_job_is_submitted_to_the_named_session_and_runs(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    await env.create_job(session_job("job", "session"))
    document = await env.wait_running("job", generation=1)
    jid = job_id(document)
    assert jid is not None and len(jid) == 32
    assert FINALIZER_FLINK_SESSION_JOB in document["metadata"]["finalizers"]
    assert env.live_jobs("session") == [(jid, "RUNNING")]
    reasons = [e["reason"] for e in await env.job_events("job")]
    assert "Submit" in reasons and "JobStatusChanged" in reasons
    assert not error_text(document)
    stored = json.loads(document["status"]["reconciliationStatus"]["lastReconciledSpec"])
    assert stored["spec"]["deploymentName"] == "session" and stored["spec"]["job"]["state"] == "running"
    job = env.fake.cluster(ClusterRef("default", "session")).jobs[jid]
    assert job.name == "job", "pipeline.name is the resource name"


async def test_several_jobs_share_one_session(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    for name in ("alpha", "beta", "gamma"):
        await env.create_job(session_job(name, "session"))
    ids = {job_id(await env.wait_running(name)) for name in ("alpha", "beta", "gamma")}
    assert len(ids) == 3
    assert sorted(jid for jid, _ in env.live_jobs("session")) == sorted(ids)


async def test_identical_names_in_two_namespaces_both_run(make_env: Any) -> None:
    env = await make_env()
    await env.kube.create(NAMESPACE, {"metadata": {"name": "flink"}}, None)
    for namespace in ("default", "flink"):
        await env.create_session("session", namespace=namespace)
        await env.create_job(session_job("job", "session", namespace=namespace))
    first = await env.wait_running("job", namespace="default")
    second = await env.wait_running("job", namespace="flink")
    assert job_id(first) != job_id(second)
    assert [jid for jid, _ in env.live_jobs("session", namespace="default")] == [job_id(first)]
    assert [jid for jid, _ in env.live_jobs("session", namespace="flink")] == [job_id(second)]


async def test_job_waits_for_a_missing_session_then_runs(make_env: Any) -> None:
    env = await make_env()
    await env.create_job(session_job("job", "later"))
    document = await env.wait_job(
        "job",
        lambda d: "session cluster default/later not found" in error_text(d),
        what="the waiting message",
    )
    assert lifecycle(document) == "CREATED", "waiting is not a failure"
    assert job_state(document) is None
    events = await env.job_events("job")
    waiting = [e for e in events if e["reason"] == "SessionClusterNotReady"]
    assert len(waiting) == 1 and waiting[0]["type"] == "Warning"
    assert "default/later not found" in waiting[0]["message"]
    await env.create_session("later")
    document = await env.wait_running("job")
    assert not error_text(document)


async def test_job_waits_while_the_session_is_not_ready(make_env: Any) -> None:
    env = await make_env(ready_delay=2.0)
    await env.create_session("session", ready=False)
    await env.create_job(session_job("job", "session"))
    await env.wait_job(
        "job",
        lambda d: "session cluster default/session not ready (JobManager DEPLOYING)" in error_text(d),
        what="the not-ready message",
    )
    assert env.all_jobs("session") == {}
    await env.wait_running("job", within=15)
    events = [e for e in await env.job_events("job") if e["reason"] == "SessionClusterNotReady"]
    assert len(events) == 1 and events[0]["type"] == "Normal"


async def test_a_failed_submission_is_retried_under_the_recorded_job_id(make_env: Any) -> None:
    env = await make_env()
    await env.create_session("session")
    env.fake.fail_rest(ClusterRef("default", "session"), status=500, times=2, path="/jars/*/run")
    await env.create_job(session_job("job", "session"))
    failed = await env.wait_job("job", lambda d: "injected failure" in error_text(d), what="the failure")
    recorded = job_id(failed)
    assert recorded is not None and job_state(failed) == "RECONCILING"
    assert failed["status"]["reconciliationStatus"]["state"] == "UPGRADING"
    document = await env.wait_running("job", within=15)
    assert job_id(document) == recorded
    assert list(env.all_jobs("session")) == [recorded], "exactly one job was ever started"


async def test_invalid_session_job_is_reported_and_not_submitted(make_env: Any) -> None:
    env = await make_env()
    bad = session_job("job", "session")
    bad["spec"]["job"]["jarURI"] = "ftp://example.com/job.jar"
    await env.create_session("session")
    await env.create_job(bad)
    document = await env.wait_job("job", lambda d: "jarURI" in error_text(d), what="the validation error")
    assert lifecycle(document) == "FAILED"
    assert env.all_jobs("session") == {}
    assert "ValidationError" in [e["reason"] for e in await env.job_events("job")]


async def test_listeners_hear_session_job_statuses_events_and_the_final_status(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.plugins.listeners.recorder.class": RECORDER})
    await env.create_session("session")
    await env.create_job(session_job("job", "session"))
    await env.wait_running("job")
    operator = env.operators[-1]
    recorder = next(p.instance for p in operator.plugins.plugins.listeners if p.name == "recorder")

    def heard(method: str, check: Any) -> bool:
        return any(m == method and check(ctx) for m, ctx in recorder.heard)

    def lifecycle_of(ctx: Any) -> str | None:
        state = ctx.new_status.lifecycle_state
        return state.value if state is not None else None

    await until(
        lambda: heard("on_session_job_status_update", lambda c: lifecycle_of(c) == "STABLE"),
        what="STABLE heard",
    )
    await until(
        lambda: heard("on_session_job_event", lambda c: c.event.reason == "Submit"), what="Submit heard"
    )
    await env.delete_job("job")
    await env.wait_gone("job", "job")
    await until(
        lambda: heard("on_session_job_status_update", lambda c: lifecycle_of(c) == "DELETED"),
        what="DELETED heard",
    )
