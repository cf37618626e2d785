"""Watch fan-out: open watches, their filters, and the events each of them is sent.

A `Watcher` is registered for one resource (optionally one namespace and selectors) and gets every
matching committed change through its queue, with the selector transitions a real server reports
(an object that stops matching is sent as DELETED, one that starts matching as ADDED). Encoding and
streaming are the HTTP layer's job. A watcher whose consumer falls behind by more than
`max_backlog` events is closed, as a real server drops slow watchers; clients then re-list.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .selectors import Matcher
from .store import Change, ResourceKey, Stored


@dataclass(slots=True)
class WatchEvent:
    type: str
    obj: Stored


CLOSE = None


@dataclass(eq=False)
class Watcher:
    resource: ResourceKey
    namespace: str | None
    matcher: Matcher | None
    max_backlog: int = 100_000
    queue: asyncio.Queue[WatchEvent | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def translate(self, change: Change) -> WatchEvent | None:
        """The event this watcher sees for a change, or None if the change is invisible to it."""
        if self.namespace is not None and change.new.namespace != self.namespace:
            return None
        if self.matcher is None:
            return WatchEvent(change.type, change.new)
        now = self.matcher(change.new.obj)
        if change.type == "MODIFIED":
            before = change.old is not None and self.matcher(change.old.obj)
            if now and before:
                return WatchEvent("MODIFIED", change.new)
            if now:
                return WatchEvent("ADDED", change.new)
            if before:
                return WatchEvent("DELETED", change.new)
            return None
        return WatchEvent(change.type, change.new) if now else None

    def offer(self, change: Change) -> None:
        if self.closed:
            return
        event = self.translate(change)
        if event is None:
            return
        if self.queue.qsize() >= self.max_backlog:
            self.close()
            return
        self.queue.put_nowait(event)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(CLOSE)


class WatchHub:
    """Routes each committed change to the open watches of its resource."""

    def __init__(self) -> None:
        self._by_resource: dict[ResourceKey, set[Watcher]] = {}

    def on_change(self, change: Change) -> None:
        for watcher in tuple(self._by_resource.get(change.resource, ())):
            watcher.offer(change)

    def register(self, watcher: Watcher) -> None:
        self._by_resource.setdefault(watcher.resource, set()).add(watcher)

    def unregister(self, watcher: Watcher) -> None:
        watchers = self._by_resource.get(watcher.resource)
        if watchers is not None:
            watchers.discard(watcher)

    def open_count(self) -> int:
        return sum(len(w) for w in self._by_resource.values())

    def close_all(self, resource: ResourceKey | None = None) -> int:
        """Cut open watches (all, or those of one resource); returns how many were closed."""
        closed = 0
        for key, watchers in self._by_resource.items():
            if resource is not None and key != resource:
                continue
            for watcher in tuple(watchers):
                watcher.close()
                closed += 1
        return closed
