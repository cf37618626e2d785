"""FlinkStateSnapshot resources against real Flink, driven through kubectl (upstream's snapshot e2e, the
resource part): a manual savepoint resource completes with its path and its deletion disposes the data (or
keeps it, with `disposeOnDelete: false`); a checkpoint resource completes with the checkpoint's path;
trigger nonces create manual snapshot resources; a savepoint Flink cannot write fails, is retried and ends
FAILED with Flink's reason; a snapshot of a job that does not exist is reported and waits for it.

All tests use one running counter job (created once for the module); each test deletes its snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.local_mode import poll, running_jobs, wait_counting
from tests.support.local_snapshots import (
    delete_snapshots,
    describe_snapshot,
    local_path,
    savepoint_on_disk,
    snapshot_document,
    snapshots_of,
    state_of,
    wait_snapshot,
)
from tests.support.local_stack import Deployments, Stack, job_id, rest_url, wait_reconciled

pytestmark = [pytest.mark.e2e, pytest.mark.flink]

JOB = "snap"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("snapshot-resources")


@pytest.fixture(scope="module")
def job(stack: Stack, data: Path) -> Iterator[dict[str, Any]]:
    """The counter job, running and counting; deleted (with any snapshot left) after the module."""
    made = Deployments(stack, data)
    made.apply(JOB, upgrade_mode="savepoint")
    try:
        resource = wait_reconciled(stack.kubectl, JOB, generation=1)
        wait_counting(rest_url(resource), job_id(resource), 50)
        yield resource
    finally:
        if stack.up.alive():
            delete_snapshots(stack.kubectl)
            made.delete_all()


@pytest.fixture
def cleanup(stack: Stack) -> Iterator[None]:
    """Deletes the test's snapshots while the job still runs, so that their data can be disposed."""
    yield
    delete_snapshots(stack.kubectl)


def test_a_savepoint_resource_completes_and_its_deletion_disposes_the_data(
    stack: Stack, job: dict[str, Any], data: Path, cleanup: None
) -> None:
    kubectl = stack.kubectl
    target = data / "manual"
    kubectl.apply(
        snapshot_document(
            "disposed",
            JOB,
            savepoint={"path": f"file://{target}", "formatType": "NATIVE", "disposeOnDelete": True},
        )
    )
    kubectl.apply(
        snapshot_document("kept", JOB, savepoint={"path": f"file://{target}", "disposeOnDelete": False})
    )
    disposed = wait_snapshot(kubectl, "disposed", "COMPLETED")
    kept = wait_snapshot(kubectl, "kept", "COMPLETED")
    disposed_path, kept_path = disposed["status"]["path"], kept["status"]["path"]
    assert local_path(disposed_path).parent == target, disposed_path
    assert savepoint_on_disk(disposed_path) and savepoint_on_disk(kept_path)
    assert disposed["status"]["failures"] == 0 and disposed["status"].get("triggerId")
    assert disposed["metadata"]["labels"] == {
        "snapshot.type": "SAVEPOINT",
        "snapshot.trigger-type": "MANUAL",
        "snapshot.state": "COMPLETED",
        "job-reference.kind": "FlinkDeployment",
        "job-reference.name": JOB,
    }
    listed = kubectl.run("get", "flinksnp", "-l", "snapshot.state=COMPLETED").stdout
    assert "disposed" in listed and disposed_path in listed and "COMPLETED" in listed, listed

    kubectl.run("delete", "flinkstatesnapshot", "disposed", "--wait=true", "--timeout=60s", timeout=80)
    assert not local_path(disposed_path).exists(), "the savepoint's directory is disposed with the resource"
    kubectl.run("delete", "flinkstatesnapshot", "kept", "--wait=true", "--timeout=60s", timeout=80)
    assert savepoint_on_disk(kept_path), "disposeOnDelete: false keeps the data"
    assert running_jobs(rest_url(job)) == [job_id(job)]


def test_a_checkpoint_resource_completes_with_the_checkpoint_path(
    stack: Stack, job: dict[str, Any], data: Path, cleanup: None
) -> None:
    kubectl = stack.kubectl
    kubectl.apply(snapshot_document("checkpoint", JOB, checkpoint=True))
    completed = wait_snapshot(kubectl, "checkpoint", "COMPLETED")
    path = completed["status"]["path"]
    assert completed["status"]["failures"] == 0, describe_snapshot(completed)
    assert local_path(path).parent.parent == data / JOB / "checkpoints", path
    assert local_path(path).name.startswith("chk-"), path
    assert completed["metadata"]["labels"]["snapshot.type"] == "CHECKPOINT"


def test_trigger_nonces_create_manual_savepoint_and_checkpoint_resources(
    stack: Stack, job: dict[str, Any], data: Path, cleanup: None
) -> None:
    kubectl = stack.kubectl
    before = kubectl.get("flinkdeployment", JOB)
    generation = before["metadata"]["generation"]
    kubectl.merge_patch(
        "flinkdeployment", JOB, {"spec": {"job": {"savepointTriggerNonce": 7, "checkpointTriggerNonce": 7}}}
    )

    def both_completed() -> list[dict[str, Any]] | None:
        found = snapshots_of(kubectl, JOB)
        done = [s for s in found if state_of(s) == "COMPLETED"]
        return found if len(done) == 2 and len(found) == 2 else None

    try:
        found = poll(both_completed, within=60, what="a manual savepoint and checkpoint resource COMPLETED")
    except AssertionError as error:
        seen = [describe_snapshot(s) for s in snapshots_of(kubectl, JOB)]
        raise AssertionError(f"{error}: {seen}") from None
    checkpoint_name, savepoint_name = sorted(s["metadata"]["name"] for s in found)
    assert checkpoint_name.startswith(f"{JOB}-checkpoint-manual-"), checkpoint_name
    assert savepoint_name.startswith(f"{JOB}-savepoint-manual-"), savepoint_name
    for snapshot in found:
        assert snapshot["metadata"]["labels"]["snapshot.trigger-type"] == "MANUAL"
        assert snapshot["status"]["failures"] == 0, describe_snapshot(snapshot)
        assert snapshot["status"]["path"], describe_snapshot(snapshot)
    [savepoint] = [s for s in found if s["spec"].get("savepoint") is not None]
    assert local_path(savepoint["status"]["path"]).parent == data / JOB / "savepoints"
    assert savepoint_on_disk(savepoint["status"]["path"])

    after = wait_reconciled(kubectl, JOB, generation=generation + 1)
    assert job_id(after) == job_id(before), "a snapshot nonce does not restart the job"
    assert after["status"]["jobStatus"].get("savepointInfo", {}).get("lastSavepoint") is None


def test_a_savepoint_flink_cannot_write_is_retried_then_failed_with_flinks_reason(
    stack: Stack, job: dict[str, Any], data: Path, cleanup: None
) -> None:
    kubectl = stack.kubectl
    blocker = data / "not-a-directory"
    blocker.write_text("a file where the savepoint directory should be created\n")
    kubectl.apply(
        snapshot_document(
            "unwritable", JOB, savepoint={"path": f"file://{blocker}/savepoints"}, backoff_limit=1
        )
    )
    retrying = wait_snapshot(kubectl, "unwritable", "TRIGGER_PENDING", failures=1, within=60)
    first_error = retrying["status"]["error"]
    assert first_error, retrying["status"]
    failed = wait_snapshot(kubectl, "unwritable", "FAILED", failures=2, within=60)
    assert failed["metadata"]["labels"]["snapshot.state"] == "FAILED"
    error = failed["status"]["error"]
    assert "Failed to create savepoint directory" in error and str(blocker) in error, error

    events = [e for e in kubectl.events("unwritable") if e.get("reason") == "SavepointError"]
    assert events and all(e["type"] == "Warning" for e in events), events
    assert sum(int(e.get("count") or 1) for e in events) == 2, events
    assert str(blocker) in events[0]["message"]
    assert running_jobs(rest_url(job)) == [job_id(job)], "a failed savepoint leaves the job running"


def test_a_snapshot_of_a_job_that_does_not_exist_is_reported_and_waits(
    stack: Stack, job: dict[str, Any], cleanup: None
) -> None:
    kubectl = stack.kubectl
    kubectl.apply(snapshot_document("orphan", "no-such-job"))

    def validation_error() -> dict[str, Any] | None:
        events = [e for e in kubectl.events("orphan") if e.get("reason") == "ValidationError"]
        return events[0] if events else None

    event = poll(validation_error, within=30, what="a ValidationError event")
    assert event["type"] == "Warning" and "default/no-such-job was not found" in event["message"], event
    status = kubectl.get("flinkstatesnapshot", "orphan")["status"]
    assert status["state"] == "TRIGGER_PENDING" and "no-such-job" in status["error"], status
    assert status["failures"] == 0 and not status.get("triggerId"), status
