"""Snapshots seen from a job resource (FlinkDeployment, FlinkSessionJob): what its reconcile does about them,
as two pure planners (contract §3.4 savepoint observer, §3.16).

`observe_job_snapshots(inputs) -> ObservePlan`, on every observation of the job:

* legacy triggers (snapshot resources disabled): apply the poll result of a pending MANUAL/PERIODIC trigger
  (`legacy.observe_trigger`), or drop it when the job stopped (`legacy.abandon_if_stopped`). The
  stop-with-savepoint marker of an upgrade (trigger type UPGRADE) belongs to the upgrade and is left alone;
* upgrade savepoints (`lastSavepoint`/`savepointHistory` entries of type UPGRADE) become FlinkStateSnapshot
  resources with `alreadyExists: true` when resources are enabled (created if missing, keyed by the
  savepoint's time; once the resource exists the history entry is dropped without disposal: the resource
  owns the data now). Level-triggered, so a crash between the stop and the creation loses nothing;
* retention (`retention`): snapshot resources to delete, legacy history entries to dispose and drop. A path
  that any snapshot resource records is never disposed through the legacy history.

`trigger_job_snapshots(inputs) -> TriggerPlan`, only when the job RUNNING and nothing else is going on:
manual (nonce) and periodic savepoints, then checkpoints (`triggers.should_trigger`): with resources enabled
a FlinkStateSnapshot document (a MANUAL one records the nonce as handled in the same status), else one legacy
REST trigger. Periodic triggers are reported so the caller can remember their time (`TriggerTimestamps`),
and the plan says when the next periodic snapshot falls due, so that the caller looks again then rather
than at its next regular reconcile (upstream evaluates schedules only at `reconcile.interval`, so a 2 s
schedule ran every minute there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, cast

from flink_operator.api import (
    CommonStatus,
    FlinkJobState,
    FlinkStateSnapshotState,
    JobKind,
    Savepoint,
    SavepointFormatType,
    SnapshotTriggerType,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.snapshot import legacy
from flink_operator.controllers.snapshot.naming import is_operator_snapshot, operator_snapshot
from flink_operator.controllers.snapshot.retention import (
    HistoryPruning,
    legacy_history_pruning,
    policy_for,
    savepoint_policy,
    snapshots_to_delete,
    without_entry,
)
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.steps import Poll
from flink_operator.controllers.snapshot.summary import SnapshotSummary
from flink_operator.controllers.snapshot.triggers import (
    TriggerRequest,
    next_due_ms,
    schedule_error,
    should_trigger,
)
from flink_operator.flink.service import SnapshotKind

St = TypeVar("St", bound=CommonStatus)
KINDS = (SnapshotKind.SAVEPOINT, SnapshotKind.CHECKPOINT)
MIN_PERIODIC_REQUEUE_S = 1.0
"""The soonest a reconcile is asked for a periodic schedule: a due kind that was not triggered (one legacy
REST trigger per reconcile) waits this long instead of spinning."""


@dataclass(frozen=True)
class JobSnapshotInputs(Generic[St]):
    """One job resource as the snapshot planners see it."""

    job_kind: JobKind
    namespace: str
    name: str
    status: St
    """The observed status (the planners return changed copies)."""
    settings: SnapshotSettings
    now_ms: int
    resources_enabled: bool
    """`kubernetes.operator.snapshot.resource.enabled` and the FlinkStateSnapshot CRD is installed."""
    savepoint_nonce: int | None = None
    checkpoint_nonce: int | None = None
    snapshots: tuple[SnapshotSummary, ...] = ()
    """The FlinkStateSnapshots that reference this job."""
    savepoint_dir: str | None = None
    checkpoints_supported: bool = True
    polls: Mapping[SnapshotKind, Poll] = field(default_factory=dict)
    """Poll results of pending legacy triggers (asked by the caller)."""
    last_periodic_ms: Mapping[SnapshotKind, int] = field(default_factory=dict)
    hold: frozenset[SnapshotKind] = frozenset()
    """Kinds not to trigger in this reconcile (a failure was just observed)."""
    first_attempt_ms: Mapping[SnapshotKind, int] = field(default_factory=dict)
    """When the pending manual nonce of a kind was first triggered (legacy mode; see `legacy`)."""

    @property
    def job_state(self) -> FlinkJobState | None:
        return self.status.job_status.state

    @property
    def job_running(self) -> bool:
        return self.job_state is FlinkJobState.RUNNING and bool(self.status.job_status.job_id)

    def nonce(self, kind: SnapshotKind) -> int | None:
        return self.savepoint_nonce if kind is SnapshotKind.SAVEPOINT else self.checkpoint_nonce


def pollable_triggers(status: CommonStatus) -> list[tuple[SnapshotKind, legacy.PendingTrigger]]:
    """The legacy triggers the caller should poll (`FlinkService.snapshot_result`), by kind order."""
    found = []
    for kind in KINDS:
        pending = legacy.pending_trigger(status, kind)
        if pending is not None and pending.trigger_type is not SnapshotTriggerType.UPGRADE:
            found.append((kind, pending))
    return found


# --- observe ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservePlan(Generic[St]):
    status: St
    events: tuple[EventSpec, ...] = ()
    create: tuple[dict[str, Any], ...] = ()
    """Snapshot documents to create (upgrade savepoints)."""
    delete: tuple[str, ...] = ()
    """Snapshot resources to delete (retention)."""
    prune: tuple[HistoryPruning, ...] = ()
    """Legacy history entries to dispose (when `dispose`) and then drop, in order; stop at a failure."""
    hold: frozenset[SnapshotKind] = frozenset()
    requeue: float | None = None
    """Look again this soon (a legacy trigger is pending)."""


def _upgrade_entries(status: CommonStatus) -> list[Savepoint]:
    info = status.job_status.savepoint_info
    upgrade = SnapshotTriggerType.UPGRADE
    entries = [s for s in info.savepoint_history if s.trigger_type is upgrade and s.location]
    last = info.last_savepoint
    if (
        last is not None
        and last.trigger_type is SnapshotTriggerType.UPGRADE
        and last.location
        and all(e.location != last.location for e in entries)
    ):
        entries.append(last)
    return entries


def observe_job_snapshots(inputs: JobSnapshotInputs[St]) -> ObservePlan[St]:
    status = inputs.status.model_copy(deep=True)
    events: list[EventSpec] = []
    hold: set[SnapshotKind] = set()
    requeue: float | None = None
    for kind in KINDS:
        pending = legacy.pending_trigger(status, kind)
        if pending is None or pending.trigger_type is SnapshotTriggerType.UPGRADE:
            continue
        if not inputs.job_running:
            status, abandoned = legacy.abandon_if_stopped(status, kind, inputs.job_state, inputs.nonce(kind))
            events.extend(abandoned)
            continue
        poll = inputs.polls.get(kind)
        if poll is None:
            requeue = inputs.settings.progress_check_interval
            continue
        observed = legacy.observe_trigger(
            status,
            kind,
            poll,
            now_ms=inputs.now_ms,
            settings=inputs.settings,
            nonce=inputs.nonce(kind),
            first_attempt_ms=inputs.first_attempt_ms.get(kind),
        )
        status = cast(St, observed.status)
        events.extend(observed.events)
        if observed.pending:
            requeue = inputs.settings.progress_check_interval
        if observed.retry_later or not observed.pending:
            hold.add(kind)

    create: list[dict[str, Any]] = []
    snapshot_paths = {s.path for s in inputs.snapshots if s.path}
    if inputs.resources_enabled:
        for entry in _upgrade_entries(status):
            if entry.location in snapshot_paths:
                info = status.job_status.savepoint_info
                if entry in info.savepoint_history:
                    info.savepoint_history = without_entry(info.savepoint_history, entry)
                continue
            create.append(
                operator_snapshot(
                    namespace=inputs.namespace,
                    job_kind=inputs.job_kind,
                    job_name=inputs.name,
                    kind=SnapshotKind.SAVEPOINT,
                    trigger_type=SnapshotTriggerType.UPGRADE,
                    epoch_ms=entry.time_stamp,
                    savepoint_path=entry.location,
                    savepoint_format=entry.format_type
                    if entry.format_type is not SavepointFormatType.UNKNOWN
                    else inputs.settings.savepoint_format,
                    dispose_on_delete=inputs.settings.dispose_on_delete,
                    already_exists=True,
                )
            )

    protected = {p for p in (status.job_status.upgrade_savepoint_path,) if p}
    delete: list[str] = []
    if inputs.settings.cleanup_enabled:
        for kind in KINDS:
            delete.extend(
                snapshots_to_delete(
                    inputs.snapshots,
                    kind,
                    policy_for(kind, inputs.settings),
                    inputs.now_ms,
                    protected_paths=protected,
                )
            )
    done = FlinkStateSnapshotState.COMPLETED
    completed = sum(
        1 for s in inputs.snapshots if s.kind is SnapshotKind.SAVEPOINT and s.state is done and not s.deleting
    )
    pending_creates = {doc["spec"]["savepoint"]["path"] for doc in create}
    prune = legacy_history_pruning(
        status.job_status.savepoint_info.savepoint_history,
        savepoint_policy(inputs.settings),
        completed_savepoint_resources=completed,
        cleanup_enabled=inputs.settings.cleanup_enabled,
        now_ms=inputs.now_ms,
        protected_paths=protected | snapshot_paths | pending_creates,
    )
    return ObservePlan(
        status, tuple(events), tuple(create), tuple(delete), tuple(prune), frozenset(hold), requeue
    )


def drop_history_entry(status: St, entry: Savepoint) -> St:
    """`status` without one legacy history entry (after its disposal succeeded, or without disposal)."""
    result = status.model_copy(deep=True)
    info = result.job_status.savepoint_info
    info.savepoint_history = without_entry(info.savepoint_history, entry)
    return result


# --- trigger ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegacyTrigger:
    """Trigger a snapshot through Flink's REST API and record it in the legacy status."""

    kind: SnapshotKind
    trigger_type: SnapshotTriggerType
    savepoint_dir: str | None = None
    savepoint_format: SavepointFormatType = SavepointFormatType.CANONICAL


@dataclass(frozen=True)
class TriggerPlan(Generic[St]):
    status: St
    """With MANUAL nonces of created snapshot resources recorded as handled (write it only after the
    creation succeeded)."""
    create: tuple[dict[str, Any], ...] = ()
    legacy_trigger: LegacyTrigger | None = None
    periodic: tuple[SnapshotKind, ...] = ()
    """Kinds whose periodic snapshot was triggered now (remember the time even if the trigger fails)."""
    events: tuple[EventSpec, ...] = ()
    """A schedule that can never fire (a cron expression Quartz refuses), once per expression."""
    requeue: float | None = None
    """Seconds until the next periodic snapshot falls due (None: no schedule to wait for)."""


def _in_flight(inputs: JobSnapshotInputs[Any], kind: SnapshotKind) -> bool:
    if legacy.pending_trigger(inputs.status, kind) is not None:
        return True
    return any(
        s.kind is kind and s.in_flight and not s.deleting and is_operator_snapshot(s.name, inputs.name, kind)
        for s in inputs.snapshots
    )


def schedule_warnings(settings: SnapshotSettings) -> tuple[EventSpec, ...]:
    """A `ValidationError` warning per periodic schedule that can never fire (recorded once per text)."""
    warnings = []
    for noun, schedule in (
        ("savepoint", settings.periodic_savepoint),
        ("checkpoint", settings.periodic_checkpoint),
    ):
        problem = schedule_error(schedule)
        if problem is not None:
            message = (
                f"kubernetes.operator.periodic.{noun}.interval is not usable, no periodic {noun}s: {problem}"
            )
            warnings.append(
                ev.warning(
                    Reason.VALIDATION_ERROR, Component.OPERATOR, message, message_key=message, once=True
                )
            )
    return tuple(warnings)


def periodic_requeue(inputs: JobSnapshotInputs[Any], triggered: tuple[SnapshotKind, ...]) -> float | None:
    """Seconds until the next periodic snapshot of a kind falls due, counted from its last trigger (now,
    for those in `triggered`). Kinds with one in flight are left out (its end wakes the job's reconcile,
    and a new one waits for it anyway), as are held kinds and unsupported checkpoints."""
    delays = []
    for kind in KINDS:
        savepoint = kind is SnapshotKind.SAVEPOINT
        if kind in inputs.hold or not (savepoint or inputs.checkpoints_supported):
            continue
        if kind not in triggered and _in_flight(inputs, kind):
            continue
        last = inputs.now_ms if kind in triggered else inputs.last_periodic_ms.get(kind, inputs.now_ms)
        due = next_due_ms(inputs.settings.schedule(savepoint), last)
        if due is not None:
            delays.append(max((due - inputs.now_ms) / 1000, MIN_PERIODIC_REQUEUE_S))
    return min(delays) if delays else None


def trigger_job_snapshots(inputs: JobSnapshotInputs[St]) -> TriggerPlan[St]:
    status = inputs.status
    if not inputs.job_running:
        return TriggerPlan(status)
    create: list[dict[str, Any]] = []
    periodic: list[SnapshotKind] = []
    legacy_trigger: LegacyTrigger | None = None
    changed = False
    for kind in KINDS:
        if kind in inputs.hold:
            continue
        savepoint = kind is SnapshotKind.SAVEPOINT
        request = TriggerRequest(
            kind=kind,
            job_running=True,
            in_flight=_in_flight(inputs, kind),
            nonce=inputs.nonce(kind),
            reconciled_nonce=legacy.reconciled_nonce(status, kind),
            schedule=inputs.settings.schedule(savepoint),
            last_periodic_ms=inputs.last_periodic_ms.get(kind, inputs.now_ms),
            now_ms=inputs.now_ms,
            supported=savepoint or inputs.checkpoints_supported,
        )
        trigger_type = should_trigger(request)
        if trigger_type is None:
            continue
        if inputs.resources_enabled:
            create.append(
                operator_snapshot(
                    namespace=inputs.namespace,
                    job_kind=inputs.job_kind,
                    job_name=inputs.name,
                    kind=kind,
                    trigger_type=trigger_type,
                    epoch_ms=inputs.now_ms,
                    savepoint_path=inputs.savepoint_dir if savepoint else None,
                    savepoint_format=inputs.settings.savepoint_format,
                    dispose_on_delete=inputs.settings.dispose_on_delete,
                )
            )
            if trigger_type is SnapshotTriggerType.MANUAL:
                status = legacy.with_reconciled_nonce(status, kind, inputs.nonce(kind))
                changed = True
        elif legacy_trigger is None:
            legacy_trigger = LegacyTrigger(
                kind, trigger_type, inputs.savepoint_dir, inputs.settings.savepoint_format
            )
        else:
            continue  # one REST trigger per reconcile; the other kind follows at the next one
        if trigger_type is SnapshotTriggerType.PERIODIC:
            periodic.append(kind)
    return TriggerPlan(
        status if changed else inputs.status,
        tuple(create),
        legacy_trigger,
        tuple(periodic),
        schedule_warnings(inputs.settings),
        periodic_requeue(inputs, tuple(periodic)),
    )


def with_hold(inputs: JobSnapshotInputs[St], plan: ObservePlan[St]) -> JobSnapshotInputs[St]:
    """The trigger inputs after an observation: its status and held kinds."""
    return replace(inputs, status=plan.status, hold=inputs.hold | plan.hold)
