"""The operator killed with SIGKILL in the middle of a savepoint upgrade, then started again: it must converge
with the state intact and exactly one job running (no lost savepoint, no duplicate job or cluster).

`local up` runs as a subprocess; the kill lands as soon as the resource's status says UPGRADING (the
write-ahead record of the upgrade, written just before the job is stopped with a savepoint). The API
emulator and the Flink processes outlive the kill, as an API server and pods outlive an operator pod."""

from __future__ import annotations

import subprocess
import time

import pytest
from tests.support.local_mode import processes_with, running_jobs, wait_counting
from tests.support.local_stack import Deployments, Stack, job_id, rest_url, wait_reconciled

pytestmark = [pytest.mark.e2e, pytest.mark.flink]


def _kill_when_upgrading(stack: Stack, name: str, *, within: float = 60.0) -> str:
    """Watch the lifecycle state with `kubectl get -w`; SIGKILL `local up` once it reads UPGRADING."""
    watch = subprocess.Popen(
        [
            stack.kubectl.binary,
            "--kubeconfig",
            str(stack.kubectl.kubeconfig),
            "get",
            "flinkdeployment",
            name,
            "-w",
            "-o",
            "jsonpath={.status.lifecycleState}{'\\n'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"HOME": str(stack.kubectl.home), "PATH": "/usr/bin:/bin"},
    )
    deadline = time.monotonic() + within
    seen = []
    try:
        assert watch.stdout is not None
        for line in watch.stdout:
            seen.append(line.strip())
            if line.strip() == "UPGRADING":
                stack.up.kill()
                return "UPGRADING"
            if time.monotonic() > deadline:
                break
    finally:
        watch.kill()
        watch.wait(10)
    raise AssertionError(f"the upgrade never showed UPGRADING: {seen}")


def test_sigkill_during_a_savepoint_upgrade_converges_with_state_and_one_job(
    stack: Stack, deployments: Deployments
) -> None:
    kubectl = stack.kubectl
    deployments.apply("crash", upgrade_mode="savepoint")
    before = wait_reconciled(kubectl, "crash", generation=1)
    first_job = job_id(before)
    counted = wait_counting(rest_url(before), first_job, 200)

    kubectl.merge_patch("flinkdeployment", "crash", {"spec": {"job": {"parallelism": 2}}})
    _kill_when_upgrading(stack, "crash")
    assert not stack.up.alive()
    emulators = processes_with(str(stack.up.state_dir / "cluster"))
    assert emulators, "the API emulator outlives the operator"

    stack.up.start()
    output = stack.up.wait_output("operator running")
    assert "adopted" in output, output

    after = wait_reconciled(kubectl, "crash", generation=2, other_than_job=first_job)
    url, job = rest_url(after), job_id(after)
    assert running_jobs(url) == [job], "exactly one job runs after the restart"
    clusters = [c for c in stack.up.status()["flinkClusters"] if c["name"] == "crash"]
    assert [(c["running"], c["restUrl"]) for c in clusters] == [(True, url)]
    jobmanagers = [p for p in stack.cluster_processes("crash") if "EntryPoint" in p[1]]
    assert len(jobmanagers) == 1, jobmanagers
    assert "savepoint" in (after["status"]["jobStatus"].get("upgradeSavepointPath") or "")
    resumed = wait_counting(url, job, counted.highest)
    assert resumed.first > 1, f"the job after the crash started from empty state: {resumed}"
