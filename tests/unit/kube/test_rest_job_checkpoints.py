"""Which checkpoint the Kubernetes runtimes name as a job's restore point, and when they may read it."""

from __future__ import annotations

import pytest

from flink_operator.flink.kubernetes.jobs import restorable, settle_wait
from flink_operator.flink.rest.models.snapshots import CheckpointSummary
from flink_operator.flink.service import CheckpointInfo

pytestmark = pytest.mark.unit


def summary(**fields: object) -> CheckpointSummary:
    return CheckpointSummary.model_validate(
        {"id": 7, "status": "COMPLETED", "latest_ack_timestamp": 1234, **fields}
    )


def test_a_completed_checkpoint_with_a_path_is_restorable() -> None:
    found = restorable(summary(external_path="file:/cp/job/chk-7", discarded=False))
    assert found == CheckpointInfo(7, "file:/cp/job/chk-7", 1234)
    assert restorable(summary(external_path="file:/cp/job/chk-7")) == found  # older Flink: no flag


def test_a_discarded_checkpoint_is_not_restorable() -> None:
    # subsumed by a later one, or deleted when the job was cancelled: its files are gone
    assert restorable(summary(external_path="file:/cp/job/chk-7", discarded=True)) is None


def test_no_checkpoint_or_no_external_path_is_not_restorable() -> None:
    assert restorable(None) is None
    assert restorable(summary(external_path=None)) is None
    assert restorable(summary(external_path="")) is None


@pytest.mark.parametrize(
    ("ttl", "ended_ago", "wait"),
    [
        (3.0, None, 0.0),  # still running (or unknown): read now
        (3.0, 0.0, 3.0),  # just ended: a cached answer may predate the end
        (3.0, 1.0, 2.0),
        (3.0, 3.0, 0.0),  # a full cache period later every answer is computed after the end
        (3.0, 10.0, 0.0),
        (3.0, -5.0, 3.0),  # a clock ahead of ours never makes the wait longer than one period
        (0.0, 0.0, 0.0),  # no cache
    ],
)
def test_settle_wait_is_the_rest_of_one_cache_period(
    ttl: float, ended_ago: float | None, wait: float
) -> None:
    assert settle_wait(ttl, ended_ago) == pytest.approx(wait)
