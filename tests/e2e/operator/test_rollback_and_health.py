"""Rollback and job health with real Flink, driven only through kubectl: a broken upgrade (the new job
fails at start) is rolled back to the last stable spec and the counter continues; a job that keeps failing
and restarting is found unhealthy and restarted from its latest checkpoint.

The counter job's gauges (through the REST URL the resource reports) tell whether state survived:
`firstCount` is 1 after a fresh start and more after a restore."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.support.local_mode import poll, read_counter, wait_counting
from tests.support.local_stack import (
    Deployments,
    Stack,
    counter_deployment,
    describe,
    event_lines,
    job_id,
    rest_url,
    wait_reconciled,
)

pytestmark = [pytest.mark.e2e, pytest.mark.flink]

COUNT_BEFORE_UPGRADE = 200


def apply(deployments: Deployments, name: str, config: dict[str, str], **options: Any) -> None:
    document = counter_deployment(name, deployments.data / name, **options)
    document["spec"]["flinkConfiguration"].update(config)
    deployments.stack.kubectl.apply(document)
    deployments.names.append(name)


def events(stack: Stack, name: str) -> list[dict[str, Any]]:
    return list(stack.kubectl.events(name))


def test_a_broken_upgrade_is_rolled_back_and_the_counter_continues(
    stack: Stack, deployments: Deployments
) -> None:
    kubectl = stack.kubectl
    rollback = {
        "kubernetes.operator.deployment.rollback.enabled": "true",
        "kubernetes.operator.deployment.readiness.timeout": "15 s",
    }
    apply(deployments, "rollback", rollback, upgrade_mode="savepoint", ha=True)
    before = wait_reconciled(kubectl, "rollback", generation=1)
    first_job = job_id(before)
    counted = wait_counting(rest_url(before), first_job, COUNT_BEFORE_UPGRADE)

    # The new spec's job cannot start: the counter job refuses --keys 0 in its main().
    kubectl.merge_patch(
        "flinkdeployment", "rollback", {"spec": {"job": {"args": ["--sleepMs", "5", "--keys", "0"]}}}
    )
    # The new job FAILED is often visible only for a moment: the readiness timeout has passed by the time
    # its JobManager started and it failed, so the rollback follows at once. The status keeps the reason.
    after = wait_reconciled(
        kubectl, "rollback", generation=2, lifecycle="ROLLED_BACK", other_than_job=first_job, within=240
    )
    error = json.loads(after["status"]["error"])
    assert "--keys must be at least 1, got 0" in error["message"], describe(after["status"])
    url, job = rest_url(after), job_id(after)
    reading = wait_counting(url, job, counted.highest + 50)
    assert reading.first > 1, "the rolled-back job restored the state"
    assert reading.first >= counted.highest - 1, "the count continues from the upgrade savepoint"
    stored = json.loads(after["status"]["reconciliationStatus"]["lastReconciledSpec"])
    assert "--keys" in stored["spec"]["job"]["args"], "the user's spec is kept as the reconciled one"
    ready = next(c for c in after["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "RolledBack")
    lines = event_lines(kubectl, "rollback")
    assert any(line.startswith("Normal Rollback: Rolling back failed deployment.") for line in lines), lines
    assert any(
        line.startswith("Warning Error: Job ") and "--keys must be at least 1" in line for line in lines
    )

    # Three HA deployments (first, upgrade, rollback): the older JobResultStore directories were pruned.
    stores = deployments.data / "rollback" / "ha" / "job-result-store" / "rollback"
    assert stores.is_dir() and len(list(stores.iterdir())) <= 2, sorted(p.name for p in stores.iterdir())


def test_an_unhealthy_job_is_restarted_from_its_latest_checkpoint(
    stack: Stack, deployments: Deployments
) -> None:
    kubectl = stack.kubectl
    health = {
        "kubernetes.operator.cluster.health-check.enabled": "true",
        "kubernetes.operator.cluster.health-check.restarts.threshold": "2",
        "kubernetes.operator.cluster.health-check.restarts.window": "5 min",
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "1000",
        "restart-strategy.fixed-delay.delay": "1 s",
    }
    apply(deployments, "unhealthy", health, upgrade_mode="savepoint")
    before = wait_reconciled(kubectl, "unhealthy", generation=1)
    first_job = job_id(before)
    wait_counting(rest_url(before), first_job, 50)
    # From now on every attempt of the counter fails 4 s after it started.
    args = ["--sleepMs", "5", "--failEveryMs", "4000"]
    kubectl.merge_patch("flinkdeployment", "unhealthy", {"spec": {"job": {"args": args}}})
    failing = wait_reconciled(kubectl, "unhealthy", generation=2, other_than_job=first_job)
    failing_job = job_id(failing)

    def restarted() -> dict[str, Any] | None:
        resource = kubectl.get("flinkdeployment", "unhealthy")
        current = ((resource.get("status") or {}).get("jobStatus") or {}).get("jobId")
        found = [e for e in events(stack, "unhealthy") if e.get("reason") == "RestartUnhealthyJob"]
        return resource if found and current not in (None, failing_job) else None

    try:
        poll(
            restarted, within=180, what="the unhealthy job restarted by the operator", interval=1.0
        )
    except AssertionError as error:
        raise AssertionError(f"{error}\nevents: {event_lines(kubectl, 'unhealthy')}") from None
    [warning, *_] = [e for e in events(stack, "unhealthy") if e.get("reason") == "RestartUnhealthyJob"]
    assert warning["type"] == "Warning" and warning["message"].startswith("Restart count hit threshold: ")
    exceptions = [e for e in events(stack, "unhealthy") if e.get("reason") == "JobException"]
    assert exceptions and "--failEveryMs" in exceptions[0]["message"], event_lines(kubectl, "unhealthy")

    def restored() -> Any:
        # The restart deploys a new cluster: follow the status to its REST address and job, and wait for
        # them to answer.
        current = kubectl.get("flinkdeployment", "unhealthy")
        if (current.get("status") or {}).get("jobManagerDeploymentStatus") != "READY":
            return None
        try:
            reading = read_counter(rest_url(current), job_id(current))
        except httpx.TransportError:
            return None
        return reading if reading is not None and reading.first > 1 else None

    reading = poll(
        restored, within=120, what="the restarted job counting from its restored state", interval=0.5
    )
    assert reading.first > 1, "the restarted job resumed from the latest checkpoint"
