"""Legacy snapshot tracking in the job status: triggers, results, Flink's reasons, the grace period (no retry
storm), abandonment when the job stops, and the reconciled nonce."""

from __future__ import annotations

import json

import pytest

from flink_operator.api import (
    CheckpointType,
    FlinkDeploymentStatus,
    FlinkJobState,
    SavepointFormatType,
    SnapshotTriggerType,
    write_spec_with_meta,
)
from flink_operator.controllers.common.events import Component, Reason
from flink_operator.controllers.snapshot.legacy import (
    abandon_if_stopped,
    observe_trigger,
    pending_trigger,
    reconciled_nonce,
    record_trigger,
    with_reconciled_nonce,
)
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.steps import Poll
from flink_operator.flink.service import SnapshotKind, SnapshotResult, SnapshotState

pytestmark = pytest.mark.unit

NOW = 1_000_000
SAVEPOINT = SnapshotKind.SAVEPOINT
CHECKPOINT = SnapshotKind.CHECKPOINT
SETTINGS = SnapshotSettings(
    savepoint_grace_ms=60_000, checkpoint_grace_ms=30_000, checkpoint_timeout_ms=600_000
)


def status(nonce: int | None = 1, checkpoint_nonce: int | None = None) -> FlinkDeploymentStatus:
    job: dict[str, object] = {
        "jarURI": "local:///job.jar",
        "upgradeMode": "savepoint",
        "state": "running",
        "unknownField": "kept",
    }
    if nonce is not None:
        job["savepointTriggerNonce"] = nonce
    if checkpoint_nonce is not None:
        job["checkpointTriggerNonce"] = checkpoint_nonce
    result = FlinkDeploymentStatus()
    result.reconciliation_status.last_reconciled_spec = write_spec_with_meta(
        {"flinkVersion": "v2_3", "job": job}, "flink.apache.org/v1beta1", False
    )
    return result


def triggered(
    kind: SnapshotKind = SAVEPOINT,
    trigger_type: SnapshotTriggerType = SnapshotTriggerType.MANUAL,
    at: int = NOW,
) -> FlinkDeploymentStatus:
    return record_trigger(
        status(),
        kind,
        "trig-1",
        trigger_type,
        at,
        savepoint_format=SavepointFormatType.NATIVE,
        checkpoint_type=CheckpointType.INCREMENTAL,
    )


def test_reconciled_nonce_is_read_and_edited_in_place() -> None:
    original = status(nonce=1)
    assert reconciled_nonce(original, SAVEPOINT) == 1 and reconciled_nonce(original, CHECKPOINT) is None
    edited = with_reconciled_nonce(original, SAVEPOINT, 2)
    assert reconciled_nonce(edited, SAVEPOINT) == 2
    assert reconciled_nonce(original, SAVEPOINT) == 1, "the input is not changed"
    text = edited.reconciliation_status.last_reconciled_spec or ""
    assert json.loads(text)["spec"]["job"]["unknownField"] == "kept"
    assert reconciled_nonce(with_reconciled_nonce(edited, CHECKPOINT, 5), CHECKPOINT) == 5
    unchanged = with_reconciled_nonce(FlinkDeploymentStatus(), SAVEPOINT, 3)
    assert unchanged.reconciliation_status.last_reconciled_spec is None


def test_a_trigger_is_recorded_with_type_and_format() -> None:
    result = triggered()
    info = result.job_status.savepoint_info
    assert (info.trigger_id, info.trigger_timestamp, info.trigger_type, info.format_type) == (
        "trig-1",
        NOW,
        SnapshotTriggerType.MANUAL,
        SavepointFormatType.NATIVE,
    )
    pending = pending_trigger(result, SAVEPOINT)
    assert pending is not None and pending.trigger_id == "trig-1"
    checkpoint = triggered(CHECKPOINT).job_status.checkpoint_info
    assert checkpoint.trigger_id == "trig-1" and checkpoint.format_type is CheckpointType.INCREMENTAL


def test_a_completed_manual_savepoint_joins_the_history_and_handles_the_nonce() -> None:
    poll = Poll(SnapshotResult(SnapshotState.COMPLETED, "file:/sp/savepoint-1"))
    observed = observe_trigger(triggered(), SAVEPOINT, poll, now_ms=NOW + 5, settings=SETTINGS, nonce=2)
    info = observed.status.job_status.savepoint_info
    assert info.trigger_id is None and info.last_savepoint is not None
    last = info.last_savepoint
    assert (last.location, last.time_stamp, last.trigger_type, last.format_type, last.trigger_nonce) == (
        "file:/sp/savepoint-1",
        NOW + 5,
        SnapshotTriggerType.MANUAL,
        SavepointFormatType.NATIVE,
        2,
    )
    assert [s.location for s in info.savepoint_history] == ["file:/sp/savepoint-1"]
    assert reconciled_nonce(observed.status, SAVEPOINT) == 2
    assert observed.events == () and not observed.pending


def test_a_completed_periodic_savepoint_records_its_time_and_keeps_the_nonce() -> None:
    poll = Poll(SnapshotResult(SnapshotState.COMPLETED, "file:/sp/p-1"))
    observed = observe_trigger(
        triggered(trigger_type=SnapshotTriggerType.PERIODIC),
        SAVEPOINT,
        poll,
        now_ms=NOW + 5,
        settings=SETTINGS,
        nonce=2,
    )
    info = observed.status.job_status.savepoint_info
    assert info.last_periodic_savepoint_timestamp == NOW + 5
    assert info.last_savepoint is not None and info.last_savepoint.trigger_nonce is None
    assert reconciled_nonce(observed.status, SAVEPOINT) == 1


def test_a_completed_checkpoint() -> None:
    poll = Poll(SnapshotResult(SnapshotState.COMPLETED, "file:/chk/chk-4", 4))
    observed = observe_trigger(
        triggered(CHECKPOINT), CHECKPOINT, poll, now_ms=NOW + 5, settings=SETTINGS, nonce=7
    )
    info = observed.status.job_status.checkpoint_info
    assert info.trigger_id is None and info.last_checkpoint is not None
    assert info.last_checkpoint.format_type is CheckpointType.INCREMENTAL
    assert reconciled_nonce(observed.status, CHECKPOINT) == 7


def test_in_progress_keeps_the_trigger_pending() -> None:
    observed = observe_trigger(
        triggered(),
        SAVEPOINT,
        Poll(SnapshotResult(SnapshotState.IN_PROGRESS)),
        now_ms=NOW + 5,
        settings=SETTINGS,
        nonce=2,
    )
    assert observed.pending and pending_trigger(observed.status, SAVEPOINT) is not None


def test_a_failure_within_the_grace_period_is_retried_later_with_flinks_reason() -> None:
    poll = Poll(SnapshotResult(SnapshotState.FAILED, failure="Checkpoint Coordinator is suspending."))
    observed = observe_trigger(triggered(), SAVEPOINT, poll, now_ms=NOW + 10_000, settings=SETTINGS, nonce=2)
    assert pending_trigger(observed.status, SAVEPOINT) is None
    assert reconciled_nonce(observed.status, SAVEPOINT) == 1, "the nonce stays pending: retried"
    assert observed.retry_later and not observed.pending
    (event,) = observed.events
    assert event.reason == Reason.SAVEPOINT_ERROR and event.component is Component.OPERATOR
    assert event.message.startswith("Savepoint failed for savepointTriggerNonce: 2: ")
    assert "Checkpoint Coordinator is suspending." in event.message


def test_a_failure_after_the_grace_period_consumes_the_nonce() -> None:
    poll = Poll(SnapshotResult(SnapshotState.FAILED, failure="boom"))
    observed = observe_trigger(triggered(), SAVEPOINT, poll, now_ms=NOW + 61_000, settings=SETTINGS, nonce=2)
    assert reconciled_nonce(observed.status, SAVEPOINT) == 2
    assert not observed.retry_later
    assert observed.events[0].message == "Savepoint failed for savepointTriggerNonce: 2: boom"


def test_a_failed_periodic_savepoint_is_not_retried_before_the_next_period() -> None:
    poll = Poll(SnapshotResult(SnapshotState.FAILED, failure="boom"))
    observed = observe_trigger(
        triggered(trigger_type=SnapshotTriggerType.PERIODIC),
        SAVEPOINT,
        poll,
        now_ms=NOW + 1,
        settings=SETTINGS,
        nonce=2,
    )
    assert not observed.retry_later
    assert observed.events[0].message == "Periodic savepoint failed: boom"
    assert reconciled_nonce(observed.status, SAVEPOINT) == 1


def test_errors_asking_flink_keep_the_trigger_until_the_timeout() -> None:
    poll = Poll(error="connection refused")
    early = observe_trigger(triggered(), SAVEPOINT, poll, now_ms=NOW + 600_000, settings=SETTINGS, nonce=2)
    assert early.pending and early.events == ()
    late = observe_trigger(triggered(), SAVEPOINT, poll, now_ms=NOW + 661_000, settings=SETTINGS, nonce=2)
    assert not late.pending and pending_trigger(late.status, SAVEPOINT) is None
    assert "connection refused" in late.events[0].message
    permanent = observe_trigger(
        triggered(),
        SAVEPOINT,
        Poll(error="unknown trigger", permanent=True),
        now_ms=NOW + 1,
        settings=SETTINGS,
        nonce=2,
    )
    assert not permanent.pending and permanent.retry_later


def test_nothing_pending_nothing_observed() -> None:
    plain = status()
    observed = observe_trigger(plain, SAVEPOINT, Poll(error="x"), now_ms=NOW, settings=SETTINGS, nonce=1)
    assert observed.status is plain and observed.events == ()


def test_a_pending_trigger_of_a_stopped_job_is_abandoned() -> None:
    running, events = abandon_if_stopped(triggered(), SAVEPOINT, FlinkJobState.RUNNING, 2)
    assert pending_trigger(running, SAVEPOINT) is not None and events == ()
    stopped, events = abandon_if_stopped(triggered(), SAVEPOINT, FlinkJobState.CANCELED, 2)
    assert pending_trigger(stopped, SAVEPOINT) is None
    assert reconciled_nonce(stopped, SAVEPOINT) == 2
    (event,) = events
    assert event.reason == Reason.SAVEPOINT_ERROR and "state CANCELED" in event.message
    checkpoint, events = abandon_if_stopped(triggered(CHECKPOINT), CHECKPOINT, None, 4)
    assert pending_trigger(checkpoint, CHECKPOINT) is None
    assert events[0].reason == Reason.CHECKPOINT_ERROR
    assert events[0].message.startswith("Checkpoint failed for checkpointTriggerNonce: 4")
