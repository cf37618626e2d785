"""Legacy snapshot tracking in the job's status (contract §1.4, §3.4, §3.16), used when snapshot resources are
disabled (`kubernetes.operator.snapshot.resource.enabled: false`, or the FlinkStateSnapshot CRD is missing).

A trigger is recorded in `status.jobStatus.savepointInfo` / `checkpointInfo` (`triggerId`,
`triggerTimestamp`, `triggerType`, `formatType`) and polled on later reconciles; its result goes into
`lastSavepoint` + `savepointHistory` (or `lastCheckpoint`). The manual trigger nonce counts as handled
("reconciled") once it is recorded in `lastReconciledSpec`.

Pure functions on status copies:

* `record_trigger`: a trigger was accepted by Flink.
* `abandon_if_stopped`: a pending trigger of a job that is no longer RUNNING is dropped, its nonce handled,
  with a `SavepointError`/`CheckpointError` warning (upstream's `resetSnapshotTriggers`).
* `observe_trigger`: the poll result of a pending trigger. Completed: recorded, nonce handled. Failed (with
  Flink's reason in the warning): the trigger is cleared; within the trigger grace period the manual nonce
  stays pending and is retried at a later reconcile (`LegacyObservation.retry_later`: the caller must not
  trigger again in the same reconcile), after it the nonce counts as handled — so a failing savepoint is
  retried a bounded number of times, never in a storm. The grace period counts from the nonce's first
  attempt (upstream counts from the latest trigger, so a savepoint that fails fast is retried for ever).
  Errors *asking* Flink keep the trigger pending until the job's checkpoint timeout plus the grace period
  has passed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TypeVar

from flink_operator.api import (
    API_VERSION,
    Checkpoint,
    CheckpointType,
    CommonStatus,
    FlinkJobState,
    Savepoint,
    SavepointFormatType,
    SnapshotTriggerType,
    read_spec_with_meta,
    write_spec_with_meta,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.steps import Poll
from flink_operator.flink.service import SnapshotKind, SnapshotState

St = TypeVar("St", bound=CommonStatus)

NONCE_KEYS = {
    SnapshotKind.SAVEPOINT: "savepointTriggerNonce",
    SnapshotKind.CHECKPOINT: "checkpointTriggerNonce",
}


@dataclass(frozen=True)
class PendingTrigger:
    trigger_id: str
    trigger_timestamp: int
    trigger_type: SnapshotTriggerType


def pending_trigger(status: CommonStatus, kind: SnapshotKind) -> PendingTrigger | None:
    job_status = status.job_status
    info = job_status.savepoint_info if kind is SnapshotKind.SAVEPOINT else job_status.checkpoint_info
    if not info.trigger_id:
        return None
    return PendingTrigger(
        info.trigger_id, info.trigger_timestamp or 0, info.trigger_type or SnapshotTriggerType.UNKNOWN
    )


# --- the reconciled nonce ----------------------------------------------------------------------------


def reconciled_nonce(status: CommonStatus, kind: SnapshotKind) -> int | None:
    """The trigger nonce recorded in `lastReconciledSpec` (None when absent or unreadable)."""
    text = status.reconciliation_status.last_reconciled_spec
    if text is None:
        return None
    try:
        job = read_spec_with_meta(text).spec.get("job")
    except ValueError:
        return None
    value = job.get(NONCE_KEYS[kind]) if isinstance(job, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def with_reconciled_nonce(status: St, kind: SnapshotKind, nonce: int | None) -> St:
    """A copy of `status` whose `lastReconciledSpec` records `nonce` as handled (everything else kept)."""
    result = status.model_copy(deep=True)
    text = result.reconciliation_status.last_reconciled_spec
    if text is None or reconciled_nonce(status, kind) == nonce:
        return result
    try:
        stored = read_spec_with_meta(text)
    except ValueError:
        return result
    body = copy.deepcopy(stored.spec)
    job = body.get("job")
    if not isinstance(job, dict):
        return result
    key = NONCE_KEYS[kind]
    if nonce is None:
        job.pop(key, None)
    else:
        job[key] = nonce
    metadata = stored.metadata
    result.reconciliation_status.last_reconciled_spec = write_spec_with_meta(
        body,
        metadata.api_version if metadata is not None and metadata.api_version else API_VERSION,
        metadata.first_deployment if metadata is not None else False,
    )
    return result


# --- triggers ------------------------------------------------------------------------------------------


def record_trigger(
    status: St,
    kind: SnapshotKind,
    trigger_id: str,
    trigger_type: SnapshotTriggerType,
    now_ms: int,
    *,
    savepoint_format: SavepointFormatType = SavepointFormatType.CANONICAL,
    checkpoint_type: CheckpointType = CheckpointType.FULL,
) -> St:
    result = status.model_copy(deep=True)
    if kind is SnapshotKind.SAVEPOINT:
        result.job_status.savepoint_info.set_trigger(trigger_id, trigger_type, savepoint_format, now_ms)
    else:
        result.job_status.checkpoint_info.set_trigger(trigger_id, trigger_type, checkpoint_type, now_ms)
    return result


def _clear(status: CommonStatus, kind: SnapshotKind) -> None:
    if kind is SnapshotKind.SAVEPOINT:
        status.job_status.savepoint_info.reset_trigger()
    else:
        status.job_status.checkpoint_info.reset_trigger()


def failure_message(kind: SnapshotKind, trigger_type: SnapshotTriggerType, nonce: int | None) -> str:
    """Upstream's warning texts: `Savepoint failed for savepointTriggerNonce: 3`, `Periodic savepoint
    failed`."""
    noun = "savepoint" if kind is SnapshotKind.SAVEPOINT else "checkpoint"
    if trigger_type is SnapshotTriggerType.PERIODIC:
        return f"Periodic {noun} failed"
    return f"{noun.capitalize()} failed for {NONCE_KEYS[kind]}: {nonce}"


def _warning(kind: SnapshotKind, message: str) -> EventSpec:
    reason = Reason.SAVEPOINT_ERROR if kind is SnapshotKind.SAVEPOINT else Reason.CHECKPOINT_ERROR
    return ev.warning(reason, Component.OPERATOR, message)


def _handled(status: St, kind: SnapshotKind, trigger_type: SnapshotTriggerType, nonce: int | None) -> St:
    if trigger_type is SnapshotTriggerType.MANUAL:
        return with_reconciled_nonce(status, kind, nonce)
    return status


def abandon_if_stopped(
    status: St, kind: SnapshotKind, job_state: FlinkJobState | None, nonce: int | None
) -> tuple[St, tuple[EventSpec, ...]]:
    """Drop a pending trigger of a job that is not RUNNING any more."""
    pending = pending_trigger(status, kind)
    if pending is None or job_state is FlinkJobState.RUNNING:
        return status, ()
    result = status.model_copy(deep=True)
    _clear(result, kind)
    result = _handled(result, kind, pending.trigger_type, nonce)
    state = job_state.value if job_state is not None else "unknown"
    message = (
        f"{failure_message(kind, pending.trigger_type, nonce)}: the job is not running any more "
        f"(state {state}); the pending trigger was abandoned"
    )
    return result, (_warning(kind, message),)


@dataclass(frozen=True)
class LegacyObservation:
    status: CommonStatus
    events: tuple[EventSpec, ...] = ()
    pending: bool = False
    """The trigger is still running (or could not be asked about): nothing new may be triggered."""
    retry_later: bool = False
    """It failed within the grace period: its manual nonce is retried at a later reconcile, not this one."""


def observe_trigger(
    status: St,
    kind: SnapshotKind,
    poll: Poll,
    *,
    now_ms: int,
    settings: SnapshotSettings,
    nonce: int | None,
    first_attempt_ms: int | None = None,
) -> LegacyObservation:
    """Apply the poll result of the pending trigger of `kind` (see the module docstring).

    `first_attempt_ms`: when the manual nonce was first triggered. The grace period counts from there, not
    from the latest retry: a savepoint that fails fast would otherwise be retried for ever (each retry is a
    new trigger, always within the grace period of its own trigger time)."""
    pending = pending_trigger(status, kind)
    if pending is None:
        return LegacyObservation(status)
    savepoint = kind is SnapshotKind.SAVEPOINT
    result = status.model_copy(deep=True)
    outcome = poll.result
    if outcome is None:
        limit = settings.checkpoint_timeout_ms + settings.grace_ms(savepoint)
        if not poll.permanent and now_ms - pending.trigger_timestamp <= limit:
            return LegacyObservation(status, pending=True)
        reason = poll.error or "unknown error"
    elif outcome.state is SnapshotState.IN_PROGRESS:
        return LegacyObservation(status, pending=True)
    elif outcome.state is SnapshotState.COMPLETED:
        trigger_nonce = nonce if pending.trigger_type is SnapshotTriggerType.MANUAL else None
        if savepoint:
            info = result.job_status.savepoint_info
            info.update_last_savepoint(
                Savepoint(
                    time_stamp=now_ms,
                    location=outcome.location,
                    trigger_type=pending.trigger_type,
                    format_type=info.format_type or SavepointFormatType.UNKNOWN,
                    trigger_nonce=trigger_nonce,
                )
            )
        else:
            checkpoints = result.job_status.checkpoint_info
            checkpoints.update_last_checkpoint(
                Checkpoint(
                    time_stamp=now_ms,
                    trigger_type=pending.trigger_type,
                    format_type=checkpoints.format_type or CheckpointType.UNKNOWN,
                    trigger_nonce=trigger_nonce,
                )
            )
        return LegacyObservation(_handled(result, kind, pending.trigger_type, nonce))
    else:
        reason = outcome.failure or "Flink gave no reason"
    _clear(result, kind)
    started = pending.trigger_timestamp if first_attempt_ms is None else first_attempt_ms
    within_grace = now_ms - started <= settings.grace_ms(savepoint)
    manual = pending.trigger_type is SnapshotTriggerType.MANUAL
    text = f"{failure_message(kind, pending.trigger_type, nonce)}: {reason}"
    if manual and within_grace:
        text += "; retrying within the trigger grace period"
        return LegacyObservation(result, (_warning(kind, text),), retry_later=True)
    return LegacyObservation(_handled(result, kind, pending.trigger_type, nonce), (_warning(kind, text),))
