"""An in-memory Flink world behind the FlinkService protocol, for fast tests of controller decisions.

Clusters, jobs with a counter (their state), checkpoints and savepoints that hold the counter, HA metadata
that survives a cluster deleted with `delete_ha_data=False`. Time does not pass by itself: tests call
`settle()` (JobManagers become READY, jobs RUNNING), `progress(ref, n)` (the job counts n records) and
`checkpoint(ref)`. Every deployment is kept in `deploys`, every call in `calls`, so tests can assert what
happened and how often.

Rules modelled after Flink: a restore from a path continues that snapshot's count; HA resumes the same job
id from its latest checkpoint; a cancelled job's progress after its latest checkpoint is lost; a globally
terminal job's HA metadata is cleaned up. Not modelled: TaskManagers, timing, failures beyond `fail_job`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flink_operator.flink.service import (
    CancelResult,
    CheckpointInfo,
    ClusterInfo,
    ClusterRef,
    ClusterRequest,
    DeployResult,
    JobExceptionInfo,
    JobFailure,
    JobManagerObservation,
    JobManagerStatus,
    JobNotFoundError,
    JobSummary,
    SavepointFormat,
    SessionJobRequest,
    SnapshotResult,
    SnapshotTrigger,
    SuspendMode,
)

TERMINAL = {"FAILED", "CANCELED", "FINISHED"}


@dataclass
class Snapshot:
    path: str
    job_id: str
    checkpoint_id: int
    count: int
    savepoint: bool
    timestamp_ms: int


@dataclass
class WorldJob:
    job_id: str
    state: str = "INITIALIZING"
    count: int = 0
    restored_from: str | None = None
    next_checkpoint: int = 1
    start_ms: int = 0
    restarts: int = 0
    completed_checkpoints: int = 0
    failure: JobFailure | None = None
    exceptions: list[JobExceptionInfo] = field(default_factory=list)


@dataclass
class WorldCluster:
    request: ClusterRequest
    status: JobManagerStatus = JobManagerStatus.DEPLOYING
    job: WorldJob | None = None

    @property
    def generation(self) -> int:
        return self.request.generation


@dataclass
class InMemoryFlink:
    clusters: dict[ClusterRef, WorldCluster] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    ha_store: dict[ClusterRef, str] = field(default_factory=dict)
    """Cluster -> job id whose HA metadata (job graph + checkpoint pointer) is kept."""
    deploys: list[ClusterRequest] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    now_ms: int = 1_000_000
    started_jobs: list[str] = field(default_factory=list)
    issued_ids: int = 0
    """Random ids handed out for this world (job ids must not collide across resources)."""

    def new_id(self) -> str:
        self.issued_ids += 1
        return f"{self.issued_ids:032x}"

    # ------------------------------------------------------------------ test controls

    def settle(self) -> None:
        """Every starting JobManager becomes READY and its job RUNNING (unless its restore failed)."""
        for cluster in self.clusters.values():
            if cluster.status is JobManagerStatus.DEPLOYING:
                cluster.status = JobManagerStatus.READY
            job = cluster.job
            if job is not None and job.state == "INITIALIZING":
                job.state = "RUNNING"
                job.start_ms = self.now_ms

    def progress(self, ref: ClusterRef, records: int) -> None:
        job = self._job(ref)
        assert job.state == "RUNNING", f"{ref} job is {job.state}"
        job.count += records

    def checkpoint(self, ref: ClusterRef) -> str:
        job = self._job(ref)
        return self._snapshot(ref, job, savepoint=False).path

    def fail_job(self, ref: ClusterRef, message: str = "boom") -> None:
        """The job fails terminally with `java.lang.RuntimeException: message`."""
        job = self._job(ref)
        job.state = "FAILED"
        trace = f"java.lang.RuntimeException: {message}\n\tat demo.Job.run(Job.java:1)"
        job.failure = JobFailure("java.lang.RuntimeException", message, stack_trace=trace)
        self._exception(job, f"java.lang.RuntimeException: {message}", trace)

    def restart_job(self, ref: ClusterRef, message: str = "task failure") -> None:
        """A task fails and the job restarts from its latest checkpoint (Flink's restart strategy)."""
        job = self._job(ref)
        job.restarts += 1
        latest = self._latest(job.job_id, savepoint=None)
        job.count = latest.count if latest is not None else 0
        text = f"java.lang.RuntimeException: {message}"
        self._exception(job, text, text)

    def _exception(self, job: WorldJob, name: str, trace: str) -> None:
        self.now_ms += 10
        job.exceptions.insert(0, JobExceptionInfo(name, self.now_ms, trace, task_name="counter"))

    def crash_loop(self, ref: ClusterRef) -> None:
        """The JobManager keeps failing on start (ERROR); its job never runs."""
        self.clusters[ref].status = JobManagerStatus.ERROR

    def kill_jobmanager(self, ref: ClusterRef) -> None:
        """The JobManager process dies: the cluster is gone, HA metadata (if any) stays."""
        cluster = self.clusters.pop(ref)
        job = cluster.job
        if cluster.request.ha_enabled and job is not None and job.state not in TERMINAL:
            self.ha_store[ref] = job.job_id

    def running_jobs(self) -> list[tuple[ClusterRef, str]]:
        return [
            (ref, c.job.job_id)
            for ref, c in self.clusters.items()
            if c.job is not None and c.job.state not in TERMINAL
        ]

    def job(self, ref: ClusterRef) -> WorldJob:
        return self._job(ref)

    # ------------------------------------------------------------------ internals

    def _job(self, ref: ClusterRef) -> WorldJob:
        cluster = self.clusters[ref]
        assert cluster.job is not None
        return cluster.job

    def _snapshot(self, ref: ClusterRef, job: WorldJob, *, savepoint: bool) -> Snapshot:
        self.now_ms += 1000
        number = job.next_checkpoint
        job.next_checkpoint += 1
        path = (
            f"file:/savepoints/{ref.name}/savepoint-{job.job_id[:6]}-{number}"
            if savepoint
            else f"file:/checkpoints/{ref.name}/{job.job_id}/chk-{number}"
        )
        snapshot = Snapshot(path, job.job_id, number, job.count, savepoint, self.now_ms)
        if not savepoint:
            job.completed_checkpoints += 1
        self.snapshots[path] = snapshot
        return snapshot

    def _latest(self, job_id: str, *, savepoint: bool | None) -> Snapshot | None:
        found = [
            s
            for s in self.snapshots.values()
            if s.job_id == job_id and (savepoint is None or s.savepoint == savepoint)
        ]
        return max(found, key=lambda s: s.checkpoint_id, default=None)

    # ------------------------------------------------------------------ FlinkService

    async def deploy_application_cluster(self, request: ClusterRequest) -> DeployResult:
        self.calls.append(f"deploy {request.ref} gen {request.generation} job {request.job_id}")
        ref = request.ref
        existing = self.clusters.get(ref)
        if existing is not None and existing.generation == request.generation:
            return DeployResult(ref, started=False, rest_url=self.rest_url(ref) or "", job_id=request.job_id)
        if existing is not None:
            await self.delete_cluster(ref, delete_ha_data=False)
        assert request.job_id, "the controller always chooses the job id"
        job = WorldJob(request.job_id)
        ha_job = self.ha_store.get(ref) if request.ha_enabled else None
        if ha_job is not None and ha_job == request.job_id:
            latest = self._latest(request.job_id, savepoint=False)
            if latest is not None:
                job.count, job.restored_from = latest.count, latest.path
                job.next_checkpoint = latest.checkpoint_id + 1
        elif request.restore_path:
            snapshot = self.snapshots.get(request.restore_path)
            if snapshot is None:
                job.state = "FAILED"
            else:
                job.count, job.restored_from = snapshot.count, snapshot.path
                job.next_checkpoint = snapshot.checkpoint_id + 1
        self.clusters[ref] = WorldCluster(request, JobManagerStatus.DEPLOYING, job)
        self.deploys.append(request)
        self.started_jobs.append(request.job_id)
        return DeployResult(ref, started=True, rest_url=self.rest_url(ref) or "", job_id=request.job_id)

    async def deploy_session_cluster(self, request: ClusterRequest) -> DeployResult:
        raise NotImplementedError("session clusters are not modelled")

    async def delete_cluster(self, ref: ClusterRef, *, delete_ha_data: bool) -> None:
        self.calls.append(f"delete {ref} ha={delete_ha_data}")
        cluster = self.clusters.pop(ref, None)
        job = cluster.job if cluster is not None else None
        if delete_ha_data:
            self.ha_store.pop(ref, None)
        elif (
            cluster is not None
            and cluster.request.ha_enabled
            and job is not None
            and job.state not in TERMINAL
        ):
            self.ha_store[ref] = job.job_id

    async def observe_jobmanager(self, ref: ClusterRef) -> JobManagerObservation:
        cluster = self.clusters.get(ref)
        if cluster is None:
            return JobManagerObservation(JobManagerStatus.MISSING, reason="no cluster")
        return JobManagerObservation(
            cluster.status, generation=cluster.generation, rest_url=self.rest_url(ref)
        )

    def rest_url(self, ref: ClusterRef) -> str | None:
        return f"http://127.0.0.1:8081/{ref.namespace}/{ref.name}" if ref in self.clusters else None

    async def cluster_info(self, ref: ClusterRef) -> ClusterInfo:
        return ClusterInfo("2.3.0", "abc123", 1.0, 1 << 30)

    async def submit_job(self, request: SessionJobRequest) -> str:
        raise NotImplementedError

    async def list_jobs(self, ref: ClusterRef) -> list[JobSummary]:
        cluster = self.clusters.get(ref)
        if cluster is None or cluster.job is None:
            return []
        job = cluster.job
        return [JobSummary(job.job_id, "counter", job.state, job.start_ms or None)]

    async def job_status(self, ref: ClusterRef, job_id: str) -> JobSummary | None:
        return next((j for j in await self.list_jobs(ref) if j.job_id == job_id), None)

    async def job_failure(self, ref: ClusterRef, job_id: str) -> JobFailure | None:
        cluster = self.clusters.get(ref)
        job = cluster.job if cluster is not None else None
        return job.failure if job is not None and job.job_id == job_id else None

    async def job_exceptions(
        self, ref: ClusterRef, job_id: str, *, since_ms: int = 0, limit: int = 10
    ) -> list[JobExceptionInfo]:
        cluster = self.clusters.get(ref)
        job = cluster.job if cluster is not None else None
        if job is None or job.job_id != job_id:
            return []
        return [e for e in job.exceptions if e.timestamp_ms > since_ms][:limit]

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
        self.calls.append(f"cancel {ref} {job_id} {mode}")
        cluster = self.clusters.get(ref)
        if cluster is None or cluster.job is None or cluster.job.job_id != job_id:
            raise JobNotFoundError(f"job {job_id} is not known to cluster {ref}")
        job = cluster.job
        if job.state in TERMINAL:
            if mode is SuspendMode.SAVEPOINT:
                last = self._latest(job_id, savepoint=True)
                return CancelResult(job_id, job.state, savepoint_path=last.path if last else None)
            checkpoint = self._latest(job_id, savepoint=False)
            return CancelResult(job_id, job.state, checkpoint_path=checkpoint.path if checkpoint else None)
        if mode is SuspendMode.SAVEPOINT:
            snapshot = self._snapshot(ref, job, savepoint=True)
            job.state = "FINISHED"
            return CancelResult(job_id, "FINISHED", savepoint_path=snapshot.path)
        job.state = "CANCELED"
        if mode is SuspendMode.LAST_STATE:
            checkpoint = self._latest(job_id, savepoint=False)
            return CancelResult(job_id, "CANCELED", checkpoint_path=checkpoint.path if checkpoint else None)
        return CancelResult(job_id, "CANCELED")

    async def latest_checkpoint(self, ref: ClusterRef, job_id: str) -> CheckpointInfo | None:
        latest = self._latest(job_id, savepoint=False)
        if latest is None:
            return None
        return CheckpointInfo(latest.checkpoint_id, latest.path, latest.timestamp_ms)

    async def ha_metadata_available(self, ref: ClusterRef) -> bool:
        cluster = self.clusters.get(ref)
        if cluster is not None and cluster.request.ha_enabled and cluster.job is not None:
            return cluster.job.state not in TERMINAL
        return ref in self.ha_store

    async def ha_has_checkpoint(self, ref: ClusterRef) -> bool:
        job_id = self.ha_store.get(ref)
        return job_id is not None and self._latest(job_id, savepoint=False) is not None

    async def trigger_savepoint(self, ref: ClusterRef, job_id: str, **_: object) -> SnapshotTrigger:
        raise NotImplementedError

    async def trigger_checkpoint(self, ref: ClusterRef, job_id: str, **_: object) -> SnapshotTrigger:
        raise NotImplementedError

    async def snapshot_result(self, ref: ClusterRef, trigger: SnapshotTrigger) -> SnapshotResult:
        raise NotImplementedError

    async def dispose_savepoint(self, ref: ClusterRef | None, path: str) -> None:
        self.snapshots.pop(path, None)

    async def rescale_job(self, ref: ClusterRef, job_id: str, parallelism: Mapping[str, int]) -> None:
        raise NotImplementedError

    async def job_metrics(self, ref: ClusterRef, job_id: str, names: Sequence[str]) -> dict[str, str]:
        cluster = self.clusters.get(ref)
        job = cluster.job if cluster is not None else None
        if job is None or job.job_id != job_id:
            return {}
        values = {"numRestarts": job.restarts, "numberOfCompletedCheckpoints": job.completed_checkpoints}
        return {name: str(values[name]) for name in names if name in values}
