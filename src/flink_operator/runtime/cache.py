"""The informer cache: compact cached objects and the per-kind store with secondary indexes.

A `CachedObject` keeps the object's JSON bytes exactly as the server sent them plus the few metadata
fields the runtime decides on (resourceVersion, generation, labels, a digest of the annotations, deletion
timestamp, finalizers, owner references). Keeping bytes instead of decoded dicts or models makes a cached
object a few times smaller than its dict form (10,000 resources fit the memory goals), and every `get()`
decodes a fresh dict, so a reconcile can modify what it read without corrupting the cache.

`Store` holds the objects of one kind (and one label selector), keyed by `ObjectKey`, partitioned by
namespace, with optional indexes (`name -> fn(obj) -> values`) for mapping secondary resources to primaries.

Not guaranteed: objects are as recent as the last watch event; a status this process just wrote may not be
here yet (the status writer overlays its own last write).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import msgspec

from flink_operator.runtime.kinds import Kind, ObjectKey

Indexer = Callable[[dict[str, Any]], Iterable[str]]
"""Computes the index values of an object, e.g. `lambda o: [f"{ns}/{o['spec']['deploymentName']}"]`."""


class OwnerRef(NamedTuple):
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool


class _OwnerReference(msgspec.Struct):
    apiVersion: str = ""
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool | None = None


class _Metadata(msgspec.Struct):
    name: str = ""
    namespace: str | None = None
    uid: str = ""
    resourceVersion: str = ""
    generation: int | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    deletionTimestamp: str | None = None
    finalizers: list[str] | None = None
    ownerReferences: list[_OwnerReference] | None = None


class _ObjectHead(msgspec.Struct):
    metadata: _Metadata = msgspec.field(default_factory=_Metadata)


_head_decoder = msgspec.json.Decoder(_ObjectHead)
_dict_decoder = msgspec.json.Decoder(dict[str, Any])


class CachedObject:
    """One object as cached: its raw JSON plus the metadata the runtime needs without decoding it."""

    __slots__ = (
        "annotations_digest",
        "deletion_timestamp",
        "finalizers",
        "generation",
        "key",
        "labels",
        "owners",
        "raw",
        "resource_version",
        "uid",
    )

    def __init__(self, raw: bytes) -> None:
        head = _head_decoder.decode(raw).metadata
        self.raw = raw
        self.key = ObjectKey(head.namespace or "", head.name)
        self.uid = head.uid
        self.resource_version = head.resourceVersion
        self.generation = head.generation
        self.labels: Mapping[str, str] = head.labels or {}
        self.annotations_digest = hash(tuple(sorted(head.annotations.items()))) if head.annotations else 0
        self.deletion_timestamp = head.deletionTimestamp
        self.finalizers: tuple[str, ...] = tuple(head.finalizers or ())
        self.owners: tuple[OwnerRef, ...] = tuple(
            OwnerRef(o.apiVersion, o.kind, o.name, o.uid, bool(o.controller))
            for o in head.ownerReferences or ()
        )

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> CachedObject:
        return cls(msgspec.json.encode(obj))

    def decode(self) -> dict[str, Any]:
        """A fresh dict of the whole object (safe to modify)."""
        return _dict_decoder.decode(self.raw)

    @property
    def namespace(self) -> str:
        return self.key.namespace

    @property
    def name(self) -> str:
        return self.key.name

    def __repr__(self) -> str:
        return f"CachedObject({self.key}, rv={self.resource_version})"


def decode_json(raw: bytes) -> dict[str, Any]:
    return _dict_decoder.decode(raw)


def resource_version_of(raw: bytes) -> str:
    """`metadata.resourceVersion` of an object (e.g. a watch bookmark) without decoding the rest."""
    return _head_decoder.decode(raw).metadata.resourceVersion


class Store:
    """The cached objects of one kind, with optional secondary indexes."""

    def __init__(self, kind: Kind, indexers: Mapping[str, Indexer] | None = None) -> None:
        self.kind = kind
        self._indexers = dict(indexers or {})
        self._objects: dict[ObjectKey, CachedObject] = {}
        self._by_namespace: dict[str, set[ObjectKey]] = {}
        self._index: dict[str, dict[str, set[ObjectKey]]] = {name: {} for name in self._indexers}
        self._indexed_values: dict[str, dict[ObjectKey, tuple[str, ...]]] = {n: {} for n in self._indexers}

    # --- reads ----------------------------------------------------------------------------------------

    def get(self, key: ObjectKey) -> dict[str, Any] | None:
        """A fresh dict of the cached object, or None."""
        cached = self._objects.get(key)
        return None if cached is None else cached.decode()

    def cached(self, key: ObjectKey) -> CachedObject | None:
        return self._objects.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._objects

    def __len__(self) -> int:
        return len(self._objects)

    def keys(self, namespace: str | None = None) -> list[ObjectKey]:
        """All keys, or those of one namespace."""
        if namespace is None:
            return list(self._objects)
        return list(self._by_namespace.get(namespace, ()))

    def objects(self, namespace: str | None = None) -> Iterator[CachedObject]:
        for key in self.keys(namespace):
            cached = self._objects.get(key)
            if cached is not None:
                yield cached

    def by_index(self, index: str, value: str) -> list[ObjectKey]:
        """Keys of the objects whose `index` values include `value`."""
        try:
            table = self._index[index]
        except KeyError:
            known = sorted(self._index)
            raise KeyError(f"{self.kind} store has no index {index!r}; known: {known}") from None
        return sorted(table.get(value, ()))

    @property
    def index_names(self) -> tuple[str, ...]:
        return tuple(self._indexers)

    # --- writes (the informer's) ----------------------------------------------------------------------

    def add_indexer(self, name: str, indexer: Indexer) -> None:
        """Add an index (also computed for the objects already cached)."""
        if name in self._indexers:
            if self._indexers[name] is not indexer:
                raise ValueError(f"{self.kind} store already has a different index named {name!r}")
            return
        self._indexers[name] = indexer
        self._index[name] = {}
        self._indexed_values[name] = {}
        for cached in self._objects.values():
            self._index_object(name, indexer, cached.key, cached.decode())

    def upsert(self, obj: CachedObject) -> CachedObject | None:
        """Insert or replace; returns the previous version."""
        key = obj.key
        previous = self._objects.get(key)
        self._objects[key] = obj
        if previous is None:
            self._by_namespace.setdefault(key.namespace, set()).add(key)
        if self._indexers:
            decoded = obj.decode()
            for name, indexer in self._indexers.items():
                self._unindex(name, key)
                self._index_object(name, indexer, key, decoded)
        return previous

    def remove(self, key: ObjectKey) -> CachedObject | None:
        previous = self._objects.pop(key, None)
        if previous is None:
            return None
        in_namespace = self._by_namespace.get(key.namespace)
        if in_namespace is not None:
            in_namespace.discard(key)
            if not in_namespace:
                del self._by_namespace[key.namespace]
        for name in self._indexers:
            self._unindex(name, key)
        return previous

    def _index_object(self, name: str, indexer: Indexer, key: ObjectKey, obj: dict[str, Any]) -> None:
        try:
            values = tuple(dict.fromkeys(indexer(obj)))
        except (KeyError, TypeError, AttributeError, ValueError):
            values = ()  # an object missing the indexed field is simply not in the index
        if not values:
            return
        self._indexed_values[name][key] = values
        table = self._index[name]
        for value in values:
            table.setdefault(value, set()).add(key)

    def _unindex(self, name: str, key: ObjectKey) -> None:
        values = self._indexed_values[name].pop(key, ())
        table = self._index[name]
        for value in values:
            keys = table.get(value)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del table[value]
