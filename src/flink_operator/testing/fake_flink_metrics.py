"""Metrics of the fake Flink server: what a cluster reports, and the lazy metric store REST answers from.

Flink's REST metrics come from a store the JobManager fills lazily (``metrics.fetcher.update-interval``,
10 s by default): a request arriving when the store is older than that triggers a fetch but is answered
from the old store, so the first read after a pause is stale and a read before any fetch is empty.
:class:`LazyMetricStore` reproduces exactly that.

The values mirror the example counter job on real Flink: the source vertex busy, the counter vertex idle,
record rates from the job's rate, and the counter job's gauges. Tests override any vertex metric with
``FakeCluster.set_vertex_metrics`` (e.g. to drive an autoscaler).

Not guaranteed: rates are instantaneous, not Flink's 60-second moving averages; JVM figures are constants.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from flink_operator.flink.rest.models.jobs import ExecutionState, JobState
from flink_operator.testing.fake_flink_clock import Timers

if TYPE_CHECKING:
    from flink_operator.testing.fake_flink_cluster import FakeCluster
    from flink_operator.testing.fake_flink_jobs import FakeJob
    from flink_operator.testing.fake_flink_topology import FakeVertex

__all__ = ["LazyMetricStore", "aggregated_metrics", "compute_metrics", "plain_metrics"]

MetricSnapshot = dict[tuple[str, ...], dict[str, Any]]
"""Scope ("jm",), ("tm", id), ("job", jid) or ("vertex", jid, vid) -> name -> value (a list per subtask)."""


class LazyMetricStore:
    """The snapshot REST answers from, refreshed shortly after a read finds it older than the interval."""

    FETCH_LATENCY = 0.01

    def __init__(self, timers: Timers, interval: Callable[[], float]) -> None:
        self._timers = timers
        self._interval = interval
        self._snapshot: MetricSnapshot = {}
        self._fetched: float | None = None
        self._fetching = False

    def read(self, compute: Callable[[], MetricSnapshot]) -> MetricSnapshot:
        now = self._timers.clock.monotonic()
        stale = self._fetched is None or now - self._fetched >= self._interval()
        if stale and not self._fetching:
            self._fetching = True

            def fetch() -> None:
                self._snapshot = compute()
                self._fetched = self._timers.clock.monotonic()
                self._fetching = False

            self._timers.after(self.FETCH_LATENCY, fetch)
        return self._snapshot

    def clear(self) -> None:
        self._snapshot = {}
        self._fetched = None
        self._fetching = False


def _subtask_values(vertex: FakeVertex, value: float) -> list[float]:
    return [value] * vertex.parallelism


def _vertex_metrics(job: FakeJob, vertex: FakeVertex) -> dict[str, list[float]]:
    p = vertex.parallelism
    rate = job.rate
    per_subtask = rate / p if p else 0.0
    source = vertex.spec.source
    metrics: dict[str, list[float]] = {
        "busyTimeMsPerSecond": _subtask_values(vertex, 1000.0 if source else 0.0),
        "backPressuredTimeMsPerSecond": _subtask_values(vertex, 0.0),
        "idleTimeMsPerSecond": _subtask_values(vertex, 0.0 if source else 1000.0),
        "numRecordsInPerSecond": _subtask_values(vertex, 0.0 if source else per_subtask),
        "numRecordsOutPerSecond": _subtask_values(vertex, per_subtask if source else 0.0),
        "numRecordsIn": _subtask_values(vertex, 0.0 if source else job.count() / max(p, 1)),
        "numRecordsOut": _subtask_values(vertex, job.count() / max(p, 1) if source else 0.0),
        "accumulateBusyTimeMs": _subtask_values(vertex, 0.0),
    }
    for operator in vertex.spec.operators:
        metrics[f"{operator}.numRecordsInPerSecond"] = _subtask_values(vertex, 0.0 if source else per_subtask)
        metrics[f"{operator}.numRecordsOutPerSecond"] = _subtask_values(
            vertex, per_subtask if source else 0.0
        )
    if vertex.spec.counter:
        gauges = job.counter_gauges(p)
        metrics["counter.firstCount"] = [float(first) for first, _ in gauges]
        metrics["counter.maxCount"] = [float(highest) for _, highest in gauges]
    for name, value in vertex.metric_overrides.items():
        metrics[name] = (
            [float(v) for v in value] if isinstance(value, list) else _subtask_values(vertex, float(value))
        )
    return metrics


def _job_metrics(cluster: FakeCluster, job: FakeJob) -> dict[str, Any]:
    now = cluster.now_ms()
    latest = job.checkpoints.latest(savepoint=None)
    running_since = job.timestamps.get(JobState.RUNNING.value, now)
    metrics: dict[str, Any] = {
        "numRestarts": job.restarts,
        "numberOfCompletedCheckpoints": job.checkpoints.completed,
        "numberOfFailedCheckpoints": job.checkpoints.failed,
        "numberOfInProgressCheckpoints": job.checkpoints.in_progress,
        "totalNumberOfCheckpoints": job.checkpoints.triggered,
        "lastCheckpointDuration": max(0, latest.ack_ms - latest.trigger_ms) if latest else -1,
        "lastCheckpointSize": latest.state_size if latest else -1,
        "lastCheckpointExternalPath": (latest.external_path or "n/a") if latest else "n/a",
        "lastCompletedCheckpointId": latest.id if latest else -1,
        "uptime": now - running_since if job.state is JobState.RUNNING else 0,
        "runningTime": now - running_since if job.state is JobState.RUNNING else 0,
        "downtime": 0,
        "restartingTime": 0,
    }
    if cluster.is_2x:
        metrics["numRescales"] = job.rescales
    else:
        metrics["fullRestarts"] = job.restarts
    return metrics


def compute_metrics(cluster: FakeCluster) -> MetricSnapshot:
    """A full metric snapshot of the cluster, as Flink's MetricFetcher would collect it."""
    running = [job for job in cluster.jobs.values() if not job.state.is_terminal]
    store: dict[tuple[str, ...], dict[str, Any]] = {
        ("jm",): {
            "taskSlotsTotal": cluster.total_slots,
            "taskSlotsAvailable": cluster.free_slots(),
            "numRegisteredTaskManagers": cluster.taskmanagers,
            "numRunningJobs": len(running),
            "Status.JVM.Memory.Heap.Used": 57_882_424,
            "Status.JVM.Memory.Heap.Max": 235_208_704,
            "Status.JVM.Memory.Metaspace.Used": 64_000_000,
            "Status.JVM.CPU.Load": 0.01,
        }
    }
    for tm_id in cluster.taskmanager_ids:
        store[("tm", tm_id)] = {
            "Status.JVM.Memory.Heap.Used": 39_445_720,
            "Status.JVM.Memory.Heap.Max": 235_208_704,
            "Status.JVM.Memory.Heap.Committed": 235_208_704,
            "Status.JVM.Memory.Metaspace.Used": 51_000_000,
            "Status.Flink.Memory.Managed.Used": 0,
            "Status.Flink.Memory.Managed.Total": 0,
            "Status.JVM.GarbageCollector.All.TimeMsPerSecond": 0.0,
            "Status.JVM.CPU.Load": 0.02,
        }
    for job in running:
        store[("job", job.jid)] = _job_metrics(cluster, job)
        for vertex in job.vertices:
            if vertex.status is ExecutionState.RUNNING:
                store[("vertex", job.jid, vertex.id)] = _vertex_metrics(job, vertex)
    return store


def metric_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def plain_metrics(values: dict[str, Any] | None, names: Sequence[str] | None) -> list[dict[str, Any]]:
    if values is None:
        return []
    if names is None:
        return [{"id": name} for name in values]
    return [{"id": name, "value": metric_text(values[name])} for name in names if name in values]


def _aggregate(samples: Sequence[float], agg: str) -> float | str:
    if any(math.isnan(s) for s in samples):
        return "NaN"
    if agg == "min":
        return min(samples)
    if agg == "max":
        return max(samples)
    if agg == "sum":
        return float(sum(samples))
    average = sum(samples) / len(samples)
    if agg == "avg":
        return average
    return (max(samples) - min(samples)) / average * 100 if average else 0.0  # skew


def aggregated_metrics(
    series: dict[str, list[float]], names: Sequence[str] | None, aggs: Iterable[str]
) -> list[dict[str, Any]]:
    if names is None:
        return [{"id": name} for name in series]
    result = []
    for name in names:
        samples = series.get(name)
        if not samples:
            continue
        entry: dict[str, Any] = {"id": name}
        for agg in aggs:
            entry[agg] = _aggregate(samples, agg)
        result.append(entry)
    return result
