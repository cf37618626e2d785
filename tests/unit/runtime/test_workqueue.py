"""The timer heap and the work queue: deduplication, one holder per key, priority classes, delays."""

from __future__ import annotations

import asyncio

import pytest
from tests.support.conditions import until

from flink_operator.runtime import Priority, QueueShutDown, TimerHeap, WorkQueue

pytestmark = pytest.mark.unit


# --- timer heap -------------------------------------------------------------------------------------------


def test_timer_heap_pops_due_keys_in_deadline_order() -> None:
    heap: TimerHeap[str, int] = TimerHeap()
    heap.schedule("c", 3.0, 30)
    heap.schedule("a", 1.0, 10)
    heap.schedule("b", 2.0, 20)
    assert heap.next_due() == 1.0
    assert heap.pop_due(2.5) == [("a", 10), ("b", 20)]
    assert heap.pop_due(2.9) == []
    assert len(heap) == 1 and "c" in heap


def test_timer_heap_keeps_one_deadline_per_key() -> None:
    heap: TimerHeap[str, str] = TimerHeap()
    heap.schedule("k", 5.0, "first")
    assert heap.schedule("k", 9.0, "later") is False  # keep_earlier: the earlier deadline stays
    assert heap.due_of("k") == 5.0
    assert heap.schedule("k", 9.0, "replace", keep_earlier=False) is True
    assert heap.pop_due(6.0) == []
    assert heap.pop_due(9.0) == [("k", "replace")]
    assert len(heap) == 0


def test_timer_heap_cancel_and_memory_stays_bounded_under_rescheduling() -> None:
    heap: TimerHeap[int, None] = TimerHeap()
    for round_ in range(50):
        for key in range(100):
            heap.schedule(key, float(1000 - round_), None, keep_earlier=False)
    assert len(heap) == 100
    assert len(heap._heap) <= 2 * 100 + 64 + 1
    assert heap.cancel(3) and not heap.cancel(3)
    assert len(heap.pop_due(10_000.0)) == 99


# --- work queue -------------------------------------------------------------------------------------------


async def test_queue_deduplicates_and_hands_out_fifo_within_a_class() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "c", "b"):
        queue.add(key, Priority.USER)
    assert len(queue) == 3
    assert [(await queue.get())[0] for _ in range(3)] == ["a", "b", "c"]
    assert queue.get_nowait() is None


async def test_queue_serves_user_work_before_event_before_periodic() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for i in range(5):
        queue.add(f"p{i}", Priority.PERIODIC)
    queue.add("e", Priority.EVENT)
    queue.add("u", Priority.USER)
    order = [(await queue.get())[0] for _ in range(7)]
    assert order == ["u", "e", "p0", "p1", "p2", "p3", "p4"]


async def test_queue_upgrades_a_queued_key_to_a_more_urgent_class_without_duplicating_it() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("x", Priority.PERIODIC)
    queue.add("y", Priority.PERIODIC)
    queue.add("y", Priority.USER)
    queue.add("y", Priority.PERIODIC)  # a less urgent add changes nothing
    assert queue.pending_by_class() == {Priority.USER: 1, Priority.EVENT: 0, Priority.PERIODIC: 1}
    assert await queue.get() == ("y", Priority.USER)
    assert await queue.get() == ("x", Priority.PERIODIC)
    assert queue.get_nowait() is None


async def test_a_held_key_is_not_handed_out_again_until_done_then_requeued_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("k", Priority.PERIODIC)
    assert await queue.get() == ("k", Priority.PERIODIC)
    queue.add("k", Priority.PERIODIC)
    queue.add("k", Priority.USER)
    queue.add("k", Priority.EVENT)
    assert queue.get_nowait() is None and queue.is_processing("k")
    queue.done("k")
    assert queue.get_nowait() == ("k", Priority.USER)
    queue.done("k")
    assert queue.get_nowait() is None


async def test_get_waits_for_work_and_shut_down_wakes_waiters() -> None:
    queue: WorkQueue[str] = WorkQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.add("late")
    assert await asyncio.wait_for(getter, 1) == ("late", Priority.USER)
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.shut_down()
    with pytest.raises(QueueShutDown):
        await asyncio.wait_for(waiting, 1)
    queue.add("ignored")
    assert len(queue) == 0


async def test_add_after_fires_through_one_timer_and_keeps_the_earliest_deadline() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("slow", 30.0)
    queue.add_after("fast", 0.02)
    queue.add_after("slow", 60.0)  # keep_earlier: still due in 30 s
    loop = asyncio.get_running_loop()
    due = queue.scheduled_at("slow")
    assert due is not None and due - loop.time() < 31
    assert queue.timer_count == 2 and len(queue) == 0
    assert await asyncio.wait_for(queue.get(), 2) == ("fast", Priority.PERIODIC)
    queue.add_after("slow", 0.01, keep_earlier=False)
    assert await asyncio.wait_for(queue.get(), 2) == ("slow", Priority.PERIODIC)
    assert queue.timer_count == 0


async def test_a_timer_firing_for_a_held_key_requeues_it_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("k")
    await queue.get()
    queue.add_after("k", 0.01, Priority.PERIODIC)
    await until(lambda: queue.timer_count == 0, within=2, what="the timer fired")
    assert queue.get_nowait() is None
    queue.done("k")
    assert queue.get_nowait() == ("k", Priority.PERIODIC)


async def test_defer_releases_a_held_key_and_keeps_the_most_urgent_pending_class() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("k", Priority.PERIODIC)
    await queue.get()
    queue.add("k", Priority.USER)
    queue.defer("k", 0.01, Priority.PERIODIC)
    assert not queue.is_processing("k")
    assert await asyncio.wait_for(queue.get(), 2) == ("k", Priority.USER)


async def test_forget_drops_queued_remembered_and_timed_work() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("queued")
    queue.add_after("timed", 10)
    queue.add("held")
    queue.add("other")
    assert (await queue.get())[0] == "queued"
    queue.add("queued")  # remembered while held
    for key in ("queued", "timed"):
        queue.forget(key)
    queue.done("queued")
    assert queue.timer_count == 0
    assert [queue.get_nowait(), queue.get_nowait(), queue.get_nowait()] == [
        ("held", Priority.USER), ("other", Priority.USER), None,
    ]

