"""`FakeFlinkService`: a FlinkService whose clusters are virtual clusters of the honest fake Flink server.

For integration tests and scale benchmarks (thousands of deployments in one process)::

    async with FakeFlinkServer() as server:
        flink = FakeFlinkService(server, FakeRuntimeSettings(ready_delay=0.2))
        ...  # hand `flink` to the operator (run_operator(..., flink_service=flink))
        flink.kill_jobmanager(ref)                       # fault controls
        flink.slow_rest(ref, seconds=3.0, times=5)
        flink.running_jobs()                             # what runs, for assertions
        await flink.aclose()

What it models, the way an application cluster behaves:

* deploy: a virtual cluster is created at once; its JobManager answers REST only after `ready_delay`,
  and then runs the application's job itself (as an application JobManager does: no REST submission),
  under the requested job id, restored from the requested path, or with HA from the cluster's HA metadata
  (the same job id resumes from its latest checkpoint, which takes precedence over the path, as in Flink);
* the JobManager's state: MISSING, DEPLOYING until ready, READY once REST answers, ERROR/MISSING after
  `kill_jobmanager`;
* cancel, stop-with-savepoint, snapshots, job lists and cluster info through the fake's REST API;
* HA deployments whose HA storage is an existing local directory get their JobResultStore directory, and
  older ones are pruned as the Kubernetes runtime prunes them (`flink.job_result_store`);
* delete: the JobManager stops gracefully (running jobs are suspended, retained checkpoints stay in the
  checkpoint storage), the virtual cluster goes; HA metadata stays unless asked to delete it;
* `latest_checkpoint` returns completed checkpoints only (not savepoints), from REST while the cluster
  answers, else from the checkpoint storage — the same contract as the local runtime.

Not guaranteed: resource accounting and timing beyond the configured delays; see the fake server for its
own limits. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from flink_operator.flink.artifacts import ArtifactSettings
from flink_operator.flink.config_builder import HA_STORAGE_KEY, flink_only
from flink_operator.flink.job_result_store import STORAGE_PATH_KEY, local_directory, prune_after_deploy
from flink_operator.flink.kubernetes.jobs import JobTimeouts, RestJobs
from flink_operator.flink.rest import (
    FlinkRestClient,
    FlinkRestError,
    JarRunRequest,
    JobState,
    RetryPolicy,
    TriggerFailed,
    wait_for_disposal,
)
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
    JobSummary,
    SavepointFormat,
    SessionJobRequest,
    SnapshotResult,
    SnapshotTrigger,
    SuspendMode,
)
from flink_operator.testing.fake_flink import FakeFlinkServer
from flink_operator.testing.fake_flink_cluster import FakeCluster, FaultRule
from flink_operator.testing.fake_flink_errors import FakeRestError
from flink_operator.testing.fake_flink_jobs import FakeJob

__all__ = ["FakeFlinkService", "FakeRuntimeSettings", "job_jar"]

_TERMINAL = frozenset({JobState.CANCELED, JobState.FINISHED, JobState.FAILED})
_DEFAULT_ENTRY = "demo.CounterJob"


def job_jar(entry_class: str) -> bytes:
    """A minimal jar holding `entry_class` (and naming it Main-Class), enough for the fake to run it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\nMain-Class: {entry_class}\n")
        jar.writestr(entry_class.replace(".", "/") + ".class", b"\xca\xfe\xba\xbe")
    return buffer.getvalue()


@dataclass(frozen=True)
class FakeRuntimeSettings:
    ready_delay: float = 0.1
    """Seconds from deploy until the JobManager answers REST and starts the application's job."""
    operation_timeout: float = 30.0
    """Upper bound of waits inside one call (cancel, stop-with-savepoint)."""
    rest_timeout: float = 5.0
    default_slots: int = 1
    """Task slots per TaskManager when the configuration does not say."""


@dataclass
class _Deployment:
    request: ClusterRequest
    cluster: FakeCluster
    ready_at: float
    started: bool = False
    exit_code: int | None = None
    killed: bool = False
    failure: str | None = None

    @property
    def ref(self) -> ClusterRef:
        return self.request.ref


@dataclass
class _Stored:
    """The checkpoint storage and HA store, which outlive clusters."""

    checkpoints: dict[str, CheckpointInfo] = field(default_factory=dict)
    """Latest retained checkpoint per job id."""
    ha: dict[ClusterRef, str] = field(default_factory=dict)
    """Cluster -> job id whose HA metadata (job graph, checkpoint pointer) is kept."""


class FakeFlinkService:
    """FlinkService over a `FakeFlinkServer` (see the module docstring)."""

    def __init__(self, server: FakeFlinkServer, settings: FakeRuntimeSettings | None = None) -> None:
        self.server = server
        self.settings = settings or FakeRuntimeSettings()
        self._deployments: dict[ClusterRef, _Deployment] = {}
        self._stored = _Stored()
        self._names = itertools.count(1)
        self._http: httpx.AsyncClient | None = None
        self._deploy_failures: list[str] = []
        self.deploy_calls = 0
        self.deployed: list[ClusterRequest] = []
        timeout = self.settings.operation_timeout
        # Job operations go through the cluster's REST API exactly as the Kubernetes runtimes do them.
        self._jobs = RestJobs(
            lambda ref: self._client(self._require(ref)),
            timeouts=JobTimeouts(cancel=timeout, savepoint=timeout),
            artifacts_dir=Path(tempfile.gettempdir()) / "fake-runtime-artifacts",
            artifact_settings=ArtifactSettings(),
        )

    # ------------------------------------------------------------------ plumbing

    def _now(self) -> float:
        return self.server.timers.clock.monotonic()

    def _client(self, deployment: _Deployment, *, retry: RetryPolicy | None = None) -> FlinkRestClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.settings.rest_timeout, trust_env=False)
        return FlinkRestClient(
            deployment.cluster.base_url,
            timeout=self.settings.rest_timeout,
            retry=retry or RetryPolicy.none(),
            flink_version=deployment.cluster.settings.flink_version,
            http=self._http,
        )

    def _require(self, ref: ClusterRef) -> _Deployment:
        deployment = self._deployments.get(ref)
        if deployment is None or deployment.killed:
            raise ClusterNotFoundError(f"no fake Flink cluster {ref}")
        self._start_if_due(deployment)
        return deployment

    def _rest(self, ref: ClusterRef) -> FlinkRestClient:
        return self._client(self._require(ref))

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ------------------------------------------------------------------ test controls

    def fail_next_deploy(self, message: str = "injected deployment failure", count: int = 1) -> None:
        self._deploy_failures.extend([message] * count)

    def kill_jobmanager(self, ref: ClusterRef, *, exit_code: int | None = None) -> None:
        """The JobManager process dies (a crash, not a shutdown): MISSING, or ERROR with an exit code > 0."""
        deployment = self._deployments[ref]
        self._start_if_due(deployment)
        self._retain(deployment)
        if deployment.request.ha_enabled:
            for job in deployment.cluster.jobs.values():
                if not job.state.is_terminal:
                    self._stored.ha[ref] = job.jid
        deployment.cluster.jobmanager_down()
        deployment.killed = True
        deployment.exit_code = exit_code

    def slow_rest(
        self, ref: ClusterRef, seconds: float, *, times: int | None = None, path: str = "*"
    ) -> FaultRule:
        """REST calls to the cluster take `seconds` longer (`times` calls, None: until cleared)."""
        return self.cluster(ref).inject(FaultRule(path=path, times=times, status=None, delay=seconds))

    def fail_rest(
        self,
        ref: ClusterRef,
        *,
        status: int = 500,
        times: int | None = 1,
        path: str = "*",
        method: str | None = None,
    ) -> FaultRule:
        return self.cluster(ref).inject(FaultRule(path=path, method=method, times=times, status=status))

    def clear_faults(self, ref: ClusterRef) -> None:
        self.cluster(ref).clear_faults()

    def cluster(self, ref: ClusterRef) -> FakeCluster:
        """The virtual cluster currently serving `ref` (KeyError when none)."""
        return self._deployments[ref].cluster

    def job(self, ref: ClusterRef) -> FakeJob | None:
        """The application's job in the current cluster of `ref`, if it was started."""
        deployment = self._deployments.get(ref)
        if deployment is None:
            return None
        self._start_if_due(deployment)
        return deployment.cluster.jobs.get(deployment.request.job_id or "")

    def running_jobs(self, ref: ClusterRef | None = None) -> list[tuple[ClusterRef, str, str]]:
        """(cluster, job id, state) of every job that is not terminal, in live clusters."""
        found = []
        for key, deployment in self._deployments.items():
            if (ref is not None and key != ref) or deployment.killed:
                continue
            self._start_if_due(deployment)
            for job in deployment.cluster.jobs.values():
                if not job.state.is_terminal:
                    found.append((key, job.jid, job.state.value))
        return found

    @property
    def refs(self) -> list[ClusterRef]:
        return list(self._deployments)

    # ------------------------------------------------------------------ clusters

    async def deploy_application_cluster(self, request: ClusterRequest) -> DeployResult:
        if request.job is None:
            raise DeploymentError(f"{request.ref}: an application cluster request needs a job")
        return await self._deploy(request)

    async def deploy_session_cluster(self, request: ClusterRequest) -> DeployResult:
        if request.job is not None:
            raise DeploymentError(f"{request.ref}: a session cluster request must not carry a job")
        return await self._deploy(request)

    async def _deploy(self, request: ClusterRequest) -> DeployResult:
        self.deploy_calls += 1
        ref = request.ref
        existing = self._deployments.get(ref)
        if existing is not None:
            if (
                existing.request.generation == request.generation
                and existing.request.mode is request.mode
                and not existing.killed
            ):
                return DeployResult(
                    ref, started=False, rest_url=existing.cluster.base_url, job_id=existing.request.job_id
                )
            await self.delete_cluster(ref, delete_ha_data=False)
        if self._deploy_failures:
            raise DeploymentError(f"{ref}: {self._deploy_failures.pop(0)}")
        if request.mode is ClusterMode.APPLICATION and not request.job_id:
            raise DeploymentError(f"{ref}: the fake runtime needs a job id for an application cluster")
        configuration = flink_only(request.configuration)
        slots_text = configuration.get("taskmanager.numberOfTaskSlots", str(self.settings.default_slots))
        slots = int(slots_text) if slots_text.isdigit() and int(slots_text) > 0 else 1
        cluster = await self.server.add_cluster(
            f"{ref.namespace}.{ref.name}.{next(self._names)}",
            config=configuration,
            taskmanagers=self._taskmanagers(request, slots),
            slots_per_taskmanager=slots,
        )
        cluster.jobmanager_down()  # the JobManager process is starting
        deployment = _Deployment(request, cluster, self._now() + self.settings.ready_delay)
        self._deployments[ref] = deployment
        self.deployed.append(request)
        self.server.timers.after(self.settings.ready_delay, lambda: self._start_if_due(deployment))
        self._job_result_store(request)
        return DeployResult(ref, started=True, rest_url=cluster.base_url, job_id=request.job_id)

    def _job_result_store(self, request: ClusterRequest) -> None:
        """A JobManager creates its JobResultStore directory; the runtime prunes older ones. Modelled only
        for HA storage that is an existing local directory (tests pass a temporary one)."""
        storage = local_directory(request.configuration.get(HA_STORAGE_KEY, ""))
        store = local_directory(request.configuration.get(STORAGE_PATH_KEY, ""))
        if not request.ha_enabled or storage is None or store is None or not storage.is_dir():
            return
        store.mkdir(parents=True, exist_ok=True)
        prune_after_deploy(request.configuration)

    def _taskmanagers(self, request: ClusterRequest, slots: int) -> int:
        if request.taskmanager_replicas is not None:
            return max(request.taskmanager_replicas, 0)
        if request.job is None:
            return 1
        text = request.configuration.get("parallelism.default", "1")
        parallelism = request.job.parallelism or (int(text) if text.isdigit() else 1)
        return max(1, math.ceil(parallelism / slots))

    def _start_if_due(self, deployment: _Deployment) -> None:
        """The JobManager came up: REST answers, and an application runs its job."""
        if deployment.started or deployment.killed or self._now() < deployment.ready_at:
            return
        if self._deployments.get(deployment.ref) is not deployment:
            return
        deployment.started = True
        deployment.cluster.jobmanager_up()
        request = deployment.request
        if request.job is None:
            return
        entry = request.job.entry_class or _DEFAULT_ENTRY
        restore = request.restore_path
        if request.ha_enabled and self._stored.ha.get(request.ref) == request.job_id:
            retained = self._stored.checkpoints.get(request.job_id or "")
            if retained is not None:
                restore = retained.external_path
        cluster = deployment.cluster
        try:
            jar = cluster.upload_jar(f"{entry.rsplit('.', 1)[-1]}.jar", job_jar(entry))
            body: dict[str, object] = {
                "entryClass": entry,
                "jobId": request.job_id,
                "allowNonRestoredState": request.allow_non_restored_state,
                "flinkConfiguration": dict(cluster.config),
            }
            if restore:
                body["savepointPath"] = restore
            if request.job.parallelism:
                body["parallelism"] = request.job.parallelism
            cluster.run_jar(jar.id, body, list(request.job.args))
        except FakeRestError as error:
            deployment.failure = str(error)
            deployment.exit_code = 1
            cluster.jobmanager_down()
            deployment.killed = True

    def _retain(self, deployment: _Deployment) -> None:
        """Retained checkpoints stay in the checkpoint storage when a cluster goes away."""
        for job in deployment.cluster.jobs.values():
            latest = job.latest_completed(savepoint=False)
            if latest is not None and latest.external_path and not latest.discarded:
                self._stored.checkpoints[job.jid] = CheckpointInfo(
                    latest.id, latest.external_path, latest.ack_ms
                )

    async def delete_cluster(self, ref: ClusterRef, *, delete_ha_data: bool) -> None:
        deployment = self._deployments.pop(ref, None)
        if deployment is not None:
            self._start_if_due(deployment)
            self._retain(deployment)
            if deployment.request.ha_enabled and not deployment.killed:
                live = [job for job in deployment.cluster.jobs.values() if not job.state.is_terminal]
                if live:
                    self._stored.ha[ref] = live[0].jid
                elif self._stored.ha.get(ref) in deployment.cluster.jobs:
                    # A globally terminal job's HA metadata is cleaned up by Flink itself.
                    del self._stored.ha[ref]
            if deployment.cluster.up:
                deployment.cluster.jobmanager_down(graceful=True)
            await self.server.remove_cluster(deployment.cluster.name)
        if delete_ha_data:
            self._stored.ha.pop(ref, None)

    async def observe_jobmanager(self, ref: ClusterRef) -> JobManagerObservation:
        deployment = self._deployments.get(ref)
        if deployment is None:
            return JobManagerObservation(JobManagerStatus.MISSING, reason="no JobManager for this cluster")
        self._start_if_due(deployment)
        generation = deployment.request.generation
        if deployment.killed:
            code = deployment.exit_code
            reason = deployment.failure or f"JobManager process ended (exit code {code})"
            status = JobManagerStatus.ERROR if code is not None and code > 0 else JobManagerStatus.MISSING
            return JobManagerObservation(status, reason=reason, exit_code=code, generation=generation)
        if not deployment.started:
            return JobManagerObservation(
                JobManagerStatus.DEPLOYING, reason="JobManager is starting", generation=generation
            )
        url = deployment.cluster.base_url
        try:
            overview = await self._client(deployment).overview()
        except FlinkRestError as error:
            return JobManagerObservation(
                JobManagerStatus.DEPLOYED_NOT_READY,
                reason=f"REST does not answer: {error}",
                generation=generation,
                rest_url=url,
            )
        return JobManagerObservation(
            JobManagerStatus.READY,
            reason="JobManager is running and ready to receive REST API calls",
            generation=generation,
            rest_url=url,
            taskmanagers=overview.taskmanagers,
        )

    def rest_url(self, ref: ClusterRef) -> str | None:
        deployment = self._deployments.get(ref)
        return deployment.cluster.base_url if deployment is not None and not deployment.killed else None

    async def cluster_info(self, ref: ClusterRef) -> ClusterInfo:
        deployment = self._require(ref)
        config = await self._client(deployment).config()
        cluster = deployment.cluster
        return ClusterInfo(
            flink_version=config.flink_version,
            flink_revision=config.flink_revision,
            total_cpu=float(cluster.taskmanagers + 1),
            total_memory_bytes=(cluster.taskmanagers + 1) * 1024 * 1024 * 1024,
        )

    # ------------------------------------------------------------------ jobs

    async def submit_job(self, request: SessionJobRequest) -> str:
        deployment = self._require(request.cluster)
        if deployment.request.mode is not ClusterMode.SESSION:
            raise DeploymentError(f"{request.cluster} is an application cluster; jobs go to session clusters")
        if await self.job_status(request.cluster, request.job_id) is not None:
            return request.job_id
        client = self._client(deployment)
        entry = request.job.entry_class or _DEFAULT_ENTRY
        jar_id = await client.upload_jar(job_jar(entry), filename=f"{request.job_name}.jar")
        result = await client.run_jar(
            jar_id,
            JarRunRequest(
                entry_class=entry,
                program_args=list(request.job.args),
                parallelism=request.job.parallelism,
                job_id=request.job_id,
                savepoint_path=request.restore_path,
                allow_non_restored_state=request.allow_non_restored_state,
                flink_configuration=dict(request.configuration),
            ),
        )
        return result.jobid

    async def list_jobs(self, ref: ClusterRef) -> list[JobSummary]:
        return await self._jobs.list_jobs(ref)

    async def job_status(self, ref: ClusterRef, job_id: str) -> JobSummary | None:
        return await self._jobs.job_status(ref, job_id)

    async def job_failure(self, ref: ClusterRef, job_id: str) -> JobFailure | None:
        return await self._jobs.job_failure(ref, job_id)

    async def job_exceptions(
        self, ref: ClusterRef, job_id: str, *, since_ms: int = 0, limit: int = 10
    ) -> list[JobExceptionInfo]:
        return await self._jobs.job_exceptions(ref, job_id, since_ms=since_ms, limit=limit)

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
        if mode is SuspendMode.LAST_STATE:
            # Cancel, then name the latest checkpoint that still exists in the checkpoint storage: the REST
            # statistics may be cached and name one that was subsumed (deleted) since.
            cancelled = await self._jobs.cancel_job(ref, job_id, SuspendMode.STATELESS)
            checkpoint = await self.latest_checkpoint(ref, job_id)
            path = checkpoint.external_path if checkpoint is not None else None
            return CancelResult(job_id, cancelled.final_state, checkpoint_path=path)
        return await self._jobs.cancel_job(
            ref, job_id, mode, savepoint_dir=savepoint_dir, savepoint_format=savepoint_format, drain=drain
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
        return await self._jobs.trigger_savepoint(
            ref, job_id, target_dir=target_dir, savepoint_format=savepoint_format
        )

    async def trigger_checkpoint(
        self, ref: ClusterRef, job_id: str, *, checkpoint_type: CheckpointType = CheckpointType.FULL
    ) -> SnapshotTrigger:
        return await self._jobs.trigger_checkpoint(ref, job_id, checkpoint_type=checkpoint_type)

    async def snapshot_result(self, ref: ClusterRef, trigger: SnapshotTrigger) -> SnapshotResult:
        return await self._jobs.snapshot_result(ref, trigger)

    async def dispose_savepoint(self, ref: ClusterRef | None, path: str) -> None:
        deployment = self._deployments.get(ref) if ref is not None else None
        if deployment is not None and not deployment.killed and deployment.started:
            client = self._client(deployment)
            try:
                trigger = await client.dispose_savepoint(path)
                await wait_for_disposal(client, trigger, within=self.settings.operation_timeout)
            except TriggerFailed:
                return  # gone already
            return
        self.server.snapshots.discard(path)

    async def latest_checkpoint(self, ref: ClusterRef, job_id: str) -> CheckpointInfo | None:
        candidates: list[CheckpointInfo] = []
        deployment = self._deployments.get(ref)
        if deployment is not None and not deployment.killed:
            self._start_if_due(deployment)
            if deployment.started:
                try:
                    stats = await self._client(deployment).checkpoint_stats(job_id)
                except FlinkRestError:
                    stats = None
                completed = stats.latest.completed if stats is not None else None
                if completed is not None and completed.external_path:
                    candidates.append(
                        CheckpointInfo(completed.id, completed.external_path, completed.latest_ack_timestamp)
                    )
            self._retain(deployment)
        stored = self._stored.checkpoints.get(job_id)
        if stored is not None:
            candidates.append(stored)
        usable = [c for c in candidates if self.server.snapshots.exists(c.external_path)]
        return max(usable, key=lambda c: c.checkpoint_id, default=None)

    async def ha_metadata_available(self, ref: ClusterRef) -> bool:
        deployment = self._deployments.get(ref)
        if deployment is not None and not deployment.killed and deployment.request.ha_enabled:
            self._start_if_due(deployment)
            if any(not job.state.is_terminal for job in deployment.cluster.jobs.values()):
                return True
        return ref in self._stored.ha

    async def ha_has_checkpoint(self, ref: ClusterRef) -> bool:
        job_id = self._stored.ha.get(ref)
        return job_id is not None and job_id in self._stored.checkpoints

    # ------------------------------------------------------------------ scaling and metrics

    async def rescale_job(self, ref: ClusterRef, job_id: str, parallelism: Mapping[str, int]) -> None:
        await self._jobs.rescale_job(ref, job_id, parallelism)

    async def job_metrics(self, ref: ClusterRef, job_id: str, names: Sequence[str]) -> dict[str, str]:
        return await self._jobs.job_metrics(ref, job_id, names)


async def wait_until_running(flink: FakeFlinkService, ref: ClusterRef, *, within: float = 10.0) -> FakeJob:
    """Wait (bounded) until the application job of `ref` runs; returns it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        job = flink.job(ref)
        if job is not None and job.state is JobState.RUNNING and job.all_running:
            return job
        if loop.time() > deadline:
            raise FlinkServiceError(f"the job of {ref} is not running after {within} s")
        await asyncio.sleep(0.02)
