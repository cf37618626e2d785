"""A session job's failures through the real controller (API emulator, fake Flink): task failures that restart
the job become JobException events, a terminal failure puts the root cause into status.error and a Warning
Error event."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.sessionjob_env import error_text, job_id, job_state, lifecycle, session_job

from flink_operator.flink.service import ClusterRef

pytestmark = pytest.mark.integration


async def test_restarts_become_job_exception_events_and_a_failure_names_its_root_cause(make_env: Any) -> None:
    env = await make_env({"kubernetes.operator.events.exceptions.stacktrace-lines": "1"})
    await env.create_session("session")
    await env.create_job(session_job("job", "session"))
    jid = job_id(await env.wait_running("job"))
    cluster = env.fake.cluster(ClusterRef("default", "session"))

    for attempt in (1, 2):
        cluster.fail_job(jid, f"task went wrong {attempt}", recoverable=True)
        await until(lambda: env.fake_job("session", jid).state.value == "RUNNING", what="the job restarted")

    async def exception_events() -> list[dict[str, Any]]:
        return [e for e in await env.job_events("job") if e["reason"] == "JobException"]

    events = await _eventually(exception_events, lambda found: len(found) >= 2, "both restarts reported")
    first_lines = sorted(e["message"].splitlines()[0] for e in events)
    assert first_lines == [
        "java.lang.RuntimeException: task went wrong 1",
        "java.lang.RuntimeException: task went wrong 2",
    ]
    for event in events:
        assert event["type"] == "Warning" and event["source"]["component"] == "Job"
        assert len(event["message"].splitlines()) <= 3, "one stack trace line (and the rest counted)"
        assert "exception-timestamp" in event["metadata"]["annotations"]
        assert event["count"] == 1, "each exception is reported once"

    cluster.fail_job(jid, "the input is corrupt", recoverable=False)
    document = await env.wait_job(
        "job", lambda d: job_state(d) == "FAILED" and lifecycle(d) == "FAILED", what="FAILED", within=10.0
    )
    error = json.loads(document["status"]["error"])
    assert error["message"] == "the input is corrupt", error_text(document)
    assert error["type"] == "org.apache.flink.runtime.JobException"
    assert error["throwableList"][0]["type"] == "java.lang.RuntimeException"

    async def error_events() -> list[dict[str, Any]]:
        return [e for e in await env.job_events("job") if e["reason"] == "Error"]

    # The status is written before the events of the same step.
    errors = await _eventually(error_events, bool, "the Error event")
    assert [e["message"] for e in errors] == [f"Job {jid} (job) failed: the input is corrupt"]


async def _eventually(
    read: Callable[[], Awaitable[list[dict[str, Any]]]],
    done: Callable[[list[dict[str, Any]]], bool],
    what: str,
    within: float = 10.0,
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        found = await read()
        if done(found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {within:g} s (have {found})")
        await asyncio.sleep(0.05)
