"""The controllers an API server relies on for deletion: garbage collection and namespace/CRD cleanup.

Runs as one background task, woken after deletions (optionally after `gc_delay` seconds, since a
real cluster does this asynchronously and tests must poll): dependents whose owners (by uid) are
all gone are deleted (background propagation); owners deleted with `Foreground` wait for their
blocking dependents, then lose the `foregroundDeletion` finalizer; `Orphan` strips owner references
from dependents, then drops the `orphan` finalizer; a terminating Namespace has its contents deleted
and goes away once empty; a deleted CRD has its instances deleted first. Objects whose own
finalizers are set stay until a client removes them, and keep what they block waiting, as on a real
cluster. These internal deletions bypass admission webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy

from . import writes
from .errors import ApiError
from .resources import ResourceType
from .state import CRD_KEY, NAMESPACES, ClusterState
from .store import Change, ResourceKey, Stored

Location = tuple[ResourceKey, str, str]


class GarbageCollector:
    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self._uids: dict[str, Location] = {}
        self._dependents: dict[str, set[Location]] = {}
        self._suspects: set[Location] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.passes = 0
        for resource, stored in state.store.snapshot():
            self._index(resource, stored)
            if stored.obj["metadata"].get("ownerReferences"):
                self._suspects.add((resource, stored.namespace, stored.name))
        state.change_listeners.append(self._on_change)
        state.kick_gc = self.kick

    # ------------------------------------------------------------------ indexes

    def _index(self, resource: ResourceKey, stored: Stored) -> None:
        location = (resource, stored.namespace, stored.name)
        uid = stored.obj["metadata"].get("uid")
        if uid:
            self._uids[uid] = location
        for ref in stored.obj["metadata"].get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("uid"):
                self._dependents.setdefault(ref["uid"], set()).add(location)

    def _unindex(self, resource: ResourceKey, stored: Stored) -> None:
        location = (resource, stored.namespace, stored.name)
        uid = stored.obj["metadata"].get("uid")
        if uid and self._uids.get(uid) == location:
            del self._uids[uid]
        for ref in stored.obj["metadata"].get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("uid") in self._dependents:
                self._dependents[ref["uid"]].discard(location)

    def _on_change(self, change: Change) -> None:
        if change.old is not None:
            self._unindex(change.resource, change.old)
        if change.type == "DELETED":
            uid = change.new.obj["metadata"].get("uid")
            dependents = self._dependents.pop(uid, set()) if uid else set()
            self._suspects |= dependents
            if dependents:
                self.kick()
            return
        self._index(change.resource, change.new)
        if change.new.obj["metadata"].get("ownerReferences"):
            self._suspects.add((change.resource, change.new.namespace, change.new.name))
            self.kick()

    # ------------------------------------------------------------------ task

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kube-emulator-gc")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self.state.options.gc_delay:
                await asyncio.sleep(self.state.options.gc_delay)
            try:
                while await self.collect():
                    pass
            except Exception:  # keep collecting after a bug; the next kick retries
                import logging

                logging.getLogger(__name__).exception("garbage collection pass failed")
            self.passes += 1

    # ------------------------------------------------------------------ one pass

    async def collect(self) -> bool:
        """One pass over everything pending; True when it changed something (run again)."""
        changed = False
        for resource, stored in list(self.state.store.snapshot()):
            metadata = stored.obj["metadata"]
            if not metadata.get("deletionTimestamp"):
                continue
            finalizers = metadata.get("finalizers") or []
            if resource == NAMESPACES:
                changed |= await self._finalize_namespace(stored)
            if resource == CRD_KEY and "customresourcecleanup.apiextensions.k8s.io" in finalizers:
                changed |= await self._finalize_crd(stored)
            if "foregroundDeletion" in finalizers:
                changed |= await self._foreground(resource, stored)
            if "orphan" in finalizers:
                changed |= await self._orphan(resource, stored)
        suspects, self._suspects = self._suspects, set()
        for location in suspects:
            changed |= await self._collect_if_dangling(location)
        return changed

    def _type_for(self, resource: ResourceKey) -> ResourceType | None:
        return self.state.registry.storage_type(*resource)

    async def _delete(
        self, resource: ResourceKey, namespace: str, name: str, policy: str = "Background"
    ) -> bool:
        rt = self._type_for(resource)
        current = self.state.store.get(resource, namespace, name)
        if rt is None or current is None or current.obj["metadata"].get("deletionTimestamp"):
            return False
        with contextlib.suppress(ApiError):
            await writes.delete(
                self.state,
                rt,
                namespace,
                name,
                {"propagationPolicy": policy},
                writes.WriteContext(internal=True, field_manager="kube-controller-manager"),
            )
            return True
        return False

    async def _drop_finalizer(self, resource: ResourceKey, stored: Stored, finalizer: str) -> bool:
        rt = self._type_for(resource)
        if rt is None:
            return False
        obj = copy.deepcopy(stored.obj)
        obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
        with contextlib.suppress(ApiError):
            await writes.update(
                self.state,
                rt,
                stored.namespace,
                stored.name,
                obj,
                "",
                writes.WriteContext(internal=True, field_manager="kube-controller-manager"),
            )
            return True
        return False

    def _live_dependents(self, uid: str) -> list[tuple[Location, Stored]]:
        out = []
        for location in list(self._dependents.get(uid, ())):
            stored = self.state.store.get(*location)
            if stored is not None:
                out.append((location, stored))
        return out

    async def _foreground(self, resource: ResourceKey, owner: Stored) -> bool:
        uid = owner.obj["metadata"]["uid"]
        changed = False
        blocking = False
        for (dep_resource, namespace, name), dependent in self._live_dependents(uid):
            changed |= await self._delete(dep_resource, namespace, name, "Foreground")
            if any(
                r.get("uid") == uid and r.get("blockOwnerDeletion")
                for r in dependent.obj["metadata"].get("ownerReferences") or []
            ):
                blocking = True
        if not blocking:
            current = self.state.store.get(resource, owner.namespace, owner.name)
            if current is not None and any(
                self.state.store.get(*loc) is not None for loc in self._dependents.get(uid, ())
            ):
                return changed
            if current is not None:
                changed |= await self._drop_finalizer(resource, current, "foregroundDeletion")
        return changed

    async def _orphan(self, resource: ResourceKey, owner: Stored) -> bool:
        uid = owner.obj["metadata"]["uid"]
        for (dep_resource, namespace, name), dependent in self._live_dependents(uid):
            rt = self._type_for(dep_resource)
            if rt is None:
                continue
            obj = copy.deepcopy(dependent.obj)
            obj["metadata"]["ownerReferences"] = [
                r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
            ]
            with contextlib.suppress(ApiError):
                await writes.update(
                    self.state,
                    rt,
                    namespace,
                    name,
                    obj,
                    "",
                    writes.WriteContext(internal=True, field_manager="kube-controller-manager"),
                )
        current = self.state.store.get(resource, owner.namespace, owner.name)
        return current is not None and await self._drop_finalizer(resource, current, "orphan")

    async def _collect_if_dangling(self, location: Location) -> bool:
        stored = self.state.store.get(*location)
        if stored is None or stored.obj["metadata"].get("deletionTimestamp"):
            return False
        refs = [r for r in stored.obj["metadata"].get("ownerReferences") or [] if isinstance(r, dict)]
        if not refs or any(r.get("uid") in self._uids for r in refs):
            return False
        return await self._delete(*location)

    async def _finalize_namespace(self, namespace: Stored) -> bool:
        name = namespace.name
        changed = False
        remaining = False
        for resource in self.state.store.resources():
            rt = self._type_for(resource)
            if rt is None or not rt.namespaced:
                continue
            for stored in list(self.state.store.items(resource, name)):
                remaining = True
                changed |= await self._delete(resource, name, stored.name)
        if remaining:
            return changed
        current = self.state.store.get(NAMESPACES, "", name)
        if current is None:
            return changed
        if (current.obj.get("spec") or {}).get("finalizers") or current.obj["metadata"].get("finalizers"):
            obj = copy.deepcopy(current.obj)
            obj.setdefault("spec", {})["finalizers"] = []
            if not obj["metadata"].get("finalizers"):
                self.state.store.delete(NAMESPACES, "", name, obj)
                return True
            rt = self._type_for(NAMESPACES)
            assert rt is not None
            await writes.update(
                self.state,
                rt,
                "",
                name,
                obj,
                "",
                writes.WriteContext(internal=True, field_manager="namespace-controller"),
            )
            return True
        self.state.store.delete(NAMESPACES, "", name)
        return True

    async def _finalize_crd(self, crd: Stored) -> bool:
        spec = crd.obj.get("spec") or {}
        resource = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
        changed = False
        remaining = False
        for stored in list(self.state.store.items(resource)):
            remaining = True
            changed |= await self._delete(resource, stored.namespace, stored.name)
        if remaining:
            return changed
        return await self._drop_finalizer(CRD_KEY, crd, "customresourcecleanup.apiextensions.k8s.io")
