"""Watching FlinkDeployments, FlinkSessionJobs and Events through the API and turning them into progress.

The I/O shell around `progress.ProgressTracker`: shared informers (list + watch, resumed after drops)
feed the tracker; each resulting line goes to `sink`. `wait_for(predicate)` lets a caller (the demo)
wait, bounded, for a state of the tracked resources.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from flink_operator.local_mode.progress import ProgressLine, ProgressTracker
from flink_operator.runtime import EVENT, Change, ChangeType, Kind, KubeApi, SharedInformer

FLINK_DEPLOYMENT = Kind.custom("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
FLINK_SESSION_JOB = Kind.custom("flink.apache.org", "v1beta1", "FlinkSessionJob", "flinksessionjobs")

Sink = Callable[[ProgressLine], None]


class ProgressWatcher:
    def __init__(self, api: KubeApi, sink: Sink, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.tracker = ProgressTracker(clock)
        self._api = api
        self._sink = sink
        self._informers: list[SharedInformer] = []
        self._changed = asyncio.Condition()

    async def start(self, *, within: float = 30.0) -> None:
        """Start watching; returns once every kind has been listed (existing resources are shown)."""
        for kind in (FLINK_DEPLOYMENT, FLINK_SESSION_JOB):
            informer = SharedInformer(self._api, kind)
            informer.add_handler(self._on_resource)
            self._informers.append(informer)
        events = SharedInformer(self._api, EVENT)
        events.add_handler(lambda change: self._on_event(change, listed=events.synced))
        self._informers.append(events)
        for informer in self._informers:
            informer.set_namespaces(None)
        async with asyncio.timeout(within):
            await asyncio.gather(*(informer.wait_synced() for informer in self._informers))

    async def stop(self) -> None:
        for informer in self._informers:
            await informer.stop()
        self._informers.clear()

    def _emit(self, lines: list[ProgressLine]) -> None:
        for line in lines:
            self._sink(line)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _on_resource(self, change: Change) -> None:
        document = json.loads(change.obj.raw)
        if change.type is ChangeType.DELETED:
            self._emit(self.tracker.deleted(document))
        elif change.type in (ChangeType.ADDED, ChangeType.MODIFIED):
            self._emit(self.tracker.resource(document))

    def _on_event(self, change: Change, *, listed: bool) -> None:
        if change.type in (ChangeType.ADDED, ChangeType.MODIFIED):
            self._emit(self.tracker.event(json.loads(change.obj.raw), old=not listed))

    async def wait_for(self, predicate: Callable[[ProgressTracker], bool], *, within: float) -> bool:
        """Wait until `predicate(tracker)` holds (checked after every change); False after `within` s."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: predicate(self.tracker))
        except TimeoutError:
            return False
        return True
