"""The FlinkStateSnapshot state machine (contract §9) as a pure function: `transition(ctx) -> Step`.

    TRIGGER_PENDING --trigger ok--> IN_PROGRESS --Flink: done--> COMPLETED
          |   ^                          |
          |   +---- failure, retries ----+ (failures + 1; next attempt after 10 s x 2^(failures-1))
          |                              |
          +------ failure, no retries ---+--> FAILED        (backoffLimit >= 0 and failures > backoffLimit)
          +------ job missing / stopped -+--> ABANDONED
    alreadyExists: TRIGGER_PENDING --> COMPLETED at once (nothing is triggered)

Rules, upstream's unless noted:

* Only TRIGGER_PENDING triggers and only IN_PROGRESS polls; COMPLETED, FAILED and ABANDONED are final (no
  reschedule). A validation error is reported (`ValidationError`, `status.error`) and nothing else happens
  until the snapshot or its job changes.
* `backoffLimit`: -1 retries without limit, 0 never, N at most N times. A failure records `failures`,
  `error` (Flink's reason) and `resultTimestamp`, emits `SavepointError`/`CheckpointError` (component
  Snapshot), and either ends in FAILED or goes back to TRIGGER_PENDING. The retry time is derived from the
  persisted `resultTimestamp`, so an operator restart does not retry early (upstream keeps it in memory and
  retries at once after a restart). Delays are capped at `MAX_RETRY_DELAY_S`.
* A job that is not RUNNING abandons the snapshot (`SnapshotAbandoned`). Ours: a job that is meant to run and
  is still starting (deploying, restarting) gets the trigger grace period
  (`kubernetes.operator.savepoint|checkpoint.trigger.grace-period`, counted from the snapshot's creation)
  before the snapshot is abandoned, so a snapshot created right after its job is not lost to a race.
  Likewise, Flink refuses a snapshot of a RUNNING job whose tasks are still being deployed ("Not all
  required tasks are currently running"): within the grace period that is triggered again without counting
  a failure (upstream counts it, so a snapshot created with its job fails or waits for a backoff).
* While IN_PROGRESS, an error *asking* Flink (timeout, 5xx) is not a snapshot failure: the operator asks
  again until the job's checkpoint timeout (plus the grace period) has passed since the trigger; only then
  does it count as a failure. Errors that asking again cannot fix (unknown trigger) fail at once.
* A completed checkpoint whose path Flink cannot tell (statistics history too short) is COMPLETED with an
  empty path and a `CheckpointError` warning. Ours: when Flink has not published the statistics of a
  checkpoint that just completed (its statistics cache lags), the path is asked for again, up to
  `CHECKPOINT_PATH_LOOKUPS` times, before that (upstream completes at once without the path).

Deletion is decided by `cleanup.decide_cleanup`; `decision.decide` picks one of the two.
"""

from __future__ import annotations

from flink_operator.api import FlinkStateSnapshotState, FlinkStateSnapshotStatus, SavepointFormatType
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.snapshot.steps import (
    Outcome,
    SnapshotContext,
    Step,
    TriggerSnapshot,
    step_of,
    wait,
)
from flink_operator.controllers.snapshot.timestamps import from_k8s_time, to_k8s_time
from flink_operator.flink.service import SnapshotKind, SnapshotState, SnapshotTrigger

BASE_RETRY_DELAY_S = 10.0
MAX_RETRY_DELAY_S = 3600.0
CHECKPOINT_PATH_LOOKUPS = 5
TASKS_NOT_RUNNING = "Not all required tasks are currently running"
"""Flink's message for CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING."""
CHECKPOINT_PATH_LOOKUP_INTERVAL_S = 2.0
"""Flink's checkpoint statistics cache lives 3 s by default: a few lookups 2 s apart outlast it."""

MSG_NO_SAVEPOINT_DIR = (
    "no savepoint directory: set spec.savepoint.path, or execution.checkpointing.savepoint-dir "
    "(state.savepoints.dir before Flink 2.0) in the job's flinkConfiguration"
)
MSG_CHECKPOINT_UNSUPPORTED = "triggering checkpoints needs Flink 1.17 or newer (flinkVersion {version})"
MSG_CHECKPOINT_PATH_UNKNOWN = (
    "Checkpoint {name} completed, but its path could not be read from Flink; raise web.checkpoints.history "
    "if this repeats"
)


def retry_delay(failures: int, base: float = BASE_RETRY_DELAY_S) -> float:
    """Seconds before retry number `failures` (1-based): 10 s x 2^(failures-1), at most an hour."""
    exponent = min(max(failures - 1, 0), 20)
    return float(min(base * (2**exponent), MAX_RETRY_DELAY_S))


def copy_status(status: FlinkStateSnapshotStatus) -> FlinkStateSnapshotStatus:
    result = status.model_copy(deep=True)
    # Upstream initialises a missing status to TRIGGER_PENDING; assigning marks the field as set so that
    # the state is written even for a resource seen for the first time.
    result.state = result.state
    return result


def _label(ctx: SnapshotContext) -> str:
    return "Savepoint" if ctx.is_savepoint else "Checkpoint"


def _error_reason(ctx: SnapshotContext) -> Reason:
    return Reason.SAVEPOINT_ERROR if ctx.is_savepoint else Reason.CHECKPOINT_ERROR


def transition(ctx: SnapshotContext) -> Step:
    """The step for a snapshot that is not being deleted."""
    status = copy_status(ctx.snapshot.status)
    if ctx.validation_error is not None:
        status.error = ctx.validation_error
        event = ev.warning(Reason.VALIDATION_ERROR, Component.OPERATOR, ctx.validation_error)
        return wait(status, None, "invalid snapshot", event)
    if status.state is FlinkStateSnapshotState.TRIGGER_PENDING:
        return trigger_pending(ctx, status)
    if status.state is FlinkStateSnapshotState.IN_PROGRESS:
        return in_progress(ctx, status)
    return wait(status, None, f"final state {status.state.value}")


# --- TRIGGER_PENDING -----------------------------------------------------------------------------------


def trigger_pending(ctx: SnapshotContext, status: FlinkStateSnapshotStatus) -> Step:
    savepoint = ctx.snapshot.spec.savepoint
    now = ctx.now_ms
    if savepoint is not None and savepoint.already_exists:
        status.state = FlinkStateSnapshotState.COMPLETED
        status.path = savepoint.path
        status.trigger_timestamp = to_k8s_time(now)
        status.result_timestamp = to_k8s_time(now)
        status.error = None
        return wait(status, None, "savepoint already exists")
    target = ctx.target
    if target is None or not target.found:
        return step_of(abandon(ctx, status, _missing_message(ctx)), "job not found")
    if status.failures > 0:
        failed_at = from_k8s_time(status.result_timestamp)
        if failed_at is not None:
            retry_at = failed_at + int(retry_delay(status.failures, ctx.settings.retry_base_s) * 1000)
            if now < retry_at:
                return wait(status, (retry_at - now) / 1000, f"retry {status.failures} waits for its backoff")
    if not target.running:
        created = from_k8s_time(ctx.snapshot.metadata.creation_timestamp) or now
        if target.starting and now - created < ctx.settings.grace_ms(ctx.is_savepoint):
            return wait(status, ctx.settings.progress_check_interval, "waiting for the job to run")
        return step_of(abandon(ctx, status, _not_running_message(ctx)), "job not running")
    assert target.cluster is not None and target.job_id is not None
    if not ctx.is_savepoint and not target.checkpoints_supported:
        version = target.flink_version.value if target.flink_version else "unknown"
        return step_of(failed(ctx, status, MSG_CHECKPOINT_UNSUPPORTED.format(version=version)), "unsupported")
    path = None
    if savepoint is not None:
        path = savepoint.path or target.savepoint_dir
        if not path:
            return step_of(failed(ctx, status, MSG_NO_SAVEPOINT_DIR), "no savepoint directory")
    action = TriggerSnapshot(
        cluster=target.cluster,
        job_id=target.job_id,
        kind=ctx.kind,
        path=path,
        savepoint_format=savepoint.format_type if savepoint is not None else SavepointFormatType.CANONICAL,
    )
    intent = status

    def on_success(trigger: SnapshotTrigger) -> Outcome:
        result = intent.model_copy(deep=True)
        result.state = FlinkStateSnapshotState.IN_PROGRESS
        result.trigger_id = trigger.trigger_id
        result.trigger_timestamp = to_k8s_time(now)
        result.error = None
        return Outcome(result, (), ctx.settings.progress_check_interval)

    def on_failure(error: Exception) -> Outcome:
        return failed(ctx, intent, _describe(error))

    return Step(intent, (), action, on_success=on_success, on_failure=on_failure, note="trigger")


# --- IN_PROGRESS ---------------------------------------------------------------------------------------


def in_progress(ctx: SnapshotContext, status: FlinkStateSnapshotStatus) -> Step:
    target = ctx.target
    if target is None or not target.found:
        return step_of(abandon(ctx, status, _missing_message(ctx)), "job not found")
    if not target.running and not target.starting:
        return step_of(abandon(ctx, status, _not_running_message(ctx)), "job stopped")
    poll = ctx.poll
    if poll is None:
        return wait(status, ctx.settings.progress_check_interval, "waiting for the job to be reachable")
    if poll.result is not None:
        result = poll.result
        if result.state is SnapshotState.IN_PROGRESS:
            return wait(status, ctx.settings.progress_check_interval, "in progress")
        if result.state is SnapshotState.COMPLETED:
            return complete(ctx, status, result.location)
        reason = result.failure or f"{_label(ctx)} failed (Flink gave no reason)"
        if TASKS_NOT_RUNNING in reason and _within_grace(ctx):
            return trigger_again(ctx, status, reason)
        return step_of(failed(ctx, status, reason), "failed in Flink")
    if poll.path_pending:
        if ctx.path_lookups < CHECKPOINT_PATH_LOOKUPS:
            delay = min(ctx.settings.progress_check_interval, CHECKPOINT_PATH_LOOKUP_INTERVAL_S)
            return wait(status, delay, "checkpoint completed; waiting for Flink to publish its statistics")
        return complete(ctx, status, None)
    message = poll.error or "unknown error"
    if poll.permanent:
        return step_of(failed(ctx, status, message), "trigger unknown to Flink")
    triggered = from_k8s_time(status.trigger_timestamp) or ctx.now_ms
    limit = ctx.settings.checkpoint_timeout_ms + ctx.settings.grace_ms(ctx.is_savepoint)
    if ctx.now_ms - triggered > limit:
        reason = f"the {_label(ctx).lower()} could not be observed for {limit // 1000} s: {message}"
        return step_of(failed(ctx, status, reason), "unobservable")
    note = f"asking Flink failed ({message}); asking again"
    return wait(status, ctx.settings.progress_check_interval, note)


def _within_grace(ctx: SnapshotContext) -> bool:
    created = from_k8s_time(ctx.snapshot.metadata.creation_timestamp) or ctx.now_ms
    return ctx.now_ms - created < ctx.settings.grace_ms(ctx.is_savepoint)


def trigger_again(ctx: SnapshotContext, status: FlinkStateSnapshotStatus, reason: str) -> Step:
    """Flink refused the snapshot only because the job's tasks are not all running yet: back to
    TRIGGER_PENDING without a failure, to be triggered at the next progress check."""
    status.state = FlinkStateSnapshotState.TRIGGER_PENDING
    status.trigger_id = None
    status.error = f"the job's tasks are still starting, triggering again: {reason}"
    return wait(status, ctx.settings.progress_check_interval, "tasks not running yet")


def complete(ctx: SnapshotContext, status: FlinkStateSnapshotStatus, location: str | None) -> Step:
    status.state = FlinkStateSnapshotState.COMPLETED
    status.result_timestamp = to_k8s_time(ctx.now_ms)
    status.error = None
    events: tuple[EventSpec, ...] = ()
    if location:
        status.path = location
    else:
        status.path = ""
        if ctx.kind is SnapshotKind.CHECKPOINT:
            message = MSG_CHECKPOINT_PATH_UNKNOWN.format(name=ctx.name)
            events = (ev.warning(Reason.CHECKPOINT_ERROR, Component.SNAPSHOT, message),)
    return Step(status, events, None, None, note="completed")


# --- failures and abandonment --------------------------------------------------------------------------


def failed(ctx: SnapshotContext, status: FlinkStateSnapshotStatus, message: str) -> Outcome:
    """Record a failed attempt; FAILED when no retries are left, else TRIGGER_PENDING with a backoff."""
    result = status.model_copy(deep=True)
    failures = result.failures + 1
    result.failures = failures
    result.error = message
    result.result_timestamp = to_k8s_time(ctx.now_ms)
    result.trigger_id = None
    limit = ctx.snapshot.spec.backoff_limit
    label = _label(ctx)
    if limit >= 0 and failures > limit:
        result.state = FlinkStateSnapshotState.FAILED
        text = f"{label} {ctx.name} failed: {message} (no retries left, backoffLimit {limit})"
        requeue = None
    else:
        result.state = FlinkStateSnapshotState.TRIGGER_PENDING
        requeue = retry_delay(failures, ctx.settings.retry_base_s)
        text = f"{label} {ctx.name} failed: {message} (attempt {failures}; retrying in {requeue:g} s)"
    event = ev.warning(_error_reason(ctx), Component.SNAPSHOT, text, message_key=f"{label}Failed-{ctx.name}")
    return Outcome(result, (event,), requeue)


def abandon(ctx: SnapshotContext, status: FlinkStateSnapshotStatus, message: str) -> Outcome:
    result = status.model_copy(deep=True)
    result.state = FlinkStateSnapshotState.ABANDONED
    result.error = message
    result.result_timestamp = to_k8s_time(ctx.now_ms)
    text = f"{_label(ctx)} {ctx.name} abandoned: {message}"
    event = ev.warning(Reason.SNAPSHOT_ABANDONED, Component.SNAPSHOT, text)
    return Outcome(result, (event,), None)


def _missing_message(ctx: SnapshotContext) -> str:
    reference = ctx.snapshot.spec.job_reference
    if reference is None or reference.kind is None or not reference.name:
        return "the snapshot names no job (spec.jobReference)"
    return f"the referenced {reference.kind.value} {ctx.snapshot.namespace}/{reference.name} was not found"


def _not_running_message(ctx: SnapshotContext) -> str:
    target = ctx.target
    assert target is not None
    if target.problem is not None:
        return target.problem
    return f"the job of {target.describe()} is not running (state {target.state_text()})"


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
