"""A session cluster and its FlinkSessionJob through the operator's real wiring on the Kubernetes runtime
(native and standalone), against the API emulator: the session's objects are created without a job, the
session job is submitted to the Flink REST endpoint of that cluster, deleting the session while the job runs
is held back (DeletionBlocked) until the job is deleted, and then nothing of the session is left.
"""

from __future__ import annotations

import asyncio
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.kube_operator_env import KubeOperatorStack
from tests.support.operator_env import for_creation
from tests.support.sessionjob_env import SESSION_FAST, job_state, lifecycle, session_document, session_job

from flink_operator.controllers.sessionjob import FLINK_SESSION_JOB
from flink_operator.flink.service import ClusterRef
from flink_operator.runtime import status_code

pytestmark = pytest.mark.integration

JSON = dict[str, Any]
SESSION = "sessions"
REF = ClusterRef("default", SESSION)


async def get_job(stack: KubeOperatorStack, name: str) -> JSON | None:
    try:
        return await stack.env.kube.get(FLINK_SESSION_JOB, name, "default")
    except Exception as error:
        if status_code(error) == 404:
            return None
        raise


async def wait_job(
    stack: KubeOperatorStack, name: str, predicate: Callable[[JSON | None], bool], what: str
) -> JSON | None:
    deadline = time.monotonic() + 15.0
    while not predicate(document := await get_job(stack, name)):
        assert time.monotonic() < deadline, (
            f"{name}: {what} not reached; status {(document or {}).get('status')}"
        )
        await asyncio.sleep(0.05)
    return document


@pytest.mark.parametrize(
    ("mode", "flink_version", "taskmanager_object"),
    [
        ("native", "v2_3", None),
        ("standalone", "v1_20", "Deployment/sessions-taskmanager"),
    ],
)
async def test_session_cluster_runs_a_session_job_and_is_deleted_after_it(
    stack: KubeOperatorStack, tmp_path: Path, mode: str, flink_version: str, taskmanager_object: str | None
) -> None:
    world, env = stack.world, stack.env
    env.config.update(SESSION_FAST)  # the operator uploads the job's jar from a file:// URI
    env.config_file.write_text(yaml.safe_dump(env.config))
    await env.start_operator()
    async with world.kubelet():
        document = session_document(SESSION)
        document["spec"]["mode"] = mode
        document["spec"]["flinkVersion"] = flink_version
        await env.create(document)
        status = (await env.wait_settled(SESSION, 1))["status"]
        assert status["jobManagerDeploymentStatus"] == "READY"
        assert "jobStatus" not in status or not (status["jobStatus"] or {}).get("jobId")
        objects = world.objects_of(REF)
        expected = {
            "ConfigMap/flink-config-sessions",
            "Deployment/sessions",
            "Service/sessions",
            "Service/sessions-rest",
        }
        assert set(objects) == expected | ({taskmanager_object} if taskmanager_object else set())
        configuration = world.cluster_configuration(REF)
        assert "$internal.pipeline.job-id" not in configuration, "a session cluster starts no job"
        assert not world.fake_cluster(REF).jobs

        jar = tmp_path / "counter-job.jar"
        with zipfile.ZipFile(jar, "w") as archive:  # the fake cluster looks for the entry class in it
            archive.writestr("demo/CounterJob.class", b"\xca\xfe\xba\xbe")
        job = session_job("counter", SESSION)
        job["spec"]["job"]["jarURI"] = jar.as_uri()
        await env.kube.create(FLINK_SESSION_JOB, for_creation(job), "default")
        running = await wait_job(
            stack,
            "counter",
            lambda d: lifecycle(d) == "STABLE" and job_state(d) == "RUNNING",
            "the session job STABLE and RUNNING",
        )
        assert running is not None
        jid = running["status"]["jobStatus"]["jobId"]
        assert [j for j, job in world.fake_cluster(REF).jobs.items() if job.state.value == "RUNNING"] == [jid]

        # The session is not torn down under its job: deletion waits, saying why.
        await env.delete(SESSION)

        def blocked(d: JSON | None) -> bool:
            conditions = ((d or {}).get("status") or {}).get("conditions") or []
            return any(c.get("type") == "DeletionBlocked" and c.get("status") == "True" for c in conditions)

        await env.wait_for(SESSION, blocked, what="DeletionBlocked while the session job exists")
        assert world.fake_cluster(REF).jobs[jid].state.value == "RUNNING"

        await env.kube.delete(FLINK_SESSION_JOB, "counter", "default")
        await wait_job(stack, "counter", lambda d: d is None, "the session job deleted")
        await env.wait_for(SESSION, lambda d: d is None, within=20.0, what="the session deleted")
        await world.wait_gone(REF)
    warnings = [(e["reason"], e["message"]) for e in await env.events(SESSION) if e.get("type") == "Warning"]
    assert {reason for reason, _ in warnings} == {"CleanupFailed"}, "only the deletion held back"
    assert "[counter] should be deleted first" in warnings[0][1]
