"""Adding and removing one finalizer on objects of one kind, safely under concurrent edits.

Each change is a JSON merge patch that carries the object's `metadata.resourceVersion` as a precondition
and the whole new finalizer list: the server refuses it (409) if the object changed since it was read, so a
finalizer added or removed by someone else in between is never lost. On 409 the object is read again and
the change re-evaluated (at most `retries` times). Both operations are idempotent.
"""

from __future__ import annotations

from typing import Any

from flink_operator.runtime.kinds import Kind, key_of
from flink_operator.runtime.kube_api import KubeApi, status_code

JSON = dict[str, Any]


def has_finalizer(obj: JSON, finalizer: str) -> bool:
    return finalizer in ((obj.get("metadata") or {}).get("finalizers") or ())


def is_being_deleted(obj: JSON) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


class Finalizers:
    def __init__(self, api: KubeApi, kind: Kind, finalizer: str, *, retries: int = 3) -> None:
        if "/" not in finalizer:
            raise ValueError(f"finalizer {finalizer!r} must be domain-qualified, e.g. 'example.org/cleanup'")
        self.api = api
        self.kind = kind
        self.finalizer = finalizer
        self.retries = retries

    def present(self, obj: JSON) -> bool:
        return has_finalizer(obj, self.finalizer)

    async def add(self, obj: JSON) -> JSON:
        """Ensure the finalizer is on the object; returns the object as the server now has it."""
        return await self._change(obj, adding=True)

    async def remove(self, obj: JSON) -> JSON | None:
        """Ensure the finalizer is off; returns the updated object, or None if the object is gone (removing
        the last finalizer of an object being deleted lets the server delete it)."""
        try:
            return await self._change(obj, adding=False)
        except Exception as error:
            if status_code(error) == 404:
                return None
            raise

    async def _change(self, obj: JSON, *, adding: bool) -> JSON:
        key = key_of(obj)
        attempt = 0
        while True:
            metadata = obj.get("metadata") or {}
            current = list(metadata.get("finalizers") or [])
            if (self.finalizer in current) == adding:
                return obj
            if adding:
                if is_being_deleted(obj):
                    # The server refuses new finalizers on an object being deleted; nothing to protect.
                    return obj
                wanted = [*current, self.finalizer]
            else:
                wanted = [f for f in current if f != self.finalizer]
            patch = {"metadata": {"resourceVersion": metadata.get("resourceVersion"), "finalizers": wanted}}
            try:
                return await self.api.patch(self.kind, key.name, key.namespace or None, patch)
            except Exception as error:
                if status_code(error) != 409 or attempt >= self.retries:
                    raise
                attempt += 1
                obj = await self.api.get(self.kind, key.name, key.namespace or None)
