"""LocalFlinkService: the FlinkService that runs clusters as JobManager/TaskManager processes on 127.0.0.1.

Construct it with :func:`LocalFlinkService.from_configuration` (or directly with settings), call
``await service.recover()`` once at operator start (adopts clusters left running by an earlier run, stops
the leftovers of dead ones), and ``await service.close()`` at the end (clusters keep running; use
``stop_all()`` to stop them). Cluster state lives in the state dir (see ``layout``); everything that talks
to a running cluster goes through the Flink REST client.

Concurrency: calls for one cluster that start or stop processes are serialised by a per-cluster lock; REST
calls are not (Flink copes). Not guaranteed: resource limits (the memory sizes are Flink's accounting only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from flink_operator.config import Configuration
from flink_operator.flink import artifacts
from flink_operator.flink.job_failures import exceptions_from_history, failure_from_result
from flink_operator.flink.job_result_store import STORAGE_PATH_KEY, prune_after_deploy
from flink_operator.flink.local import housekeeping, processes, records
from flink_operator.flink.local.distribution import DistributionResolver, installed_flink_home
from flink_operator.flink.local.launcher import Launch, start_deployment
from flink_operator.flink.local.layout import ClusterLayout
from flink_operator.flink.local.options import USRLIB_IMAGE_DIR, LocalFlinkSettings, settings_from
from flink_operator.flink.local.records import ClusterRecord
from flink_operator.flink.local.snapshots import (
    checkpoint_exists,
    latest_checkpoint_on_disk,
    local_dir,
    remove_savepoint_files,
    storage_has,
)
from flink_operator.flink.rest import (
    ClusterUnreachable,
    FlinkRestClient,
    FlinkRestError,
    JarRunRequest,
    JobNotFound,
    JobOverview,
    JobState,
    RetryPolicy,
    TriggerFailed,
    wait_for_disposal,
    wait_for_job_state,
    wait_for_savepoint,
)
from flink_operator.flink.rest.waiting import checkpoint_outcome, savepoint_outcome
from flink_operator.flink.service import (
    CancelResult,
    CheckpointInfo,
    CheckpointType,
    ClusterInfo,
    ClusterMode,
    ClusterNotFoundError,
    ClusterRef,
    ClusterRequest,
    DeploymentError,
    DeployResult,
    FlinkServiceError,
    JobExceptionInfo,
    JobFailure,
    JobManagerObservation,
    JobManagerStatus,
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
_TERMINAL = frozenset({JobState.CANCELED, JobState.FINISHED, JobState.FAILED})
_KEPT_DEPLOYMENTS = 3
_LOG_TAIL_LINES = 15


@dataclass(frozen=True)
class RecoveryReport:
    adopted: tuple[ClusterRef, ...]
    reaped: tuple[ClusterRef, ...]
    orphans_stopped: tuple[int, ...]


class LocalFlinkService:
    """FlinkService over local processes. See the module docstring for the life cycle."""

    def __init__(
        self,
        settings: LocalFlinkSettings,
        *,
        artifact_settings: artifacts.ArtifactSettings | None = None,
        rest_timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self.state_dir = settings.state_dir.resolve()
        self.usrlib_dir = (settings.usrlib_dir or self.state_dir / "usrlib").resolve()
        # `local:///opt/flink/usrlib/...` names the image's user jars; here they live in the usrlib dir.
        self.artifact_settings = (artifact_settings or artifacts.ArtifactSettings()).with_image_dir(
            USRLIB_IMAGE_DIR, self.usrlib_dir
        )
        self.rest_timeout = rest_timeout
        self._resolver = DistributionResolver(settings.flink_homes, installed_flink_home())
        self._locks: dict[ClusterRef, asyncio.Lock] = {}
        self._http: httpx.AsyncClient | None = None

    @classmethod
    def from_configuration(
        cls, configuration: Configuration, *, state_dir: Path | None = None
    ) -> LocalFlinkService:
        return cls(
            settings_from(configuration, state_dir=state_dir),
            artifact_settings=artifacts.ArtifactSettings.from_configuration(configuration),
        )

    # ------------------------------------------------------------------ plumbing

    def _layout(self, ref: ClusterRef) -> ClusterLayout:
        return ClusterLayout.of(self.state_dir, ref)

    def _record(self, ref: ClusterRef) -> ClusterRecord | None:
        return records.load(self._layout(ref).record)

    def _require(self, ref: ClusterRef) -> ClusterRecord:
        record = self._record(ref)
        if record is None:
            raise ClusterNotFoundError(f"no local Flink cluster {ref}")
        return record

    def _lock(self, ref: ClusterRef) -> asyncio.Lock:
        return self._locks.setdefault(ref, asyncio.Lock())

    def _client(self, record: ClusterRecord, *, retry: RetryPolicy | None = None) -> FlinkRestClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.rest_timeout, trust_env=False)
        return FlinkRestClient(
            record.rest_url,
            timeout=self.rest_timeout,
            retry=retry,
            flink_version=record.flink_version,
            http=self._http,
        )

    def _rest(self, ref: ClusterRef) -> FlinkRestClient:
        return self._client(self._require(ref))

    async def close(self) -> None:
        """Release HTTP connections. Clusters keep running (a later run adopts them)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def list_clusters(self) -> list[ClusterRecord]:
        found = []
        for path in records.record_paths(self.state_dir):
            try:
                record = records.load(path)
            except ValueError as error:
                _log.warning("skipping %s", error)
                continue
            if record is not None:
                found.append(record)
        return found

    def rest_url(self, ref: ClusterRef) -> str | None:
        record = self._record(ref)
        return record.rest_url if record is not None else None

    # ------------------------------------------------------------------ clusters

    async def deploy_session_cluster(self, request: ClusterRequest) -> DeployResult:
        if request.job is not None:
            raise DeploymentError(f"{request.ref}: a session cluster request must not carry a job")
        return await self._deploy(request, jar=None)

    async def deploy_application_cluster(self, request: ClusterRequest) -> DeployResult:
        if request.job is None:
            raise DeploymentError(f"{request.ref}: an application cluster request needs a job")
        return await self._deploy(request, jar=request.job.jar_uri)

    async def _deploy(self, request: ClusterRequest, *, jar: str | None) -> DeployResult:
        ref = request.ref
        async with self._lock(ref):
            existing = self._record(ref)
            if existing is not None:
                if (
                    existing.generation == request.generation
                    and existing.mode is request.mode
                    and _jobmanager_alive(existing)
                ):
                    return DeployResult(
                        ref, started=False, rest_url=existing.rest_url, job_id=existing.job_id
                    )
                await self._stop(existing)
            distribution = self._resolver.resolve(request.flink_version)
            layout = self._layout(ref)
            jar_path = None
            if request.mode is ClusterMode.APPLICATION:
                if not jar:
                    raise DeploymentError(f"{ref}: job.jarURI is required for an application cluster")
                jar_path = await artifacts.resolve_jar(
                    jar, layout.root / "artifacts" / "application", self.artifact_settings
                )
            launch = Launch(self.settings, distribution, layout, jar_path)
            try:
                record = await start_deployment(request, launch)
            except BaseException:
                started = self._record(ref)
                if started is not None:
                    await self._stop(started)
                    records.remove(layout.record)
                raise
            await asyncio.to_thread(
                housekeeping.prune_deployments, layout, record.deployment_id, _KEPT_DEPLOYMENTS
            )
            if record.job_result_store:
                stores = {**request.configuration, STORAGE_PATH_KEY: record.job_result_store}
                await asyncio.to_thread(prune_after_deploy, stores)
            _log.info(
                "started %s cluster %s (generation %d) at %s",
                request.mode,
                ref,
                request.generation,
                record.rest_url,
            )
            return DeployResult(ref, started=True, rest_url=record.rest_url, job_id=record.job_id)

    async def _stop(self, record: ClusterRecord) -> ClusterRecord:
        """Stop every process of the record (TaskManagers and JobManager first, ZooKeeper last)."""
        flink = [p for p in record.processes if p.role != "zookeeper"]
        zk = [p for p in record.processes if p.role == "zookeeper"]
        stopped = await processes.stop(flink, grace=self.settings.stop_timeout)
        stopped += await processes.stop(zk, grace=self.settings.stop_timeout)
        return record.with_processes(tuple(stopped))

    async def delete_cluster(self, ref: ClusterRef, *, delete_ha_data: bool) -> None:
        layout = self._layout(ref)
        async with self._lock(ref):
            record = self._record(ref)
            ha_storage = self._ha_storage(ref)
            if record is not None:
                await self._stop(record)
                records.remove(layout.record)
            if delete_ha_data:
                await asyncio.to_thread(housekeeping.delete_ha_data, layout, ha_storage)

    async def stop_all(self) -> None:
        """Stop every cluster this state dir knows (HA data and checkpoints are kept)."""
        for record in self.list_clusters():
            await self.delete_cluster(record.ref, delete_ha_data=False)

    async def observe_jobmanager(self, ref: ClusterRef) -> JobManagerObservation:
        record = self._record(ref)
        if record is None:
            return JobManagerObservation(JobManagerStatus.MISSING, reason="no JobManager for this cluster")
        jm = record.process("jobmanager")
        if jm is None:
            if self._lock(ref).locked():
                return JobManagerObservation(
                    JobManagerStatus.DEPLOYING,
                    reason="processes are being started",
                    generation=record.generation,
                )
            return JobManagerObservation(
                JobManagerStatus.MISSING,
                reason="the deployment was interrupted before the JobManager started",
                generation=record.generation,
            )
        if not processes.is_running(jm):
            return await self._observe_dead(record, jm)
        url = record.rest_url
        if not await _port_open(record.rest_port):
            return JobManagerObservation(
                JobManagerStatus.DEPLOYING,
                reason=f"JobManager process {jm.pid} is starting; REST does not answer yet",
                generation=record.generation,
                rest_url=url,
            )
        try:
            overview = await self._client(record, retry=RetryPolicy.none()).overview()
        except FlinkRestError as error:
            return JobManagerObservation(
                JobManagerStatus.DEPLOYED_NOT_READY,
                reason=f"REST port is open but not ready: {error}",
                generation=record.generation,
                rest_url=url,
            )
        return JobManagerObservation(
            JobManagerStatus.READY,
            reason="JobManager is running and ready to receive REST API calls",
            generation=record.generation,
            rest_url=url,
            taskmanagers=overview.taskmanagers,
        )

    async def _observe_dead(
        self, record: ClusterRecord, jm: processes.ProcessRecord
    ) -> JobManagerObservation:
        """A dead JobManager: record how it ended, stop what it left behind, and say why."""
        async with self._lock(record.ref):
            current = self._record(record.ref)
            if current is not None and current.deployment_id == record.deployment_id:
                record = await self._stop(current)
                records.save(self._layout(record.ref).record, record)
        ended = record.process("jobmanager") or jm
        code = ended.exit_code
        log_tail = processes.tail(ended.log_file, _LOG_TAIL_LINES) or processes.tail(ended.out_file)
        reason = f"JobManager process {ended.pid} {processes.describe_exit(code)}"
        if log_tail:
            reason += f"; last log lines:\n{log_tail}"
        # Failing by itself (exit code > 0) is an error; being stopped from outside (a signal), or ending
        # normally, leaves the cluster missing (the local analogue of a deleted JobManager Deployment).
        status = JobManagerStatus.ERROR if code is not None and code > 0 else JobManagerStatus.MISSING
        return JobManagerObservation(status, reason=reason, exit_code=code, generation=record.generation)

    async def cluster_info(self, ref: ClusterRef) -> ClusterInfo:
        record = self._require(ref)
        config = await self._client(record).config()
        return ClusterInfo(
            flink_version=config.flink_version,
            flink_revision=config.flink_revision,
            total_cpu=record.total_cpu,
            total_memory_bytes=record.total_memory_bytes,
        )

    # ------------------------------------------------------------------ jobs

    async def submit_job(self, request: SessionJobRequest) -> str:
        record = self._require(request.cluster)
        if record.mode is not ClusterMode.SESSION:
            raise DeploymentError(f"{request.cluster} is an application cluster; jobs go to session clusters")
        client = self._client(record)
        if await self.job_status(request.cluster, request.job_id) is not None:
            return request.job_id
        target = self._layout(request.cluster).artifacts(request.job_name)
        uri = request.job.jar_uri
        jar = await (
            artifacts.resolve_jar(uri, target, self.artifact_settings) if uri else _empty_jar(target)
        )
        jar_id = await client.upload_jar(jar)
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
                # Flink runs the program's main() before it answers; a PyFlink program starts a Python
                # interpreter first, which takes longer than an ordinary REST call on a busy machine.
                request_timeout=max(self.rest_timeout, self.settings.operation_timeout),
            )
        except FlinkRestError as error:
            if "DuplicateJobSubmission" in str(error) or "already" in error.root_cause:
                return request.job_id
            raise FlinkServiceError(
                f"submitting {request.job_name} to {request.cluster} failed: {error}"
            ) from error
        finally:
            with contextlib.suppress(FlinkRestError):
                await client.delete_jar(jar_id)
            if uri and artifacts.local_path(uri) is None:
                jar.unlink(missing_ok=True)
        return result.jobid

    async def list_jobs(self, ref: ClusterRef) -> list[JobSummary]:
        return [_summary(job) for job in await self._rest(ref).jobs_overview()]

    async def job_status(self, ref: ClusterRef, job_id: str) -> JobSummary | None:
        return next((job for job in await self.list_jobs(ref) if job.job_id == job_id), None)

    async def job_failure(self, ref: ClusterRef, job_id: str) -> JobFailure | None:
        try:
            result = await self._rest(ref).execution_result(job_id)
        except JobNotFound:
            return None
        return failure_from_result(result)

    async def job_exceptions(
        self, ref: ClusterRef, job_id: str, *, since_ms: int = 0, limit: int = 10
    ) -> list[JobExceptionInfo]:
        if limit <= 0:
            return []
        try:
            body = await self._rest(ref).exceptions(job_id, limit)
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
        client = self._rest(ref)
        within = self.settings.operation_timeout
        try:
            state = await client.job_status(job_id)
            if state not in _TERMINAL:
                if mode is SuspendMode.SAVEPOINT:
                    trigger = await client.stop_with_savepoint(
                        job_id, savepoint_dir, drain=drain, format_type=savepoint_format
                    )
                    location = await wait_for_savepoint(
                        client, job_id, trigger, within=within, operation="stop-with-savepoint"
                    )
                    state = await wait_for_job_state(client, job_id, _TERMINAL, within=within)
                    return CancelResult(job_id, state.value, savepoint_path=location)
                await client.cancel_job(job_id)
                state = await wait_for_job_state(client, job_id, _TERMINAL, within=within)
        except JobNotFound as error:
            raise JobNotFoundError(f"job {job_id} is not known to cluster {ref}") from error
        except TriggerFailed as error:
            raise SnapshotError(
                f"stop-with-savepoint of job {job_id} on {ref} failed: {error.reason}"
            ) from error
        if mode is SuspendMode.STATELESS:
            return CancelResult(job_id, state.value)
        if mode is SuspendMode.SAVEPOINT:
            stats = await client.checkpoint_stats(job_id)
            latest = stats.latest.savepoint
            return CancelResult(job_id, state.value, savepoint_path=latest.external_path if latest else None)
        checkpoint = await self.latest_checkpoint(ref, job_id)
        return CancelResult(
            job_id, state.value, checkpoint_path=checkpoint.external_path if checkpoint else None
        )

    # ------------------------------------------------------------------ snapshots

    async def trigger_savepoint(
        self,
        ref: ClusterRef,
        job_id: str,
        *,
        target_dir: str | None = None,
        savepoint_format: SavepointFormat = SavepointFormat.CANONICAL,
    ) -> SnapshotTrigger:
        trigger = await self._rest(ref).trigger_savepoint(job_id, target_dir, format_type=savepoint_format)
        return SnapshotTrigger(SnapshotKind.SAVEPOINT, job_id, trigger)

    async def trigger_checkpoint(
        self, ref: ClusterRef, job_id: str, *, checkpoint_type: CheckpointType = CheckpointType.FULL
    ) -> SnapshotTrigger:
        trigger = await self._rest(ref).trigger_checkpoint(job_id, checkpoint_type)
        return SnapshotTrigger(SnapshotKind.CHECKPOINT, job_id, trigger)

    async def snapshot_result(self, ref: ClusterRef, trigger: SnapshotTrigger) -> SnapshotResult:
        client = self._rest(ref)
        if trigger.kind is SnapshotKind.SAVEPOINT:
            outcome = savepoint_outcome(await client.savepoint_status(trigger.job_id, trigger.trigger_id))
        else:
            outcome = checkpoint_outcome(
                await client.checkpoint_trigger_status(trigger.job_id, trigger.trigger_id)
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
        record = self._record(ref) if ref is not None else None
        if record is not None and processes.is_running(record.process("jobmanager") or _NO_PROCESS):
            client = self._client(record)
            try:
                trigger = await client.dispose_savepoint(path)
                await wait_for_disposal(client, trigger, within=self.settings.operation_timeout)
                return
            except TriggerFailed as error:
                if await asyncio.to_thread(remove_savepoint_files, path):
                    return
                if "FileNotFound" in (error.failure_class or "") or "does not exist" in error.reason:
                    return
                raise SnapshotError(f"disposing savepoint {path} failed: {error.reason}") from error
            except ClusterUnreachable:
                pass
        await asyncio.to_thread(remove_savepoint_files, path)

    async def latest_checkpoint(self, ref: ClusterRef, job_id: str) -> CheckpointInfo | None:
        # Flink caches checkpoint statistics and subsumes old checkpoints, so what REST names may be gone;
        # the checkpoint directory is the truth for local storage. REST covers jobs that checkpoint elsewhere.
        record = self._record(ref)
        candidates: list[CheckpointInfo] = []
        if record is not None and processes.is_running(record.process("jobmanager") or _NO_PROCESS):
            with contextlib.suppress(FlinkRestError):
                stats = await self._client(record, retry=RetryPolicy.none()).checkpoint_stats(job_id)
                completed = stats.latest.completed
                if completed is not None and completed.external_path:
                    candidates.append(
                        CheckpointInfo(completed.id, completed.external_path, completed.latest_ack_timestamp)
                    )
        directory = (record.checkpoint_dir if record else None) or str(self._layout(ref).checkpoints)
        on_disk = await asyncio.to_thread(latest_checkpoint_on_disk, directory, job_id)
        if on_disk is not None:
            candidates.append(on_disk)
        usable = [c for c in candidates if await asyncio.to_thread(checkpoint_exists, c.external_path)]
        return max(usable, key=lambda c: c.checkpoint_id, default=None)

    async def ha_metadata_available(self, ref: ClusterRef) -> bool:
        return await asyncio.to_thread(storage_has, self._ha_storage(ref), ref.name, "job graph")

    async def ha_has_checkpoint(self, ref: ClusterRef) -> bool:
        return await asyncio.to_thread(storage_has, self._ha_storage(ref), ref.name, "checkpoint")

    def job_result_store_paths(self, ref: ClusterRef) -> list[Path]:
        """Every JobResultStore directory HA deployments of this cluster have used (one per deployment),
        oldest first; the current deployment's is last. Pruning them is left to the caller."""
        storage = local_dir(self._ha_storage(ref))
        if storage is None:
            return []
        base = storage / "job-result-store" / ref.name
        if not base.is_dir():
            return []
        return sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)

    def _ha_storage(self, ref: ClusterRef) -> str:
        """Where the cluster's HA data lives: its record's storage, else the location remembered for a
        deleted cluster whose HA data was kept, else the default directory."""
        record = self._record(ref)
        if record is not None and record.ha_storage:
            return record.ha_storage
        layout = self._layout(ref)
        try:
            remembered = layout.ha_location.read_text(encoding="utf-8").strip()
        except OSError:
            remembered = ""
        return remembered or str(layout.ha_storage)

    # ------------------------------------------------------------------ scaling and metrics

    async def rescale_job(self, ref: ClusterRef, job_id: str, parallelism: Mapping[str, int]) -> None:
        await self._rest(ref).set_resource_requirements(job_id, dict(parallelism))

    async def job_metrics(self, ref: ClusterRef, job_id: str, names: Sequence[str]) -> dict[str, str]:
        values = await self._rest(ref).job_metrics(job_id, names)
        return {name: value for name, value in values.items() if value is not None}

    # ------------------------------------------------------------------ operator restarts

    async def recover(self) -> RecoveryReport:
        """Adopt clusters whose JobManager still runs; stop the leftovers of the others and any unrecorded
        process carrying one of our markers. Call once before serving requests."""
        adopted: list[ClusterRef] = []
        reaped: list[ClusterRef] = []
        known: set[int] = set()
        for record in self.list_clusters():
            jm = record.process("jobmanager")
            if jm is not None and processes.is_running(jm):
                adopted.append(record.ref)
                known.update(p.pid for p in record.processes if processes.is_running(p))
                continue
            stopped = await self._stop(record)
            records.save(self._layout(record.ref).record, stopped)
            reaped.append(record.ref)
        orphans = [
            p for p in processes.find_by_marker(str(self.state_dir / "clusters")) if p.pid not in known
        ]
        await processes.stop(orphans, grace=self.settings.stop_timeout)
        if adopted or reaped or orphans:
            _log.info(
                "local Flink recovery: adopted %s, reaped %s, stopped %d unrecorded processes",
                [str(r) for r in adopted],
                [str(r) for r in reaped],
                len(orphans),
            )
        return RecoveryReport(tuple(adopted), tuple(reaped), tuple(p.pid for p in orphans))


_NO_PROCESS = processes.ProcessRecord("none", -1, -1, "\0", "", "")


def _jobmanager_alive(record: ClusterRecord) -> bool:
    jm = record.process("jobmanager")
    return jm is not None and processes.is_running(jm)


async def _port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _empty_jar(target: Path) -> Path:
    return await asyncio.to_thread(artifacts.empty_jar, target)


def _summary(job: JobOverview) -> JobSummary:
    return JobSummary(
        job_id=job.jid,
        name=job.name,
        state=job.state.value,
        start_time_ms=job.start_time if job.start_time >= 0 else None,
        end_time_ms=job.end_time if job.end_time >= 0 else None,
        last_modification_ms=job.last_modification if job.last_modification > 0 else None,
    )
