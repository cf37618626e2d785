"""What a FlinkStateSnapshot decision returns: a `Step` (status to write, events, at most one FlinkService
action, and pure continuations for its success or failure), and the inputs a decision reads.

The shell executes a step the same way as the FlinkDeployment controller does: write `status` (skipped when
unchanged) and the labels that go with it, record `events`, perform `action`, then write and record what
`on_success(result)` / `on_failure(error)` return, and requeue as the step or outcome says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flink_operator.api import FlinkStateSnapshot, FlinkStateSnapshotStatus, SavepointFormatType
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.target import Target
from flink_operator.flink.service import ClusterRef, SnapshotKind, SnapshotResult


@dataclass(frozen=True)
class Poll:
    """What Flink said about a triggered snapshot: a result, or an error asking for it.

    `permanent` marks errors that asking again cannot fix (the trigger id or the job is unknown).
    `path_pending` marks a checkpoint Flink reports completed but whose statistics (and so its path) it does
    not serve yet: Flink caches checkpoint statistics (`rest.cache.checkpoint-statistics.timeout`, 3 s by
    default) apart from the trigger status, so the details of a checkpoint that just completed answer 404."""

    result: SnapshotResult | None = None
    error: str | None = None
    permanent: bool = False
    path_pending: bool = False


@dataclass(frozen=True)
class SnapshotContext:
    """Everything one FlinkStateSnapshot decision looks at."""

    snapshot: FlinkStateSnapshot
    target: Target | None
    """None when the snapshot names no job."""
    settings: SnapshotSettings
    """The referenced job's settings (the operator defaults when there is no job)."""
    now_ms: int
    poll: Poll | None = None
    validation_error: str | None = None
    dispose_attempts: int = 0
    """Failed disposals of this snapshot so far (deletion only)."""
    path_lookups: int = 0
    """Polls so far that found the checkpoint completed but its path not yet served (`Poll.path_pending`)."""

    @property
    def name(self) -> str:
        return self.snapshot.name

    @property
    def is_savepoint(self) -> bool:
        return self.snapshot.spec.savepoint is not None

    @property
    def kind(self) -> SnapshotKind:
        return SnapshotKind.SAVEPOINT if self.is_savepoint else SnapshotKind.CHECKPOINT

    @property
    def deleting(self) -> bool:
        return self.snapshot.metadata.deletion_timestamp is not None


@dataclass(frozen=True)
class TriggerSnapshot:
    """Trigger a savepoint (to `path`, in `savepoint_format`) or a FULL checkpoint of a running job."""

    cluster: ClusterRef
    job_id: str
    kind: SnapshotKind
    path: str | None = None
    savepoint_format: SavepointFormatType = SavepointFormatType.CANONICAL

    def describe(self) -> str:
        where = f" to {self.path}" if self.path else ""
        return f"trigger a {self.kind.value} of job {self.job_id} on {self.cluster}{where}"


@dataclass(frozen=True)
class DisposeSavepoint:
    """Delete the savepoint data at `path` (through `cluster` when it is known)."""

    cluster: ClusterRef | None
    path: str

    def describe(self) -> str:
        return f"dispose savepoint {self.path}"


Action = TriggerSnapshot | DisposeSavepoint


@dataclass(frozen=True)
class Outcome:
    status: FlinkStateSnapshotStatus
    events: tuple[EventSpec, ...] = ()
    requeue: float | None = None
    remove_finalizer: bool = False


def _no_continuation(_: Any) -> Outcome:
    raise AssertionError("a step without an action has no continuation")


@dataclass(frozen=True)
class Step:
    status: FlinkStateSnapshotStatus
    events: tuple[EventSpec, ...] = ()
    action: Action | None = None
    requeue: float | None = None
    """Seconds until the next look (None: only when something changes); for steps without an action."""
    on_success: Callable[[Any], Outcome] = _no_continuation
    on_failure: Callable[[Exception], Outcome] = _no_continuation
    remove_finalizer: bool = False
    note: str = ""

    def as_outcome(self) -> Outcome:
        return Outcome(self.status, self.events, self.requeue, self.remove_finalizer)


def wait(status: FlinkStateSnapshotStatus, seconds: float | None, note: str, *events: EventSpec) -> Step:
    return Step(status, tuple(events), None, seconds, note=note)


def step_of(outcome: Outcome, note: str) -> Step:
    """An outcome recorded without an action (a decision that needs no Flink call)."""
    return Step(
        outcome.status,
        outcome.events,
        None,
        outcome.requeue,
        remove_finalizer=outcome.remove_finalizer,
        note=note,
    )


def release(status: FlinkStateSnapshotStatus, note: str, *events: EventSpec) -> Step:
    return Step(status, tuple(events), None, None, remove_finalizer=True, note=note)
