"""Job operations through a cluster's Flink REST API: what the Kubernetes runtimes share for jobs.

`RestJobs` implements the job half of the FlinkService protocol (submit, list, status, failure cause,
exception history, cancel, savepoints, checkpoints, disposal, latest checkpoint, rescale, metrics) on top
of a function that gives the REST client of a cluster. Errors become the protocol's errors: a job the
cluster does not know raises `JobNotFoundError`; a cluster that does not answer raises
`ClusterNotFoundError`; a failed snapshot raises `SnapshotError`.

The latest checkpoint comes from Flink's checkpoint statistics, which Flink serves from a cache
(`rest.cache.checkpoint-statistics.timeout`, by default `web.refresh-interval`, 3 s). Read too soon after a
job ended, they may name a checkpoint that a later one subsumed (and deleted); so a job that ended less
than one cache period ago is read only once that period has passed (the wait is bounded by the period),
and a checkpoint Flink reports as discarded is never returned.

Not guaranteed: the operator cannot reach a cluster's checkpoint storage, so the latest checkpoint and
savepoint disposal need a JobManager that answers. When this service did not see the job end itself, the
job's end time comes from the JobManager's clock; a clock far off the operator's may shorten the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from flink_operator.flink import artifacts
from flink_operator.flink.job_failures import exceptions_from_history, failure_from_result
from flink_operator.flink.rest import (
    ClusterUnreachable,
    FlinkRestClient,
    FlinkRestError,
    JarRunRequest,
    JobNotFound,
    JobOverview,
    JobState,
    TriggerFailed,
    wait_for_disposal,
    wait_for_job_state,
    wait_for_savepoint,
)
from flink_operator.flink.rest.models.snapshots import CheckpointSummary
from flink_operator.flink.rest.waiting import checkpoint_outcome, savepoint_outcome
from flink_operator.flink.service import (
    CancelResult,
    CheckpointInfo,
    CheckpointType,
    ClusterNotFoundError,
    ClusterRef,
    FlinkServiceError,
    JobExceptionInfo,
    JobFailure,
    JobNotFoundError,
    JobSummary,
    SavepointFormat,
    SessionJobRequest,
    SnapshotError,
    SnapshotKind,
    SnapshotResult,
    SnapshotState,
    SnapshotTrigger,
    SuspendMode,
)

_log = logging.getLogger(__name__)
T = TypeVar("T")
_TERMINAL = frozenset({JobState.CANCELED, JobState.FINISHED, JobState.FAILED})

ClientFor = Callable[[ClusterRef], FlinkRestClient]
DEFAULT_STATS_CACHE_SECONDS = 3.0
"""Flink's default `web.refresh-interval`, the default lifetime of cached checkpoint statistics."""


@dataclass(frozen=True)
class JobTimeouts:
    """Bounds (seconds) of waits for a job to stop and for a savepoint to complete."""

    cancel: float = 60.0
    savepoint: float = 600.0


def summary(job: JobOverview) -> JobSummary:
    return JobSummary(
        job_id=job.jid,
        name=job.name,
        state=job.state.value,
        start_time_ms=job.start_time if job.start_time >= 0 else None,
        end_time_ms=job.end_time if job.end_time >= 0 else None,
        last_modification_ms=job.last_modification if job.last_modification > 0 else None,
    )


def restorable(completed: CheckpointSummary | None) -> CheckpointInfo | None:
    """A completed checkpoint as a restore point: None when there is none, when it has no external path,
    or when Flink reports it discarded (subsumed by a later one, or deleted when the job was cancelled)."""
    if completed is None or not completed.external_path or completed.discarded:
        return None
    return CheckpointInfo(completed.id, completed.external_path, completed.latest_ack_timestamp)


def settle_wait(cache_ttl: float, ended_ago: float | None) -> float:
    """Seconds to wait before the checkpoint statistics of a job that ended `ended_ago` seconds ago (None:
    still running, or unknown) are final, i.e. computed after the job ended. At most one cache period."""
    if ended_ago is None or cache_ttl <= 0:
        return 0.0
    return min(max(cache_ttl - ended_ago, 0.0), cache_ttl)


class RestJobs:
    """The job operations of the FlinkService protocol over a cluster's REST API.

    `clock` (monotonic) and `wall_clock` (epoch seconds) and `sleep` are injectable for tests."""

    def __init__(
        self,
        client_for: ClientFor,
        *,
        timeouts: JobTimeouts,
        artifacts_dir: Path,
        artifact_settings: artifacts.ArtifactSettings,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client_for = client_for
        self.timeouts = timeouts
        self.artifacts_dir = artifacts_dir
        self.artifact_settings = artifact_settings
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._ended: dict[tuple[ClusterRef, str], float] = {}
        """When this service saw a job reach a terminal state (monotonic), for the statistics wait."""
        self._stats_ttl: dict[ClusterRef, float] = {}

    def _client(self, ref: ClusterRef) -> FlinkRestClient:
        return self._client_for(ref)

    async def submit_job(self, request: SessionJobRequest) -> str:
        ref = request.cluster
        client = self._client(ref)
        if await self.job_status(ref, request.job_id) is not None:
            return request.job_id
        target = self.artifacts_dir / ref.namespace / ref.name / request.job_name
        uri = request.job.jar_uri
        jar = await (
            artifacts.resolve_jar(uri, target, self.artifact_settings) if uri else _empty_jar(target)
        )
        try:
            jar_id = await unreachable_as_missing(ref, client.upload_jar(jar))
            try:
                result = await client.run_jar(
                    jar_id,
                    JarRunRequest(
                        entry_class=request.job.entry_class,
                        program_args=list(request.job.args),
                        parallelism=request.job.parallelism,
                        job_id=request.job_id,
                        savepoint_path=request.restore_path,
                        allow_non_restored_state=request.allow_non_restored_state,
                        flink_configuration=dict(request.configuration),
                    ),
                )
            except FlinkRestError as error:
                if "DuplicateJobSubmission" in str(error) or "already" in error.root_cause:
                    return request.job_id
                raise FlinkServiceError(f"submitting {request.job_name} to {ref} failed: {error}") from error
            finally:
                with contextlib.suppress(FlinkRestError):
                    await client.delete_jar(jar_id)
        finally:
            if not uri or artifacts.local_path(uri) is None:
                jar.unlink(missing_ok=True)
        return result.jobid

    async def list_jobs(self, ref: ClusterRef) -> list[JobSummary]:
        jobs = await unreachable_as_missing(ref, self._client(ref).jobs_overview())
        return [summary(job) for job in jobs]

    async def job_status(self, ref: ClusterRef, job_id: str) -> JobSummary | None:
        return next((job for job in await self.list_jobs(ref) if job.job_id == job_id), None)

    async def job_failure(self, ref: ClusterRef, job_id: str) -> JobFailure | None:
        try:
            result = await unreachable_as_missing(ref, self._client(ref).execution_result(job_id))
        except JobNotFound:
            return None
        return failure_from_result(result)

    async def job_exceptions(
        self, ref: ClusterRef, job_id: str, *, since_ms: int = 0, limit: int = 10
    ) -> list[JobExceptionInfo]:
        if limit <= 0:
            return []
        try:
            body = await unreachable_as_missing(ref, self._client(ref).exceptions(job_id, limit))
        except JobNotFound:
            return []
        return exceptions_from_history(body, since_ms=since_ms, limit=limit)

    async def cancel_job(
        self,
        ref: ClusterRef,
        job_id: str,
        mode: SuspendMode,
        *,
        savepoint_dir: str | None = None,
        savepoint_format: SavepointFormat = SavepointFormat.CANONICAL,
        drain: bool = False,
    ) -> CancelResult:
        client = self._client(ref)
        try:
            state = await client.job_status(job_id)
            if state not in _TERMINAL:
                if mode is SuspendMode.SAVEPOINT:
                    trigger = await client.stop_with_savepoint(
                        job_id, savepoint_dir, drain=drain, format_type=savepoint_format
                    )
                    location = await wait_for_savepoint(
                        client,
                        job_id,
                        trigger,
                        within=self.timeouts.savepoint,
                        operation="stop-with-savepoint",
                    )
                    state = await wait_for_job_state(client, job_id, _TERMINAL, within=self.timeouts.cancel)
                    return CancelResult(job_id, state.value, savepoint_path=location)
                await client.cancel_job(job_id, request_timeout=self.timeouts.cancel)
                state = await wait_for_job_state(client, job_id, _TERMINAL, within=self.timeouts.cancel)
                self._ended[(ref, job_id)] = self._clock()
        except JobNotFound as error:
            raise JobNotFoundError(f"job {job_id} is not known to cluster {ref}") from error
        except TriggerFailed as error:
            raise SnapshotError(
                f"stop-with-savepoint of job {job_id} on {ref} failed: {error.reason}"
            ) from error
        except ClusterUnreachable as error:
            raise ClusterNotFoundError(f"cluster {ref} does not answer: {error}") from error
        if mode is SuspendMode.STATELESS:
            return CancelResult(job_id, state.value)
        if mode is SuspendMode.SAVEPOINT:
            stats = await client.checkpoint_stats(job_id)
            latest = stats.latest.savepoint
            return CancelResult(job_id, state.value, savepoint_path=latest.external_path if latest else None)
        checkpoint = await self.latest_checkpoint(ref, job_id)
        path = checkpoint.external_path if checkpoint else None
        return CancelResult(job_id, state.value, checkpoint_path=path)

    async def trigger_savepoint(
        self,
        ref: ClusterRef,
        job_id: str,
        *,
        target_dir: str | None = None,
        savepoint_format: SavepointFormat = SavepointFormat.CANONICAL,
    ) -> SnapshotTrigger:
        trigger = await unreachable_as_missing(
            ref, self._client(ref).trigger_savepoint(job_id, target_dir, format_type=savepoint_format)
        )
        return SnapshotTrigger(SnapshotKind.SAVEPOINT, job_id, trigger)

    async def trigger_checkpoint(
        self, ref: ClusterRef, job_id: str, *, checkpoint_type: CheckpointType = CheckpointType.FULL
    ) -> SnapshotTrigger:
        trigger = await unreachable_as_missing(
            ref, self._client(ref).trigger_checkpoint(job_id, checkpoint_type)
        )
        return SnapshotTrigger(SnapshotKind.CHECKPOINT, job_id, trigger)

    async def snapshot_result(self, ref: ClusterRef, trigger: SnapshotTrigger) -> SnapshotResult:
        client = self._client(ref)
        if trigger.kind is SnapshotKind.SAVEPOINT:
            status = client.savepoint_status(trigger.job_id, trigger.trigger_id)
            outcome = savepoint_outcome(await unreachable_as_missing(ref, status))
        else:
            outcome = checkpoint_outcome(
                await unreachable_as_missing(
                    ref, client.checkpoint_trigger_status(trigger.job_id, trigger.trigger_id)
                )
            )
        if not outcome.done:
            return SnapshotResult(SnapshotState.IN_PROGRESS)
        if outcome.failed:
            return SnapshotResult(SnapshotState.FAILED, failure=outcome.failure_reason)
        location = outcome.location
        if trigger.kind is SnapshotKind.CHECKPOINT and outcome.checkpoint_id is not None:
            details = await client.checkpoint_details(trigger.job_id, outcome.checkpoint_id)
            location = details.external_path
        return SnapshotResult(SnapshotState.COMPLETED, location=location, checkpoint_id=outcome.checkpoint_id)

    async def dispose_savepoint(self, ref: ClusterRef | None, path: str) -> None:
        if ref is None:
            raise SnapshotError(
                f"disposing savepoint {path} needs a running cluster (the operator cannot reach the "
                "checkpoint storage of Kubernetes clusters)"
            )
        client = self._client(ref)
        try:
            trigger = await client.dispose_savepoint(path)
            await wait_for_disposal(client, trigger, within=self.timeouts.cancel)
        except TriggerFailed as error:
            if "FileNotFound" in (error.failure_class or "") or "does not exist" in error.reason:
                return
            raise SnapshotError(f"disposing savepoint {path} failed: {error.reason}") from error
        except ClusterUnreachable as error:
            raise ClusterNotFoundError(
                f"disposing savepoint {path} needs cluster {ref}, which does not answer: {error}"
            ) from error

    async def latest_checkpoint(self, ref: ClusterRef, job_id: str) -> CheckpointInfo | None:
        """The latest completed, not discarded checkpoint, from statistics computed after the job ended
        (see the module docstring)."""
        wait = settle_wait(await self.checkpoint_stats_ttl(ref), await self._ended_ago(ref, job_id))
        if wait > 0:
            _log.debug("reading the checkpoints of %s on %s in %.2f s (statistics cache)", job_id, ref, wait)
            await self._sleep(wait)
        try:
            stats = await unreachable_as_missing(ref, self._client(ref).checkpoint_stats(job_id))
        except JobNotFound as error:
            raise JobNotFoundError(f"job {job_id} is not known to cluster {ref}") from error
        return restorable(stats.latest.completed)

    async def _ended_ago(self, ref: ClusterRef, job_id: str) -> float | None:
        """Seconds since the job reached a terminal state; None while it runs (or when unknown)."""
        seen = self._ended.get((ref, job_id))
        if seen is not None:
            return self._clock() - seen
        job = await self.job_status(ref, job_id)
        if job is None or not job.terminal or job.end_time_ms is None:
            return None
        return max(self._wall_clock() - job.end_time_ms / 1000, 0.0)

    async def checkpoint_stats_ttl(self, ref: ClusterRef) -> float:
        """How long the cluster serves checkpoint statistics from its cache (seconds): its
        `web.refresh-interval` as `GET /config` reports it (the default of
        `rest.cache.checkpoint-statistics.timeout`); 3 s when it cannot be read."""
        known = self._stats_ttl.get(ref)
        if known is not None:
            return known
        try:
            config = await self._client(ref).config()
        except FlinkRestError:
            return DEFAULT_STATS_CACHE_SECONDS
        ttl = config.refresh_interval / 1000 if config.refresh_interval else DEFAULT_STATS_CACHE_SECONDS
        self._stats_ttl[ref] = ttl
        return ttl

    def forget_cluster(self, ref: ClusterRef) -> None:
        """Drop what is remembered about a cluster's jobs (its cluster was deleted)."""
        self._stats_ttl.pop(ref, None)
        self._ended = {key: at for key, at in self._ended.items() if key[0] != ref}

    async def rescale_job(self, ref: ClusterRef, job_id: str, parallelism: Mapping[str, int]) -> None:
        await unreachable_as_missing(
            ref, self._client(ref).set_resource_requirements(job_id, dict(parallelism))
        )

    async def job_metrics(self, ref: ClusterRef, job_id: str, names: Sequence[str]) -> dict[str, str]:
        values = await unreachable_as_missing(ref, self._client(ref).job_metrics(job_id, names))
        return {name: value for name, value in values.items() if value is not None}


async def unreachable_as_missing(ref: ClusterRef, call: Awaitable[T]) -> T:
    """Await a REST call; a cluster that does not answer becomes `ClusterNotFoundError`."""
    try:
        return await call
    except ClusterUnreachable as error:
        raise ClusterNotFoundError(f"cluster {ref} does not answer: {error}") from error


async def _empty_jar(target: Path) -> Path:
    return await asyncio.to_thread(artifacts.empty_jar, target)
