"""Observing a FlinkSessionJob (contract §3.4, job status observer for session jobs), as pure functions.

`wants(...)` says what to ask Flink; `apply_observation(status, facts, ...)` turns the answers into the
observed status plus events:

* before the first submission, or while the session cluster cannot be asked, nothing is observed; a job
  that was RUNNING becomes RECONCILING when the session does not answer (its state is unknown);
* UPGRADING: the intent's job id is looked up; when the session runs it (in a state other than
  CANCELLING/CANCELED) the submission happened before a crash and is recorded as deployed — so a retry never
  submits a second job;
* the job found: state, name, start time, `JobStatusChanged` events; CANCELED (or any end after CANCELLING)
  marks the reconciled spec suspended; FAILED sets `status.error` to the root cause and a Warning `Error`;
  new root exceptions become `JobException` events (`common.job_exceptions`);
* the job not found: Warning `Missing` "Job Not Found"; a stateless job is marked suspended (it is simply
  submitted again), a stateful one keeps DEPLOYED with `status.error` and job state RECONCILING;
* a stopped job's latest retained checkpoint becomes the restore point of a stateful upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass

from flink_operator.api import (
    FlinkJobState,
    FlinkSessionJobStatus,
    JobState,
    ReconciliationState,
    UpgradeMode,
    stored_job_state,
    stored_upgrade_mode,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import job_exceptions, status_updates
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.job_exceptions import JobReporting
from flink_operator.controllers.sessionjob.context import Facts
from flink_operator.controllers.sessionjob.deletion import SessionAvailability


def recorded_mode(status: FlinkSessionJobStatus) -> UpgradeMode | None:
    """The upgrade mode stored in the last reconciled spec."""
    return stored_upgrade_mode(status.reconciliation_status.last_reconciled_spec)


def reconciled_suspended(status: FlinkSessionJobStatus) -> bool:
    return stored_job_state(status.reconciliation_status.last_reconciled_spec) == JobState.SUSPENDED.value


@dataclass(frozen=True)
class Wanted:
    job_id: str | None = None
    """Look this job up (None: do not)."""
    latest_checkpoint: bool = False


def wants(status: FlinkSessionJobStatus, *, stateful: bool, change_pending: bool, deleting: bool) -> Wanted:
    """What to ask the session cluster (when it is READY)."""
    job_id = status.job_status.job_id
    if status.reconciliation_status.last_reconciled_spec is None or not job_id:
        return Wanted()
    upgrading = status.reconciliation_status.state is ReconciliationState.UPGRADING
    suspended = reconciled_suspended(status)
    lookup = job_id if (upgrading or deleting or not suspended) else None
    terminal = status.job_status.state is not None and status.job_status.state.is_globally_terminal
    return Wanted(
        job_id=lookup, latest_checkpoint=stateful and (terminal or (change_pending and not suspended))
    )


@dataclass(frozen=True)
class Observed:
    status: FlinkSessionJobStatus
    events: tuple[EventSpec, ...] = ()


def _upgraded(status: FlinkSessionJobStatus, facts: Facts) -> bool:
    """The UPGRADING intent's job is known to the session (upstream's checkIfAlreadyUpgraded)."""
    job = facts.job
    return (
        job is not None
        and facts.job_id_checked == status.job_status.job_id
        and job.state not in (FlinkJobState.CANCELLING.value, FlinkJobState.CANCELED.value)
    )


def apply_observation(
    status: FlinkSessionJobStatus,
    facts: Facts,
    *,
    now_ms: int,
    desired_mode: UpgradeMode | None = None,
    reporting: JobReporting | None = None,
) -> Observed:
    """The observed status; `desired_mode` is the spec's upgrade mode (a lost job is only resubmitted empty
    when both it and the recorded mode are stateless: a first submission records stateless); `reporting`
    bounds failure messages and exception events."""
    reconciliation = status.reconciliation_status
    if reconciliation.last_reconciled_spec is None:
        return Observed(status)
    result = status_updates.copy_status(status)
    if facts.session is not SessionAvailability.READY:
        if result.job_status.state is FlinkJobState.RUNNING:
            result.job_status.state = FlinkJobState.RECONCILING
        return Observed(result)
    events: list[EventSpec] = []
    if reconciliation.state is ReconciliationState.UPGRADING:
        if not _upgraded(status, facts):
            return Observed(result)
        result = status_updates.for_already_upgraded(result)
    if facts.job_id_checked is None or facts.job_id_checked != result.job_status.job_id:
        _record_checkpoint(result, facts)
        return Observed(result, tuple(events))
    if facts.job is None:
        if facts.job_error is None:
            result = _not_found(result, events, desired_mode)
        elif result.job_status.state is FlinkJobState.RUNNING:
            result.job_status.state = FlinkJobState.RECONCILING
        return Observed(result, tuple(events))
    result = _found(result, facts, events, now_ms, reporting or JobReporting())
    return Observed(result, tuple(events))


def _not_found(
    status: FlinkSessionJobStatus, events: list[EventSpec], desired_mode: UpgradeMode | None
) -> FlinkSessionJobStatus:
    events.append(ev.warning(Reason.MISSING, Component.JOB, ev.MSG_JOB_NOT_FOUND))
    job_state = status.job_status.state
    live = job_state is None or not job_state.is_globally_terminal
    stateless = recorded_mode(status) is UpgradeMode.STATELESS and desired_mode in (
        None,
        UpgradeMode.STATELESS,
    )
    if live and stateless:
        status = status_updates.mark_reconciled_suspended(status)
    else:
        status.reconciliation_status.state = ReconciliationState.DEPLOYED
    status.job_status.state = FlinkJobState.RECONCILING
    status.error = ev.MSG_JOB_NOT_FOUND
    return status


def _found(
    status: FlinkSessionJobStatus, facts: Facts, events: list[EventSpec], now_ms: int, reporting: JobReporting
) -> FlinkSessionJobStatus:
    summary = facts.job
    assert summary is not None
    try:
        observed = FlinkJobState(summary.state)
    except ValueError:
        observed = FlinkJobState.RECONCILING
    job_status = status.job_status
    previous = job_status.state
    job_status.job_name = summary.name
    if summary.start_time_ms is not None:
        job_status.start_time = str(summary.start_time_ms)
    if observed is not previous:
        job_status.update_time = str(now_ms)
        job_status.state = observed
        events.append(
            ev.normal(
                Reason.JOB_STATUS_CHANGED,
                Component.JOB,
                ev.job_status_changed_message(previous.value if previous else None, observed.value),
            )
        )
        if observed is FlinkJobState.CANCELED or (
            previous is FlinkJobState.CANCELLING and observed.is_globally_terminal
        ):
            status = status_updates.mark_reconciled_suspended(status)
        if observed is FlinkJobState.FAILED:
            status.error = job_exceptions.failed_job_error(
                summary.job_id,
                summary.name,
                facts.job_failure,
                max_length=reporting.max_error_length,
                max_causes=reporting.max_causes,
            )
            events.append(job_exceptions.failed_job_event(summary.job_id, summary.name, facts.job_failure))
    if facts.exceptions_since_ms is not None:
        events.extend(
            job_exceptions.exception_events(
                facts.exceptions,
                job_id=summary.job_id,
                since_ms=facts.exceptions_since_ms,
                limit=reporting.events_limit,
                stacktrace_lines=reporting.stacktrace_lines,
            )
        )
    if observed.is_globally_terminal:
        _record_checkpoint(status, facts)
    status = status_updates.check_stable(status)
    if (
        status.error is not None
        and status.job_status.state is not FlinkJobState.FAILED
        and status.reconciliation_status.is_last_reconciled_spec_stable
    ):
        status.error = None
    return status


def _record_checkpoint(status: FlinkSessionJobStatus, facts: Facts) -> None:
    """A stopped job's latest retained checkpoint is where a stateful restore starts from, unless the job
    was stopped with a savepoint taken after it started (that savepoint is later than any checkpoint)."""
    if not facts.checkpoint_checked:
        return
    state = status.job_status.state
    if state is None or not state.is_globally_terminal:
        return
    latest = facts.latest_checkpoint
    job_status = status.job_status
    if latest is None:
        return
    current = job_status.upgrade_savepoint_path
    last_savepoint = job_status.savepoint_info.last_savepoint
    if current is not None and last_savepoint is not None and last_savepoint.location == current:
        started = job_status.start_time
        if started is not None and started.isdigit() and last_savepoint.time_stamp >= int(started):
            return
    job_status.upgrade_savepoint_path = latest.external_path
