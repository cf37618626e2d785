"""The job model of the fake Flink server: states, vertices, a counter that is kept in snapshots, checkpoints.

A fake job behaves like the example counter job (examples/jobs/counter) on real Flink: while all its tasks
run it counts records at a steady rate (``--sleepMs`` in its program arguments sets it as the real
throttling does), spread over ``--keys`` keys (``--keys 0`` fails the job at start, as the real main()
refuses it; ``--failEveryMs N`` makes every attempt fail N ms after it started); its counts are part of
every checkpoint and savepoint, and a job restored from one continues from them. Progress is exposed as
the real job exposes it: the gauges ``counter.maxCount`` (the largest per-key count a subtask produced
since it started) and ``counter.firstCount`` (the count of its first record since it started: 1 after a
fresh start, more after a restore) of the vertex holding the counter.

State changes are scheduled on the shared timers of the server (see ``fake_flink_clock``): submission goes
INITIALIZING -> CREATED -> RUNNING (vertices DEPLOYING -> RUNNING); cancel goes CANCELLING -> CANCELED;
stop-with-savepoint ends FINISHED; a failure restarts the job from its latest checkpoint or fails it, per
its restart strategy.

Not guaranteed: timing is the configured delays, not real scheduling; there is no backpressure, no
watermarks, and the first periodic checkpoint never fails (on real Flink it sometimes does).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from flink_operator.flink.rest.models.jobs import ExecutionState, JobState
from flink_operator.testing.fake_flink_checkpoints import CheckpointLog, CheckpointRecord, keeps_checkpoints
from flink_operator.testing.fake_flink_clock import Timer, Timers
from flink_operator.testing.fake_flink_counter import Counter
from flink_operator.testing.fake_flink_snapshots import Snapshot, SnapshotStore
from flink_operator.testing.fake_flink_topology import FakeVertex, VertexSpec, vertex_id

__all__ = [
    "ExceptionRecord",
    "Failure",
    "FakeJob",
    "FakeTiming",
    "JobHost",
]


@dataclass(frozen=True)
class FakeTiming:
    """Delays (seconds) of the fake's asynchronous behaviour; small by default so tests run fast."""

    initialize: float = 0.02
    schedule: float = 0.03
    deploy: float = 0.05
    cancel: float = 0.03
    savepoint: float = 0.05
    checkpoint: float = 0.03
    disposal: float = 0.02
    restart: float = 0.1
    rescale_cooldown: float | None = None  # None: the job's configuration, else Flink's default 30 s
    rescale: float = 0.1


@dataclass(frozen=True)
class Failure:
    """A Java-like failure: exception class, message, and the rendered stack trace."""

    exception_class: str
    message: str
    stack_trace: str
    timestamp_ms: int


@dataclass(frozen=True)
class ExceptionRecord:
    failure: Failure
    task_name: str | None = None


class JobHost(Protocol):
    """What a job needs from its cluster."""

    timers: Timers
    snapshots: SnapshotStore

    def now_ms(self) -> int: ...
    def monotonic(self) -> float: ...
    def free_slots(self, exclude: FakeJob | None = None) -> int: ...
    def checkpoint_location(self, job: FakeJob, checkpoint_id: int) -> str: ...
    def job_changed(self, job: FakeJob) -> None: ...


def java_trace(
    exception_class: str, message: str, *, frames: Sequence[str] = (), cause: str | None = None
) -> str:
    lines = [f"{exception_class}: {message}" if message else exception_class]
    lines += [
        f"\tat {frame}" for frame in (frames or ("org.apache.flink.fake.FakeFlink.run(FakeFlink.java:1)",))
    ]
    text = "\n".join(lines)
    if cause:
        text += "\nCaused by: " + cause
    return text


def _arg(args: Sequence[str], name: str) -> str | None:
    for i in range(len(args) - 1):
        if args[i] == name:
            return args[i + 1]
    return None


@dataclass
class FakeJob:
    host: JobHost
    jid: str
    name: str
    jar_id: str | None
    entry_class: str
    program_args: list[str]
    config: dict[str, str]
    parallelism: int
    topology: Sequence[VertexSpec]
    restore_from: str | None = None
    allow_non_restored_state: bool = False
    claim_mode: str = "NO_CLAIM"
    adaptive: bool = True
    default_rate: float = 100.0

    state: JobState = JobState.INITIALIZING
    vertices: list[FakeVertex] = field(default_factory=list)
    timestamps: dict[str, int] = field(default_factory=dict)
    start_ms: int = 0
    end_ms: int = -1
    restored: Snapshot | None = None
    restore_ms: int = 0
    failure: Failure | None = None
    exceptions: list[ExceptionRecord] = field(default_factory=list)
    restarts: int = 0
    rescales: int = 0
    checkpoints: CheckpointLog = field(default_factory=CheckpointLog)
    wanted_parallelism: dict[str, tuple[int, int]] = field(default_factory=dict)
    last_rescale: float = 0.0
    counter: Counter = field(default_factory=Counter)
    _timers: list[Timer] = field(default_factory=list)
    _periodic: Timer | None = None
    _rescale_timer: Timer | None = None

    # ---------------------------------------------------------------- construction and properties

    def __post_init__(self) -> None:
        now = self.host.now_ms()
        self.start_ms = now
        self.timestamps = {JobState.INITIALIZING.value: now}
        self.vertices = [
            FakeVertex(vertex_id(self.entry_class, i, spec), spec, self.parallelism)
            for i, spec in enumerate(self.topology)
        ]
        self.last_rescale = self.host.monotonic()
        for vertex in self.vertices:
            self.wanted_parallelism[vertex.id] = (1, self.parallelism)

    @property
    def checkpoint_interval(self) -> float | None:
        """Seconds between periodic checkpoints (from ``--checkpointMs`` or the job's configuration)."""
        from_args = _arg(self.program_args, "--checkpointMs")
        if from_args is not None and from_args.lstrip("-").isdigit():
            millis = int(from_args)
            return millis / 1000 if millis > 0 else None
        text = self.config.get("execution.checkpointing.interval")
        if text:
            from flink_operator.config.durations import parse_duration

            seconds = parse_duration(text).total_seconds()
            return seconds if seconds > 0 else None
        return None

    @property
    def rate(self) -> float:
        """Records per second counted while running (all subtasks together)."""
        sleep = _arg(self.program_args, "--sleepMs")
        source_parallelism = self.vertices[0].parallelism if self.vertices else 1
        if sleep is not None and sleep.isdigit() and int(sleep) > 0:
            return source_parallelism * 1000.0 / int(sleep)
        return self.default_rate * source_parallelism

    @property
    def retention(self) -> str:
        return self.config.get(
            "execution.checkpointing.externalized-checkpoint-retention",
            self.config.get("execution.checkpointing.externalization", "NO_EXTERNALIZED_CHECKPOINTS"),
        ).upper()

    @property
    def slots_used(self) -> int:
        if self.state.is_terminal or self.state is JobState.INITIALIZING:
            return 0
        if all(v.status is ExecutionState.CREATED for v in self.vertices):
            return 0
        return max((v.parallelism for v in self.vertices), default=0)

    @property
    def all_running(self) -> bool:
        return self.state is JobState.RUNNING and all(
            v.status is ExecutionState.RUNNING for v in self.vertices
        )

    def count(self) -> int:
        """The counter state now."""
        return self.counter.current(self.host.monotonic(), self.rate)

    @property
    def keys(self) -> int:
        value = _arg(self.program_args, "--keys")
        return int(value) if value is not None and value.isdigit() and int(value) > 0 else 4

    def counter_gauges(self, subtasks: int) -> list[tuple[int, int]]:
        """(firstCount, maxCount) per subtask, as the example counter job reports them."""
        return self.counter.gauges(self.host.monotonic(), self.rate, self.keys, subtasks)

    def latest_completed(self, *, savepoint: bool | None = False) -> CheckpointRecord | None:
        return self.checkpoints.latest(savepoint=savepoint)

    # ---------------------------------------------------------------- timers and state changes

    def _after(self, delay: float, action: Callable[[], None]) -> None:
        self._timers.append(self.host.timers.after(delay, action))

    def _cancel_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._periodic is not None:
            self._periodic.cancel()
            self._periodic = None
        if self._rescale_timer is not None:
            self._rescale_timer.cancel()
            self._rescale_timer = None

    def _set_state(self, state: JobState) -> None:
        self.state = state
        self.timestamps[state.value] = self.host.now_ms()
        self.host.job_changed(self)

    def _start_counting(self) -> None:
        self.counter.start(self.host.monotonic())

    def _stop_counting(self) -> None:
        self.counter.stop(self.host.monotonic(), self.rate)

    def _set_vertices(self, status: ExecutionState) -> None:
        now = self.host.now_ms()
        for vertex in self.vertices:
            vertex.status = status
            if status is ExecutionState.RUNNING:
                vertex.start_ms = now
                vertex.end_ms = -1
            elif status in (ExecutionState.FINISHED, ExecutionState.CANCELED, ExecutionState.FAILED):
                vertex.end_ms = now

    def submit(self, timing: FakeTiming) -> None:
        self._after(timing.initialize, lambda: self._initialized(timing))

    def _initialized(self, timing: FakeTiming) -> None:
        keys = _arg(self.program_args, "--keys")
        if keys is not None and keys.lstrip("-").isdigit() and int(keys) < 1:
            # The counter job's main() refuses this before building the job; Flink reports a failed job.
            message = f"--keys must be at least 1, got {int(keys)}"
            cause = java_trace(
                "java.lang.IllegalArgumentException",
                message,
                frames=("demo.CounterJob.main(CounterJob.java:37)",),
            )
            self._fail_terminally(
                "org.apache.flink.client.program.ProgramInvocationException",
                f"The main method caused an error: {message}",
                cause=cause,
            )
            return
        if self.restore_from is not None:
            snapshot = self.host.snapshots.lookup(self.restore_from)
            if snapshot is None:
                cause = java_trace(
                    "java.io.FileNotFoundException",
                    f"Cannot find checkpoint or savepoint file/directory '{self.restore_from}'"
                    " on file system 'file'.",
                )
                self._fail_terminally(
                    "java.util.concurrent.CompletionException",
                    f"java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory "
                    f"'{self.restore_from}' on file system 'file'.",
                    cause=cause,
                )
                return
            self.restored = snapshot
            self.restore_ms = self.host.now_ms()
            self.counter.reset(snapshot.count)
            self.checkpoints.continue_after(snapshot.checkpoint_id)
        self._set_state(JobState.CREATED)
        self._after(timing.schedule, lambda: self._schedule(timing))

    def _schedule(self, timing: FakeTiming) -> None:
        if self.state is not JobState.CREATED:
            return
        free = self.host.free_slots(exclude=self)
        if free < 1:
            self._after(timing.schedule * 4, lambda: self._schedule(timing))  # wait for resources
            return
        if self.adaptive:
            for vertex in self.vertices:
                _, upper = self.wanted_parallelism.get(vertex.id, (1, vertex.parallelism))
                vertex.parallelism = max(1, min(upper, free))
        elif max(v.parallelism for v in self.vertices) > free:
            self._after(timing.schedule * 4, lambda: self._schedule(timing))
            return
        self._set_vertices(ExecutionState.DEPLOYING)
        self._set_state(JobState.RUNNING)
        self._after(timing.deploy, lambda: self._deployed(timing))

    def _deployed(self, timing: FakeTiming) -> None:
        if self.state is not JobState.RUNNING:
            return
        self._set_vertices(ExecutionState.RUNNING)
        self._start_counting()
        self._schedule_periodic(timing)
        self._schedule_failure(timing)
        self.host.job_changed(self)

    def _schedule_failure(self, timing: FakeTiming) -> None:
        """``--failEveryMs N``: every attempt of the counter throws N ms after it started."""
        value = _arg(self.program_args, "--failEveryMs")
        if value is None or not value.isdigit() or int(value) <= 0:
            return
        millis = int(value)
        attempt = self.restarts

        def fire() -> None:
            if self.restarts != attempt or not self.all_running:
                return
            self.fail(
                timing,
                "java.lang.IllegalStateException",
                f"injected failure {millis} ms after the counter started (--failEveryMs)",
                recoverable=None,
            )

        self._after(millis / 1000, fire)

    def _schedule_periodic(self, timing: FakeTiming) -> None:
        interval = self.checkpoint_interval
        if interval is None:
            return
        if self._periodic is not None:
            self._periodic.cancel()

        def fire() -> None:
            self._periodic = None
            if not self.all_running:
                return
            self.take_checkpoint(timing, lambda record: None, lambda message: None)
            self._schedule_periodic(timing)

        self._periodic = self.host.timers.after(interval, fire)

    # ---------------------------------------------------------------- snapshots

    def take_checkpoint(
        self,
        timing: FakeTiming,
        on_done: Callable[[CheckpointRecord], None],
        on_failed: Callable[[str], None],
        *,
        savepoint: bool = False,
        target: str | None = None,
        format_type: str | None = None,
        fail_reason: str | None = None,
        then: Callable[[], None] | None = None,
    ) -> CheckpointRecord | None:
        """Start a checkpoint (or a savepoint into ``target``); it completes after the configured delay."""
        if not self.all_running:
            on_failed("Not all required tasks are currently running.")
            return None
        record = self.checkpoints.begin(
            savepoint=savepoint, format_type=format_type, now_ms=self.host.now_ms()
        )
        count = self.count()

        def complete() -> None:
            now = self.host.now_ms()
            if fail_reason is not None or not self.all_running:
                reason = fail_reason or "Checkpoint was declined (tasks not ready)"
                self.checkpoints.fail(record, reason, now)
                on_failed(reason)
                return
            if savepoint:
                assert target is not None
                path = f"{target.rstrip('/')}/savepoint-{self.jid[:6]}-{secrets.token_hex(6)}"
            else:
                path = self.host.checkpoint_location(self, record.id)
            stored = self.host.snapshots.record(
                Snapshot(
                    path=path,
                    job_id=self.jid,
                    checkpoint_id=record.id,
                    is_savepoint=savepoint,
                    count=count,
                    timestamp_ms=now,
                    format_type=format_type,
                )
            )
            self.checkpoints.complete(record, stored.path, now)
            if not savepoint:
                self.checkpoints.subsume(record, self.host.snapshots)
            on_done(record)
            if then is not None:
                then()

        delay = timing.savepoint if savepoint else timing.checkpoint
        self._after(delay, complete)
        return record

    def discard_checkpoints_on_end(self, final: JobState) -> None:
        """Flink deletes retained checkpoints when a job ends, unless externalised for that outcome."""
        if not keeps_checkpoints(self.retention, final):
            self.checkpoints.discard_retained(self.host.snapshots)

    # ---------------------------------------------------------------- ending

    def finish(self) -> None:
        """End after a stop-with-savepoint."""
        self._stop_counting()
        self._cancel_timers()
        self._set_vertices(ExecutionState.FINISHED)
        self.end_ms = self.host.now_ms()
        self._set_state(JobState.FINISHED)
        self.discard_checkpoints_on_end(JobState.FINISHED)

    def cancel(self, timing: FakeTiming) -> None:
        if self.state.is_terminal or self.state is JobState.CANCELLING:
            return
        self._stop_counting()
        self._cancel_timers()
        self._set_vertices(ExecutionState.CANCELING)
        self._set_state(JobState.CANCELLING)

        def done() -> None:
            self._set_vertices(ExecutionState.CANCELED)
            self.end_ms = self.host.now_ms()
            self._set_state(JobState.CANCELED)
            self.discard_checkpoints_on_end(JobState.CANCELED)

        self._after(timing.cancel, done)

    def suspend(self) -> None:
        """The JobManager went away (shutdown or crash): the job stops where it is."""
        self._stop_counting()
        self._cancel_timers()
        self._set_vertices(ExecutionState.CANCELED)
        self.end_ms = self.host.now_ms()
        self._set_state(JobState.SUSPENDED)

    def _fail_terminally(self, exception_class: str, message: str, *, cause: str | None = None) -> None:
        self._stop_counting()
        self._cancel_timers()
        now = self.host.now_ms()
        trace = java_trace(exception_class, message, cause=cause)
        self.failure = Failure(exception_class, message, trace, now)
        self.exceptions.insert(0, ExceptionRecord(self.failure))
        self._set_vertices(ExecutionState.FAILED)
        self.end_ms = now
        self._set_state(JobState.FAILED)
        self.discard_checkpoints_on_end(JobState.FAILED)

    def restartable(self) -> bool:
        strategy = self.config.get("restart-strategy.type", self.config.get("restart-strategy", "")).lower()
        if strategy in ("none", "off", "disable", "norestart"):
            return False
        if strategy in ("fixed-delay", "fixeddelay"):
            attempts = self.config.get("restart-strategy.fixed-delay.attempts", "1")
            return self.restarts < int(attempts) if attempts.isdigit() else True
        if strategy:
            return True
        return self.checkpoint_interval is not None  # Flink's default: restart when checkpointing is on

    def fail(
        self, timing: FakeTiming, exception_class: str, message: str, *, recoverable: bool | None
    ) -> None:
        """A task failed with ``exception_class: message``: restart from the latest checkpoint, or fail."""
        if self.state.is_terminal:
            return
        now = self.host.now_ms()
        user_trace = java_trace(
            exception_class,
            message,
            frames=("org.apache.flink.fake.UserFunction.process(UserFunction.java:1)",),
        )
        task = self.vertices[-1].name if self.vertices else None
        restart = self.restartable() if recoverable is None else recoverable
        if not restart:
            self._stop_counting()
            self._cancel_timers()
            wrapper = "Recovery is suppressed by NoRestartBackoffTimeStrategy"
            self.failure = Failure(
                "org.apache.flink.runtime.JobException",
                wrapper,
                java_trace("org.apache.flink.runtime.JobException", wrapper, cause=user_trace),
                now,
            )
            self.exceptions.insert(
                0, ExceptionRecord(Failure(exception_class, message, user_trace, now), task)
            )
            self._set_vertices(ExecutionState.FAILED)
            self.end_ms = now
            self._set_state(JobState.FAILED)
            self.discard_checkpoints_on_end(JobState.FAILED)
            return
        self.exceptions.insert(0, ExceptionRecord(Failure(exception_class, message, user_trace, now), task))
        self.restarts += 1
        self._restart(timing, rescale=False)

    def _restart(self, timing: FakeTiming, *, rescale: bool) -> None:
        """Tear the tasks down and bring them back from the latest checkpoint (state is kept)."""
        self._stop_counting()
        if self._periodic is not None:
            self._periodic.cancel()
            self._periodic = None
        latest = self.latest_completed(savepoint=None)
        if latest is not None and latest.external_path:
            snapshot = self.host.snapshots.lookup(latest.external_path)
            if snapshot is not None:
                self.counter.reset(snapshot.count)
        elif self.restored is not None:
            self.counter.reset(self.restored.count)
        else:
            self.counter.reset(0)
        self._set_vertices(ExecutionState.CANCELED)
        self._set_state(JobState.RESTARTING)

        def back() -> None:
            if self.state is not JobState.RESTARTING:
                return
            self._set_vertices(ExecutionState.CREATED)
            self._set_state(JobState.CREATED)
            self._schedule(timing)

        self._after(timing.rescale if rescale else timing.restart, back)

    # ---------------------------------------------------------------- rescale

    def set_requirements(self, timing: FakeTiming, wanted: Mapping[str, tuple[int, int]]) -> None:
        """Accept new parallelism bounds; apply them after the cooldown (adaptive scheduler semantics)."""
        self.wanted_parallelism.update(wanted)
        if self._rescale_timer is not None:
            self._rescale_timer.cancel()
        due = max(self.host.monotonic(), self.last_rescale + self.rescale_cooldown(timing))
        self._rescale_timer = self.host.timers.at(due, lambda: self._apply_requirements(timing))

    def rescale_cooldown(self, timing: FakeTiming) -> float:
        """Seconds after start or the last rescale before the adaptive scheduler rescales again."""
        if timing.rescale_cooldown is not None:
            return timing.rescale_cooldown
        for key in (
            "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling",
            "jobmanager.adaptive-scheduler.scaling-interval.min",
        ):
            if self.config.get(key):
                from flink_operator.config.durations import parse_duration

                return parse_duration(self.config[key]).total_seconds()
        return 30.0

    def _target_parallelism(self, vertex: FakeVertex) -> int:
        lower, upper = self.wanted_parallelism.get(vertex.id, (1, vertex.parallelism))
        available = self.host.free_slots(exclude=self)
        return max(lower, min(upper, available)) if available >= lower else vertex.parallelism

    def _apply_requirements(self, timing: FakeTiming) -> None:
        self._rescale_timer = None
        if not self.all_running:
            if not self.state.is_terminal:  # try again once the job runs
                self._rescale_timer = self.host.timers.after(
                    timing.rescale, lambda: self._apply_requirements(timing)
                )
            return
        if all(self._target_parallelism(v) == v.parallelism for v in self.vertices):
            return
        # Flink 2.x rescales at a checkpoint; restoring from it keeps the state. Both versions keep it here.
        self.take_checkpoint(
            timing, lambda record: None, lambda message: None, then=lambda: self._rescale(timing)
        )

    def _rescale(self, timing: FakeTiming) -> None:
        self.rescales += 1
        self.restarts += 1  # Flink counts an adaptive rescale as a restart (numRestarts and fullRestarts)
        self.last_rescale = self.host.monotonic()
        self._restart(timing, rescale=True)
