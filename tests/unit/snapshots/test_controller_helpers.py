"""The pure helpers of the snapshot controller's shell: the status as written (unset fields left out; state
and failure count always present, as upstream writes `failures: 0` and `kubectl get -o
jsonpath={.status.failures}` relies on it), and how errors asking Flink about a snapshot are classified."""

from __future__ import annotations

import pytest

from flink_operator.api import FlinkStateSnapshotState, FlinkStateSnapshotStatus
from flink_operator.controllers.snapshot.controller import classify_poll_error, status_document
from flink_operator.flink.rest import ClusterUnreachable, JobNotFound, NotFound, TriggerFailed

pytestmark = pytest.mark.unit

REST = "http://127.0.0.1:8081/jobs/4f62"


def test_a_fresh_status_has_its_state_and_zero_failures() -> None:
    assert status_document(FlinkStateSnapshotStatus()) == {"state": "TRIGGER_PENDING", "failures": 0}


def test_set_fields_are_written_and_unset_ones_left_out() -> None:
    status = FlinkStateSnapshotStatus(
        state=FlinkStateSnapshotState.COMPLETED, path="file:/data/savepoint-1", trigger_id="t1"
    )
    assert status_document(status) == {
        "state": "COMPLETED",
        "failures": 0,
        "path": "file:/data/savepoint-1",
        "triggerId": "t1",
    }


def test_missing_checkpoint_statistics_mean_the_path_is_pending_not_a_failure() -> None:
    error = NotFound(
        f"GET {REST}/checkpoints/details/8 failed with HTTP 404: Could not find checkpointing statistics",
        status=404,
        method="GET",
        url=f"{REST}/checkpoints/details/8",
    )
    poll = classify_poll_error(error)
    assert poll.path_pending and not poll.permanent
    assert poll.error is not None and "checkpoints/details/8" in poll.error


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (NotFound("unknown trigger", status=404, url=f"{REST}/checkpoints/t-1"), True),
        (JobNotFound("no job", status=404, url=f"{REST}/checkpoints/details/8", job_id="4f62"), True),
        (TriggerFailed("failed", operation="savepoint", reason="disk full"), True),
        (ClusterUnreachable("connection refused"), False),
    ],
)
def test_other_errors_are_permanent_or_transient(error: Exception, permanent: bool) -> None:
    poll = classify_poll_error(error)
    assert poll.permanent is permanent and not poll.path_pending
