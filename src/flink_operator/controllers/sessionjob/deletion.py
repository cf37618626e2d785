"""Deleting session clusters and their session jobs in any order, as two pure decisions.

Upstream's rules (contract §3.20) are kept: a session cluster with FlinkSessionJobs is not torn down under
them, a session job's job is cancelled before its finalizer goes. Upstream can wedge on them (FLINK-39618,
FLINK-37766, FLINK-39271); here every wait is bounded, so every order converges:

* session job first: its job is cancelled (the session is still up), the finalizer goes, then the session
  sees no session jobs and is deleted;
* session first: the session reports the session jobs that block it (Warning `CleanupFailed` naming them,
  and a condition) and waits until they are deleted — the person deleting decides about the jobs;
* both at once: the session jobs cancel their jobs while the session waits for them; a session job whose
  session does not answer is released after `session.deletion.job-cancel.timeout`, and a session waits at
  most that long for session jobs that are being deleted;
* session unreachable: a session job cannot cancel its job; without HA the job did not survive the
  JobManager anyway (released at once, as upstream), with HA it is released after the timeout with a
  Warning saying the job could not be cancelled and why.

Jobs on the session that no FlinkSessionJob manages (`block-on-unmanaged-jobs`) hold a session for at most
`session.deletion.unmanaged-jobs.timeout`. The annotation `flink.apache.org/force-deletion: "true"` skips
every wait. Nothing here does I/O or reads the clock: waits are given as elapsed seconds.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from flink_operator.api import FlinkJobState
from flink_operator.flink.service import SuspendMode


class SessionAvailability(enum.Enum):
    """How a session job sees its session cluster."""

    MISSING = "missing"
    """No FlinkDeployment of that name (or it is not a session cluster any more)."""
    DELETING = "deleting"
    NOT_READY = "not-ready"
    """The JobManager is not READY (deploying, restarting, missing, failed)."""
    UNREACHABLE = "unreachable"
    """The JobManager is READY but its REST API did not answer in this reconcile."""
    READY = "ready"


# --- the session job side -------------------------------------------------------------------------------


class JobCleanupKind(enum.Enum):
    RELEASE = "release"
    """Nothing to cancel: remove the finalizer."""
    RELEASE_UNCANCELLED = "release-uncancelled"
    """The job may still run but cannot be cancelled (in time): remove the finalizer with a Warning."""
    WAIT = "wait"
    """Look again soon (the session may come back, the job is cancelling)."""
    CANCEL = "cancel"


@dataclass(frozen=True)
class JobCleanupInputs:
    job_id: str | None
    job_state: FlinkJobState | None
    never_deployed: bool
    reconciled_suspended: bool
    job_not_found: bool
    """The session answered and does not know the job."""
    session: SessionAvailability
    session_detail: str = ""
    """Why the session is not available (e.g. "JobManager DEPLOYING"), for messages."""
    session_ha: bool = False
    block_on_session_jobs: bool = True
    savepoint_on_deletion: bool = False
    savepoint_failed: bool = False
    """A stop-with-savepoint on deletion already failed: cancel without one."""
    force: bool = False
    last_failure: str | None = None
    """Why the last cancellation attempt failed (recorded in the status)."""
    waited_s: float = 0.0
    """Seconds since the deletion started."""
    timeout_s: float = 300.0


@dataclass(frozen=True)
class JobCleanup:
    kind: JobCleanupKind
    reason: str
    mode: SuspendMode | None = None


def _uncancelled(inputs: JobCleanupInputs, why: str) -> JobCleanup:
    return JobCleanup(
        JobCleanupKind.RELEASE_UNCANCELLED,
        f"Job {inputs.job_id} could not be cancelled ({why}); the FlinkSessionJob is deleted without it and "
        "the job may still run on the session cluster",
    )


def session_job_cleanup(inputs: JobCleanupInputs) -> JobCleanup:
    """What a FlinkSessionJob being deleted does next (see the module docstring)."""
    state = inputs.job_state
    live = state is not None and not state.is_globally_terminal
    if inputs.force:
        if live and inputs.job_id and inputs.session not in (SessionAvailability.MISSING,):
            return _uncancelled(inputs, "forced by the flink.apache.org/force-deletion annotation")
        return JobCleanup(JobCleanupKind.RELEASE, "forced by annotation")
    if inputs.never_deployed or not inputs.job_id:
        return JobCleanup(JobCleanupKind.RELEASE, "nothing was submitted")
    if (state is not None and state.is_globally_terminal) or inputs.reconciled_suspended:
        return JobCleanup(JobCleanupKind.RELEASE, "the job is not running")
    if inputs.session is SessionAvailability.MISSING:
        return JobCleanup(JobCleanupKind.RELEASE, "the session cluster is gone, and its jobs with it")
    if inputs.session is SessionAvailability.DELETING and not inputs.block_on_session_jobs:
        return JobCleanup(JobCleanupKind.RELEASE, "the session cluster is being deleted with its jobs")
    if inputs.job_not_found:
        return JobCleanup(JobCleanupKind.RELEASE, "the session cluster does not know the job")
    timed_out = inputs.waited_s >= inputs.timeout_s
    if inputs.session is SessionAvailability.NOT_READY:
        if not inputs.session_ha:
            # Without HA a JobManager that is not ready has lost its jobs (upstream releases too).
            return JobCleanup(
                JobCleanupKind.RELEASE,
                f"the session cluster is not ready ({inputs.session_detail}) and has no HA: its jobs did "
                "not survive",
            )
        if timed_out:
            return _uncancelled(
                inputs,
                f"the session cluster was not ready for {inputs.waited_s:.0f} s: {inputs.session_detail}",
            )
        return JobCleanup(JobCleanupKind.WAIT, f"the session cluster is not ready ({inputs.session_detail})")
    if inputs.session is SessionAvailability.UNREACHABLE:
        if timed_out:
            return _uncancelled(
                inputs,
                f"the session cluster did not answer for {inputs.waited_s:.0f} s: {inputs.session_detail}",
            )
        return JobCleanup(
            JobCleanupKind.WAIT, f"the session cluster does not answer ({inputs.session_detail})"
        )
    if timed_out and (inputs.last_failure is not None or state is FlinkJobState.CANCELLING):
        why = inputs.last_failure or "still cancelling"
        return _uncancelled(inputs, f"gave up after {inputs.waited_s:.0f} s: {why}")
    if state is FlinkJobState.CANCELLING:
        return JobCleanup(JobCleanupKind.WAIT, "the job is being cancelled")
    stop_with_savepoint = (
        inputs.savepoint_on_deletion and not inputs.savepoint_failed and state is FlinkJobState.RUNNING
    )
    mode = SuspendMode.SAVEPOINT if stop_with_savepoint else SuspendMode.STATELESS
    return JobCleanup(JobCleanupKind.CANCEL, f"cancel the job ({mode})", mode)


# --- the session cluster side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionDeletionSettings:
    """The options of a session cluster's deletion (seconds for durations)."""

    block_on_session_jobs: bool = True
    block_on_unmanaged_jobs: bool = True
    job_cancel_timeout: float = 300.0
    unmanaged_jobs_timeout: float = 300.0


@dataclass(frozen=True)
class SessionJobRef:
    """A FlinkSessionJob that names the session cluster."""

    name: str
    deleting: bool = False
    deleting_for_s: float = 0.0
    """Seconds since its deletion started (when `deleting`)."""


class SessionCleanupKind(enum.Enum):
    DELETE = "delete"
    BLOCKED_BY_SESSION_JOBS = "blocked-by-session-jobs"
    """Session jobs that are not being deleted reference the session: they must go first."""
    WAIT_FOR_SESSION_JOBS = "wait-for-session-jobs"
    """The remaining session jobs are being deleted: wait for them (bounded)."""
    WAIT_FOR_UNMANAGED_JOBS = "wait-for-unmanaged-jobs"


@dataclass(frozen=True)
class SessionCleanupInputs:
    session_jobs: Sequence[SessionJobRef] = ()
    block_on_session_jobs: bool = True
    block_on_unmanaged_jobs: bool = True
    jm_ready: bool = False
    unmanaged_jobs: Sequence[str] | None = ()
    """Non-terminal jobs on the cluster that no FlinkSessionJob manages; None: the REST API did not answer."""
    force: bool = False
    waited_s: float = 0.0
    """Seconds since the session's deletion started."""
    job_cancel_timeout_s: float = 300.0
    unmanaged_timeout_s: float = 300.0


@dataclass(frozen=True)
class SessionCleanup:
    kind: SessionCleanupKind
    message: str
    warning: bool = False
    """Tell the user with a Warning `CleanupFailed` event (and a condition)."""
    blockers: tuple[str, ...] = ()


def blocked_message(names: Sequence[str]) -> str:
    """Upstream's message, then how to proceed."""
    listed = ", ".join(names)
    return (
        f"The session jobs [{listed}] should be deleted first: the session cluster is deleted once no "
        "FlinkSessionJob references it"
    )


def session_cleanup(inputs: SessionCleanupInputs) -> SessionCleanup:
    """What a session cluster being deleted does next (see the module docstring)."""
    if inputs.force:
        left = tuple(j.name for j in inputs.session_jobs) + tuple(inputs.unmanaged_jobs or ())
        message = "Deleting the session cluster at once (flink.apache.org/force-deletion)"
        if left:
            message += f" although these still use it: [{', '.join(left)}]"
        return SessionCleanup(SessionCleanupKind.DELETE, message, warning=bool(left), blockers=left)
    if inputs.block_on_session_jobs and inputs.session_jobs:
        remaining = [j for j in inputs.session_jobs if not j.deleting]
        if remaining:
            names = tuple(sorted(j.name for j in remaining))
            return SessionCleanup(
                SessionCleanupKind.BLOCKED_BY_SESSION_JOBS,
                blocked_message(names),
                warning=True,
                blockers=names,
            )
        # All of them are being deleted: each is released within the cancel timeout by its own controller.
        pending = tuple(
            sorted(j.name for j in inputs.session_jobs if j.deleting_for_s < inputs.job_cancel_timeout_s)
        )
        if pending:
            return SessionCleanup(
                SessionCleanupKind.WAIT_FOR_SESSION_JOBS,
                f"Waiting for the session jobs [{', '.join(pending)}] to cancel their jobs",
                blockers=pending,
            )
    if inputs.block_on_unmanaged_jobs and inputs.jm_ready:
        if inputs.unmanaged_jobs is None:
            if inputs.waited_s < inputs.unmanaged_timeout_s:
                return SessionCleanup(
                    SessionCleanupKind.WAIT_FOR_UNMANAGED_JOBS,
                    "The session cluster's REST API did not answer: cannot tell whether jobs still run on it",
                )
        elif inputs.unmanaged_jobs:
            jobs = tuple(sorted(inputs.unmanaged_jobs))
            listed = ", ".join(jobs)
            if inputs.waited_s < inputs.unmanaged_timeout_s:
                return SessionCleanup(
                    SessionCleanupKind.WAIT_FOR_UNMANAGED_JOBS,
                    f"Jobs not managed by a FlinkSessionJob still run on the session cluster: [{listed}]; "
                    f"cancel them, or annotate the resource with flink.apache.org/force-deletion=true; it is "
                    f"deleted anyway {inputs.unmanaged_timeout_s:.0f} s after its deletion started",
                    warning=True,
                    blockers=jobs,
                )
            return SessionCleanup(
                SessionCleanupKind.DELETE,
                f"Deleting the session cluster although jobs [{listed}] still run on it (waited "
                f"{inputs.waited_s:.0f} s)",
                warning=True,
                blockers=jobs,
            )
    return SessionCleanup(SessionCleanupKind.DELETE, "Deleting the session cluster")
