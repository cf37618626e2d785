"""The object store: current objects, the global resourceVersion counter and the change history.

Like etcd behind a real API server, every committed change gets the next global revision, and the
last `history_size` changes are kept so watches can resume from a resourceVersion; anything older
is compacted and answers 410 Gone. Committed objects are never mutated afterwards, and each keeps
its JSON encoding, so lists and watch fan-out serialise an object version once.
The store is synchronous and single-threaded (it lives on the server's event loop): one commit is
atomic with respect to every reader. It checks nothing; the API semantics live in `writes`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]
ResourceKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str, str]  # (namespace or "", name)


def encode(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(slots=True)
class Stored:
    """One committed object version and its JSON encoding."""

    obj: JSON
    rv: int
    raw: bytes
    view_raw: bytes | None = None  # the encoding as served through a view resource (see `views`)

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"].get("namespace") or "")

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])


@dataclass(slots=True)
class Change:
    """One committed change, as kept in the history and fanned out to watches."""

    type: str  # ADDED, MODIFIED or DELETED
    resource: ResourceKey
    new: Stored
    old: Stored | None

    @property
    def rv(self) -> int:
        return self.new.rv


class Store:
    def __init__(self, history_size: int = 10_000, start_rv: int = 0) -> None:
        self.rv = start_rv
        self.floor = start_rv  # watches from a resourceVersion below this get 410 Gone
        self.history: deque[Change] = deque()
        self.history_size = history_size
        self._objects: dict[ResourceKey, dict[ObjectKey, Stored]] = {}
        self._sorted: dict[ResourceKey, list[ObjectKey]] = {}
        self._listeners: list[Callable[[Change], None]] = []

    def subscribe(self, listener: Callable[[Change], None]) -> None:
        self._listeners.append(listener)

    def get(self, resource: ResourceKey, namespace: str, name: str) -> Stored | None:
        return self._objects.get(resource, {}).get((namespace, name))

    def items(self, resource: ResourceKey, namespace: str | None = None) -> Iterator[Stored]:
        """Objects of a resource in key order (namespace, then name), optionally of one namespace."""
        bucket = self._objects.get(resource)
        if not bucket:
            return
        keys = self._sorted.get(resource)
        if keys is None:
            keys = self._sorted[resource] = sorted(bucket)
        if namespace is None:
            for key in keys:
                yield bucket[key]
            return
        import bisect

        start = bisect.bisect_left(keys, (namespace, ""))
        for key in keys[start:]:
            if key[0] != namespace:
                break
            yield bucket[key]

    def count(self, resource: ResourceKey) -> int:
        return len(self._objects.get(resource, {}))

    def resources(self) -> list[ResourceKey]:
        return [r for r, bucket in self._objects.items() if bucket]

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put(self, resource: ResourceKey, obj: JSON) -> Stored:
        """Commit a create or update: stamps the next resourceVersion into `obj` (which it then owns)."""
        rv = self.next_rv()
        obj["metadata"]["resourceVersion"] = str(rv)
        stored = Stored(obj, rv, encode(obj))
        key = (stored.namespace, stored.name)
        bucket = self._objects.setdefault(resource, {})
        old = bucket.get(key)
        if old is None:
            self._sorted.pop(resource, None)
        bucket[key] = stored
        self._record(Change("ADDED" if old is None else "MODIFIED", resource, stored, old))
        return stored

    def delete(
        self, resource: ResourceKey, namespace: str, name: str, last: JSON | None = None
    ) -> Stored | None:
        """Remove an object; its DELETED change carries the deletion's resourceVersion, as on a real server.

        `last` is the object's final state when the deletion is the result of an update (the last
        finalizer removed); by default it is the current object."""
        bucket = self._objects.get(resource, {})
        old = bucket.pop((namespace, name), None)
        if old is None:
            return None
        self._sorted.pop(resource, None)
        rv = self.next_rv()
        final = dict(last if last is not None else old.obj)
        final["metadata"] = dict(final["metadata"], resourceVersion=str(rv))
        stored = Stored(final, rv, encode(final))
        self._record(Change("DELETED", resource, stored, old))
        return stored

    def _record(self, change: Change) -> None:
        self.history.append(change)
        while len(self.history) > self.history_size:
            self.floor = self.history.popleft().rv
        for listener in self._listeners:
            listener(change)

    def changes_since(self, rv: int) -> list[Change] | None:
        """Changes after `rv`, or None when `rv` is older than the kept history (410 Gone)."""
        if rv < self.floor:
            return None
        if not self.history or self.history[-1].rv <= rv:
            return []
        return [c for c in self.history if c.rv > rv]

    def compact(self) -> None:
        """Forget the history, as etcd compaction does: older resourceVersions answer 410 from now on."""
        self.history.clear()
        self.floor = self.rv

    def load(self, resource: ResourceKey, obj: JSON) -> None:
        """Insert an object read from persisted state, keeping its resourceVersion (no change recorded)."""
        rv = int(obj["metadata"].get("resourceVersion") or 0)
        stored = Stored(obj, rv, encode(obj))
        self._objects.setdefault(resource, {})[(stored.namespace, stored.name)] = stored
        self._sorted.pop(resource, None)

    def snapshot(self) -> Iterator[tuple[ResourceKey, Stored]]:
        for resource, bucket in self._objects.items():
            for stored in bucket.values():
                yield resource, stored

    def drop_resource(self, resource: ResourceKey) -> None:
        self._objects.pop(resource, None)
        self._sorted.pop(resource, None)
