"""Controller-runtime metrics (upstream's JOSDK metrics): reconcile counts and durations, work queues, events.

`wrap_reconciler(kind, factory, metrics, on_gone)` wraps a controller's reconciler factory so that every
reconcile is counted and timed, without the runtime knowing about metrics:

* `flink_operator_reconcile_started_total{kind}`, `..._finished_total{kind}` (returned a result),
  `..._failed_total{kind}` (raised; the runtime retries it), `..._retries_total{kind}` (a reconcile of a key
  whose previous reconcile failed);
* `flink_operator_reconcile_duration_seconds{kind,outcome}` (outcome `success` or `failure`).

With resource labels on, `namespace` and `name` follow `kind`. A reconcile stopped because leadership was
lost, or cancelled, is counted as started only. After each reconcile of a key that is no longer cached
`on_gone(key)` is called (deleted resources drop their lifecycle tracks there).

`RunnerCollector` reads the runners at scrape time: `flink_operator_workqueue_depth{kind,priority}` (keys
waiting, per priority class `user`, `event`, `periodic`), `flink_operator_workqueue_timers{kind}` (requeues
and retries scheduled for later) and `flink_operator_reconciles_in_flight{kind}`.

`flink_operator_events_total{kind,type,reason}` counts the Kubernetes events recorded (an event hook).
Counts continue across leadership terms of one process and start from zero after a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from flink_operator.runtime.cache import Store
from flink_operator.runtime.controller import ControllerContext, ExhaustionAware, Reconciler, Request, Result
from flink_operator.runtime.events import RecordedEvent
from flink_operator.runtime.kinds import ObjectKey
from flink_operator.runtime.kube_api import NotLeader
from flink_operator.runtime.runner import ControllerRunner
from flink_operator.runtime.workqueue import Priority

RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, float("inf"))

ReconcilerFactory = Callable[[ControllerContext], Reconciler]


class ReconcileMetrics:
    def __init__(self, registry: CollectorRegistry, *, resource_labels: bool = False) -> None:
        self.resource_labels = resource_labels
        labels = ("kind", "namespace", "name") if resource_labels else ("kind",)
        self.started = Counter(
            "flink_operator_reconcile_started", "Reconciles started.", labels, registry=registry
        )
        self.finished = Counter(
            "flink_operator_reconcile_finished", "Reconciles that returned a result.", labels,
            registry=registry,
        )
        self.failed = Counter(
            "flink_operator_reconcile_failed", "Reconciles that raised (retried with backoff).", labels,
            registry=registry,
        )
        self.retries = Counter(
            "flink_operator_reconcile_retries", "Reconciles of a key whose previous reconcile failed.",
            labels, registry=registry,
        )
        self.duration = Histogram(
            "flink_operator_reconcile_duration_seconds", "Reconcile durations by outcome.",
            (*labels, "outcome"), buckets=RECONCILE_BUCKETS, registry=registry,
        )
        self.events = Counter(
            "flink_operator_events", "Kubernetes events recorded, by kind of the object, type and reason.",
            ("kind", "type", "reason"), registry=registry,
        )

    def prepare(self, kind: str) -> None:
        """Export zeros for `kind` before its first reconcile (without resource labels), so that rates and
        alerts over these counters never meet an absent series."""
        if self.resource_labels:
            return
        for counter in (self.started, self.finished, self.failed, self.retries):
            counter.labels(kind)

    def labels(self, kind: str, key: ObjectKey) -> tuple[str, ...]:
        return (kind, key.namespace, key.name) if self.resource_labels else (kind,)

    def on_event(self, event: RecordedEvent) -> None:
        self.events.labels(event.target.kind, event.type, event.reason).inc()



def wrap_reconciler(
    kind: str,
    factory: ReconcilerFactory,
    metrics: ReconcileMetrics | None,
    on_gone: Callable[[ObjectKey], None] | None = None,
) -> ReconcilerFactory:
    """A reconciler factory whose reconcilers are counted and timed in `metrics` (None: not counted), and
    which reports keys found gone after their reconcile to `on_gone`."""

    def build(context: ControllerContext) -> Reconciler:
        inner = factory(context)
        wrapper = _MeteredExhaustionAware if isinstance(inner, ExhaustionAware) else _Metered
        return wrapper(inner, metrics, kind, context.store, on_gone)

    return build


class _Metered:
    def __init__(
        self,
        inner: Reconciler,
        metrics: ReconcileMetrics | None,
        kind: str,
        store: Store,
        on_gone: Callable[[ObjectKey], None] | None,
    ) -> None:
        self.inner = inner
        self._metrics = metrics
        self._kind = kind
        self._store = store
        self._on_gone = on_gone
        self._failing: set[ObjectKey] = set()

    async def reconcile(self, request: Request) -> Result:
        metrics = self._metrics
        if metrics is None:
            try:
                return await self.inner.reconcile(request)
            finally:
                self._check_gone(request)
        labels = metrics.labels(self._kind, request)
        metrics.started.labels(*labels).inc()
        if request in self._failing:
            metrics.retries.labels(*labels).inc()
        start = time.perf_counter()
        try:
            result = await self.inner.reconcile(request)
        except (asyncio.CancelledError, NotLeader):
            raise
        except Exception:
            metrics.failed.labels(*labels).inc()
            metrics.duration.labels(*labels, "failure").observe(time.perf_counter() - start)
            self._failing.add(request)
            raise
        else:
            metrics.finished.labels(*labels).inc()
            metrics.duration.labels(*labels, "success").observe(time.perf_counter() - start)
            self._failing.discard(request)
            return result
        finally:
            self._check_gone(request)

    def _check_gone(self, request: Request) -> None:
        if request not in self._store:
            self._failing.discard(request)
            if self._on_gone is not None:
                self._on_gone(request)


class _MeteredExhaustionAware(_Metered):
    async def on_retries_exhausted(self, request: Request, error: BaseException) -> Result | None:
        assert isinstance(self.inner, ExhaustionAware)
        return await self.inner.on_retries_exhausted(request, error)


_PRIORITY_LABELS = {priority: priority.name.lower() for priority in Priority}


class RunnerCollector(Collector):
    """Work queue depths and reconciles in flight, read from the running controllers at scrape time."""

    def __init__(self, runners: Callable[[], Iterable[ControllerRunner]]) -> None:
        self._runners = runners

    def describe(self) -> Iterable[Metric]:
        return list(self._families())

    def collect(self) -> Iterable[Metric]:
        depth, timers, in_flight = self._families()
        for runner in self._runners():
            kind = runner.spec.kind.kind
            for priority, count in runner.queue.pending_by_class().items():
                depth.add_metric([kind, _PRIORITY_LABELS[priority]], count)
            timers.add_metric([kind], runner.queue.timer_count)
            in_flight.add_metric([kind], runner.running)
        return [depth, timers, in_flight]

    @staticmethod
    def _families() -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "flink_operator_workqueue_depth", "Keys waiting in the work queue, per priority class.",
            labels=["kind", "priority"],
        )
        yield GaugeMetricFamily(
            "flink_operator_workqueue_timers", "Reconciles scheduled for later (requeues and retries).",
            labels=["kind"],
        )
        yield GaugeMetricFamily(
            "flink_operator_reconciles_in_flight", "Reconciles running now.", labels=["kind"]
        )
