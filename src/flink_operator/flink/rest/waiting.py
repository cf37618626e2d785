"""Waiting for Flink (job states, all vertices RUNNING, triggers, fresh metrics), each with a deadline.

The decisions (is this trigger done? are all vertices running? is this metric read complete?) are pure
functions over response models; the ``wait_*`` coroutines only poll and apply them. Polling starts fast
(50 ms) and backs off to ``max_interval`` so short operations (savepoints take ~0.25 s) return promptly.

Not guaranteed: ``/jobs/:id`` is cached by Flink for up to ``web.refresh-interval`` (3 s), so vertex-level
waits may observe a change that late; job-state waits use the uncached ``/jobs/:id/status``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from flink_operator.flink.rest.client import DEFAULT_AGGREGATIONS, FlinkRestClient
from flink_operator.flink.rest.errors import (
    DeadlineExceeded,
    JobTerminated,
    NotFound,
    TriggerFailed,
    root_cause_message,
)
from flink_operator.flink.rest.models.jobs import ExecutionState, JobDetails, JobState, SerializedFailure
from flink_operator.flink.rest.models.metrics import AggregatedMetric
from flink_operator.flink.rest.models.snapshots import (
    CheckpointDetails,
    CheckpointTriggerStatus,
    DisposalStatus,
    SavepointStatus,
)

__all__ = [
    "TriggerOutcome",
    "all_vertices_running",
    "checkpoint_outcome",
    "disposal_outcome",
    "parallelism_reached",
    "poll_until",
    "read_fresh_vertex_metrics",
    "savepoint_outcome",
    "wait_for_checkpoint",
    "wait_for_checkpoint_details",
    "wait_for_disposal",
    "wait_for_job_running",
    "wait_for_job_state",
    "wait_for_parallelism",
    "wait_for_savepoint",
]

T = TypeVar("T")
R = TypeVar("R")


# ---------------------------------------------------------------------- pure decisions


@dataclass(frozen=True)
class TriggerOutcome:
    """An asynchronous operation: pending, succeeded (with a result) or failed (with a reason)."""

    done: bool
    location: str | None = None
    checkpoint_id: int | None = None
    failure_reason: str | None = None
    failure_class: str | None = None
    stack_trace: str | None = None

    @property
    def failed(self) -> bool:
        return self.failure_reason is not None


_PENDING = TriggerOutcome(done=False)


def _failed(failure: SerializedFailure) -> TriggerOutcome:
    reason = root_cause_message(failure.stack_trace) if failure.stack_trace else failure.class_name
    return TriggerOutcome(
        done=True,
        failure_reason=reason or "unknown failure",
        failure_class=failure.class_name or None,
        stack_trace=failure.stack_trace or None,
    )


def savepoint_outcome(status: SavepointStatus) -> TriggerOutcome:
    if not status.done:
        return _PENDING
    operation = status.operation
    if operation is not None and operation.failure_cause is not None:
        return _failed(operation.failure_cause)
    location = operation.location if operation is not None else None
    if not location:
        return TriggerOutcome(
            done=True, failure_reason="Flink reported completion without a savepoint location"
        )
    return TriggerOutcome(done=True, location=location)


def checkpoint_outcome(status: CheckpointTriggerStatus) -> TriggerOutcome:
    if not status.done:
        return _PENDING
    operation = status.operation
    if operation is not None and operation.failure_cause is not None:
        return _failed(operation.failure_cause)
    checkpoint_id = operation.checkpoint_id if operation is not None else None
    if checkpoint_id is None:
        return TriggerOutcome(done=True, failure_reason="Flink reported completion without a checkpoint id")
    return TriggerOutcome(done=True, checkpoint_id=checkpoint_id)


def disposal_outcome(status: DisposalStatus) -> TriggerOutcome:
    if not status.done:
        return _PENDING
    if status.operation is not None and status.operation.failure_cause is not None:
        return _failed(status.operation.failure_cause)
    return TriggerOutcome(done=True)


def all_vertices_running(details: JobDetails, *, accept_finished: bool = False) -> bool:
    """The job is RUNNING and so is every vertex (optionally FINISHED ones count, e.g. bounded sources)."""
    if details.state is not JobState.RUNNING or not details.vertices:
        return False
    accepted = (
        {ExecutionState.RUNNING, ExecutionState.FINISHED} if accept_finished else {ExecutionState.RUNNING}
    )
    return all(v.status in accepted for v in details.vertices)


def parallelism_reached(details: JobDetails, wanted: Mapping[str, int]) -> bool:
    """Every named vertex has the wanted parallelism and all vertices are RUNNING."""
    if not all_vertices_running(details):
        return False
    for vertex_id, parallelism in wanted.items():
        vertex = details.vertex(vertex_id)
        if vertex is None or vertex.parallelism != parallelism:
            return False
    return True


def metrics_complete(values: Mapping[str, AggregatedMetric], names: Iterable[str]) -> bool:
    """Every requested metric is present with at least one finite aggregate."""
    for name in names:
        metric = values.get(name)
        if metric is None or all(v is None for v in (metric.min, metric.max, metric.avg, metric.sum)):
            return False
    return True


# ---------------------------------------------------------------------- polling


async def poll_until(
    fetch: Callable[[], Awaitable[T]],
    decide: Callable[[T], R | None],
    *,
    within: float,
    what: str,
    initial_interval: float = 0.05,
    max_interval: float = 0.5,
) -> R:
    """Call ``fetch`` until ``decide`` returns non-None; :class:`DeadlineExceeded` after ``within`` s."""
    deadline = time.monotonic() + within
    interval = initial_interval
    last: T | None = None
    while True:
        last = await fetch()
        decided = decide(last)
        if decided is not None:
            return decided
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded(f"{what}: not reached within {within:.1f} s", last_observed=last)
        await asyncio.sleep(min(interval, remaining))
        interval = min(max_interval, interval * 1.5)


def _raise_if_failed(outcome: TriggerOutcome, operation: str, subject: str) -> TriggerOutcome | None:
    if not outcome.done:
        return None
    if outcome.failed:
        assert outcome.failure_reason is not None
        raise TriggerFailed(
            f"{operation} of {subject} failed: {outcome.failure_reason}",
            operation=operation,
            reason=outcome.failure_reason,
            failure_class=outcome.failure_class,
            stack_trace=outcome.stack_trace,
        )
    return outcome


async def wait_for_savepoint(
    client: FlinkRestClient,
    job_id: str,
    trigger_id: str,
    *,
    within: float = 60.0,
    operation: str = "savepoint",
) -> str:
    """Poll a savepoint (or stop-with-savepoint) trigger; return the savepoint location.

    Raises :class:`TriggerFailed` with Flink's reason, or :class:`DeadlineExceeded`.
    """
    outcome = await poll_until(
        lambda: client.savepoint_status(job_id, trigger_id),
        lambda status: _raise_if_failed(savepoint_outcome(status), operation, f"job {job_id}"),
        within=within,
        what=f"{operation} {trigger_id} of job {job_id}",
    )
    assert outcome.location is not None
    return outcome.location


async def wait_for_checkpoint(
    client: FlinkRestClient, job_id: str, trigger_id: str, *, within: float = 60.0
) -> int:
    """Poll a manual checkpoint trigger; return the checkpoint id (``checkpoint_details`` has its path)."""
    outcome = await poll_until(
        lambda: client.checkpoint_trigger_status(job_id, trigger_id),
        lambda status: _raise_if_failed(checkpoint_outcome(status), "checkpoint", f"job {job_id}"),
        within=within,
        what=f"checkpoint {trigger_id} of job {job_id}",
    )
    assert outcome.checkpoint_id is not None
    return outcome.checkpoint_id


async def wait_for_checkpoint_details(
    client: FlinkRestClient, job_id: str, checkpoint_id: int, *, within: float = 10.0
) -> CheckpointDetails:
    """The details (external path) of a checkpoint that just completed.

    Flink serves checkpoint statistics from a cache (``rest.cache.checkpoint-statistics.timeout``, 3 s),
    so right after a trigger completes the details endpoint may still answer 404; this polls past that.
    """

    async def fetch() -> CheckpointDetails | None:
        try:
            return await client.checkpoint_details(job_id, checkpoint_id)
        except NotFound as error:
            if type(error) is not NotFound:  # the job itself is gone
                raise
            return None

    return await poll_until(
        fetch,
        lambda details: details,
        within=within,
        what=f"details of checkpoint {checkpoint_id} of job {job_id}",
        initial_interval=0.1,
    )


async def wait_for_disposal(client: FlinkRestClient, trigger_id: str, *, within: float = 60.0) -> None:
    await poll_until(
        lambda: client.disposal_status(trigger_id),
        lambda status: _raise_if_failed(disposal_outcome(status), "savepoint disposal", "a savepoint"),
        within=within,
        what=f"savepoint disposal {trigger_id}",
    )


async def _terminated(client: FlinkRestClient, job_id: str, state: JobState, wanted: str) -> JobTerminated:
    reason: str | None = None
    if state is JobState.FAILED:
        try:
            result = await client.execution_result(job_id)
            cause = result.job_execution_result.failure_cause if result.job_execution_result else None
            if cause is not None:
                reason = root_cause_message(cause.stack_trace) if cause.stack_trace else cause.class_name
        except Exception:  # the reason is a courtesy; the state is what matters
            reason = None
    suffix = f": {reason}" if reason else ""
    return JobTerminated(
        f"job {job_id} reached {state.value} while waiting for {wanted}{suffix}",
        job_id=job_id,
        state=state.value,
        reason=reason,
    )


async def wait_for_job_state(
    client: FlinkRestClient, job_id: str, states: Collection[JobState], *, within: float = 60.0
) -> JobState:
    """Poll ``/jobs/:id/status`` until the job is in one of ``states``.

    A terminal state that was not asked for raises :class:`JobTerminated` at once (with the failure cause).
    """
    wanted = ", ".join(sorted(s.value for s in states))

    def decide(state: JobState) -> JobState | None:
        return state if state in states else None

    deadline = time.monotonic() + within
    interval = 0.05
    while True:
        state = await client.job_status(job_id)
        if decide(state) is not None:
            return state
        if state.is_terminal:
            raise await _terminated(client, job_id, state, wanted)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded(
                f"job {job_id}: state {state.value}, not {wanted} within {within:.1f} s", last_observed=state
            )
        await asyncio.sleep(min(interval, remaining))
        interval = min(0.5, interval * 1.5)


async def wait_for_job_running(
    client: FlinkRestClient, job_id: str, *, within: float = 60.0, accept_finished: bool = False
) -> JobDetails:
    """Wait until the job is RUNNING *and* all its vertices are (the job is RUNNING before its tasks)."""
    start = time.monotonic()
    await wait_for_job_state(client, job_id, {JobState.RUNNING}, within=within)

    async def fetch() -> JobDetails:
        details = await client.job_details(job_id)
        if details.state.is_terminal:
            raise await _terminated(client, job_id, details.state, "all vertices RUNNING")
        return details

    return await poll_until(
        fetch,
        lambda d: d if all_vertices_running(d, accept_finished=accept_finished) else None,
        within=max(0.0, within - (time.monotonic() - start)),
        what=f"all vertices of job {job_id} RUNNING",
        max_interval=0.5,
    )


async def wait_for_parallelism(
    client: FlinkRestClient, job_id: str, wanted: Mapping[str, int], *, within: float = 120.0
) -> JobDetails:
    """Wait until the named vertices run with the wanted parallelism (after a resource-requirements PUT)."""
    return await poll_until(
        lambda: client.job_details(job_id),
        lambda d: d if parallelism_reached(d, wanted) else None,
        within=within,
        what=f"parallelism {dict(wanted)} of job {job_id}",
        max_interval=0.5,
    )


async def read_fresh_vertex_metrics(
    client: FlinkRestClient,
    job_id: str,
    vertex_id: str,
    names: Iterable[str],
    aggregations: Iterable[str] = DEFAULT_AGGREGATIONS,
    *,
    within: float = 10.0,
    settle: float = 0.2,
) -> dict[str, AggregatedMetric]:
    """Read aggregated vertex metrics that are not stale.

    Flink's REST metric store is refreshed lazily: the first read after a pause triggers a fetch but
    returns the previous snapshot (``[]`` before any fetch). So this reads once to trigger the fetch,
    waits ``settle`` seconds, then reads until every requested metric has a finite value. At the
    deadline it raises :class:`DeadlineExceeded` carrying the last (incomplete) read.
    """
    wanted = list(names)
    aggs = list(aggregations)
    await client.vertex_subtask_metrics(job_id, vertex_id, wanted, aggs)
    await asyncio.sleep(settle)
    return await poll_until(
        lambda: client.vertex_subtask_metrics(job_id, vertex_id, wanted, aggs),
        lambda values: values if metrics_complete(values, wanted) else None,
        within=max(within - settle, 0.0),
        what=f"fresh metrics {wanted} of vertex {vertex_id} (job {job_id})",
        initial_interval=0.2,
    )
