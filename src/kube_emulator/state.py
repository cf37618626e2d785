"""The emulated cluster's state and wiring: registry, store, watch hub, CRD registration, bootstrap.

`ClusterState` is what every request handler works on. It owns no HTTP; it registers custom
resource types when CRD objects are committed (and removes them when CRDs go away), and it holds the
hooks the write path calls: admission (set by `admission`) and the garbage collector's kick.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .builtin_kinds import BUILTIN_TYPES, INITIAL_NAMESPACES
from .crds import resource_types
from .meta import new_uid, now
from .resources import Registry, ResourceType
from .store import Change, Store, Stored, encode
from .views import from_storage
from .watch import WatchHub

if TYPE_CHECKING:
    from .writes import AdmissionChain

JSON = dict[str, Any]
CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
NAMESPACES = ("", "namespaces")


@dataclass
class Options:
    history_size: int = 10_000
    bookmark_interval: float = 60.0
    gc_delay: float = 0.0
    min_watch_timeout: float = 1800.0
    server_version: str = "v1.32.0"
    seed: int | None = None


class ClusterState:
    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.registry = Registry()
        for rt in BUILTIN_TYPES:
            self.registry.add(rt)
        self.store = Store(self.options.history_size)
        self.hub = WatchHub()
        self.store.subscribe(self._on_change)
        self.store.subscribe(self.hub.on_change)
        self.rng = random.Random(self.options.seed)  # noqa: S311 - generateName suffixes, not secrets
        self.admission: AdmissionChain | None = None
        self.kick_gc: Callable[[], None] = lambda: None
        self.change_listeners: list[Callable[[Change], None]] = []

    # ------------------------------------------------------------------ bootstrap

    def bootstrap(self) -> None:
        """Create the namespaces every cluster has, then compact so older versions answer 410."""
        for name in INITIAL_NAMESPACES:
            if self.store.get(NAMESPACES, "", name) is None:
                self.store.put(
                    NAMESPACES,
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {
                            "name": name,
                            "uid": new_uid(),
                            "creationTimestamp": now(),
                            "labels": {"kubernetes.io/metadata.name": name},
                        },
                        "spec": {"finalizers": ["kubernetes"]},
                        "status": {"phase": "Active"},
                    },
                )
        self.store.compact()

    def restore(self, objects: list[tuple[tuple[str, str], JSON]], rv: int) -> None:
        """Load persisted objects (CRDs first, so their types exist) and continue from `rv`."""
        for resource, obj in sorted(objects, key=lambda item: item[0] != CRD_KEY):
            self.store.load(resource, obj)
            if resource == CRD_KEY:
                self._register_crd(obj)
        self.store.rv = max(self.store.rv, rv)
        self.store.compact()

    # ------------------------------------------------------------------ CRD registration

    def _on_change(self, change: Change) -> None:
        if change.resource == CRD_KEY:
            if change.type == "DELETED":
                spec = change.new.obj.get("spec") or {}
                names = spec.get("names") or {}
                self.registry.remove_group_resource(spec.get("group", ""), names.get("plural", ""))
                self.store.drop_resource((spec.get("group", ""), names.get("plural", "")))
            else:
                self._register_crd(change.new.obj)
        for listener in self.change_listeners:
            listener(change)

    def _register_crd(self, crd: JSON) -> None:
        spec = crd["spec"]
        self.registry.remove_group_resource(spec["group"], spec["names"]["plural"])
        for rt in resource_types(crd):
            self.registry.add(rt)

    # ------------------------------------------------------------------ helpers

    def storage_type(self, rt: ResourceType) -> ResourceType:
        return self.registry.storage_type(*rt.key) or rt

    def namespace_phase(self, name: str) -> str | None:
        stored = self.store.get(NAMESPACES, "", name)
        if stored is None:
            return None
        return str((stored.obj.get("status") or {}).get("phase", "Active"))


def served(rt: ResourceType, stored: Stored) -> JSON:
    """The object as served at `rt`'s version (custom resources share storage across versions)."""
    obj = stored.obj
    if rt.view:
        return from_storage(rt.view, obj)
    if obj.get("apiVersion") != rt.group_version:
        obj = dict(obj, apiVersion=rt.group_version)
    return obj


def served_raw(rt: ResourceType, stored: Stored) -> bytes:
    if stored.obj.get("apiVersion") == rt.group_version and not rt.view:
        return stored.raw
    if rt.view:
        if stored.view_raw is None:
            stored.view_raw = encode(served(rt, stored))
        return stored.view_raw
    return encode(served(rt, stored))
