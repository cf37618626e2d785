"""The FlinkStateSnapshot controller on the Kubernetes API emulator (real HTTP) with the fake Flink runtime:
completing, failing with retries, alreadyExists, abandonment, disposal on delete (and giving up on it),
checkpoints, session jobs, labels and listener notifications."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from tests.support.conditions import until
from tests.support.snapshot_documents import snapshot_document

from flink_operator.api import FINALIZER_FLINK_STATE_SNAPSHOT
from flink_operator.flink.service import ClusterRef

pytestmark = pytest.mark.integration

RECORDING = {
    "kubernetes.operator.plugins.listeners.recorder.class": "tests.support.plugin_classes:RecordingListener"
}
DEMO = ClusterRef("default", "demo")


async def test_a_savepoint_completes_with_its_path_labels_and_listener_notifications(
    make_env: Any, fake_flink: Any
) -> None:
    env = await make_env(RECORDING)
    job = await env.running_deployment("demo")
    await env.create(snapshot_document("sp", job="demo"))
    done = await env.wait_state("sp", "COMPLETED")
    status = done["status"]
    path = status["path"]
    assert path.startswith(env.savepoint_dir) and "savepoint-" in path
    assert fake_flink.server.snapshots.exists(path), "the savepoint exists in Flink's storage"
    assert status["triggerId"] and status["triggerTimestamp"] and status["resultTimestamp"]
    assert status.get("failures", 0) == 0 and "error" not in status
    assert done["metadata"]["labels"] == {
        "snapshot.type": "SAVEPOINT",
        "snapshot.trigger-type": "MANUAL",
        "snapshot.state": "COMPLETED",
        "job-reference.kind": "FlinkDeployment",
        "job-reference.name": "demo",
    }
    assert FINALIZER_FLINK_STATE_SNAPSHOT in done["metadata"]["finalizers"]
    stored = fake_flink.server.snapshots.lookup(path)
    assert stored is not None and stored.job_id == job.jid and stored.is_savepoint
    recorder = env.listener("recorder")
    await until(
        lambda: (
            [
                ctx.new_status.state.value
                for m, ctx in recorder.heard
                if m == "on_state_snapshot_status_update"
            ][-1:]
            == ["COMPLETED"]
        ),
        what="the COMPLETED status reaches the listener",
    )
    states = [
        ctx.new_status.state.value for m, ctx in recorder.heard if m == "on_state_snapshot_status_update"
    ]
    assert states[0] == "TRIGGER_PENDING" and "IN_PROGRESS" in states


async def test_savepoint_options_path_and_native_format(
    make_env: Any, fake_flink: Any, tmp_path: Any
) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    elsewhere = f"file:{tmp_path}/elsewhere"
    await env.create(snapshot_document("sp", job="demo", path=elsewhere, format_type="NATIVE"))
    done = await env.wait_state("sp", "COMPLETED")
    path = done["status"]["path"]
    assert path.startswith(f"{elsewhere}/savepoint-")
    stored = fake_flink.server.snapshots.lookup(path)
    assert stored is not None and stored.format_type == "NATIVE"


async def test_failing_savepoints_retry_then_fail_at_the_backoff_limit_with_flinks_reason(
    make_env: Any, fake_flink: Any
) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    fake_flink.cluster(DEMO).fail_next_savepoints(5, "Checkpoint Coordinator is suspending.")
    await env.create(snapshot_document("sp", job="demo", backoff_limit=2))
    failed = await env.wait_state("sp", "FAILED")
    status = failed["status"]
    assert status["failures"] == 3, "two retries after the first attempt"
    assert "Checkpoint Coordinator is suspending." in status["error"]
    assert failed["metadata"]["labels"]["snapshot.state"] == "FAILED"
    events = [e for e in await env.events("sp") if e["reason"] == "SavepointError"]
    assert len(events) == 1, "repeats aggregate into one event"
    event = events[0]
    assert event["type"] == "Warning" and event["source"]["component"] == "Snapshot"
    assert event["count"] == 3 and "no retries left" in event["message"]
    assert "Checkpoint Coordinator is suspending." in event["message"]


async def test_a_retry_succeeds_after_a_failure(make_env: Any, fake_flink: Any) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    fake_flink.cluster(DEMO).fail_next_savepoints(1, "transient")
    await env.create(snapshot_document("sp", job="demo"))
    done = await env.wait_state("sp", "COMPLETED")
    assert done["status"]["failures"] == 1 and "error" not in done["status"]


async def test_an_existing_savepoint_is_recorded_without_a_trigger(make_env: Any, fake_flink: Any) -> None:
    env = await make_env()
    before = len(fake_flink.server.snapshots)
    await env.create(snapshot_document("old", job=None, path="file:/old/savepoint-1", already_exists=True))
    done = await env.wait_state("old", "COMPLETED")
    assert done["status"]["path"] == "file:/old/savepoint-1"
    assert len(fake_flink.server.snapshots) == before, "nothing was triggered"
    assert "job-reference.name" not in done["metadata"]["labels"]


async def test_a_snapshot_of_a_stopped_job_is_abandoned(make_env: Any) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    await env.set_job_state("demo", "CANCELED")
    await env.create(snapshot_document("sp", job="demo"))
    abandoned = await env.wait_state("sp", "ABANDONED")
    assert "not running (state CANCELED)" in abandoned["status"]["error"]
    event = next(e for e in await env.events("sp") if e["reason"] == "SnapshotAbandoned")
    assert event["type"] == "Warning" and event["source"]["component"] == "Snapshot"


async def test_a_snapshot_of_a_missing_job_is_refused_by_validation(make_env: Any) -> None:
    env = await make_env()
    await env.create(snapshot_document("sp", job="nobody"))
    invalid = await env.wait_for("sp", lambda d: "error" in ((d or {}).get("status") or {}), what="an error")
    assert invalid is not None and "was not found" in invalid["status"]["error"]
    assert invalid["status"]["state"] == "TRIGGER_PENDING"
    assert "ValidationError" in await env.reasons("sp")
    await env.running_deployment("nobody")  # the target appears: the snapshot goes ahead on its own
    await env.wait_state("sp", "COMPLETED")


async def test_deleting_a_savepoint_disposes_its_data(make_env: Any, fake_flink: Any) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    await env.create(snapshot_document("disposed", job="demo", dispose_on_delete=True))
    await env.create(snapshot_document("kept", job="demo", dispose_on_delete=False))
    disposed = (await env.wait_state("disposed", "COMPLETED"))["status"]["path"]
    kept = (await env.wait_state("kept", "COMPLETED"))["status"]["path"]
    await env.delete("disposed")
    await env.delete("kept")
    await env.wait_for("disposed", lambda d: d is None, what="the resource is gone")
    await env.wait_for("kept", lambda d: d is None, what="the resource is gone")
    assert not fake_flink.server.snapshots.exists(disposed), "the savepoint data was disposed"
    assert fake_flink.server.snapshots.exists(kept), "disposeOnDelete: false keeps the data"


async def test_disposal_through_storage_when_the_job_is_gone(make_env: Any, fake_flink: Any) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    await env.create(snapshot_document("sp", job="demo"))
    path = (await env.wait_state("sp", "COMPLETED"))["status"]["path"]
    await fake_flink.delete_cluster(DEMO, delete_ha_data=True)
    await env.delete("sp")
    await env.wait_for("sp", lambda d: d is None, what="the resource is gone")
    assert not fake_flink.server.snapshots.exists(path)


async def test_a_failing_disposal_is_retried_and_given_up_after_the_cleanup_timeout(
    make_env: Any, fake_flink: Any
) -> None:
    env = await make_env({"kubernetes.operator.resource.cleanup.timeout": "2 s"})
    await env.running_deployment("demo")
    await env.create(snapshot_document("sp", job="demo"))
    path = (await env.wait_state("sp", "COMPLETED"))["status"]["path"]
    fake_flink.fail_rest(DEMO, status=500, times=None, path="/savepoint-disposal")
    await env.delete("sp")
    await env.wait_for("sp", lambda d: d is None, within=15, what="the resource is released")
    events = await env.events("sp")
    messages = [e["message"] for e in events if e["reason"] == "CleanupFailed"]
    assert any("Disposing savepoint" in m and "retrying" in m for m in messages)
    assert any("Gave up disposing" in m and path in m for m in messages)
    assert fake_flink.server.snapshots.exists(path), "the data is left in place, as the warning says"


async def test_a_checkpoint_completes_with_its_path(make_env: Any, fake_flink: Any, tmp_path: Any) -> None:
    env = await make_env()
    await env.running_deployment("demo", **{"execution.checkpointing.dir": f"file:{tmp_path}/checkpoints"})
    await env.create(snapshot_document("chk", job="demo", checkpoint=True))
    done = await env.wait_state("chk", "COMPLETED")
    path = done["status"]["path"]
    assert path.startswith(f"file:{tmp_path}/checkpoints/") and "/chk-" in path
    assert done["metadata"]["labels"]["snapshot.type"] == "CHECKPOINT"
    await env.delete("chk")
    await env.wait_for("chk", lambda d: d is None, what="the resource is gone")
    assert fake_flink.server.snapshots.exists(path), "checkpoints are never disposed"


async def test_a_session_job_is_snapshotted_on_its_session_cluster(make_env: Any, fake_flink: Any) -> None:
    env = await make_env()
    job_id = await env.running_session_job("job", session="session")
    await env.create(snapshot_document("sp", job="job", job_kind="FlinkSessionJob"))
    done = await env.wait_state("sp", "COMPLETED")
    stored = fake_flink.server.snapshots.lookup(done["status"]["path"])
    assert stored is not None and stored.job_id == job_id
    assert done["metadata"]["labels"]["job-reference.kind"] == "FlinkSessionJob"


async def test_an_in_progress_snapshot_is_abandoned_when_the_job_stops(
    make_env: Any, fake_flink: Any
) -> None:
    env = await make_env()
    await env.running_deployment("demo")
    cluster = fake_flink.cluster(DEMO)
    cluster.timing = replace(cluster.timing, savepoint=30.0)
    await env.create(snapshot_document("sp", job="demo"))
    await env.wait_state("sp", "IN_PROGRESS")
    await env.set_job_state("demo", "FAILED")
    abandoned = await env.wait_state("sp", "ABANDONED")
    assert "state FAILED" in abandoned["status"]["error"]
