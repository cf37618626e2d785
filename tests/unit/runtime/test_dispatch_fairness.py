"""Fairness of the dispatcher under a burst: a slot is taken before a key, capacity is kept for user-driven
work, periodic requeues are spread, and the queue/slot primitives these rest on."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from lightkube import AsyncClient, KubeConfig
from tests.support.conditions import until

from flink_operator.runtime import (
    CachedObject,
    ControllerContext,
    ControllerSpec,
    KubeApi,
    ObjectKey,
    Priority,
    RateLimiter,
    Request,
    Result,
    RetryPolicy,
    StatusWriter,
    Store,
    WorkQueue,
)
from flink_operator.runtime.kinds import Kind
from flink_operator.runtime.runner import PERIODIC_JITTER_MAX_S, ControllerRunner, jittered
from flink_operator.runtime.slots import WorkerSlots, default_reserve

pytestmark = pytest.mark.unit

KIND = Kind.custom("example.com", "v1", "Widget", "widgets")
UNUSED_SERVER = KubeConfig.from_dict({
    "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
    "users": [{"name": "u", "user": {"token": "unused"}}],
    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    "current-context": "c",
})


def widget(name: str) -> CachedObject:
    return CachedObject.from_dict(
        {"apiVersion": "example.com/v1", "kind": "Widget",
         "metadata": {"name": name, "namespace": "default", "uid": name, "resourceVersion": "1"}}
    )


class Gate:
    """A reconciler whose reconciles wait until released, one by one or all at once."""

    def __init__(self, result: Result | None = None) -> None:
        self.result = result or Result.done()
        self.started: list[tuple[str, float]] = []
        self.open = asyncio.Event()
        self.running: set[str] = set()

    def reconciler(self, _ctx: ControllerContext) -> Gate:
        return self

    async def reconcile(self, request: Request) -> Result:
        self.started.append((request.name, asyncio.get_running_loop().time()))
        self.running.add(request.name)
        try:
            await self.open.wait()
            return self.result
        finally:
            self.running.discard(request.name)

    def names(self) -> list[str]:
        return [name for name, _ in self.started]


@asynccontextmanager
async def running(
    gate: Gate, names: list[str], slots: WorkerSlots | None, rand: float = 0.5
) -> AsyncIterator[ControllerRunner]:
    store = Store(KIND)
    for name in names:
        store.upsert(widget(name))
    # Nothing here reaches the API server: the reconciler neither writes nor records events.
    client = AsyncClient(config=UNUSED_SERVER)
    runner = ControllerRunner(
        ControllerSpec("widgets", KIND, gate.reconciler),
        store,
        StatusWriter(KubeApi(client), KIND),
        retry=RetryPolicy(),
        rate_limiter=RateLimiter(limit=0, period=1.0),
        slots=slots,
        rand=lambda: rand,
    )
    runner.start(gate)
    try:
        yield runner
    finally:
        gate.open.set()
        await runner.stop(1.0)
        await client.close()


def key(name: str) -> ObjectKey:
    return ObjectKey("default", name)


# --- the primitives ----------------------------------------------------------------------------------


async def test_peek_shows_the_next_key_without_taking_it_and_listeners_hear_of_adds() -> None:
    queue: WorkQueue[str] = WorkQueue()
    heard: list[int] = []
    queue.add_listener(lambda: heard.append(len(queue)))
    assert queue.peek() is None
    queue.add("periodic", Priority.PERIODIC)
    queue.add("user", Priority.USER)
    queue.add("user", Priority.USER)  # already queued: no news
    assert heard == [1, 2]
    assert queue.peek() == ("user", Priority.USER)
    assert len(queue) == 2 and not queue.is_processing("user")
    assert queue.get_nowait() == ("user", Priority.USER)
    queue.add("periodic", Priority.USER)  # raised: its stale PERIODIC entry is skipped
    assert queue.peek() == ("periodic", Priority.USER)
    queue.shut_down()
    assert heard[-1] == len(queue)
    assert len(heard) == 4


def test_slots_keep_a_reserve_for_urgent_work() -> None:
    assert [default_reserve(n) for n in (1, 2, 9, 10, 50, 200)] == [0, 1, 1, 1, 5, 20]
    slots = WorkerSlots(10)
    released: list[int] = []
    slots.on_change(lambda: released.append(slots.in_use))
    assert all(slots.try_acquire(urgent=False) for _ in range(9))
    assert not slots.try_acquire(urgent=False)
    assert slots.try_acquire(urgent=True)
    assert not slots.try_acquire(urgent=True)
    slots.release()
    assert released == [9]
    assert not slots.try_acquire(urgent=False)  # the free slot is the reserved one
    slots.release()
    assert slots.try_acquire(urgent=False)
    with pytest.raises(ValueError, match="reserved slots"):
        WorkerSlots(4, reserved=4)
    with pytest.raises(ValueError, match="at least 1"):
        WorkerSlots(0)


def test_periodic_delays_are_only_ever_stretched_and_by_a_bounded_amount() -> None:
    assert jittered(15.0, 0.0) == 15.0
    assert jittered(15.0, 0.5) == pytest.approx(15.75)
    assert jittered(15.0, 0.999) < 16.5
    assert jittered(3600.0, 0.999) < 3600.0 + PERIODIC_JITTER_MAX_S


# --- the dispatcher ----------------------------------------------------------------------------------


async def test_a_key_waiting_for_a_slot_is_not_taken_off_the_queue() -> None:
    gate = Gate()
    async with running(gate, ["a", "b", "c"], WorkerSlots(1, reserved=0)) as runner:
        runner.queue.add(key("a"), Priority.PERIODIC)
        await until(lambda: gate.names() == ["a"], what="a running")
        runner.queue.add(key("b"), Priority.PERIODIC)
        runner.queue.add(key("c"), Priority.USER)
        await asyncio.sleep(0)  # the dispatcher had its chance to (wrongly) take one
        # Both wait on the queue, unheld: a change to either is simply merged into its entry.
        assert not runner.queue.is_processing(key("b")) and not runner.queue.is_processing(key("c"))
        assert len(runner.queue) == 2
        gate.open.set()
        await until(lambda: len(gate.started) == 3, what="all ran")
    # The slot went to the most urgent key when it freed, not to the one that was waiting first.
    assert gate.names() == ["a", "c", "b"]


async def test_user_work_gets_a_reserved_slot_while_periodic_work_fills_the_rest() -> None:
    gate = Gate()
    names = [f"p{i}" for i in range(12)] + ["user"]
    async with running(gate, names, WorkerSlots(10)) as runner:
        for i in range(12):
            runner.queue.add(key(f"p{i}"), Priority.PERIODIC)
        await until(lambda: len(gate.running) == 9, what="periodic work in 9 of 10 slots")
        await asyncio.sleep(0.05)
        assert len(gate.running) == 9 and len(runner.queue) == 3
        runner.queue.add(key("user"), Priority.USER)
        await until(lambda: "user" in gate.running, what="the user's change running at once")
        assert len(gate.running) == 10


async def test_a_user_driven_follow_up_may_use_the_reserve_too() -> None:
    gate = Gate()
    names = [f"p{i}" for i in range(10)] + ["upgrade"]
    async with running(gate, names, WorkerSlots(10)) as runner:
        for i in range(10):
            runner.queue.add(key(f"p{i}"), Priority.PERIODIC)
        await until(lambda: len(gate.running) == 9, what="periodic work in 9 of 10 slots")
        runner._continuing.add(key("upgrade"))  # as after a USER reconcile that asked to continue at once
        runner.queue.add(key("upgrade"), Priority.EVENT)
        await until(lambda: "upgrade" in gate.running, what="the follow-up running")


async def test_periodic_requeues_of_resources_reconciled_together_are_spread() -> None:
    gate = Gate(Result.after(20))
    gate.open.set()
    names = [f"w{i}" for i in range(4)]
    draws = iter([0.0, 0.25, 0.5, 0.75])
    async with running(gate, names, None) as runner:
        runner._rand = lambda: next(draws)
        started = asyncio.get_running_loop().time()
        for name in names:
            runner.queue.add(key(name), Priority.USER)
        await until(lambda: runner.queue.timer_count == 4, what="every widget's next resync scheduled")
        due = sorted(runner.queue.scheduled_at(key(name)) or 0.0 for name in names)
    offsets = [d - started for d in due]
    assert all(20.0 <= offset < 22.5 for offset in offsets), offsets
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    assert all(gap > 0.3 for gap in gaps), gaps  # 0.5 s apart by the draws, less the time between runs
