"""One virtual Flink session cluster of the fake server: jars, jobs, asynchronous operations, metrics, faults.

Everything a REST handler asks of a cluster goes through :class:`FakeCluster`; handlers only parse requests
and render answers (``fake_flink_routes``/``fake_flink_render``). Test controls (fail a job, fail the next
savepoint, take the JobManager down, inject HTTP faults) are methods here too.

Not guaranteed: no real scheduling, network or state backend; the behaviours modelled are the ones the
REST client and the operator observe (see ``fake_flink_jobs`` for the job model).
"""

from __future__ import annotations

import fnmatch
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flink_operator.flink.rest.models.jobs import JobState
from flink_operator.flink.rest.versions import FlinkVersion
from flink_operator.testing import fake_flink_jars as jars
from flink_operator.testing.fake_flink_clock import Timers
from flink_operator.testing.fake_flink_errors import (
    FakeRestError,
    checkpoint_failure_trace,
    disposal_failure_trace,
    missing_job_trace,
    savepoint_directory_failure_trace,
)
from flink_operator.testing.fake_flink_jars import JarRecord, Submission
from flink_operator.testing.fake_flink_jobs import FakeJob, FakeTiming
from flink_operator.testing.fake_flink_metrics import LazyMetricStore
from flink_operator.testing.fake_flink_snapshots import SnapshotStore, normalise_path, to_local_path
from flink_operator.testing.fake_flink_topology import DEFAULT_TOPOLOGY, VertexSpec

__all__ = ["FakeCluster", "FakeClusterSettings", "FaultRule", "Operation"]

_CHECKPOINT_DIR_KEYS = ("execution.checkpointing.dir", "state.checkpoints.dir")
_SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
_HA_TYPES = {"zookeeper", "kubernetes"}


@dataclass(frozen=True)
class FakeClusterSettings:
    """How a virtual cluster looks and behaves. ``config`` is its Flink configuration (flat keys)."""

    flink_version: str = "2.3.0"
    taskmanagers: int = 1
    slots_per_taskmanager: int = 4
    config: Mapping[str, str] = field(default_factory=dict)
    timing: FakeTiming = field(default_factory=FakeTiming)
    topology: Sequence[VertexSpec] = DEFAULT_TOPOLOGY
    records_per_second: float = 100.0
    metrics_update_interval: float | None = None  # default: metrics.fetcher.update-interval, else 10 s

    def __post_init__(self) -> None:
        FlinkVersion.parse(self.flink_version)
        if self.taskmanagers < 0 or self.slots_per_taskmanager < 1:
            raise ValueError(
                f"taskmanagers must be >= 0 and slots_per_taskmanager >= 1, "
                f"got {self.taskmanagers} and {self.slots_per_taskmanager}"
            )


@dataclass
class Operation:
    """An asynchronous trigger (savepoint, stop, checkpoint, disposal) and its outcome once done."""

    kind: str
    job_id: str | None
    done: bool = False
    location: str | None = None
    checkpoint_id: int | None = None
    failure_class: str | None = None
    failure_trace: str | None = None


@dataclass
class FaultRule:
    """Make matching requests slow and/or fail. ``path`` is a glob over the cluster-relative path."""

    path: str = "*"
    method: str | None = None
    times: int | None = 1  # None: until removed
    status: int | None = 500
    message: str = "injected failure"
    delay: float = 0.0
    drop_connection: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and fnmatch.fnmatchcase(path, self.path)


def _directory_usable(directory: str) -> bool:
    """Flink creates the savepoint's target directory first; the fake does the same (directories only)."""
    local = to_local_path(directory)
    if local is None:
        return True
    try:
        local.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return local.is_dir()


class FakeCluster:
    def __init__(
        self, name: str, settings: FakeClusterSettings, timers: Timers, snapshots: SnapshotStore
    ) -> None:
        self.name = name
        self.settings = settings
        self.version = FlinkVersion.parse(settings.flink_version)
        self.config = {str(k): str(v) for k, v in settings.config.items()}
        self.timers = timers
        self.snapshots = snapshots
        self.timing = settings.timing
        self.taskmanagers = settings.taskmanagers
        self.up = True
        self.base_url = ""  # set by the server
        self.jars: dict[str, JarRecord] = {}
        self.jobs: dict[str, FakeJob] = {}
        self.operations: dict[tuple[str, str], Operation] = {}
        self.submissions: list[Submission] = []
        self.faults: list[FaultRule] = []
        self.savepoint_failures: list[str] = []
        self.checkpoint_failures: list[str] = []
        self.requests = 0
        self.shutdown_requested = False
        self._rest_cache: dict[tuple[str, str], tuple[float, Any]] = {}
        self._tm_ids = [f"127.0.0.1:{40000 + i}-{secrets.token_hex(3)}" for i in range(64)]
        self.metrics = LazyMetricStore(timers, lambda: self.metrics_update_interval)

    # ---------------------------------------------------------------- host protocol for jobs

    def now_ms(self) -> int:
        return self.timers.clock.wall_ms()

    def monotonic(self) -> float:
        return self.timers.clock.monotonic()

    @property
    def is_2x(self) -> bool:
        return self.version.major >= 2

    @property
    def total_slots(self) -> int:
        return self.taskmanagers * self.settings.slots_per_taskmanager

    def free_slots(self, exclude: FakeJob | None = None) -> int:
        used = sum(job.slots_used for job in self.jobs.values() if job is not exclude)
        return max(0, self.total_slots - used)

    def _dir(self, keys: Sequence[str]) -> str | None:
        for key in keys:
            if self.config.get(key):
                return normalise_path(self.config[key])
        return None

    @property
    def checkpoint_dir(self) -> str | None:
        return self._dir(_CHECKPOINT_DIR_KEYS)

    @property
    def savepoint_dir(self) -> str | None:
        return self._dir(_SAVEPOINT_DIR_KEYS)

    def checkpoint_location(self, job: FakeJob, checkpoint_id: int) -> str:
        base = job.config.get("execution.checkpointing.dir") or job.config.get("state.checkpoints.dir")
        root = normalise_path(base) if base else self.checkpoint_dir
        if root is None:
            return "<checkpoint-not-externally-addressable>"
        return f"{root}/{job.jid}/chk-{checkpoint_id}"

    def job_changed(self, job: FakeJob) -> None:
        """Jobs waiting for slots may start when another one releases its slots."""

    @property
    def ha_enabled(self) -> bool:
        return (
            self.config.get("high-availability.type", self.config.get("high-availability", "")).lower()
            in _HA_TYPES
        )

    @property
    def adaptive(self) -> bool:
        return self.config.get("jobmanager.scheduler", "default").lower() == "adaptive"

    @property
    def taskmanager_ids(self) -> list[str]:
        return self._tm_ids[: self.taskmanagers]

    # ---------------------------------------------------------------- jars and submission

    def upload_jar(self, filename: str, content: bytes) -> JarRecord:
        record = jars.read_jar(filename, content, self.now_ms())
        self.jars[record.id] = record
        return record

    def delete_jar(self, jar_id: str) -> None:
        if self.jars.pop(jar_id, None) is None:
            raise FakeRestError.handler(400, f"File {jar_id} does not exist in {self.upload_dir}.")

    @property
    def upload_dir(self) -> str:
        # Only named in error messages; nothing is written there.
        return (self.config.get("web.upload.dir") or f"/tmp/flink-web-{self.name}") + "/flink-web-upload"  # noqa: S108

    def effective_program_args(self, body: Mapping[str, Any]) -> list[str]:
        return jars.effective_program_args(body, is_2x=self.is_2x)

    def run_jar(self, jar_id: str, body: Mapping[str, Any], program_args: list[str]) -> FakeJob:
        """Submit a job from an uploaded jar (``body`` already validated by the route)."""
        jar = self.jars.get(jar_id)
        if jar is None or not jar.valid:
            raise jars.missing_jar(f"{self.upload_dir}/{jar_id}")
        entry = jars.entry_class(jar, body.get("entryClass"))
        job_id = str(body.get("jobId") or secrets.token_hex(16)).lower()
        if job_id in self.jobs:
            raise jars.duplicate_submission(entry, is_2x=self.is_2x)
        job_config = {
            **self.config,
            **{str(k): str(v) for k, v in (body.get("flinkConfiguration") or {}).items()},
        }
        requested = body.get("parallelism")
        parallelism = int(requested) if isinstance(requested, int) and requested > 0 else 0
        if parallelism <= 0:
            default = job_config.get("parallelism.default", "1")
            parallelism = int(default) if default.isdigit() and int(default) > 0 else 1
        claim = body.get("claimMode") or body.get("restoreMode")
        savepoint_path = (
            body.get("savepointPath")
            or job_config.get("execution.state-recovery.path")
            or job_config.get("execution.savepoint.path")
        )
        job = FakeJob(
            host=self,
            jid=job_id,
            name=job_config.get("pipeline.name") or jars.job_name(entry),
            jar_id=jar_id,
            entry_class=entry,
            program_args=program_args,
            config=job_config,
            parallelism=parallelism,
            topology=self.settings.topology,
            restore_from=str(savepoint_path) if savepoint_path else None,
            allow_non_restored_state=bool(body.get("allowNonRestoredState", False)),
            claim_mode=str(claim or "NO_CLAIM"),
            adaptive=self.adaptive,
            default_rate=self.settings.records_per_second,
        )
        self.jobs[job_id] = job
        self.submissions.append(
            Submission(
                jar_id=jar_id,
                job_id=job_id,
                entry_class=entry,
                program_args=tuple(program_args),
                parallelism=requested if isinstance(requested, int) else None,
                savepoint_path=job.restore_from,
                allow_non_restored_state=job.allow_non_restored_state,
                claim_mode=str(claim) if claim else None,
                flink_configuration=dict(body.get("flinkConfiguration") or {}),
                body=dict(body),
            )
        )
        job.submit(self.timing)
        return job

    # ---------------------------------------------------------------- jobs

    # ---------------------------------------------------------------- Flink's REST caches

    def _duration_option(self, key: str, fallback: float) -> float:
        text = self.config.get(key)
        if not text:
            return fallback
        from flink_operator.config.durations import parse_duration

        return parse_duration(text).total_seconds()

    @property
    def refresh_interval(self) -> float:
        """``web.refresh-interval``: how long job details (the execution graph) are served from cache."""
        return self._duration_option("web.refresh-interval", 3.0)

    @property
    def checkpoint_stats_timeout(self) -> float:
        return self._duration_option("rest.cache.checkpoint-statistics.timeout", self.refresh_interval)

    def cached(self, kind: str, job_id: str, ttl: float, load: Callable[[], Any]) -> Any:
        """An answer Flink serves from a cache: loaded on a miss, then reused until ``ttl`` has passed."""
        now = self.monotonic()
        hit = self._rest_cache.get((kind, job_id))
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        value = load()
        self._rest_cache[(kind, job_id)] = (now, value)
        return value

    def job(self, job_id: str) -> FakeJob | None:
        return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            raise FakeRestError.handler(
                404,
                "Job could not be found.",
                cause="org.apache.flink.runtime.messages.FlinkJobNotFoundException: "
                f"Could not find Flink job ({job_id})",
            )
        if job.state in (JobState.FINISHED, JobState.FAILED):
            raise FakeRestError.handler(
                409,
                "Job cancellation failed because the job has already reached another terminal state "
                f"({job.state.value}).",
            )
        job.cancel(self.timing)

    def _new_trigger(self, kind: str, job_id: str | None) -> tuple[str, Operation]:
        trigger_id = secrets.token_hex(16)
        operation = Operation(kind, job_id)
        self.operations[(kind if kind == "disposal" else "job", trigger_id)] = operation
        return trigger_id, operation

    def _fail_operation(self, operation: Operation, trace: str, failure_class: str) -> None:
        def fail() -> None:
            operation.done = True
            operation.failure_class = failure_class
            operation.failure_trace = trace

        self.timers.after(self.timing.savepoint, fail)

    def trigger_savepoint(
        self,
        job_id: str,
        target: str | None,
        format_type: str | None,
        *,
        stop: bool,
        drain: bool = False,
        cancel_job: bool = False,
    ) -> str:
        """Savepoint (``stop``: then FINISHED; ``cancel_job``: then CANCELED); returns the trigger id."""
        directory = normalise_path(target) if target else self.savepoint_dir
        if directory is None:
            field_name = "targetDirectory" if stop else "target-directory"
            raise FakeRestError.handler(
                400,
                "Config key [execution.checkpointing.savepoint-dir] is not set. "
                f"Property [{field_name}] must be provided.",
            )
        trigger_id, operation = self._new_trigger("savepoint", job_id)
        job = self.jobs.get(job_id)
        if job is None or job.state.is_terminal:
            self._fail_operation(
                operation, missing_job_trace(job_id), "java.util.concurrent.CompletionException"
            )
            return trigger_id
        if not _directory_usable(directory):
            trace = savepoint_directory_failure_trace(directory)
            self._fail_operation(operation, trace, "java.util.concurrent.CompletionException")
            return trigger_id
        injected = self.savepoint_failures.pop(0) if self.savepoint_failures else None

        def done(record: Any) -> None:
            operation.done = True
            operation.location = record.external_path

        def failed(reason: str) -> None:
            operation.done = True
            operation.failure_class = "java.util.concurrent.CompletionException"
            operation.failure_trace = checkpoint_failure_trace(reason)

        job.take_checkpoint(
            self.timing,
            done,
            failed,
            savepoint=True,
            target=directory,
            format_type=format_type or "CANONICAL",
            fail_reason=injected,
            then=job.finish if stop else (lambda: job.cancel(self.timing)) if cancel_job else None,
        )
        return trigger_id

    def trigger_checkpoint(self, job_id: str, checkpoint_type: str) -> str:
        trigger_id, operation = self._new_trigger("checkpoint", job_id)
        job = self.jobs.get(job_id)
        if job is None or job.state.is_terminal:
            self._fail_operation(
                operation, missing_job_trace(job_id), "java.util.concurrent.CompletionException"
            )
            return trigger_id
        injected = self.checkpoint_failures.pop(0) if self.checkpoint_failures else None

        def done(record: Any) -> None:
            operation.done = True
            operation.checkpoint_id = record.id

        def failed(reason: str) -> None:
            operation.done = True
            operation.failure_class = "java.util.concurrent.CompletionException"
            operation.failure_trace = checkpoint_failure_trace(reason)

        job.take_checkpoint(self.timing, done, failed, fail_reason=injected)
        return trigger_id

    def dispose(self, path: str) -> str:
        trigger_id, operation = self._new_trigger("disposal", None)

        def run() -> None:
            operation.done = True
            if not self.snapshots.discard(path):
                operation.failure_class = "org.apache.flink.util.FlinkException"
                operation.failure_trace = disposal_failure_trace(path)

        self.timers.after(self.timing.disposal, run)
        return trigger_id

    def operation(self, scope: str, trigger_id: str) -> Operation | None:
        return self.operations.get((scope, trigger_id))

    def set_requirements(self, job_id: str, wanted: Mapping[str, tuple[int, int]]) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            raise FakeRestError.job_not_found_internal(job_id)
        known = {vertex.id for vertex in job.vertices}
        problems = [f"Job vertex [{v}] was not found in the JobGraph." for v in wanted if v not in known]
        problems += [
            f"The request is incomplete, missing job vertex [{v.id}] resource requirements."
            for v in job.vertices
            if v.id not in wanted
        ]
        problems += [
            f"Invalid parallelism bounds {lower}..{upper} for job vertex [{v}]."
            for v, (lower, upper) in wanted.items()
            if v in known and (lower < 1 or upper < lower)
        ]
        if problems:
            raise FakeRestError.handler(400, "\n".join(problems))
        job.set_requirements(self.timing, wanted)

    # ---------------------------------------------------------------- test controls

    def fail_job(
        self,
        job_id: str,
        message: str = "injected failure",
        *,
        exception_class: str = "java.lang.RuntimeException",
        recoverable: bool | None = None,
    ) -> None:
        """A task of the job throws: it restarts from its latest checkpoint or fails (restart strategy)."""
        job = self.jobs.get(job_id)
        if job is None:
            raise KeyError(f"no job {job_id} on fake cluster {self.name!r}")
        job.fail(self.timing, exception_class, message, recoverable=recoverable)

    def fail_next_savepoints(self, count: int = 1, reason: str = "injected savepoint failure") -> None:
        self.savepoint_failures.extend([reason] * count)

    def fail_next_checkpoints(self, count: int = 1, reason: str = "injected checkpoint failure") -> None:
        self.checkpoint_failures.extend([reason] * count)

    def inject(self, rule: FaultRule) -> FaultRule:
        self.faults.append(rule)
        return rule

    def clear_faults(self) -> None:
        self.faults.clear()

    def take_fault(self, method: str, path: str) -> FaultRule | None:
        for rule in self.faults:
            if rule.matches(method, path):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self.faults.remove(rule)
                return rule
        return None

    def set_vertex_metrics(
        self, job_id: str, vertex: int | str, values: Mapping[str, float | list[float]]
    ) -> None:
        """Override metrics of a vertex (by index, id or name); a list gives one value per subtask."""
        job = self.jobs[job_id]
        for index, candidate in enumerate(job.vertices):
            if vertex in (index, candidate.id, candidate.name):
                candidate.metric_overrides.update(values)
                return
        raise KeyError(f"job {job_id} has no vertex {vertex!r}")

    def jobmanager_down(self, *, graceful: bool = False) -> None:
        """The JobManager process ends: REST stops answering. Without HA its jobs are gone for good.

        ``graceful`` (a SIGTERM or ``DELETE /cluster``) also deletes checkpoints that are not externalised
        (``NO_EXTERNALIZED_CHECKPOINTS``), as Flink does; a crash leaves them on disk.
        """
        if not self.up:
            return
        self.up = False
        for job in self.jobs.values():
            if not job.state.is_terminal:
                job.suspend()
                if graceful and job.retention == "NO_EXTERNALIZED_CHECKPOINTS":
                    job.discard_checkpoints_on_end(JobState.CANCELED)
        self.operations.clear()
        self._rest_cache.clear()
        self.metrics.clear()
        if not self.config.get("web.upload.dir"):
            self.jars.clear()  # uploads live in a temp dir of the JobManager process

    def jobmanager_up(self) -> None:
        """A new JobManager starts. With HA it recovers the running jobs from their latest checkpoints."""
        if self.up:
            return
        self.up = True
        previous = self.jobs
        self.jobs = {}
        if not self.ha_enabled:
            return
        for job in previous.values():
            if job.state is not JobState.SUSPENDED:
                continue
            latest = job.latest_completed(savepoint=None)
            restore = (
                latest.external_path if latest is not None and not latest.discarded else job.restore_from
            )
            recovered = FakeJob(
                host=self,
                jid=job.jid,
                name=job.name,
                jar_id=job.jar_id,
                entry_class=job.entry_class,
                program_args=job.program_args,
                config=job.config,
                parallelism=job.parallelism,
                topology=job.topology,
                restore_from=restore,
                adaptive=job.adaptive,
                default_rate=job.default_rate,
            )
            self.jobs[job.jid] = recovered
            recovered.submit(self.timing)

    def set_taskmanagers(self, count: int) -> None:
        if count < 0:
            raise ValueError(f"taskmanagers must be >= 0, got {count}")
        self.taskmanagers = count

    # ---------------------------------------------------------------- metrics (fetched lazily, as Flink does)

    @property
    def metrics_update_interval(self) -> float:
        if self.settings.metrics_update_interval is not None:
            return self.settings.metrics_update_interval
        return self._duration_option("metrics.fetcher.update-interval", 10.0)
