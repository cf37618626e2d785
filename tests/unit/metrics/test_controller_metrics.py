"""Reconcile counting and timing around a controller's reconciler, and event counts."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import cast

import pytest
from prometheus_client import CollectorRegistry

from flink_operator.metrics.controller_metrics import ReconcileMetrics, wrap_reconciler
from flink_operator.runtime import (
    ControllerContext,
    EventTarget,
    ExhaustionAware,
    NotLeader,
    Reconciler,
    RecordedEvent,
    Request,
    Result,
)
from flink_operator.runtime.cache import CachedObject, Store
from flink_operator.runtime.kinds import Kind, ObjectKey

pytestmark = pytest.mark.unit

KIND = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
KEY = ObjectKey("ns", "demo")


class Scripted:
    """Fails while `failures` is positive, raises `NotLeader` when told to, else returns a result."""

    def __init__(self) -> None:
        self.failures = 0
        self.not_leader = False

    async def reconcile(self, request: Request) -> Result:
        if self.not_leader:
            raise NotLeader()
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("boom")
        return Result.after(60)


class Exhausting(Scripted):
    async def on_retries_exhausted(self, request: Request, error: BaseException) -> Result | None:
        return Result.after(5)


def build(
    inner: Scripted, metrics: ReconcileMetrics | None, gone: list[ObjectKey]
) -> tuple[Reconciler, Store]:
    store = Store(KIND)
    store.upsert(CachedObject.from_dict({"metadata": {"name": KEY.name, "namespace": KEY.namespace}}))
    factory = wrap_reconciler("FlinkDeployment", lambda _ctx: inner, metrics, gone.append)
    context = cast(ControllerContext, SimpleNamespace(store=store))
    return factory(context), store


def sample(registry: CollectorRegistry, metric: str, **labels: str) -> float:
    return registry.get_sample_value(metric, {"kind": "FlinkDeployment", **labels}) or 0.0


async def test_successes_failures_and_retries_are_counted_and_timed() -> None:
    registry = CollectorRegistry()
    inner = Scripted()
    reconciler, _ = build(inner, ReconcileMetrics(registry), [])
    inner.failures = 2
    for _ in range(2):
        with pytest.raises(RuntimeError):
            await reconciler.reconcile(KEY)
    assert await reconciler.reconcile(KEY) == Result.after(60)
    await reconciler.reconcile(KEY)
    assert sample(registry, "flink_operator_reconcile_started_total") == 4
    assert sample(registry, "flink_operator_reconcile_failed_total") == 2
    assert sample(registry, "flink_operator_reconcile_finished_total") == 2
    # The second failure and the first success followed a failure; the last one did not.
    assert sample(registry, "flink_operator_reconcile_retries_total") == 2
    duration = "flink_operator_reconcile_duration_seconds_count"
    assert sample(registry, duration, outcome="failure") == 2
    assert sample(registry, duration, outcome="success") == 2


async def test_lost_leadership_and_cancellation_are_neither_success_nor_failure() -> None:
    registry = CollectorRegistry()
    inner = Scripted()
    reconciler, _ = build(inner, ReconcileMetrics(registry), [])
    inner.not_leader = True
    with pytest.raises(NotLeader):
        await reconciler.reconcile(KEY)
    assert sample(registry, "flink_operator_reconcile_started_total") == 1
    assert sample(registry, "flink_operator_reconcile_failed_total") == 0
    assert sample(registry, "flink_operator_reconcile_finished_total") == 0

    class Hanging(Scripted):
        async def reconcile(self, request: Request) -> Result:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    hanging, _ = build(Hanging(), ReconcileMetrics(CollectorRegistry()), [])
    task = asyncio.ensure_future(hanging.reconcile(KEY))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_exhaustion_awareness_is_kept_and_delegated() -> None:
    plain, _ = build(Scripted(), None, [])
    assert not isinstance(plain, ExhaustionAware)
    aware, _ = build(Exhausting(), None, [])
    assert isinstance(aware, ExhaustionAware)
    assert await aware.on_retries_exhausted(KEY, RuntimeError("x")) == Result.after(5)


async def test_keys_gone_after_their_reconcile_are_reported_even_without_counting() -> None:
    gone: list[ObjectKey] = []
    reconciler, store = build(Scripted(), None, gone)
    await reconciler.reconcile(KEY)
    assert gone == []
    store.remove(KEY)
    await reconciler.reconcile(KEY)
    assert gone == [KEY]


async def test_resource_labels() -> None:
    registry = CollectorRegistry()
    reconciler, _ = build(Scripted(), ReconcileMetrics(registry, resource_labels=True), [])
    await reconciler.reconcile(KEY)
    labels = {"namespace": "ns", "name": "demo"}
    assert sample(registry, "flink_operator_reconcile_finished_total", **labels) == 1


def test_events_are_counted_by_kind_type_and_reason() -> None:
    registry = CollectorRegistry()
    metrics = ReconcileMetrics(registry)
    target = EventTarget("flink.apache.org/v1beta1", "FlinkDeployment", "demo", "ns")
    for _ in range(2):
        metrics.on_event(RecordedEvent("e", target, "Normal", "Submit", "m", "JobManagerDeployment", 1))
    labels = {"kind": "FlinkDeployment", "type": "Normal", "reason": "Submit"}
    assert registry.get_sample_value("flink_operator_events_total", labels) == 2
