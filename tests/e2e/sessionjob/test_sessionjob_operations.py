"""Session jobs with real Flink, driven only through kubectl (upstream's test_sessionjob_operations.sh,
mirrored, plus what upstream gets wrong): a session cluster and a session job run; a manual savepoint; a
savepoint upgrade (parallelism change, restored from the savepoint); a last-state upgrade (cancel keeping
checkpoints, restored from the latest); the operator SIGKILLed mid-upgrade converges without a duplicate job;
delete the job, kill the operator, resubmit; finally the session is deleted while a job runs and converges.

One `local up` and one session cluster serve the module; the tests run in order and build on each other.
The counter job's gauges tell whether state survived (`firstCount` is 1 after a fresh start, more after a
restore)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from tests.support.local_mode import Kubectl, poll, running_jobs, wait_counting
from tests.support.local_stack import Stack, rest_url

from .conftest import all_jobs, counter_session_job, get, session_cluster, wait_gone, wait_session_job

pytestmark = [pytest.mark.e2e, pytest.mark.flink]

SESSION = "session"
JOB = "counter"


def _session_url(kubectl: Kubectl) -> str:
    resource = get(kubectl, "flinkdeployment", SESSION)
    assert resource is not None
    return rest_url(resource)


def _job_id(resource: dict[str, object]) -> str:
    status = resource["status"]
    assert isinstance(status, dict)
    job = status["jobStatus"]["jobId"]
    assert isinstance(job, str)
    return job


def _generation(kubectl: Kubectl) -> int:
    resource = get(kubectl, "flinksessionjob", JOB)
    assert resource is not None
    generation = resource["metadata"]["generation"]
    assert isinstance(generation, int)
    return generation


def test_session_cluster_and_session_job_run(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> None:
    kubectl = stack.kubectl
    data: Path = tmp_path_factory.mktemp("session-data")
    kubectl.apply(session_cluster(SESSION, data))
    kubectl.run("wait", "--for=condition=Ready", f"flinkdeployment/{SESSION}", "--timeout=180s", timeout=200)
    kubectl.apply(counter_session_job(JOB, SESSION))
    resource = wait_session_job(kubectl, JOB, generation=1)
    url, job = _session_url(kubectl), _job_id(resource)
    assert running_jobs(url) == [job]
    assert wait_counting(url, job, 200).first == 1
    assert resource["metadata"]["finalizers"] == ["flinksessionjobs.flink.apache.org/finalizer"]
    reasons = [e["reason"] for e in kubectl.events(JOB)]
    assert "Submit" in reasons and "JobStatusChanged" in reasons, reasons


def test_manual_savepoint(stack: Stack) -> None:
    kubectl = stack.kubectl
    before = get(kubectl, "flinksessionjob", JOB)
    assert before is not None
    kubectl.merge_patch("flinksessionjob", JOB, {"spec": {"job": {"savepointTriggerNonce": 123456}}})

    def taken() -> str | None:
        resource = get(kubectl, "flinksessionjob", JOB) or {}
        info = ((resource.get("status") or {}).get("jobStatus") or {}).get("savepointInfo") or {}
        last = info.get("lastSavepoint") or {}
        if last.get("triggerNonce") == 123456 and last.get("location"):
            return str(last["location"])
        return None

    location = poll(taken, within=120, what="the manual savepoint is recorded")
    assert "savepoint-" in location and Path(location.removeprefix("file:")).exists()
    after = get(kubectl, "flinksessionjob", JOB)
    assert after is not None and _job_id(after) == _job_id(before), (
        "a manual savepoint does not restart the job"
    )


def test_savepoint_upgrade_restores_from_the_savepoint(stack: Stack) -> None:
    kubectl = stack.kubectl
    url = _session_url(kubectl)
    before = get(kubectl, "flinksessionjob", JOB)
    assert before is not None
    old = _job_id(before)
    counted = wait_counting(url, old, 300)
    kubectl.merge_patch("flinksessionjob", JOB, {"spec": {"job": {"parallelism": 2}}})
    after = wait_session_job(kubectl, JOB, generation=_generation(kubectl), other_than=old)
    new = _job_id(after)
    assert "savepoint-" in after["status"]["jobStatus"]["upgradeSavepointPath"]
    assert running_jobs(url) == [new]
    restored = wait_counting(url, new, counted.highest + 50)
    assert restored.first > 1, "the new job continued from the savepoint"
    assert all_jobs(url)[old] == "FINISHED", "stop-with-savepoint finished the old job"


def test_last_state_upgrade_restores_from_the_latest_checkpoint(stack: Stack) -> None:
    kubectl = stack.kubectl
    url = _session_url(kubectl)
    before = get(kubectl, "flinksessionjob", JOB)
    assert before is not None
    old = _job_id(before)
    wait_counting(url, old, 100)
    kubectl.merge_patch(
        "flinksessionjob", JOB, {"spec": {"job": {"upgradeMode": "last-state", "parallelism": 1}}}
    )
    after = wait_session_job(kubectl, JOB, generation=_generation(kubectl), other_than=old)
    new = _job_id(after)
    assert "chk-" in after["status"]["jobStatus"]["upgradeSavepointPath"]
    assert all_jobs(url)[old] == "CANCELED", "last-state cancels the job keeping its checkpoints"
    assert running_jobs(url) == [new]
    assert wait_counting(url, new, 50).first > 1, "the new job continued from the retained checkpoint"


def _kill_when_upgrading(stack: Stack, *, within: float = 90.0) -> None:
    """Watch the session job's lifecycle with `kubectl get -w`; SIGKILL `local up` once it reads UPGRADING
    (the intent to submit the upgraded job is written; the submission is next)."""
    kubectl = stack.kubectl
    watch = subprocess.Popen(
        [
            kubectl.binary,
            "--kubeconfig",
            str(kubectl.kubeconfig),
            "get",
            "flinksessionjob",
            JOB,
            "-w",
            "-o",
            "jsonpath={.status.lifecycleState}{'\\n'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"HOME": str(kubectl.home), "PATH": "/usr/bin:/bin"},
    )
    deadline = time.monotonic() + within
    seen = []
    try:
        assert watch.stdout is not None
        for line in watch.stdout:
            seen.append(line.strip())
            if line.strip() == "UPGRADING":
                stack.up.kill()
                return
            if time.monotonic() > deadline:
                break
    finally:
        watch.kill()
        watch.wait(10)
    raise AssertionError(f"the upgrade never showed UPGRADING: {seen}")


def test_sigkill_during_an_upgrade_converges_without_a_duplicate_job(stack: Stack) -> None:
    kubectl = stack.kubectl
    url = _session_url(kubectl)
    before = get(kubectl, "flinksessionjob", JOB)
    assert before is not None
    old = _job_id(before)
    wait_counting(url, old, 100)
    known = set(all_jobs(url))
    kubectl.merge_patch("flinksessionjob", JOB, {"spec": {"job": {"parallelism": 2}}})
    _kill_when_upgrading(stack)
    assert not stack.up.alive()
    stack.up.start()
    after = wait_session_job(kubectl, JOB, generation=_generation(kubectl), other_than=old)
    new = _job_id(after)
    assert running_jobs(url) == [new], "exactly one job runs on the session"
    submitted = set(all_jobs(url)) - known
    assert submitted == {new}, f"jobs submitted for the upgrade: {submitted}"
    assert wait_counting(url, new, 50).first > 1, "state survived the crash"


def test_delete_job_kill_operator_and_resubmit(stack: Stack) -> None:
    kubectl = stack.kubectl
    url = _session_url(kubectl)
    before = get(kubectl, "flinksessionjob", JOB)
    assert before is not None
    old = _job_id(before)
    kubectl.run("delete", "flinksessionjob", JOB, "--wait=true", "--timeout=120s", timeout=150)
    assert all_jobs(url)[old] == "CANCELED"
    assert running_jobs(url) == []
    stack.up.kill()
    stack.up.start()
    kubectl.apply(counter_session_job(JOB, SESSION))
    resource = wait_session_job(kubectl, JOB, generation=1, other_than=old)
    new = _job_id(resource)
    assert running_jobs(url) == [new]
    assert wait_counting(url, new, 50).first == 1


def test_deleting_the_session_with_a_running_job_converges(stack: Stack) -> None:
    kubectl = stack.kubectl
    url = _session_url(kubectl)
    kubectl.run("delete", "flinkdeployment", SESSION, "--wait=false")

    def blocked() -> list[str] | None:
        messages = [
            str(e.get("message"))
            for e in kubectl.events(SESSION)
            if e.get("reason") == "CleanupFailed"
            and e.get("involvedObject", {}).get("kind") == "FlinkDeployment"
        ]
        return messages or None

    messages = poll(blocked, within=60, what="the session reports the session job that blocks it")
    assert any(f"[{JOB}]" in m for m in messages), messages
    session = get(kubectl, "flinkdeployment", SESSION)
    assert session is not None
    conditions = {c["type"]: c for c in session["status"].get("conditions") or []}
    assert conditions["DeletionBlocked"]["reason"] == "SessionJobsExist"
    assert len(running_jobs(url)) == 1, "the session is not torn down under its job"

    kubectl.run("delete", "flinksessionjob", JOB, "--wait=false")
    wait_gone(kubectl, "flinksessionjob", JOB)
    wait_gone(kubectl, "flinkdeployment", SESSION)
    poll(
        lambda: True if not stack.cluster_processes(SESSION) else None,
        within=60,
        what="no Flink process of the session left",
    )
