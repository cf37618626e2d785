"""Observing a FlinkDeployment (contract §3.4): which facts to fetch, and how they change the status.

Two pure functions around the shell's FlinkService calls:

* `observe_plan(...)` says what to ask the runtime, in two rounds (the JobManager first, then, depending on
  it, the job, the cluster info, the latest checkpoint, the HA metadata);
* `apply_observation(...)` turns the fetched `Facts` into the observed status plus events: JobManager
  status, job state and `JobStatusChanged` events, the latest checkpoint of a stopped job as the restore
  point, cluster info, stability, and the "already upgraded" check for an UPGRADING intent whose
  deployment happened before a crash.

A FAILED job's root cause (its execution result) becomes `status.error` and a Warning `Error` event; the
job's new root exceptions become `JobException` events (`common.job_exceptions`); with
`kubernetes.operator.cluster.health-check.enabled` the job's restart and checkpoint counters are judged
(`common.health`) and the verdict kept in `clusterInfo["ClusterHealthInfo"]`.

Differences from upstream, on purpose: the runtime reports READY only once REST answers, so there is no
extra DEPLOYED_NOT_READY loop; an UPGRADING intent counts as deployed only when a JobManager of the intended
generation runs the intended job id (upstream looks at the generation annotation only); a job that is not
listed yet right after its deployment (an application's main() has not submitted it) is RECONCILING, not
"Job Not Found", for `ObserveOptions.job_listing_grace_ms`; after that it really is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flink_operator.api import (
    FlinkDeploymentStatus,
    FlinkJobState,
    JobManagerDeploymentStatus,
    JobState,
    ReconciliationState,
    ResourceLifecycleState,
    UpgradeMode,
    stored_job_state,
    stored_upgrade_mode,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import health, job_exceptions, status_updates
from flink_operator.controllers.common.errors import DEPLOYMENT_FAILED_TYPE, error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.health import CLUSTER_HEALTH_INFO_KEY, HealthSettings
from flink_operator.flink.service import (
    CheckpointInfo,
    JobExceptionInfo,
    JobFailure,
    JobManagerObservation,
    JobManagerStatus,
    JobSummary,
)

__all__ = [
    "CLUSTER_HEALTH_INFO_KEY",
    "REST_URL_KEY",
    "Facts",
    "FollowUps",
    "ObserveOptions",
    "Observed",
    "apply_observation",
    "follow_ups",
    "new_cluster_info",
    "wants_jobmanager",
]

REST_URL_KEY = "rest-url"
"""`status.clusterInfo` key holding the REST / Web UI address of the cluster (ours, not upstream's)."""
JOB_LISTING_GRACE_MS = 60_000


@dataclass(frozen=True)
class Facts:
    """What the runtime said in this reconcile (None / False: not asked)."""

    jm: JobManagerObservation | None = None
    jm_error: str | None = None
    job_id_checked: str | None = None
    """The job id that was looked up (None: no lookup)."""
    job: JobSummary | None = None
    job_error: str | None = None
    cluster_info: Mapping[str, str] | None = None
    rest_url: str | None = None
    checkpoint_checked: bool = False
    latest_checkpoint: CheckpointInfo | None = None
    ha_metadata_available: bool | None = None
    job_failure: JobFailure | None = None
    """Why the job failed (asked for when it is first seen FAILED)."""
    exceptions_since_ms: int | None = None
    """The exception history was read for exceptions after this time (None: not read)."""
    exceptions: tuple[JobExceptionInfo, ...] = ()
    health_metrics: dict[str, str] | None = None
    """The job's restart and checkpoint counters (None: not read)."""


@dataclass(frozen=True)
class ObserveOptions:
    """How observation reports what it finds (from the resource's settings)."""

    max_error_length: int = 2048
    max_causes: int = 2
    """Causes kept in a failed job's `status.error.throwableList`."""
    exception_events_limit: int = 10
    exception_stacktrace_lines: int = 5
    health: HealthSettings | None = None
    """The health check's settings; None when it is off."""
    job_listing_grace_ms: int = JOB_LISTING_GRACE_MS


@dataclass(frozen=True)
class FollowUps:
    """The second round of observation, decided from the first (the JobManager)."""

    job_id: str | None = None
    cluster_info: bool = False
    latest_checkpoint_of: str | None = None
    ha_metadata: bool = False


def _recorded_mode(status: FlinkDeploymentStatus) -> UpgradeMode | None:
    return stored_upgrade_mode(status.reconciliation_status.last_reconciled_spec)


def _suspended_and_gone(status: FlinkDeploymentStatus, desired_suspended: bool) -> bool:
    return (
        status.job_manager_deployment_status is JobManagerDeploymentStatus.MISSING
        and desired_suspended
        and stored_job_state(status.reconciliation_status.last_reconciled_spec) == JobState.SUSPENDED.value
    )


def wants_jobmanager(status: FlinkDeploymentStatus, *, desired_suspended: bool, deleting: bool) -> bool:
    """Round one: whether to observe the JobManager at all."""
    if deleting:
        return True
    if status.reconciliation_status.last_reconciled_spec is None:
        return False
    if status.reconciliation_status.state is ReconciliationState.ROLLING_BACK:
        return False
    return not _suspended_and_gone(status, desired_suspended)


def follow_ups(
    status: FlinkDeploymentStatus,
    jm: JobManagerObservation | None,
    *,
    stateful: bool,
    change_pending: bool,
) -> FollowUps:
    """Round two, given the JobManager observation.

    `stateful`: the desired or recorded upgrade mode keeps state; `change_pending`: a spec change, an
    UPGRADING intent or a deletion may need an upgrade decision (which reads the HA metadata).
    """
    if jm is None:
        return FollowUps()
    job_id = status.job_status.job_id
    upgrading = status.reconciliation_status.state is ReconciliationState.UPGRADING
    reconciled_suspended = (
        stored_job_state(status.reconciliation_status.last_reconciled_spec) == JobState.SUSPENDED.value
    )
    ready = jm.status is JobManagerStatus.READY
    lookup: str | None = None
    if ready and job_id:
        if upgrading:
            if jm.generation is not None and jm.generation == status.observed_generation:
                lookup = job_id
        elif not reconciled_suspended:
            lookup = job_id
    recorded = _recorded_mode(status)
    last_state_restore = upgrading and recorded is UpgradeMode.LAST_STATE
    job_terminal = status.job_status.state is not None and status.job_status.state.is_globally_terminal
    wants_checkpoint = bool(job_id) and (
        (stateful and (job_terminal or not ready or change_pending)) or last_state_restore
    )
    return FollowUps(
        job_id=lookup,
        cluster_info=ready and "flink-version" not in status.cluster_info and not upgrading,
        latest_checkpoint_of=job_id if wants_checkpoint else None,
        ha_metadata=stateful and (change_pending or not ready or last_state_restore),
    )


@dataclass(frozen=True)
class Observed:
    """The status after observation, the events it caused, and whether an UPGRADING intent's deployment
    may be under way (then nothing may be deployed until it is clear)."""

    status: FlinkDeploymentStatus
    events: tuple[EventSpec, ...] = ()
    deployment_in_progress: bool = False


def _jm_status(observation: JobManagerObservation) -> JobManagerDeploymentStatus:
    return JobManagerDeploymentStatus(observation.status.value)


def _upgrade_check(status: FlinkDeploymentStatus, facts: Facts) -> str:
    """`upgraded`, `not-upgraded` or `in-progress` for an UPGRADING intent."""
    jm = facts.jm
    if jm is None or jm.status is JobManagerStatus.MISSING:
        return "not-upgraded"
    if jm.generation is None or jm.generation != status.observed_generation:
        return "not-upgraded"
    if jm.status is JobManagerStatus.READY:
        if facts.job_id_checked == status.job_status.job_id and facts.job is not None:
            return "upgraded"
        return "not-upgraded"
    if jm.status is JobManagerStatus.ERROR:
        return "upgraded"
    return "in-progress"


def apply_observation(
    status: FlinkDeploymentStatus,
    facts: Facts,
    *,
    now_ms: int,
    max_error_length: int = 2048,
    options: ObserveOptions | None = None,
) -> Observed:
    """The observed status (a copy) and the events observation produced."""
    options = options or ObserveOptions(max_error_length=max_error_length)
    reconciliation = status.reconciliation_status
    if (
        reconciliation.last_reconciled_spec is None
        or reconciliation.state is ReconciliationState.ROLLING_BACK
    ):
        return Observed(status)
    events: list[EventSpec] = []
    result = status_updates.copy_status(status)
    if reconciliation.state is ReconciliationState.UPGRADING:
        check = _upgrade_check(status, facts)
        if check == "in-progress":
            return Observed(result, deployment_in_progress=True)
        if check == "not-upgraded":
            return Observed(result)
        result = status_updates.for_already_upgraded(result)
    jm = facts.jm
    if jm is None:
        return Observed(result, tuple(events))
    previous_jm = result.job_manager_deployment_status
    result.job_manager_deployment_status = _jm_status(jm)
    job_state = result.job_status.state
    if jm.status is JobManagerStatus.MISSING:
        if job_state is not None and not job_state.is_globally_terminal:
            result.job_status.state = FlinkJobState.RECONCILING
        if previous_jm not in (JobManagerDeploymentStatus.MISSING, JobManagerDeploymentStatus.ERROR):
            result.error = ev.MSG_MISSING_JM
            events.append(ev.warning(Reason.MISSING, Component.JOB_MANAGER_DEPLOYMENT, ev.MSG_MISSING_JM))
        return Observed(result, tuple(events))
    if jm.status is JobManagerStatus.ERROR:
        if job_state is not None and not job_state.is_globally_terminal:
            result.job_status.state = FlinkJobState.RECONCILING
        if previous_jm is not JobManagerDeploymentStatus.ERROR:
            # Upstream's DeploymentFailedException: the Kubernetes reason (CrashLoopBackOff, ...) is the
            # event's reason and `additionalMetadata.reason` of status.error.
            message = jm.reason or "JobManager deployment failed"
            result.error = error_json(
                DEPLOYMENT_FAILED_TYPE, message, max_length=options.max_error_length, reason=jm.error_reason
            )
            reason = jm.error_reason or Reason.ERROR
            events.append(ev.warning(reason, Component.JOB_MANAGER_DEPLOYMENT, message))
        return Observed(result, tuple(events))
    if jm.status is not JobManagerStatus.READY:
        return Observed(result, tuple(events))

    info = dict(result.cluster_info)
    if facts.cluster_info:
        info.update(facts.cluster_info)
    if facts.rest_url or jm.rest_url:
        info[REST_URL_KEY] = str(facts.rest_url or jm.rest_url)
    if info != result.cluster_info:
        result.cluster_info = info

    reconciled_text = result.reconciliation_status.last_reconciled_spec
    reconciled_suspended = stored_job_state(reconciled_text) == JobState.SUSPENDED.value
    if facts.job_id_checked and not reconciled_suspended:
        result = _observe_job(result, facts, events, now_ms, options)
        result = _judge_health(result, facts, now_ms, options.health)
    elif facts.checkpoint_checked:
        _record_checkpoint(result, facts)
    if (
        result.lifecycle_state is not ResourceLifecycleState.DELETING
        and result.job_manager_deployment_status is not JobManagerDeploymentStatus.ERROR
        and result.job_status.state is not FlinkJobState.FAILED
        and result.reconciliation_status.is_last_reconciled_spec_stable
    ):
        result.error = None
    return Observed(result, tuple(events))


def _just_deployed(status: FlinkDeploymentStatus, facts: Facts, now_ms: int, grace_ms: int) -> bool:
    """The job of a deployment that started moments ago: an application's JobManager answers REST before
    its main() has submitted the job."""
    job_status = status.job_status
    if job_status.state not in (None, FlinkJobState.RECONCILING) or job_status.start_time is not None:
        return False
    jm = facts.jm
    if jm is None or jm.generation is None or jm.generation != status.observed_generation:
        return False
    updated = job_status.update_time
    since = max(
        int(updated) if updated and updated.isdigit() else 0,
        status.reconciliation_status.reconciliation_timestamp,
    )
    return now_ms - since < grace_ms


def _observe_job(
    status: FlinkDeploymentStatus, facts: Facts, events: list[EventSpec], now_ms: int, options: ObserveOptions
) -> FlinkDeploymentStatus:
    job_status = status.job_status
    if facts.job is None:
        if facts.job_error is not None:
            if job_status.state is FlinkJobState.RUNNING:
                job_status.state = FlinkJobState.RECONCILING
            return status
        if _just_deployed(status, facts, now_ms, options.job_listing_grace_ms):
            job_status.state = FlinkJobState.RECONCILING
            return status
        events.append(ev.warning(Reason.MISSING, Component.JOB, ev.MSG_JOB_NOT_FOUND))
        status.reconciliation_status.state = ReconciliationState.DEPLOYED
        job_status.state = FlinkJobState.RECONCILING
        status.error = ev.MSG_JOB_NOT_FOUND
        return status
    summary = facts.job
    try:
        observed = FlinkJobState(summary.state)
    except ValueError:
        observed = FlinkJobState.RECONCILING
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
            job_status = status.job_status
        if observed is FlinkJobState.FAILED:
            status.error = job_exceptions.failed_job_error(
                summary.job_id,
                summary.name,
                facts.job_failure,
                max_length=options.max_error_length,
                max_causes=options.max_causes,
            )
            events.append(job_exceptions.failed_job_event(summary.job_id, summary.name, facts.job_failure))
    if facts.exceptions_since_ms is not None:
        events.extend(
            job_exceptions.exception_events(
                facts.exceptions,
                job_id=summary.job_id,
                since_ms=facts.exceptions_since_ms,
                limit=options.exception_events_limit,
                stacktrace_lines=options.exception_stacktrace_lines,
            )
        )
    if observed.is_globally_terminal:
        _record_checkpoint(status, facts)
    return status_updates.check_stable(status)


def _judge_health(
    status: FlinkDeploymentStatus, facts: Facts, now_ms: int, settings: HealthSettings | None
) -> FlinkDeploymentStatus:
    """With the health check on, the verdict on a live job's counters goes into `clusterInfo`."""
    state = status.job_status.state
    if settings is None or facts.health_metrics is None or state is None or state.is_globally_terminal:
        return status
    sample = health.sample_from_metrics(facts.health_metrics, now_ms)
    if sample is None:
        return status
    judged = health.evaluate(health.read_info(status.cluster_info), sample, settings)
    status.cluster_info = {**status.cluster_info, CLUSTER_HEALTH_INFO_KEY: judged.to_json()}
    return status


def _record_checkpoint(status: FlinkDeploymentStatus, facts: Facts) -> None:
    """A stopped job's latest checkpoint (or savepoint) is where a stateful restore starts from."""
    if not facts.checkpoint_checked:
        return
    state = status.job_status.state
    if state is None or not state.is_globally_terminal:
        return
    latest = facts.latest_checkpoint
    job_status = status.job_status
    if latest is None:
        if state is FlinkJobState.CANCELED:
            job_status.upgrade_savepoint_path = None
        return
    current = job_status.upgrade_savepoint_path
    last_savepoint = job_status.savepoint_info.last_savepoint
    if current is not None and last_savepoint is not None and last_savepoint.location == current:
        started = job_status.start_time
        if started is not None and started.isdigit():
            taken_from_this_job = last_savepoint.time_stamp >= int(started)
        else:
            checkpointed = latest.timestamp_ms
            taken_from_this_job = checkpointed is None or last_savepoint.time_stamp >= checkpointed
        if taken_from_this_job:
            # The savepoint this job was stopped with is its final state, later than any of its
            # checkpoints; a savepoint the job was restored from (older than the job) is not.
            return
    job_status.upgrade_savepoint_path = latest.external_path


_PER_CLUSTER_INFO = (CLUSTER_HEALTH_INFO_KEY, "flink-version", "flink-revision", "total-cpu", "total-memory")


def new_cluster_info(info: Mapping[str, str], rest_url: str | None) -> dict[str, str]:
    """`clusterInfo` for a cluster just deployed: what the old cluster reported about itself is dropped
    (the new one reports its own once it answers), its REST URL is recorded when known."""
    fresh = {k: v for k, v in info.items() if k not in _PER_CLUSTER_INFO}
    if rest_url:
        fresh[REST_URL_KEY] = rest_url
    return fresh
