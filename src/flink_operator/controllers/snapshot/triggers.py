"""When the operator takes a savepoint or checkpoint of a job on its own (contract §3.16), as pure functions.

* `should_trigger(TriggerRequest)`: MANUAL when `savepointTriggerNonce` / `checkpointTriggerNonce` differs
  from the reconciled one, else PERIODIC when the schedule (`kubernetes.operator.periodic.*.interval`, a
  duration or a Quartz cron expression) is due; only for a RUNNING job and only when no snapshot of the same
  kind is in flight. Upstream has no in-flight guard for snapshot resources: a slow savepoint and a short
  interval piled up savepoints (a complaint about other operators too). Here a new one waits, and the
  manual nonce stays pending meanwhile (it is never lost).
* `is_due(schedule, last_ms, now_ms)`: an interval is due when `last + interval < now`; a cron schedule when
  its next fire time after `last` lies before `now` (upstream's rules).
* The last periodic trigger time: kept in memory per resource uid and kind (`TriggerTimestamps`), and after a
  restart recovered by `recovered_last_trigger_ms`: the creation time of the newest PERIODIC snapshot
  resource of that kind, else the later of the legacy `lastPeriodic*Timestamp` and the resource's creation
  time. Upstream only looks at COMPLETED periodic snapshots; a failed or abandoned one was still a trigger,
  and counting it keeps a failing job from being snapshotted again at every operator restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flink_operator.api import SnapshotTriggerType
from flink_operator.config import CronSchedule, IntervalSchedule, Schedule
from flink_operator.controllers.snapshot.cron import CronError, parse_cron
from flink_operator.controllers.snapshot.summary import SnapshotSummary
from flink_operator.controllers.snapshot.timestamps import to_datetime
from flink_operator.flink.service import SnapshotKind


def is_due(schedule: Schedule | None, last_ms: int, now_ms: int) -> bool:
    """Whether a periodic snapshot is due; an unparsable cron expression is never due (the validator
    reports it)."""
    if schedule is None:
        return False
    if isinstance(schedule, IntervalSchedule):
        interval_ms = int(schedule.interval.total_seconds() * 1000)
        return interval_ms > 0 and last_ms + interval_ms < now_ms
    try:
        expression = parse_cron(schedule.expression)
    except CronError:
        return False
    fire = expression.next_after(to_datetime(last_ms))
    return fire is not None and fire < to_datetime(now_ms)


def next_due_ms(schedule: Schedule | None, last_ms: int) -> int | None:
    """When a periodic snapshot becomes due (for requeue delays); None when never."""
    if schedule is None:
        return None
    if isinstance(schedule, IntervalSchedule):
        interval_ms = int(schedule.interval.total_seconds() * 1000)
        return last_ms + interval_ms + 1 if interval_ms > 0 else None
    try:
        fire = parse_cron(schedule.expression).next_after(to_datetime(last_ms))
    except CronError:
        return None
    return None if fire is None else int(fire.timestamp() * 1000) + 1


def schedule_error(schedule: Schedule | None) -> str | None:
    """The problem of a cron schedule Quartz would refuse (None when fine)."""
    if isinstance(schedule, CronSchedule):
        try:
            parse_cron(schedule.expression)
        except CronError as error:
            return str(error)
    return None


@dataclass(frozen=True)
class TriggerRequest:
    """Everything `should_trigger` looks at for one kind of snapshot of one job."""

    kind: SnapshotKind
    job_running: bool
    in_flight: bool
    """A snapshot of this kind (legacy trigger or operator-created resource) is pending or running."""
    nonce: int | None
    reconciled_nonce: int | None
    schedule: Schedule | None
    last_periodic_ms: int
    now_ms: int
    supported: bool = True
    """False for checkpoints on Flink before 1.17 (no REST checkpoint trigger)."""

    @property
    def manual_pending(self) -> bool:
        return self.nonce is not None and self.nonce != self.reconciled_nonce


def should_trigger(request: TriggerRequest) -> SnapshotTriggerType | None:
    """MANUAL, PERIODIC or None (see the module docstring)."""
    if not request.job_running or request.in_flight or not request.supported:
        return None
    if request.manual_pending:
        return SnapshotTriggerType.MANUAL
    if is_due(request.schedule, request.last_periodic_ms, request.now_ms):
        return SnapshotTriggerType.PERIODIC
    return None


def recovered_last_trigger_ms(
    kind: SnapshotKind, snapshots: Iterable[SnapshotSummary], legacy_ms: int, created_ms: int
) -> int:
    """The last periodic trigger time as known without memory (after an operator restart)."""
    periodic = [
        s.created_ms for s in snapshots if s.kind is kind and s.trigger_type is SnapshotTriggerType.PERIODIC
    ]
    if periodic:
        return max(periodic)
    return max(legacy_ms, created_ms)


@dataclass
class TriggerTimestamps:
    """Last periodic trigger times in memory, per resource uid and snapshot kind (upstream's
    SnapshotTriggerTimestampStore). Lost on restart, then recovered (see the module docstring)."""

    _last: dict[tuple[str, SnapshotKind], int] = field(default_factory=dict)

    def last(self, uid: str, kind: SnapshotKind, recover: Callable[[], int]) -> int:
        key = (uid, kind)
        if key not in self._last:
            self._last[key] = recover()
        return self._last[key]

    def record(self, uid: str, kind: SnapshotKind, epoch_ms: int) -> None:
        self._last[(uid, kind)] = epoch_ms

    def forget(self, uid: str) -> None:
        for key in [k for k in self._last if k[0] == uid]:
            del self._last[key]

    def __len__(self) -> int:
        return len(self._last)
