"""The FlinkStateSnapshot state machine and its deletion: every transition, backoff and backoffLimit."""

from __future__ import annotations

import pytest
from tests.support.snapshot_documents import JOB_ID, NOW_MS, context, running_target, snapshot_document

from flink_operator.api import FlinkJobState, FlinkStateSnapshotState, FlinkVersion, SavepointFormatType
from flink_operator.controllers.common.events import Component, EventType, Reason
from flink_operator.controllers.snapshot.decision import decide
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.state_machine import (
    CHECKPOINT_PATH_LOOKUP_INTERVAL_S,
    CHECKPOINT_PATH_LOOKUPS,
    retry_delay,
)
from flink_operator.controllers.snapshot.steps import DisposeSavepoint, Poll, TriggerSnapshot
from flink_operator.controllers.snapshot.timestamps import from_k8s_time, to_k8s_time
from flink_operator.flink.service import (
    ClusterRef,
    SnapshotKind,
    SnapshotResult,
    SnapshotState,
    SnapshotTrigger,
)

pytestmark = pytest.mark.unit

PENDING = FlinkStateSnapshotState.TRIGGER_PENDING
IN_PROGRESS = FlinkStateSnapshotState.IN_PROGRESS
COMPLETED = FlinkStateSnapshotState.COMPLETED
FAILED = FlinkStateSnapshotState.FAILED
ABANDONED = FlinkStateSnapshotState.ABANDONED


def in_progress(**extra: object) -> dict[str, object]:
    return {
        "state": "IN_PROGRESS",
        "triggerId": "t-1",
        "triggerTimestamp": to_k8s_time(NOW_MS - 1000),
        **extra,
    }


def reasons(events: tuple[object, ...]) -> list[str]:
    return [e.reason for e in events]  # type: ignore[attr-defined]


# --- TRIGGER_PENDING ------------------------------------------------------------------------------------


def test_a_new_savepoint_is_triggered_into_the_jobs_savepoint_dir_and_goes_in_progress() -> None:
    step = decide(context(snapshot_document()))
    assert step.status.state is PENDING
    assert step.status.to_dict()["state"] == "TRIGGER_PENDING", "a new status is written with its state"
    action = step.action
    assert isinstance(action, TriggerSnapshot)
    assert action == TriggerSnapshot(
        ClusterRef("default", "demo"),
        JOB_ID,
        SnapshotKind.SAVEPOINT,
        "file:/savepoints",
        SavepointFormatType.CANONICAL,
    )
    outcome = step.on_success(SnapshotTrigger(SnapshotKind.SAVEPOINT, JOB_ID, "t-9"))
    assert outcome.status.state is IN_PROGRESS
    assert outcome.status.trigger_id == "t-9"
    assert from_k8s_time(outcome.status.trigger_timestamp) == NOW_MS
    assert outcome.requeue == 5.0 and outcome.events == ()


def test_the_spec_path_and_format_win_and_checkpoints_have_no_path() -> None:
    step = decide(context(snapshot_document(path="file:/mine", format_type="NATIVE")))
    assert isinstance(step.action, TriggerSnapshot)
    assert step.action.path == "file:/mine" and step.action.savepoint_format is SavepointFormatType.NATIVE
    checkpoint = decide(context(snapshot_document(checkpoint=True))).action
    assert isinstance(checkpoint, TriggerSnapshot)
    assert checkpoint.kind is SnapshotKind.CHECKPOINT and checkpoint.path is None


def test_already_existing_savepoints_complete_without_a_trigger() -> None:
    step = decide(context(snapshot_document(job=None, path="file:/old/sp-1", already_exists=True)))
    assert step.action is None and step.requeue is None
    assert step.status.state is COMPLETED and step.status.path == "file:/old/sp-1"
    assert step.status.trigger_timestamp == step.status.result_timestamp == to_k8s_time(NOW_MS)


def test_a_missing_job_abandons_the_snapshot() -> None:
    target = running_target(found=False, cluster=None, job_id=None, job_state=None)
    step = decide(context(snapshot_document(), target=target))
    assert step.action is None and step.status.state is ABANDONED and step.requeue is None
    assert "FlinkDeployment default/demo was not found" in (step.status.error or "")
    (event,) = step.events
    assert (event.reason, event.type, event.component) == (
        Reason.SNAPSHOT_ABANDONED,
        EventType.WARNING,
        Component.SNAPSHOT,
    )


@pytest.mark.parametrize("state", [FlinkJobState.FAILED, FlinkJobState.CANCELED, FlinkJobState.FINISHED])
def test_a_stopped_job_abandons_the_snapshot(state: FlinkJobState) -> None:
    step = decide(context(snapshot_document(), target=running_target(job_state=state)))
    assert step.status.state is ABANDONED
    assert f"not running (state {state.value})" in (step.status.error or "")


def test_a_starting_job_gets_the_grace_period_then_the_snapshot_is_abandoned() -> None:
    starting = running_target(job_state=FlinkJobState.RECONCILING)
    young = decide(context(snapshot_document(created_ms=NOW_MS - 10_000), target=starting))
    assert young.action is None and young.status.state is PENDING and young.requeue == 5.0
    old = decide(context(snapshot_document(created_ms=NOW_MS - 61_000), target=starting))
    assert old.status.state is ABANDONED
    suspended = running_target(job_state=None, desired_running=False)
    assert decide(context(snapshot_document(), target=suspended)).status.state is ABANDONED


def test_a_session_cluster_target_abandons_with_the_reason() -> None:
    session = running_target(
        cluster=None, job_id=None, job_state=None, problem="FlinkDeployment default/demo is a session cluster"
    )
    step = decide(context(snapshot_document(), target=session))
    assert step.status.state is ABANDONED and "session cluster" in (step.status.error or "")


def test_no_savepoint_directory_is_a_failure_with_a_clear_message() -> None:
    step = decide(context(snapshot_document(), target=running_target(savepoint_dir=None)))
    assert step.action is None and step.status.state is PENDING and step.status.failures == 1
    assert "execution.checkpointing.savepoint-dir" in (step.status.error or "")
    assert reasons(step.events) == [Reason.SAVEPOINT_ERROR]


def test_checkpoints_need_flink_1_17() -> None:
    step = decide(
        context(
            snapshot_document(checkpoint=True, backoff_limit=0),
            target=running_target(flink_version=FlinkVersion.v1_16),
        )
    )
    assert step.status.state is FAILED and "1.17" in (step.status.error or "")
    assert reasons(step.events) == [Reason.CHECKPOINT_ERROR]


def test_a_refused_trigger_is_a_failure_with_flinks_reason() -> None:
    step = decide(context(snapshot_document()))
    outcome = step.on_failure(RuntimeError("Job is not in RUNNING state"))
    assert outcome.status.state is PENDING and outcome.status.failures == 1
    assert outcome.status.error == "Job is not in RUNNING state"
    assert outcome.requeue == 10.0
    (event,) = outcome.events
    assert event.reason == Reason.SAVEPOINT_ERROR and event.component is Component.SNAPSHOT
    assert "Job is not in RUNNING state" in event.message and "retrying in 10 s" in event.message


# --- retries and backoffLimit ---------------------------------------------------------------------------


def test_retry_delays_double_from_ten_seconds_and_are_capped() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [10.0, 20.0, 40.0, 80.0]
    assert retry_delay(9) == 2560.0 and retry_delay(10) == 3600.0 and retry_delay(500) == 3600.0


def test_a_retry_waits_for_its_backoff_counted_from_the_persisted_failure_time() -> None:
    status = {
        "state": "TRIGGER_PENDING",
        "failures": 2,
        "error": "boom",
        "resultTimestamp": to_k8s_time(NOW_MS),
    }
    waiting = decide(context(snapshot_document(status=status), now_ms=NOW_MS + 5_000))
    assert waiting.action is None and waiting.requeue == pytest.approx(15.0)
    due = decide(context(snapshot_document(status=status), now_ms=NOW_MS + 20_000))
    assert isinstance(due.action, TriggerSnapshot)


@pytest.mark.parametrize(
    ("limit", "failures_before", "expected"),
    [
        (-1, 0, PENDING),
        (-1, 40, PENDING),  # unlimited
        (0, 0, FAILED),  # no retries
        (2, 0, PENDING),
        (2, 1, PENDING),
        (2, 2, FAILED),  # two retries: three attempts in all
    ],
)
def test_backoff_limit(limit: int, failures_before: int, expected: FlinkStateSnapshotState) -> None:
    status = {
        "state": "IN_PROGRESS",
        "triggerId": "t",
        "triggerTimestamp": to_k8s_time(NOW_MS),
        "failures": failures_before,
    }
    poll = Poll(SnapshotResult(SnapshotState.FAILED, failure="Checkpoint expired before completing"))
    step = decide(context(snapshot_document(backoff_limit=limit, status=status), poll=poll))
    assert step.status.state is expected
    assert step.status.failures == failures_before + 1
    assert step.status.error == "Checkpoint expired before completing"
    assert step.status.trigger_id is None
    if expected is FAILED:
        assert step.requeue is None and "no retries left" in step.events[0].message
    else:
        assert step.requeue == retry_delay(failures_before + 1)


# --- IN_PROGRESS ----------------------------------------------------------------------------------------


def test_in_progress_waits_and_completes_with_the_path() -> None:
    document = snapshot_document(status=in_progress())
    waiting = decide(context(document, poll=Poll(SnapshotResult(SnapshotState.IN_PROGRESS))))
    assert waiting.status.state is IN_PROGRESS and waiting.requeue == 5.0 and waiting.action is None
    done = decide(
        context(document, poll=Poll(SnapshotResult(SnapshotState.COMPLETED, "file:/sp/savepoint-1")))
    )
    assert done.status.state is COMPLETED and done.status.path == "file:/sp/savepoint-1"
    assert from_k8s_time(done.status.result_timestamp) == NOW_MS
    assert done.requeue is None and done.events == ()


def test_a_completed_checkpoint_without_a_path_warns() -> None:
    document = snapshot_document(checkpoint=True, status=in_progress())
    step = decide(context(document, poll=Poll(SnapshotResult(SnapshotState.COMPLETED, None, 7))))
    assert step.status.state is COMPLETED and step.status.path == ""
    assert reasons(step.events) == [Reason.CHECKPOINT_ERROR]


def test_a_completed_checkpoint_with_lagging_statistics_is_asked_again_then_completes_pathless() -> None:
    document = snapshot_document(checkpoint=True, status=in_progress())
    poll = Poll(error="GET .../checkpoints/details/8 failed with HTTP 404", path_pending=True)
    waiting = decide(context(document, poll=poll, path_lookups=CHECKPOINT_PATH_LOOKUPS - 1))
    assert waiting.status.state is IN_PROGRESS and waiting.status.failures == 0
    assert waiting.action is None and waiting.events == ()
    assert waiting.requeue == min(5.0, CHECKPOINT_PATH_LOOKUP_INTERVAL_S)
    given_up = decide(context(document, poll=poll, path_lookups=CHECKPOINT_PATH_LOOKUPS))
    assert given_up.status.state is COMPLETED and given_up.status.path == ""
    assert given_up.status.failures == 0, "the checkpoint completed: it is not triggered again"
    assert reasons(given_up.events) == [Reason.CHECKPOINT_ERROR]


def test_a_snapshot_refused_while_the_tasks_start_is_triggered_again_within_the_grace_period() -> None:
    refused = SnapshotResult(
        SnapshotState.FAILED,
        failure="Checkpoint triggering task Source (1/1) of job 4f62 is not being executed at the moment. "
        "Aborting checkpoint. Failure reason: Not all required tasks are currently running.",
    )
    settings = SnapshotSettings(progress_check_interval=5.0, savepoint_grace_ms=60_000)
    target = running_target(settings=settings)
    document = snapshot_document(status=in_progress(), created_ms=NOW_MS - 10_000)
    again = decide(context(document, target=target, poll=Poll(refused)))
    assert again.status.state is PENDING and again.status.failures == 0
    assert again.status.trigger_id is None and again.events == () and again.requeue == 5.0
    assert "tasks are still starting" in (again.status.error or "")
    retried = decide(context(snapshot_document(status=again.status.to_dict()), target=target))
    assert isinstance(retried.action, TriggerSnapshot), "triggered at once: no backoff without a failure"
    late = snapshot_document(status=in_progress(), created_ms=NOW_MS - 61_000)
    failed = decide(context(late, target=target, poll=Poll(refused)))
    assert failed.status.failures == 1 and reasons(failed.events) == [Reason.SAVEPOINT_ERROR]


def test_an_in_progress_snapshot_of_a_vanished_or_stopped_job_is_abandoned() -> None:
    document = snapshot_document(status=in_progress())
    gone = decide(context(document, target=running_target(found=False)))
    assert gone.status.state is ABANDONED
    stopped = decide(context(document, target=running_target(job_state=FlinkJobState.CANCELED)))
    assert stopped.status.state is ABANDONED
    restarting = decide(
        context(
            document,
            target=running_target(job_state=FlinkJobState.RESTARTING),
            poll=Poll(SnapshotResult(SnapshotState.IN_PROGRESS)),
        )
    )
    assert restarting.status.state is IN_PROGRESS


def test_errors_asking_flink_are_retried_until_the_checkpoint_timeout() -> None:
    settings = SnapshotSettings(
        progress_check_interval=5.0, checkpoint_timeout_ms=600_000, savepoint_grace_ms=60_000
    )
    target = running_target(settings=settings)
    document = snapshot_document(status=in_progress(triggerTimestamp=to_k8s_time(NOW_MS)))
    poll = Poll(error="connection refused")
    early = decide(context(document, target=target, poll=poll, now_ms=NOW_MS + 600_000))
    assert early.status.state is IN_PROGRESS and early.requeue == 5.0 and early.events == ()
    late = decide(context(document, target=target, poll=poll, now_ms=NOW_MS + 661_000))
    assert late.status.state is PENDING and late.status.failures == 1
    assert "could not be observed for 660 s: connection refused" in (late.status.error or "")


def test_permanent_errors_fail_at_once() -> None:
    document = snapshot_document(status=in_progress())
    step = decide(context(document, poll=Poll(error="unknown trigger id", permanent=True)))
    assert step.status.state is PENDING and step.status.failures == 1
    assert step.status.error == "unknown trigger id"


def test_final_states_do_nothing_and_are_not_rescheduled() -> None:
    for state in ("COMPLETED", "FAILED", "ABANDONED"):
        step = decide(context(snapshot_document(status={"state": state, "path": "p"})))
        assert step.action is None and step.requeue is None and step.events == ()
        assert step.status.state.value == state


def test_a_validation_error_is_reported_and_nothing_else_happens() -> None:
    step = decide(context(snapshot_document(), validation_error="spec.jobReference: target not found"))
    assert step.action is None and step.requeue is None
    assert step.status.error == "spec.jobReference: target not found"
    (event,) = step.events
    assert event.reason == Reason.VALIDATION_ERROR and event.component is Component.OPERATOR


# --- deletion -------------------------------------------------------------------------------------------


def completed(**extra: object) -> dict[str, object]:
    return {"state": "COMPLETED", "path": "file:/sp/savepoint-1", **extra}


def deleting(**kwargs: object) -> dict[str, object]:
    return snapshot_document(deleted_ms=NOW_MS - 1_000, **kwargs)  # type: ignore[arg-type]


def test_a_completed_savepoint_with_dispose_on_delete_is_disposed_then_released() -> None:
    step = decide(context(deleting(status=completed(), dispose_on_delete=True)))
    assert step.action == DisposeSavepoint(ClusterRef("default", "demo"), "file:/sp/savepoint-1")
    assert step.on_success(None).remove_finalizer


def test_disposal_through_storage_when_the_job_is_gone() -> None:
    step = decide(context(deleting(status=completed()), target=running_target(found=False, cluster=None)))
    assert step.action == DisposeSavepoint(None, "file:/sp/savepoint-1")


@pytest.mark.parametrize(
    ("document", "why"),
    [
        (deleting(status=completed(), dispose_on_delete=False), "disposeOnDelete is false"),
        (deleting(checkpoint=True, status=completed()), "checkpoint"),
        (deleting(job=None, already_exists=True, path="p", status=completed()), "no job reference"),
        (deleting(status={"state": "FAILED"}), "FAILED"),
        (deleting(status={"state": "ABANDONED"}), "ABANDONED"),
        (deleting(), "TRIGGER_PENDING"),
        (deleting(status={"state": "COMPLETED", "path": ""}), "without a path"),
    ],
)
def test_snapshots_released_without_disposal(document: dict[str, object], why: str) -> None:
    step = decide(context(document))  # type: ignore[arg-type]
    assert step.remove_finalizer and step.action is None, step.note
    assert why in step.note


def test_failed_disposals_warn_and_back_off_then_give_up_after_the_cleanup_timeout() -> None:
    document = deleting(status=completed())
    step = decide(context(document, dispose_attempts=2))
    outcome = step.on_failure(RuntimeError("JobManager unreachable"))
    assert not outcome.remove_finalizer and outcome.requeue == 40.0
    (event,) = outcome.events
    assert event.reason == Reason.CLEANUP_FAILED and event.component is Component.SNAPSHOT
    assert "JobManager unreachable" in event.message and "attempt 3" in event.message
    overdue = decide(context(document, now_ms=NOW_MS + 300_000))
    assert overdue.remove_finalizer and overdue.action is None
    (warning,) = overdue.events
    assert warning.reason == Reason.CLEANUP_FAILED and "file:/sp/savepoint-1" in warning.message
    assert "left in place" in warning.message


def test_in_progress_during_deletion_is_observed_to_its_end() -> None:
    document = deleting(status=in_progress())
    running = decide(context(document, poll=Poll(SnapshotResult(SnapshotState.IN_PROGRESS))))
    assert not running.remove_finalizer and running.requeue == 5.0
    done = decide(context(document, poll=Poll(SnapshotResult(SnapshotState.COMPLETED, "file:/sp/x"))))
    assert done.status.state is COMPLETED and done.status.path == "file:/sp/x" and done.requeue == 0.0
    failed = decide(context(document, poll=Poll(SnapshotResult(SnapshotState.FAILED, failure="no"))))
    assert failed.remove_finalizer
    overdue = decide(
        context(document, poll=Poll(SnapshotResult(SnapshotState.IN_PROGRESS)), now_ms=NOW_MS + 400_000)
    )
    assert overdue.remove_finalizer and reasons(overdue.events) == [Reason.CLEANUP_FAILED]
