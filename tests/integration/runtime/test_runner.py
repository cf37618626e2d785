"""How reconciles are run, with a probing reconciler against the emulator: bounded and unbounded
parallelism, one reconcile per key at a time, retries with backoff until exhausted, rate limiting."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from tests.support.conditions import until
from tests.support.runtime_kit import COUNTER, COUNTER_CRD, api_for, client_for, counter

from flink_operator.config import DefaultConfiguration
from flink_operator.runtime import (
    ControllerContext,
    ControllerSpec,
    KubeApi,
    Manager,
    ObjectKey,
    Request,
    Result,
)
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

Behaviour = Callable[[Request], Awaitable[Result]]


class Probe:
    """Records concurrency and timing of reconciles; what each does is the test's `behaviour`."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.calls: list[tuple[float, Request]] = []
        self.running: Counter[Request] = Counter()
        self.max_per_key = 0
        self.max_total = 0
        self.exhausted: list[Request] = []
        self.after_exhaustion: Result | None = None

    def reconciler(self, _ctx: ControllerContext) -> Probe:
        return self

    @property
    def total(self) -> int:
        return sum(self.running.values())

    async def reconcile(self, request: Request) -> Result:
        self.calls.append((time.monotonic(), request))
        self.running[request] += 1
        self.max_per_key = max(self.max_per_key, self.running[request])
        self.max_total = max(self.max_total, self.total)
        try:
            return await self.behaviour(request)
        finally:
            self.running[request] -= 1

    async def on_retries_exhausted(self, request: Request, error: BaseException) -> Result | None:
        self.exhausted.append(request)
        return self.after_exhaustion

    def calls_for(self, name: str) -> list[float]:
        return [at for at, request in self.calls if request.name == name]


@pytest_asyncio.fixture
async def api(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[KubeApi]:
    await api_server.hooks.seed([COUNTER_CRD])
    kube = api_for(api_kubeconfig)
    yield kube
    await kube.client.close()


@asynccontextmanager
async def managed(kubeconfig: Path, probe: Probe, **settings: str) -> AsyncIterator[Manager]:
    values = {"kubernetes.operator.rate-limiter.limit": "0", **settings}
    client = client_for(kubeconfig)
    manager = Manager(client, DefaultConfiguration(values), namespace="default", identity="op",
                      leader_election=False, health_port=-1)
    manager.add(ControllerSpec("probe", COUNTER, probe.reconciler))
    await manager.start()
    try:
        yield manager
    finally:
        await manager.stop()
        await client.close()


def gated() -> tuple[asyncio.Event, Behaviour]:
    gate = asyncio.Event()

    async def behaviour(_request: Request) -> Result:
        await gate.wait()
        return Result.done()

    return gate, behaviour


@pytest.mark.parametrize(("parallelism", "expected"), [("3", 3), ("-1", 12)])
async def test_parallelism_bounds_concurrent_reconciles_and_minus_one_means_unbounded(
    api: KubeApi, api_kubeconfig: Path, parallelism: str, expected: int
) -> None:
    for i in range(12):
        await api.create(COUNTER, counter(f"c{i}"))
    gate, behaviour = gated()
    probe = Probe(behaviour)
    async with managed(api_kubeconfig, probe, **{"kubernetes.operator.reconcile.parallelism": parallelism}):
        await until(lambda: probe.total == expected, what=f"{expected} reconciles running")
        gate.set()
        await until(lambda: len({r for _, r in probe.calls}) == 12, what="every counter reconciled")
    assert probe.max_total == expected and probe.max_per_key == 1


async def test_changes_during_a_reconcile_cause_exactly_one_more_reconcile_of_that_key(
    api: KubeApi, api_kubeconfig: Path
) -> None:
    await api.create(COUNTER, counter("c"))
    gate, behaviour = gated()
    probe = Probe(behaviour)
    async with managed(api_kubeconfig, probe) as manager:
        await until(lambda: probe.total == 1, what="first reconcile running")
        for size in range(1, 6):
            last = await api.patch(COUNTER, "c", "default", {"spec": {"size": size}})
        store = manager.runner("probe").store
        wanted = last["metadata"]["resourceVersion"]

        def seen() -> bool:
            cached = store.cached(ObjectKey("default", "c"))
            return cached is not None and cached.resource_version == wanted

        await until(seen, what="the informer saw every patch")
        gate.set()
        await until(lambda: len(probe.calls) == 2 and probe.total == 0, what="one follow-up reconcile")
        await api.patch(COUNTER, "c", "default", {"status": {"ignored": True}}, subresource="status")
        await api.patch(COUNTER, "c", "default", {"metadata": {"labels": {"team": "x"}}})
        await until(lambda: len(probe.calls) == 3, what="a label change is a user change")
    assert probe.max_per_key == 1 and len(probe.calls) == 3  # the status-only change caused none


async def test_failures_are_retried_with_growing_delays_until_exhausted(
    api: KubeApi, api_kubeconfig: Path
) -> None:
    await api.create(COUNTER, counter("c"))

    async def failing(_request: Request) -> Result:
        raise RuntimeError("the Flink REST API is down")

    probe = Probe(failing)
    probe.after_exhaustion = Result.after(0.05)
    settings = {
        "kubernetes.operator.retry.initial.interval": "100 ms",
        "kubernetes.operator.retry.interval.multiplier": "2",
        "kubernetes.operator.retry.max.attempts": "3",
    }
    async with managed(api_kubeconfig, probe, **settings) as manager:
        await until(lambda: len(probe.exhausted) == 1, what="retries exhausted")
        await until(lambda: len(probe.calls) >= 5, what="the exhaustion handler's requeue is honoured")
        stats = manager.runner("probe").stats
    times = probe.calls_for("c")
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[:4])]
    for gap, nominal in zip(gaps, (0.1, 0.2, 0.4), strict=True):
        assert nominal * 0.85 <= gap <= nominal * 1.1 + 0.25, gaps
    assert stats.exhausted >= 1 and stats.failed >= 4


async def test_rate_limiter_defers_a_hot_key_without_dropping_it(api: KubeApi, api_kubeconfig: Path) -> None:
    await api.create(COUNTER, counter("hot"))

    async def again(_request: Request) -> Result:
        return Result.now()

    probe = Probe(again)
    settings = {
        "kubernetes.operator.rate-limiter.limit": "2",
        "kubernetes.operator.rate-limiter.refresh-period": "1 s",
    }
    async with managed(api_kubeconfig, probe, **settings) as manager:
        await until(lambda: len(probe.calls) >= 4, within=5, what="reconciles in a second window")
        limited = manager.runner("probe").stats.rate_limited
    times = probe.calls_for("hot")
    first_window = [t for t in times if t - times[0] < 0.95]
    assert len(first_window) == 2 and limited >= 1
    assert times[2] - times[0] >= 0.95


async def test_the_next_step_of_a_user_change_is_not_held_back_by_the_rate_limiter(
    api: KubeApi, api_kubeconfig: Path
) -> None:
    await api.create(COUNTER, counter("c"))
    steps = iter([Result.now(), Result.done(), Result.now(), Result.now(), Result.done()])

    async def behaviour(_request: Request) -> Result:
        return next(steps, Result.done())

    probe = Probe(behaviour)
    settings = {
        "kubernetes.operator.rate-limiter.limit": "2",
        "kubernetes.operator.rate-limiter.refresh-period": "3 s",
    }
    async with managed(api_kubeconfig, probe, **settings):
        await until(lambda: len(probe.calls) == 2, what="creation and its next step")
        await api.patch(COUNTER, "c", "default", {"spec": {"size": 7}})
        await until(lambda: len(probe.calls) == 5, within=6, what="the change, its next step, one more")
    times = probe.calls_for("c")
    # The window's allowance (2) is used up by the creation; the change (a user's) and its immediate next
    # step run at once; a second self-requested step waits for the window to end.
    assert times[3] - times[2] < 0.5, times
    assert times[4] - times[0] >= 2.9, times


async def test_a_bad_parallelism_fails_start_up(api_kubeconfig: Path) -> None:
    client = client_for(api_kubeconfig)
    manager = Manager(client, DefaultConfiguration({"kubernetes.operator.reconcile.parallelism": "0"}),
                      namespace="default", leader_election=False, health_port=-1)
    with pytest.raises(ValueError, match=r"reconcile\.parallelism"):
        await manager.start()
    await client.close()


async def test_a_resource_deleted_during_its_reconcile_is_not_retried(
    api: KubeApi, api_kubeconfig: Path
) -> None:
    key = ObjectKey("default", "c")
    managers: list[Manager] = []

    async def deleting(request: Request) -> Result:
        await api.delete(COUNTER, request.name, request.namespace)
        store = managers[0].runner("probe").store
        await until(lambda: key not in store, what="the informer saw the deletion")
        await api.get(COUNTER, request.name, request.namespace)  # 404: the resource is gone
        return Result.done()

    probe = Probe(deleting)
    settings = {"kubernetes.operator.retry.initial.interval": "100 ms"}
    async with managed(api_kubeconfig, probe, **settings) as manager:
        managers.append(manager)
        await until(lambda: bool(manager.runners), what="the controller running")
        await api.create(COUNTER, counter("c"))
        runner = manager.runner("probe")
        await until(
            lambda: runner.stats.failed >= 1 and probe.total == 0 and runner.queue.processing_count == 0,
            what="the failed reconcile",
        )
        # Its deletion event may bring one more reconcile, which finds nothing either; none is retried.
        assert runner.queue.scheduled_at(key) is None and runner.queue.timer_count == 0
        assert len(runner.queue) == 0 and runner.stats.exhausted == 0
        assert runner.stats.failed == runner.stats.started == len(probe.calls) <= 2
