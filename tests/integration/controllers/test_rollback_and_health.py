"""Rollback, cancel-deploy, job health and failures through the real operator wiring (API emulator, fake
Flink runtime): rollbacks after broken upgrades keep the job's state (with and without HA), the cancel-deploy
annotation, a user change during a rollback, unhealthy jobs restarted from their latest checkpoint, failed
jobs with their root cause and JobException events, finished jobs that never loop, JobResultStore pruning."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.deployment_driver import deployment_document
from tests.support.operator_env import condition, lifecycle

from flink_operator.api import read_spec_with_meta
from flink_operator.controllers.deployment.controller import FLINK_DEPLOYMENT
from flink_operator.flink.rest import JobState
from flink_operator.testing.fake_runtime import FakeFlinkService, wait_until_running

pytestmark = pytest.mark.integration

CHECKPOINTING = {"execution.checkpointing.interval": "50 ms"}
ROLLBACK = {
    "kubernetes.operator.deployment.rollback.enabled": "true",
    "kubernetes.operator.deployment.readiness.timeout": "2 s",
}
CANCEL_DEPLOY = "flink.apache.org/cancel-deploy"


def reconciled_job(document: dict[str, Any]) -> dict[str, Any]:
    text = document["status"]["reconciliationStatus"]["lastReconciledSpec"]
    job = read_spec_with_meta(text).spec["job"]
    assert isinstance(job, dict)
    return job


def error_of(document: dict[str, Any] | None) -> dict[str, Any]:
    text = ((document or {}).get("status") or {}).get("error")
    return json.loads(text) if text else {}


async def stable_counting(env: Any, fake_flink: FakeFlinkService, config: dict[str, str], mode: str) -> Any:
    await env.create(deployment_document("demo", upgrade_mode=mode, config=config))
    await env.wait_settled("demo", 1)
    job = await wait_until_running(fake_flink, env.ref("demo"))
    await until(
        lambda: job.count() > 20 and job.latest_completed() is not None, what="progress and a checkpoint"
    )
    return job


async def job_exception_events(env: Any, within: float = 10.0) -> list[dict[str, Any]]:
    """The JobException events of `demo`, once there is at least one."""
    deadline = time.monotonic() + within
    while True:
        found = [e for e in await env.events("demo") if e["reason"] == "JobException"]
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"no JobException event within {within:g} s")
        await asyncio.sleep(0.05)


async def annotate(env: Any, annotations: dict[str, str | None]) -> None:
    await env.kube.patch(FLINK_DEPLOYMENT, "demo", "default", {"metadata": {"annotations": annotations}})


async def test_a_broken_upgrade_is_rolled_back_keeping_the_state(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    env = await make_env()
    old = await stable_counting(env, fake_flink, {**CHECKPOINTING, **ROLLBACK}, "savepoint")
    counted = old.count()
    # The new spec's job fails at start (the counter job refuses --keys 0).
    await env.patch_job("demo", parallelism=2, args=["--keys", "0"])
    failed = await env.wait_for("demo", lambda d: lifecycle(d) == "FAILED", what="the new job FAILED")
    assert error_of(failed)["message"] == "The main method caused an error: --keys must be at least 1, got 0"
    upgrade_savepoint = failed["status"]["jobStatus"]["upgradeSavepointPath"]

    document = await env.wait_settled("demo", 2, state="ROLLED_BACK", within=20.0)
    job = await wait_until_running(fake_flink, env.ref("demo"))
    assert job.parallelism == 1 and "--keys" not in job.program_args, "the last stable spec runs"
    assert job.restored is not None and job.restored.path == upgrade_savepoint
    assert job.restored.count >= counted, "the count continues from the upgrade savepoint"
    status = document["status"]
    # The user's spec is kept as the reconciled one; the stable spec is what runs.
    assert reconciled_job(document)["parallelism"] == 2 and status["observedGeneration"] == 2
    assert status["reconciliationStatus"]["state"] == "ROLLED_BACK"
    ready = condition(document, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "RolledBack")
    events = await env.events("demo")
    [rollback] = [e for e in events if e["reason"] == "Rollback"]
    assert rollback["message"].startswith(
        "Rolling back failed deployment. The deployment did not become stable"
    )
    assert upgrade_savepoint in rollback["message"]
    # It stays rolled back (no loop back to the broken spec) until the user changes the spec.
    await until(lambda: job.count() > job.restored.count + 20, what="the rolled-back job counts")  # type: ignore[union-attr]
    again = await env.get("demo")
    assert (
        lifecycle(again) == "ROLLED_BACK"
        and [e["reason"] for e in await env.events("demo")].count("Rollback") == 1
    )

    # A fixed spec is a normal upgrade from the rolled-back job, keeping its state.
    before = job.count()
    await env.patch_job("demo", args=["--keys", "4"])
    await env.wait_settled("demo", 3, within=15.0)
    fixed = await wait_until_running(fake_flink, env.ref("demo"))
    assert fixed.parallelism == 2 and fixed.restored is not None and fixed.restored.count >= before


async def test_a_stuck_last_state_upgrade_with_ha_rolls_back_to_the_same_job(
    make_env: Any, fake_flink: FakeFlinkService, tmp_path: Path
) -> None:
    ha = {"high-availability.type": "zookeeper", "high-availability.storageDir": f"file://{tmp_path / 'ha'}"}
    env = await make_env()
    old = await stable_counting(env, fake_flink, {**CHECKPOINTING, **ROLLBACK, **ha}, "last-state")
    # Every deployment of the new spec fails (e.g. an image that cannot be pulled): UPGRADING, never DEPLOYED.
    fake_flink.fail_next_deploy("the image cannot be pulled", count=1000)
    await env.patch_job("demo", parallelism=2)
    await env.wait_for("demo", lambda d: lifecycle(d) == "UPGRADING", what="upgrading")
    await until(lambda: not fake_flink.running_jobs(), what="the old job was taken down")
    rolling = await env.wait_for(
        "demo", lambda d: lifecycle(d) == "ROLLING_BACK", what="the rollback starts", within=15.0
    )
    assert reconciled_job(rolling)["upgradeMode"] == "last-state"
    fake_flink._deploy_failures.clear()
    await env.wait_settled("demo", 2, state="ROLLED_BACK", within=15.0)
    job = await wait_until_running(fake_flink, env.ref("demo"))
    assert job.jid == old.jid, "HA resumes the same job"
    assert job.restored is not None and job.restored.count > 0 and job.parallelism == 1


async def test_cancel_deploy_returns_to_the_last_stable_spec_at_once(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    env = await make_env()
    old = await stable_counting(env, fake_flink, CHECKPOINTING, "savepoint")
    counted = old.count()
    # Rollback is not enabled: the broken spec would stay FAILED.
    await env.patch_job("demo", args=["--keys", "0"])
    await env.wait_for("demo", lambda d: lifecycle(d) == "FAILED", what="the new job FAILED")
    await annotate(env, {CANCEL_DEPLOY: "true"})
    document = await env.wait_settled("demo", 2, state="ROLLED_BACK", within=10.0)
    assert CANCEL_DEPLOY not in (document["metadata"].get("annotations") or {}), "the request is consumed"
    job = await wait_until_running(fake_flink, env.ref("demo"))
    assert job.restored is not None and job.restored.count >= counted
    messages = [e["message"] for e in await env.events("demo") if e["reason"] == "Rollback"]
    assert len(messages) == 1 and CANCEL_DEPLOY in messages[0]

    # Nothing in flight: the request is consumed with an event saying so.
    await annotate(env, {CANCEL_DEPLOY: "true"})
    await env.wait_for(
        "demo",
        lambda d: CANCEL_DEPLOY not in ((d or {})["metadata"].get("annotations") or {}),
        what="the annotation is removed",
    )
    notes = [e["message"] for e in await env.events("demo") if e["reason"] == "Rollback"]
    assert any(m.startswith("Nothing to cancel") for m in notes), notes
    assert lifecycle(await env.get("demo")) == "ROLLED_BACK"


async def test_a_user_change_during_the_rollback_wins(make_env: Any, fake_flink: FakeFlinkService) -> None:
    env = await make_env()
    old = await stable_counting(env, fake_flink, {**CHECKPOINTING, **ROLLBACK}, "savepoint")
    counted = old.count()
    fake_flink.fail_next_deploy("the image cannot be pulled", count=1000)
    await env.patch_job("demo", parallelism=2)
    await env.wait_for(
        "demo", lambda d: lifecycle(d) == "ROLLING_BACK", what="the rollback starts", within=15.0
    )
    await env.patch_job("demo", parallelism=3)
    fake_flink._deploy_failures.clear()
    document = await env.wait_settled("demo", 3, within=15.0)
    assert document["status"]["reconciliationStatus"]["state"] == "DEPLOYED"
    job = await wait_until_running(fake_flink, env.ref("demo"))
    assert job.parallelism == 3 and job.restored is not None and job.restored.count >= counted


async def test_an_unhealthy_job_is_restarted_from_its_latest_checkpoint(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    config = {
        **CHECKPOINTING,
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "1000",
        "kubernetes.operator.cluster.health-check.enabled": "true",
        "kubernetes.operator.cluster.health-check.restarts.threshold": "2",
        "kubernetes.operator.cluster.health-check.restarts.window": "1 min",
    }
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="savepoint", config=config))
    await env.wait_settled("demo", 1)
    first = await wait_until_running(fake_flink, env.ref("demo"))
    # The job starts failing every 300 ms (restarting each time).
    await env.patch_job("demo", args=["--failEveryMs", "300"])
    await env.wait_settled("demo", 2)
    failing = await wait_until_running(fake_flink, env.ref("demo"))
    assert failing.jid != first.jid

    async def restarted() -> bool:
        return "RestartUnhealthyJob" in await env.reasons("demo")

    await env.wait_for(
        "demo", lambda d: fake_flink.job(env.ref("demo")) is not failing, what="a restart", within=20
    )
    events = await env.events("demo")
    [warning] = [e for e in events if e["reason"] == "RestartUnhealthyJob"][:1]
    assert warning["type"] == "Warning" and warning["message"].startswith("Restart count hit threshold: ")
    assert "Suspended" not in [e["reason"] for e in events if e["lastTimestamp"] >= warning["lastTimestamp"]]
    await until(lambda: fake_flink.job(env.ref("demo")) is not None, what="the new job")
    restarted_job = await wait_until_running(fake_flink, env.ref("demo"))
    assert restarted_job.restored is not None and restarted_job.restored.count > 0, "state kept"
    assert [e for e in events if e["reason"] == "JobException"], "the failures were reported"
    document = await env.get("demo")
    health = json.loads(document["status"]["clusterInfo"].get("ClusterHealthInfo", "{}") or "{}")
    assert not health or health["numRestarts"] >= 0


async def test_a_failed_job_names_its_root_cause_and_is_not_restarted(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    config = {**CHECKPOINTING, "kubernetes.operator.cluster.health-check.enabled": "true"}
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="savepoint", config=config))
    await env.wait_settled("demo", 1)
    job = await wait_until_running(fake_flink, env.ref("demo"))
    fake_flink.cluster(env.ref("demo")).fail_job(job.jid, "the input is corrupt", recoverable=False)
    document = await env.wait_for("demo", lambda d: lifecycle(d) == "FAILED", what="FAILED")
    error = error_of(document)
    assert (
        error["type"] == "org.apache.flink.runtime.JobException"
        and error["message"] == "the input is corrupt"
    )
    assert condition(document, "Ready")["reason"] == "Failed"
    # The status is written before the events of the same step.
    deadline = time.monotonic() + 10.0
    while not [e for e in await env.events("demo") if e["reason"] == "Error"]:
        assert time.monotonic() < deadline, "no Error event within 10 s"
        await asyncio.sleep(0.05)
    events = await env.events("demo")
    assert [e["message"] for e in events if e["reason"] == "Error"] == [
        f"Job {job.jid} ({job.name}) failed: the input is corrupt"
    ]

    # Flink serves the exception history from a cache that may predate the failure: it may come a
    # reconcile later than the FAILED state.
    [exception] = await job_exception_events(env)
    assert exception["message"].startswith("java.lang.RuntimeException: the input is corrupt")
    assert "exception-timestamp" in exception["metadata"]["annotations"], "upstream's event annotations"
    # Terminal: never restarted by the health check (FLINK-39507) nor otherwise.
    deploys = fake_flink.deploy_calls
    later = await env.wait_for(
        "demo",
        lambda d: (d or {})["status"]["reconciliationStatus"]["reconciliationTimestamp"] > 0,
        what="status",
    )
    assert lifecycle(later) == "FAILED" and fake_flink.deploy_calls == deploys
    assert "RestartUnhealthyJob" not in await env.reasons("demo")


async def test_restart_failed_restarts_from_the_failed_jobs_latest_checkpoint(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    config = {**CHECKPOINTING, "kubernetes.operator.job.restart.failed": "true"}
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="savepoint", config=config))
    await env.wait_settled("demo", 1)
    job = await wait_until_running(fake_flink, env.ref("demo"))
    await until(lambda: job.count() > 20 and job.latest_completed() is not None, what="a checkpoint")
    fake_flink.cluster(env.ref("demo")).fail_job(job.jid, "boom", recoverable=False)
    await until(lambda: fake_flink.job(env.ref("demo")) is not job, what="a new job", within=10.0)
    restarted = await wait_until_running(fake_flink, env.ref("demo"))
    assert restarted.restored is not None and restarted.restored.count > 0


async def test_a_finished_job_never_loops_and_changes_still_make_progress(
    make_env: Any, fake_flink: FakeFlinkService
) -> None:
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="savepoint", config=CHECKPOINTING))
    await env.wait_settled("demo", 1)
    job = await wait_until_running(fake_flink, env.ref("demo"))
    await until(lambda: job.latest_completed() is not None, what="a checkpoint")
    job.finish()  # a bounded (batch) job reached its end; its checkpoints are gone
    document = await env.wait_for(
        "demo", lambda d: ((d or {}).get("status") or {}).get("jobStatus", {}).get("state") == "FINISHED"
    )
    assert lifecycle(document) == "STABLE" and not error_of(document)
    writes = document["metadata"]["resourceVersion"]
    reasons = await env.reasons("demo")
    deploys = fake_flink.deploy_calls
    # Quiet while nothing changes: no status writes, no events, no deploys (FLINK-39043 looped here).
    await until(lambda: fake_flink.deploy_calls == deploys, what="no deploys")
    quiet = await env.get("demo")
    assert quiet is not None and await env.reasons("demo") == reasons
    assert quiet["metadata"]["resourceVersion"] == writes
    # A spec change makes progress (the job runs again).
    await env.patch_job("demo", parallelism=2)
    await env.wait_settled("demo", 2, within=15.0)
    again = await wait_until_running(fake_flink, env.ref("demo"))
    assert again.parallelism == 2
    again.finish()
    await env.wait_for("demo", lambda d: (d or {})["status"]["jobStatus"]["state"] == "FINISHED")
    # Suspending and deleting a finished job make progress too.
    await env.patch_job("demo", state="suspended")
    await env.wait_settled("demo", 3, state="SUSPENDED", within=15.0)
    await env.delete("demo")
    await env.wait_for("demo", lambda d: d is None, what="deleted", within=15.0)
    assert not fake_flink.refs


async def test_old_job_result_stores_are_pruned_after_each_ha_deployment(
    make_env: Any, fake_flink: FakeFlinkService, tmp_path: Path
) -> None:
    storage = tmp_path / "ha"
    storage.mkdir()
    ha = {"high-availability.type": "zookeeper", "high-availability.storageDir": f"file://{storage}"}
    env = await make_env()
    await env.create(deployment_document("demo", upgrade_mode="last-state", config={**CHECKPOINTING, **ha}))
    await env.wait_settled("demo", 1)
    stores = storage / "job-result-store" / "demo"
    seen: list[str] = []
    for generation, parallelism in ((2, 2), (3, 1), (4, 2)):
        seen += [p.name for p in stores.iterdir() if p.name not in seen]
        await env.patch_job("demo", parallelism=parallelism)
        await env.wait_settled("demo", generation, within=15.0)
    seen += [p.name for p in stores.iterdir() if p.name not in seen]
    assert len(seen) == 4, "one store per deployment"
    current = fake_flink.deployed[-1].configuration["job-result-store.storage-path"].rsplit("/", 1)[-1]
    assert sorted(p.name for p in stores.iterdir()) == sorted({current, seen[-2]})
    job = fake_flink.job(env.ref("demo"))
    assert job is not None and job.state is JobState.RUNNING
