"""The checkpoint history of a fake job: ids, statistics counters, retention, and what Flink deletes when.

Checkpoint ids continue across a restore (a job restored from checkpoint/savepoint N takes N+1 next, as
on real Flink); savepoints take ids too. One completed checkpoint is retained
(``execution.checkpointing.num-retained`` = 1): a newer one deletes the older one's files. When a job ends,
retained checkpoints are deleted unless the externalisation setting keeps them for that outcome. The
history shown by REST is bounded to the last 10 entries, like Flink's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flink_operator.flink.rest.models.jobs import JobState
from flink_operator.testing.fake_flink_snapshots import SnapshotStore

__all__ = ["CheckpointLog", "CheckpointRecord", "keeps_checkpoints"]

HISTORY_SIZE = 10


@dataclass
class CheckpointRecord:
    id: int
    status: str  # IN_PROGRESS, COMPLETED, FAILED
    is_savepoint: bool
    trigger_ms: int
    ack_ms: int = 0
    external_path: str | None = None
    savepoint_format: str | None = None
    checkpoint_type: str = "CHECKPOINT"
    state_size: int = 4096
    failure_message: str | None = None
    discarded: bool = False


def keeps_checkpoints(retention: str, final: JobState) -> bool:
    """Whether a job ending in ``final`` keeps its retained checkpoint, per its retention setting."""
    if retention == "RETAIN_ON_CANCELLATION":
        return True
    return retention == "DELETE_ON_CANCELLATION" and final is not JobState.CANCELED


@dataclass
class CheckpointLog:
    records: list[CheckpointRecord] = field(default_factory=list)
    triggered: int = 0
    completed: int = 0
    failed: int = 0
    next_id: int = 1

    def continue_after(self, checkpoint_id: int) -> None:
        self.next_id = checkpoint_id + 1

    def begin(self, *, savepoint: bool, format_type: str | None, now_ms: int) -> CheckpointRecord:
        record = CheckpointRecord(
            id=self.next_id,
            status="IN_PROGRESS",
            is_savepoint=savepoint,
            trigger_ms=now_ms,
            savepoint_format=format_type if savepoint else None,
            checkpoint_type="SAVEPOINT" if savepoint else "CHECKPOINT",
        )
        self.next_id += 1
        self.triggered += 1
        self.records.append(record)
        del self.records[:-HISTORY_SIZE]
        return record

    def complete(self, record: CheckpointRecord, path: str, now_ms: int) -> None:
        record.status = "COMPLETED"
        record.ack_ms = now_ms
        record.external_path = path
        self.completed += 1

    def fail(self, record: CheckpointRecord, reason: str, now_ms: int) -> None:
        record.status = "FAILED"
        record.failure_message = reason
        record.ack_ms = now_ms
        self.failed += 1

    @property
    def in_progress(self) -> int:
        return sum(1 for r in self.records if r.status == "IN_PROGRESS")

    def latest(self, *, savepoint: bool | None = False) -> CheckpointRecord | None:
        """The newest completed checkpoint (``savepoint=True``: savepoint; None: either)."""
        for record in reversed(self.records):
            if record.status == "COMPLETED" and (savepoint is None or record.is_savepoint == savepoint):
                return record
        return None

    def latest_failed(self) -> CheckpointRecord | None:
        return next((r for r in reversed(self.records) if r.status == "FAILED"), None)

    def subsume(self, latest: CheckpointRecord, snapshots: SnapshotStore) -> None:
        for record in self.records:
            if record is latest or record.is_savepoint or record.status != "COMPLETED" or record.discarded:
                continue
            if record.external_path:
                snapshots.discard(record.external_path)
            record.discarded = True

    def discard_retained(self, snapshots: SnapshotStore) -> None:
        for record in self.records:
            if not record.is_savepoint and record.status == "COMPLETED" and record.external_path:
                snapshots.discard(record.external_path)
                record.discarded = True
