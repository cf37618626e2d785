"""A bounded asyncio queue that never blocks the producer: when full, the oldest item makes room.

Used for every listener's queue and the HTTP sink's send queue. `put` is synchronous and returns the item it
pushed out (for counting); `join` waits until every item taken with `get` was marked `task_done` and nothing
is queued. Single event loop, no thread safety.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"queue size must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._not_empty = asyncio.Event()
        self._all_done = asyncio.Event()
        self._all_done.set()
        self._unfinished = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> T | None:
        """Append `item`; return the oldest item if it had to be dropped to make room."""
        dropped = None
        if len(self._items) >= self.maxsize:
            dropped = self._items.popleft()
            self._unfinished -= 1
        self._items.append(item)
        self._unfinished += 1
        self._all_done.clear()
        self._not_empty.set()
        return dropped

    async def get(self) -> T:
        while not self._items:
            self._not_empty.clear()
            await self._not_empty.wait()
        return self._items.popleft()

    def task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished <= 0:
            self._unfinished = 0
            self._all_done.set()

    async def join(self) -> None:
        await self._all_done.wait()

    def clear(self) -> int:
        """Drop everything queued; return how many items that was."""
        count = len(self._items)
        self._items.clear()
        self._unfinished = max(self._unfinished - count, 0)
        if self._unfinished == 0:
            self._all_done.set()
        return count
