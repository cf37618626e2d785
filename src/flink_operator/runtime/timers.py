"""One heap of per-key deadlines: the only timer structure of a work queue, however many resources there are.

Each key has at most one pending deadline. `schedule(..., keep_earlier=True)` keeps an earlier deadline that
is already pending (a delayed add must not postpone work); `keep_earlier=False` replaces it (a finished
reconcile sets the next one). Superseded heap entries are skipped lazily and the heap is rebuilt when they
outnumber live ones, so memory stays proportional to the number of keys.

Pure data structure: it never sleeps; the owner asks `next_due()` and calls `pop_due(now)`.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
P = TypeVar("P")


class TimerHeap(Generic[K, P]):
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, K]] = []
        self._live: dict[K, tuple[float, int, P]] = {}
        self._seq = 0

    def schedule(self, key: K, due: float, payload: P, *, keep_earlier: bool = True) -> bool:
        """Set `key`'s deadline; returns True when the heap's earliest deadline may have moved earlier."""
        current = self._live.get(key)
        if current is not None and keep_earlier and current[0] <= due:
            return False
        self._seq += 1
        self._live[key] = (due, self._seq, payload)
        heapq.heappush(self._heap, (due, self._seq, key))
        if len(self._heap) > 2 * len(self._live) + 64:
            self._rebuild()
        return True

    def cancel(self, key: K) -> bool:
        return self._live.pop(key, None) is not None

    def due_of(self, key: K) -> float | None:
        entry = self._live.get(key)
        return None if entry is None else entry[0]

    def next_due(self) -> float | None:
        self._drop_stale_head()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[tuple[K, P]]:
        """Remove and return every (key, payload) whose deadline is <= now, earliest first."""
        fired: list[tuple[K, P]] = []
        while self._heap:
            due, seq, key = self._heap[0]
            live = self._live.get(key)
            if live is None or live[1] != seq:
                heapq.heappop(self._heap)
                continue
            if due > now:
                break
            heapq.heappop(self._heap)
            del self._live[key]
            fired.append((key, live[2]))
        return fired

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: object) -> bool:
        return key in self._live

    def _drop_stale_head(self) -> None:
        while self._heap:
            _, seq, key = self._heap[0]
            live = self._live.get(key)
            if live is not None and live[1] == seq:
                return
            heapq.heappop(self._heap)

    def _rebuild(self) -> None:
        self._heap = [(due, seq, key) for key, (due, seq, _) in self._live.items()]
        heapq.heapify(self._heap)
