"""What a FlinkSessionJob decision returns: a `Step` (status to write first, events, at most one action, and
what to record once the action succeeded or failed), as plain data plus pure continuation functions.

The shell executes a step in the write-ahead order: write `step.status` and record `step.events`; perform
`step.action` through the FlinkService; compute `on_success(result)` / `on_failure(error)` (pure), write
that status, record its events, requeue as it says. Each action is safe to repeat after a crash: a
submission under a job id the session already knows submits nothing, cancelling a stopped job returns its
final snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flink_operator.api import FlinkSessionJobStatus
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.flink.service import SavepointFormat, SessionJobRequest, SuspendMode


@dataclass(frozen=True)
class SubmitJob:
    """Upload the jar and run it on the session under `request.job_id`."""

    request: SessionJobRequest

    def describe(self) -> str:
        restore = f" from {self.request.restore_path}" if self.request.restore_path else ""
        return f"submit job {self.request.job_id} to {self.request.cluster}{restore}"


@dataclass(frozen=True)
class CancelJob:
    """Take the job down as `mode` says and wait (bounded) until it is terminal."""

    job_id: str
    mode: SuspendMode
    savepoint_dir: str | None = None
    savepoint_format: SavepointFormat = SavepointFormat.CANONICAL
    drain: bool = False

    def describe(self) -> str:
        return f"cancel job {self.job_id} ({self.mode})"


Action = SubmitJob | CancelJob


@dataclass(frozen=True)
class Outcome:
    status: FlinkSessionJobStatus
    events: tuple[EventSpec, ...] = ()
    requeue: Requeue = field(default_factory=lambda: Requeue(None))
    remove_finalizer: bool = False


def _no_continuation(_: Any) -> Outcome:
    raise AssertionError("a step without an action has no continuation")


@dataclass(frozen=True)
class Step:
    status: FlinkSessionJobStatus
    events: tuple[EventSpec, ...] = ()
    action: Action | None = None
    requeue: Requeue = field(default_factory=lambda: Requeue(None))
    on_success: Callable[[Any], Outcome] = _no_continuation
    on_failure: Callable[[Exception], Outcome] = _no_continuation
    remove_finalizer: bool = False
    """Without an action: the resource may be released now."""
    settled: bool = False
    """Nothing is going on: snapshot triggers (manual, periodic) may run after this step."""
    note: str = ""
