"""Time for the fake Flink server: a clock and one timer queue shared by every virtual cluster.

All delayed behaviour of the fake (a job reaching RUNNING, a savepoint completing, periodic checkpoints,
a rescale being applied) is an entry in one heap, run by a single task, and also run on demand before each
request is handled. So thousands of virtual clusters cost no tasks of their own, and a request made after
an event's due time always sees it.

Not guaranteed: events due at the same instant run in the order they were scheduled; nothing here is
real-time (an event runs no earlier than due, and as soon as the loop gets to it).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Clock", "SystemClock", "Timers"]


class Clock:
    """Monotonic seconds for scheduling and wall-clock milliseconds for the timestamps Flink reports."""

    def monotonic(self) -> float:
        raise NotImplementedError

    def wall_ms(self) -> int:
        raise NotImplementedError


class SystemClock(Clock):
    def monotonic(self) -> float:
        return time.monotonic()

    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000


@dataclass(order=True)
class _Entry:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Timer:
    """A handle to cancel a scheduled action."""

    def __init__(self, entry: _Entry) -> None:
        self._entry = entry

    def cancel(self) -> None:
        self._entry.cancelled = True

    @property
    def due(self) -> float:
        return self._entry.due


class Timers:
    """A heap of (due time, action); :meth:`run_due` runs every action that is due, in order."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self.on_schedule: Callable[[float], None] | None = None

    def after(self, delay: float, action: Callable[[], None]) -> Timer:
        return self.at(self.clock.monotonic() + max(0.0, delay), action)

    def at(self, due: float, action: Callable[[], None]) -> Timer:
        entry = _Entry(due, next(self._seq), action)
        heapq.heappush(self._heap, entry)
        if self.on_schedule is not None:
            self.on_schedule(due)
        return Timer(entry)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due if self._heap else None

    def run_due(self) -> int:
        """Run every due action (actions may schedule more; those run too if already due)."""
        ran = 0
        while True:
            due = self.next_due()
            if due is None or due > self.clock.monotonic():
                return ran
            entry = heapq.heappop(self._heap)
            entry.action()
            ran += 1

    def __len__(self) -> int:
        return sum(1 for e in self._heap if not e.cancelled)
