"""The work queue of one controller: deduplicated keys in priority classes, one holder per key, delayed adds.

Guarantees:
* a key is queued at most once; adding a queued key again only raises its priority class if the new one is
  more urgent;
* a key handed out by `get()` is not handed out again until `done(key)`; adds in between are remembered
  (with the most urgent class) and the key is queued again on `done`;
* strict priority between classes: `USER` work (a new object, a spec/label/annotation change, a deletion)
  is always handed out before `EVENT` work (secondary resources, immediate follow-ups) and that before
  `PERIODIC` work (requeue timers, retries). Periodic observation of 10,000 resources therefore never
  delays a user's change by more than the reconciles already running. FIFO within a class;
* all delayed adds live in one `TimerHeap` driven by a single event-loop timer, not a task per key.

A dispatcher that must first get capacity (see `slots`) looks at the next key with `peek()`, takes it with
`get_nowait()` once it has a slot, and waits for `add_listener` callbacks (a key queued, the queue shut down)
in between, so no key is held while capacity is awaited.

Not guaranteed: fairness for PERIODIC work under a sustained stream of USER work (by design it waits).
All methods must be called from the event loop that runs `get()`.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from flink_operator.runtime.timers import TimerHeap

K = TypeVar("K", bound=Hashable)

# asyncio may run a timer callback up to its clock resolution early; do not treat that as "nothing due".
_EARLY_FIRE_TOLERANCE = 0.005


class Priority(enum.IntEnum):
    """Work classes, most urgent first."""

    USER = 0
    EVENT = 1
    PERIODIC = 2


class QueueShutDown(Exception):
    """`get()` on a queue that was shut down."""


class WorkQueue(Generic[K]):
    def __init__(self) -> None:
        self._classes: tuple[deque[tuple[K, int]], ...] = tuple(deque() for _ in Priority)
        self._queued: dict[K, tuple[Priority, int]] = {}
        self._processing: set[K] = set()
        self._dirty: dict[K, Priority] = {}
        self._timers: TimerHeap[K, Priority] = TimerHeap()
        self._timer_handle: asyncio.TimerHandle | None = None
        self._timer_due: float | None = None
        self._seq = 0
        self._wakeup = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []
        self._shut_down = False

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a key is queued and when the queue shuts down."""
        self._listeners.append(listener)

    # --- adding ---------------------------------------------------------------------------------------

    def add(self, key: K, priority: Priority = Priority.USER) -> None:
        if self._shut_down:
            return
        if key in self._processing:
            previous = self._dirty.get(key)
            if previous is None or priority < previous:
                self._dirty[key] = priority
            return
        queued = self._queued.get(key)
        if queued is not None and queued[0] <= priority:
            return
        self._seq += 1
        self._queued[key] = (priority, self._seq)
        self._classes[priority].append((key, self._seq))
        self._wakeup.set()
        for listener in self._listeners:
            listener()

    def add_after(
        self, key: K, delay: float, priority: Priority = Priority.PERIODIC, *, keep_earlier: bool = True
    ) -> None:
        """Add `key` after `delay` seconds. With `keep_earlier`, an earlier pending deadline wins; without,
        the new deadline replaces any pending one."""
        if self._shut_down:
            return
        if delay <= 0:
            if not keep_earlier:
                self._timers.cancel(key)
            self.add(key, priority)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        if self._timers.schedule(key, due, priority, keep_earlier=keep_earlier):
            self._arm(loop)

    def cancel_timer(self, key: K) -> None:
        self._timers.cancel(key)

    def scheduled_at(self, key: K) -> float | None:
        """The event-loop time at which `key` is due to be added, if a timer is pending."""
        return self._timers.due_of(key)

    # --- taking ---------------------------------------------------------------------------------------

    async def get(self) -> tuple[K, Priority]:
        """The next key (most urgent class first); it stays held until `done(key)` or `defer(key, ...)`."""
        while True:
            item = self._pop()
            if item is not None:
                return item
            if self._shut_down:
                raise QueueShutDown
            self._wakeup.clear()
            await self._wakeup.wait()

    def get_nowait(self) -> tuple[K, Priority] | None:
        return self._pop()

    def peek(self) -> tuple[K, Priority] | None:
        """The key `get_nowait()` would hand out now, without taking it."""
        for priority, entries in zip(Priority, self._classes, strict=True):
            while entries:
                key, seq = entries[0]
                queued = self._queued.get(key)
                if queued is None or queued[1] != seq:
                    entries.popleft()  # superseded by a more urgent add, or forgotten
                    continue
                return key, priority
        return None

    def _pop(self) -> tuple[K, Priority] | None:
        for priority, entries in zip(Priority, self._classes, strict=True):
            while entries:
                key, seq = entries.popleft()
                queued = self._queued.get(key)
                if queued is None or queued[1] != seq:
                    continue  # superseded by a more urgent add, or forgotten
                del self._queued[key]
                self._processing.add(key)
                return key, priority
        return None

    def done(self, key: K) -> None:
        """Release `key`; if it was added while held, queue it again."""
        self._processing.discard(key)
        again = self._dirty.pop(key, None)
        if again is not None:
            self.add(key, again)

    def defer(self, key: K, delay: float, priority: Priority) -> None:
        """Release a held `key` without running it and add it after `delay` (e.g. rate limited), keeping the
        most urgent class of any add that happened while it was held."""
        self._processing.discard(key)
        again = self._dirty.pop(key, None)
        if again is not None and again < priority:
            priority = again
        self.add_after(key, delay, priority)

    def forget(self, key: K) -> None:
        """Drop everything pending for `key` (queued, remembered and timed). A held key stays held."""
        self._queued.pop(key, None)
        self._dirty.pop(key, None)
        self._timers.cancel(key)

    # --- state ----------------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Keys waiting to be handed out (not counting timers or held keys)."""
        return len(self._queued)

    def is_processing(self, key: K) -> bool:
        return key in self._processing

    @property
    def processing_count(self) -> int:
        return len(self._processing)

    @property
    def timer_count(self) -> int:
        return len(self._timers)

    def pending_by_class(self) -> dict[Priority, int]:
        counts = dict.fromkeys(Priority, 0)
        for priority, _ in self._queued.values():
            counts[priority] += 1
        return counts

    def shut_down(self) -> None:
        """Stop handing out work: waiting and future `get()` calls raise `QueueShutDown`."""
        self._shut_down = True
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
        self._wakeup.set()
        for listener in self._listeners:
            listener()

    @property
    def is_shut_down(self) -> bool:
        return self._shut_down

    # --- the single timer -----------------------------------------------------------------------------

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        due = self._timers.next_due()
        if due == self._timer_due and self._timer_handle is not None:
            return
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
        self._timer_due = due
        if due is not None and not self._shut_down:
            self._timer_handle = loop.call_at(due, self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer_handle = None
        self._timer_due = None
        for key, priority in self._timers.pop_due(loop.time() + _EARLY_FIRE_TOLERANCE):
            self.add(key, priority)
        self._arm(loop)
