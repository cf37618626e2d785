"""Informers: keep a `Store` in step with the API server by list + watch, and tell handlers what changed.

`Informer` covers one kind in one namespace (or all namespaces): it lists, then watches from the list's
resourceVersion with bookmarks, resumes a dropped or timed-out watch from the last resourceVersion it saw
(event or bookmark), and on 410 Gone lists again and diffs the store against the list, so objects deleted
while it was not watching are reported as DELETED. Connection errors are retried with capped, jittered
exponential backoff; the informer reports itself unhealthy meanwhile.

`SharedInformer` is what controllers use: one store per (kind, label selector) shared by every controller
that watches it, fed by one `Informer` per watched namespace (or one cluster-wide). The namespace set can
change at runtime; objects of namespaces no longer watched are dropped and reported as FORGOTTEN (not
DELETED: they still exist, the operator just stopped looking).

Handlers run synchronously on the event loop and must be quick (classify, enqueue). A handler that raises
is logged and does not stop the informer. Not guaranteed: events of one object between two lists are
collapsed when a 410 forces a relist (only the latest state is seen, as with any informer).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from flink_operator.runtime.cache import CachedObject, Indexer, Store, resource_version_of
from flink_operator.runtime.kinds import Kind
from flink_operator.runtime.kube_api import WATCH_BOOKMARK, KubeApi, status_code

_log = logging.getLogger(__name__)


class ChangeType(enum.Enum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    FORGOTTEN = "FORGOTTEN"
    """Dropped from the cache because its namespace is no longer watched (the object still exists)."""


class Change(NamedTuple):
    type: ChangeType
    old: CachedObject | None
    new: CachedObject | None

    @property
    def obj(self) -> CachedObject:
        """The newest known version (the last one for deletions)."""
        obj = self.new if self.new is not None else self.old
        assert obj is not None
        return obj


Handler = Callable[[Change], None]


def _reconnect_delay(failures: int) -> float:
    """0.2 s, 0.4 s, ... capped at 30 s, with +-20 % jitter."""
    base: float = min(0.2 * 2.0 ** min(failures - 1, 10), 30.0)
    return base * (0.8 + 0.4 * random.random())  # noqa: S311 - jitter, not security


class Informer:
    """List + watch of one kind in one namespace (None: all) into a store."""

    def __init__(
        self,
        api: KubeApi,
        store: Store,
        notify: Handler,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        watch_timeout: int = 300,
    ) -> None:
        self.api = api
        self.store = store
        self.kind = store.kind
        self.namespace = namespace if store.kind.namespaced else None
        self.label_selector = label_selector
        self.watch_timeout = watch_timeout
        self._notify = notify
        self.synced = asyncio.Event()
        self.resource_version: str | None = None
        self.healthy = False
        self.unhealthy_since: float | None = time.monotonic()
        self.last_error: str | None = None
        self.lists = 0
        self.watches = 0
        self.expired = 0

    def __repr__(self) -> str:
        where = self.namespace or "all namespaces"
        selector = f", {self.label_selector}" if self.label_selector else ""
        return f"Informer({self.kind}, {where}{selector})"

    async def run(self) -> None:
        """Run until cancelled."""
        failures = 0
        while True:
            try:
                if self.resource_version is None:
                    await self._relist()
                started = time.monotonic()
                delivered = await self._watch_once()
                if delivered == 0 and time.monotonic() - started < 1.0:
                    # A stream that ends at once without a single event: do not hammer the server.
                    failures += 1
                    await asyncio.sleep(_reconnect_delay(failures))
                else:
                    failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if status_code(error) == 410:
                    self.expired += 1
                    _log.info("%r: resourceVersion %s expired, listing again", self, self.resource_version)
                    self.resource_version = None
                    continue
                failures += 1
                self._mark_unhealthy(error)
                delay = _reconnect_delay(failures)
                _log.warning("%r failed (%s); retrying in %.1f s", self, _describe(error), delay)
                await asyncio.sleep(delay)

    async def _relist(self) -> None:
        version, items = await self.api.list_raw(
            self.kind, self.namespace, label_selector=self.label_selector
        )
        self.lists += 1
        seen = set()
        for raw in items:
            obj = CachedObject(raw)
            seen.add(obj.key)
            old = self.store.cached(obj.key)
            if old is not None and old.resource_version == obj.resource_version:
                continue
            self.store.upsert(obj)
            self._emit(Change(ChangeType.ADDED if old is None else ChangeType.MODIFIED, old, obj))
        for key in self.store.keys(self.namespace):
            if key not in seen:
                gone = self.store.remove(key)
                if gone is not None:
                    self._emit(Change(ChangeType.DELETED, gone, None))
        self.resource_version = version
        self._mark_healthy()
        self.synced.set()

    async def _watch_once(self) -> int:
        delivered = 0
        timeout = int(self.watch_timeout * (1 + random.random()))  # noqa: S311 - spread reconnects
        self.watches += 1
        events = self.api.watch_raw(
            self.kind,
            self.namespace,
            resource_version=self.resource_version,
            label_selector=self.label_selector,
            timeout_seconds=timeout,
            on_connected=self._mark_healthy,
        )
        async with contextlib.aclosing(events):
            async for event_type, raw in events:
                delivered += 1
                self._mark_healthy()
                if event_type == WATCH_BOOKMARK:
                    self.resource_version = resource_version_of(raw) or self.resource_version
                    continue
                obj = CachedObject(raw)
                if event_type == "DELETED":
                    old = self.store.remove(obj.key)
                    self._emit(Change(ChangeType.DELETED, old or obj, None))
                elif event_type in ("ADDED", "MODIFIED"):
                    old = self.store.upsert(obj)
                    self._emit(Change(ChangeType.ADDED if old is None else ChangeType.MODIFIED, old, obj))
                else:
                    _log.warning("%r: ignoring watch event of unknown type %r", self, event_type)
                self.resource_version = obj.resource_version or self.resource_version
        return delivered

    def _emit(self, change: Change) -> None:
        try:
            self._notify(change)
        except Exception:
            _log.exception("%r: event handler failed for %s", self, change.obj.key)

    def _mark_healthy(self) -> None:
        if not self.healthy:
            self.healthy = True
            self.unhealthy_since = None
            self.last_error = None

    def _mark_unhealthy(self, error: BaseException) -> None:
        self.last_error = _describe(error)
        if self.healthy or self.unhealthy_since is None:
            self.healthy = False
            self.unhealthy_since = time.monotonic()


def _describe(error: BaseException) -> str:
    code = status_code(error)
    text = str(error) or type(error).__name__
    return f"HTTP {code}: {text}" if code else f"{type(error).__name__}: {text}"


class SharedInformer:
    """One store of one kind (and label selector), fed by per-namespace or cluster-wide informers."""

    def __init__(
        self,
        api: KubeApi,
        kind: Kind,
        *,
        label_selector: str | None = None,
        indexers: Mapping[str, Indexer] | None = None,
        watch_timeout: int = 300,
    ) -> None:
        self.api = api
        self.kind = kind
        self.label_selector = label_selector
        self.store = Store(kind, indexers)
        self.watch_timeout = watch_timeout
        self._handlers: list[Handler] = []
        self._informers: dict[str | None, tuple[Informer, asyncio.Task[None]]] = {}
        self.namespaces: frozenset[str] | None = None

    def __repr__(self) -> str:
        selector = f", {self.label_selector}" if self.label_selector else ""
        return f"SharedInformer({self.kind}{selector})"

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def _dispatch(self, change: Change) -> None:
        for handler in self._handlers:
            try:
                handler(change)
            except Exception:
                _log.exception("%r: handler %r failed for %s", self, handler, change.obj.key)

    @property
    def informers(self) -> list[Informer]:
        return [informer for informer, _ in self._informers.values()]

    def set_namespaces(self, namespaces: frozenset[str] | None) -> None:
        """Watch exactly these namespaces (None: all). Starts and stops informers as needed."""
        everywhere = namespaces is None or not self.kind.namespaced
        wanted: set[str | None] = {None} if everywhere else set(namespaces or ())
        self.namespaces = namespaces
        for namespace in list(self._informers):
            if namespace not in wanted:
                self._stop_one(namespace)
        for namespace in wanted:
            if namespace not in self._informers:
                informer = Informer(
                    self.api, self.store, self._dispatch, namespace=namespace,
                    label_selector=self.label_selector, watch_timeout=self.watch_timeout,
                )
                task = asyncio.create_task(informer.run(), name=repr(informer))
                self._informers[namespace] = (informer, task)
        self._forget_unwatched(wanted)

    def _forget_unwatched(self, wanted: set[str | None]) -> None:
        if None in wanted:
            return
        for key in self.store.keys(None):
            if key.namespace not in wanted:
                gone = self.store.remove(key)
                if gone is not None:
                    self._dispatch(Change(ChangeType.FORGOTTEN, gone, None))

    def _stop_one(self, namespace: str | None) -> None:
        _, task = self._informers.pop(namespace)
        task.cancel()

    async def wait_synced(self) -> None:
        """Wait until every informer has listed once (wrap in `asyncio.timeout` to bound it)."""
        await asyncio.gather(*(informer.synced.wait() for informer in self.informers))

    @property
    def synced(self) -> bool:
        return all(informer.synced.is_set() for informer in self.informers)

    @property
    def healthy(self) -> bool:
        return all(informer.healthy for informer in self.informers)

    def unhealthy_for(self, now: float | None = None) -> float:
        """How long the longest-failing informer has been unhealthy (0 when all are healthy)."""
        now = time.monotonic() if now is None else now
        since = [i.unhealthy_since for i in self.informers if i.unhealthy_since is not None]
        return now - min(since) if since else 0.0

    async def stop(self) -> None:
        tasks = [task for _, task in self._informers.values()]
        self._informers.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
