"""Audit log lines: upstream's columns and padding, when status lines are written, snapshot variants."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from tests.support.plugin_resources import deployment, event, snapshot, with_status

from flink_operator.api import FlinkStateSnapshotState, FlinkStateSnapshotStatus, ResourceLifecycleState
from flink_operator.plugins import KubernetesEvent, ResourceEventContext, StatusUpdateContext
from flink_operator.plugins._audit import (
    AUDIT_LOGGER_NAME,
    AuditLogListener,
    event_line,
    snapshot_status_line,
    status_line,
)

pytestmark = pytest.mark.unit


def test_event_line_has_upstreams_columns() -> None:
    view = KubernetesEvent.from_manifest(event())
    assert event_line(view, "Job") == (
        ">>> Event[Job]          | Info    | JOBSTATUSCHANGED | Job status changed from CREATED to RUNNING"
    )


def test_warning_events_and_snapshot_component() -> None:
    view = KubernetesEvent.from_manifest(
        event(reason="SavepointError", message="Savepoint failed", type_="Warning", component="Snapshot")
    )
    assert (
        event_line(view, "Snapshot")
        == ">>> Event[Snapshot]     | Warning | SAVEPOINTERROR  | Savepoint failed"
    )


def test_status_line_describes_the_new_lifecycle_state() -> None:
    previous = with_status(deployment(), "DEPLOYED").status
    new = with_status(deployment(), "STABLE").status
    assert status_line(previous, new) == (
        f">>> Status[Job]         | Info    | STABLE          | {ResourceLifecycleState.STABLE.description}"
    )


def test_status_line_is_written_only_when_the_lifecycle_state_changes() -> None:
    stable = with_status(deployment(), "STABLE").status
    also_stable = with_status(deployment(), "STABLE").status
    also_stable.job_status.update_time = "1700000000000"
    assert status_line(stable, also_stable) is None
    assert status_line(None, stable) is not None  # first sight of a resource


def test_status_line_with_an_error_shows_level_error_and_the_error_text() -> None:
    previous = with_status(deployment(), "STABLE").status
    new = with_status(deployment(), "FAILED", error="Job failed: out of memory").status
    assert (
        status_line(previous, new)
        == ">>> Status[Job]         | Error   | FAILED          | Job failed: out of memory"
    )


def test_snapshot_status_line_shows_error_else_path_else_nothing() -> None:
    completed = FlinkStateSnapshotStatus(state=FlinkStateSnapshotState.COMPLETED, path="s3://b/sp-1")
    failed = FlinkStateSnapshotStatus(
        state=FlinkStateSnapshotState.FAILED, path="s3://b/x", error="timed out"
    )
    pending = FlinkStateSnapshotStatus()
    assert snapshot_status_line(completed) == ">>> Status[Snapshot]    | COMPLETED       | s3://b/sp-1"
    assert snapshot_status_line(failed) == ">>> Status[Snapshot]    | FAILED          | timed out"
    assert snapshot_status_line(pending) == ">>> Status[Snapshot]    | TRIGGER_PENDING | "


async def test_listener_writes_to_the_audit_logger(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, AUDIT_LOGGER_NAME)
    listener = AuditLogListener()
    now = datetime.now(UTC)
    resource = with_status(deployment(), "STABLE")
    await listener.on_deployment_status_update(
        StatusUpdateContext(resource, with_status(deployment(), "DEPLOYED").status, resource.status, now)
    )
    await listener.on_deployment_status_update(
        StatusUpdateContext(resource, resource.status, resource.status, now)
    )
    await listener.on_session_job_event(
        ResourceEventContext(
            resource, KubernetesEvent.from_manifest(event(reason="Submit", message="Starting")), now
        )
    )
    shot = snapshot()
    await listener.on_state_snapshot_status_update(StatusUpdateContext(shot, None, shot.status, now))
    await listener.on_state_snapshot_event(
        ResourceEventContext(
            shot, KubernetesEvent.from_manifest(event(reason="SnapshotAbandoned", type_="Warning")), now
        )
    )
    lines = [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER_NAME]
    assert lines == [
        f">>> Status[Job]         | Info    | STABLE          | {ResourceLifecycleState.STABLE.description}",
        ">>> Event[Job]          | Info    | SUBMIT          | Starting",
        ">>> Status[Snapshot]    | COMPLETED       | s3://bucket/sp-1",
        ">>> Event[Snapshot]     | Warning | SNAPSHOTABANDONED | Job status changed from CREATED to RUNNING",
    ]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == AUDIT_LOGGER_NAME)


def test_event_view_reads_an_api_event() -> None:
    view = KubernetesEvent.from_manifest(event(count=3))
    assert view.name == "Job.1234567"
    assert view.count == 3
    assert view.component == "Job"
    assert view.last_timestamp == datetime(2025, 1, 2, 3, 4, 6, tzinfo=UTC)
    minimal = KubernetesEvent.from_manifest({"reason": "Missing", "eventTime": "2025-01-02T03:04:05.123456Z"})
    assert (minimal.type, minimal.count, minimal.message, minimal.first_timestamp) == ("Normal", 1, "", None)
    assert minimal.last_timestamp == datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
