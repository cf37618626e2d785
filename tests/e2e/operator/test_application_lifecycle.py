"""The application lifecycle with real Flink, driven only through kubectl and the CLI (upstream's
application e2e, mirrored): deploy to STABLE, stateless / savepoint / last-state upgrades, suspend and
resume, an invalid change, deletion. The counter job's gauges (read through the Flink REST URL the
resource reports) tell whether state survived: `firstCount` is 1 after a fresh start and more after a
restore; `maxCount` keeps growing across a stateful upgrade.

One `local up` serves the whole module; each test creates its own FlinkDeployment and deletes it."""

from __future__ import annotations

import re

import pytest
from tests.support.local_mode import poll, running_jobs, wait_counting
from tests.support.local_stack import Deployments, Stack, job_id, rest_url, wait_reconciled

pytestmark = [pytest.mark.e2e, pytest.mark.flink]

COUNT_BEFORE_UPGRADE = 200


def test_deploy_reaches_stable_with_its_web_ui_reported(stack: Stack, deployments: Deployments) -> None:
    kubectl = stack.kubectl
    deployments.apply("deploy", upgrade_mode="savepoint")
    kubectl.run("wait", "--for=condition=Ready", "flinkdeployment/deploy", "--timeout=180s", timeout=200)
    kubectl.run(
        "wait",
        "--for=jsonpath={.status.lifecycleState}=STABLE",
        "flinkdeployment/deploy",
        "--timeout=60s",
        timeout=80,
    )
    kubectl.run(
        "wait",
        "--for=jsonpath={.status.jobStatus.state}=RUNNING",
        "flinkdeployment/deploy",
        "--timeout=60s",
        timeout=80,
    )
    resource = kubectl.get("flinkdeployment", "deploy")
    url, job = rest_url(resource), job_id(resource)
    assert resource["status"]["jobManagerDeploymentStatus"] == "READY"

    status = stack.up.status()
    [entry] = [r for r in status["resources"] if r["name"] == "deploy"]
    assert entry["kind"] == "FlinkDeployment"
    assert (entry["lifecycleState"], entry["jobState"], entry["restUrl"]) == ("STABLE", "RUNNING", url)
    assert running_jobs(url) == [job]
    assert wait_counting(url, job, 50).first == 1

    output = stack.up.wait_output(f"flinkdeployment/deploy  Flink Web UI / REST: {url}")
    assert "flinkdeployment/deploy  lifecycle DEPLOYED → STABLE" in output
    # The state Flink reports just before RUNNING depends on timing (RECONCILING, INITIALIZING, CREATED).
    assert re.search(r"flinkdeployment/deploy  job [A-Z]+ → RUNNING", output), output


def test_stateless_upgrade_restarts_the_job_and_the_count(stack: Stack, deployments: Deployments) -> None:
    kubectl = stack.kubectl
    deployments.apply("stateless", upgrade_mode="stateless")
    before = wait_reconciled(kubectl, "stateless", generation=1)
    first_job = job_id(before)
    wait_counting(rest_url(before), first_job, COUNT_BEFORE_UPGRADE)

    kubectl.merge_patch("flinkdeployment", "stateless", {"spec": {"job": {"parallelism": 2}}})
    after = wait_reconciled(kubectl, "stateless", generation=2, other_than_job=first_job)
    url, job = rest_url(after), job_id(after)
    assert running_jobs(url) == [job]
    assert wait_counting(url, job, 1).first == 1, "a stateless upgrade starts from empty state"


def test_savepoint_upgrade_continues_the_count(stack: Stack, deployments: Deployments) -> None:
    kubectl = stack.kubectl
    deployments.apply("savepoint", upgrade_mode="savepoint")
    before = wait_reconciled(kubectl, "savepoint", generation=1)
    first_job = job_id(before)
    counted = wait_counting(rest_url(before), first_job, COUNT_BEFORE_UPGRADE)

    kubectl.merge_patch("flinkdeployment", "savepoint", {"spec": {"job": {"parallelism": 2}}})
    after = wait_reconciled(kubectl, "savepoint", generation=2, other_than_job=first_job)
    url, job = rest_url(after), job_id(after)
    assert running_jobs(url) == [job]
    resumed = wait_counting(url, job, counted.highest)
    assert resumed.first > 1, f"the upgraded job started from empty state: {resumed}"
    upgrade_savepoint = after["status"]["jobStatus"].get("upgradeSavepointPath") or ""
    assert "savepoint" in upgrade_savepoint, after["status"]["jobStatus"]


def test_last_state_upgrade_continues_the_count(stack: Stack, deployments: Deployments) -> None:
    kubectl = stack.kubectl
    deployments.apply("last-state", upgrade_mode="last-state", ha=True)
    before = wait_reconciled(kubectl, "last-state", generation=1)
    first_job = job_id(before)
    counted = wait_counting(rest_url(before), first_job, COUNT_BEFORE_UPGRADE)

    kubectl.merge_patch("flinkdeployment", "last-state", {"spec": {"job": {"parallelism": 2}}})
    after = wait_reconciled(kubectl, "last-state", generation=2)
    url, job = rest_url(after), job_id(after)
    assert running_jobs(url) == [job]
    # Restored from the latest checkpoint: at most a checkpoint interval of counting is replayed.
    resumed = wait_counting(url, job, counted.highest)
    assert resumed.first > 1, f"the upgraded job started from empty state: {resumed}"


def test_suspend_and_resume_keep_the_state(stack: Stack, deployments: Deployments) -> None:
    kubectl = stack.kubectl
    deployments.apply("suspend", upgrade_mode="savepoint")
    before = wait_reconciled(kubectl, "suspend", generation=1)
    first_job = job_id(before)
    counted = wait_counting(rest_url(before), first_job, COUNT_BEFORE_UPGRADE)

    kubectl.merge_patch("flinkdeployment", "suspend", {"spec": {"job": {"state": "suspended"}}})
    suspended = wait_reconciled(kubectl, "suspend", generation=2, lifecycle="SUSPENDED", job_state=None)
    assert suspended["status"]["jobStatus"]["state"] in ("FINISHED", "CANCELED", "SUSPENDED")
    poll(
        lambda: True if not stack.cluster_processes("suspend") else None,
        within=60,
        what="no Flink process while suspended",
    )
    [entry] = [r for r in stack.up.status()["resources"] if r["name"] == "suspend"]
    assert entry["lifecycleState"] == "SUSPENDED"

    kubectl.merge_patch("flinkdeployment", "suspend", {"spec": {"job": {"state": "running"}}})
    resumed_resource = wait_reconciled(kubectl, "suspend", generation=3, other_than_job=first_job)
    url, job = rest_url(resumed_resource), job_id(resumed_resource)
    assert running_jobs(url) == [job]
    resumed = wait_counting(url, job, counted.highest)
    assert resumed.first > 1, f"the resumed job started from empty state: {resumed}"


def test_an_invalid_change_is_rejected_while_the_old_job_keeps_running(
    stack: Stack, deployments: Deployments
) -> None:
    kubectl = stack.kubectl
    deployments.apply("invalid", upgrade_mode="savepoint")
    before = wait_reconciled(kubectl, "invalid", generation=1)
    url, job = rest_url(before), job_id(before)
    reconciled_before = before["status"]["reconciliationStatus"]["lastReconciledSpec"]

    kubectl.merge_patch("flinkdeployment", "invalid", {"spec": {"job": {"parallelism": 0}}})

    def rejected() -> dict[str, object] | None:
        resource = kubectl.get("flinkdeployment", "invalid")
        error = (resource.get("status") or {}).get("error") or ""
        return resource if "spec.job.parallelism" in error else None

    resource = poll(rejected, within=60, what="status.error naming spec.job.parallelism")
    status = resource["status"]
    assert isinstance(status, dict)
    assert status["jobStatus"]["state"] == "RUNNING"
    assert status["jobStatus"]["jobId"] == job
    assert status["reconciliationStatus"]["lastReconciledSpec"] == reconciled_before

    def validation_event() -> dict[str, object] | None:
        events = [e for e in kubectl.events("invalid") if e.get("reason") == "ValidationError"]
        return events[0] if events else None

    event = poll(validation_event, within=30, what="a ValidationError event")
    assert event["type"] == "Warning"
    assert "spec.job.parallelism" in str(event["message"])
    assert running_jobs(url) == [job], "the old job must keep running"
    first = wait_counting(url, job, 1)
    assert wait_counting(url, job, first.highest + 50).job_id == job


def test_delete_leaves_no_cluster_and_no_flink_process(stack: Stack, deployments: Deployments) -> None:
    kubectl = stack.kubectl
    deployments.apply("delete", upgrade_mode="last-state", ha=True)
    wait_reconciled(kubectl, "delete", generation=1)
    assert stack.cluster_processes("delete"), "the cluster's processes run while deployed"

    kubectl.run("delete", "flinkdeployment", "delete", "--wait=true", "--timeout=120s", timeout=150)
    gone = kubectl.run("get", "flinkdeployment", "delete", check=False)
    assert gone.returncode != 0
    assert "NotFound" in gone.stderr
    assert stack.cluster_processes("delete") == []
    status = stack.up.status()
    assert [r for r in status["resources"] if r["name"] == "delete"] == []
    assert [c for c in status["flinkClusters"] if c["name"] == "delete"] == []
