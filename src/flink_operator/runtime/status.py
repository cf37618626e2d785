"""The status writer of one kind (upstream's StatusRecorder): the only way status reaches the API server.

* It remembers the last status it wrote per object. `observe(obj)` overlays that status on an object read
  from the (possibly lagging) informer cache, so a reconcile never acts on a status older than its own
  last write; the first sight of an object seeds the memory with the status it has.
* `write(obj, status)` does nothing when the status equals the remembered one (steady state costs no
  writes). Otherwise it PUTs the `/status` subresource with the object's resourceVersion (optimistic
  locking). On 409 it reads the object again: if the server's status is still the one this writer last
  wrote (or first saw), only something else (spec, metadata) moved and the write is retried with the new
  resourceVersion (at most `max_conflict_retries` times); otherwise someone else changed the status and
  `StatusConflict` is raised. Transient failures (5xx, 429, transport) are retried a few times.
* After each successful write the hooks are called with the previous and new status (listeners hang
  there). A failing hook is logged, never turned into a failed write.

Not guaranteed: that nobody else writes the status; conflicting writers are detected, not prevented.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from flink_operator.runtime.hooks import call_hooks
from flink_operator.runtime.kinds import Kind, ObjectKey, key_of
from flink_operator.runtime.kube_api import KubeApi, is_transient, status_code

_log = logging.getLogger(__name__)

JSON = dict[str, Any]
_canonical = msgspec.json.Encoder(order="sorted")
_decode = msgspec.json.Decoder(dict[str, Any])


class StatusConflict(Exception):
    """The status was modified by someone else since this writer last wrote or read it."""

    def __init__(self, kind: Kind, key: ObjectKey) -> None:
        super().__init__(
            f"Status of {kind.kind} {key} has been modified externally since it was last written or read; "
            "not overwriting it (the next reconcile starts from the new status)"
        )
        self.kind = kind
        self.key = key


@dataclass(frozen=True)
class StatusUpdate:
    """What a hook is told after a successful status write."""

    kind: Kind
    key: ObjectKey
    previous: JSON | None
    current: JSON
    obj: JSON
    """The object as the server returned it after the write."""


StatusHook = Callable[[StatusUpdate], Awaitable[None] | None]


def canonical_status(status: Mapping[str, Any] | None) -> bytes:
    """Key-order independent JSON of a status; a missing status equals an empty one."""
    return _canonical.encode(status or {})


class StatusWriter:
    def __init__(
        self,
        api: KubeApi,
        kind: Kind,
        *,
        hooks: Sequence[StatusHook] = (),
        max_conflict_retries: int = 3,
        transient_retries: int = 3,
        transient_delay: float = 1.0,
    ) -> None:
        self.api = api
        self.kind = kind
        self.hooks = list(hooks)
        self.max_conflict_retries = max_conflict_retries
        self.transient_retries = transient_retries
        self.transient_delay = transient_delay
        self._last: dict[ObjectKey, bytes] = {}
        self.writes = 0
        self.skipped = 0

    def observe(self, obj: JSON) -> JSON:
        """`obj` with its status replaced by the last one written (seeding the memory on first sight)."""
        key = key_of(obj)
        remembered = self._last.get(key)
        if remembered is None:
            self._last[key] = canonical_status(obj.get("status"))
        else:
            obj["status"] = _decode.decode(remembered)
        return obj

    def last_written(self, key: ObjectKey) -> JSON | None:
        remembered = self._last.get(key)
        return None if remembered is None else _decode.decode(remembered)

    def forget(self, key: ObjectKey) -> None:
        """Drop the memory of an object (after it was deleted)."""
        self._last.pop(key, None)

    def __len__(self) -> int:
        return len(self._last)

    async def write(self, obj: JSON, status: Mapping[str, Any] | None = None) -> JSON | None:
        """Write `status` (default: `obj["status"]`) if it differs from the remembered one.

        Returns the updated object, or None when nothing needed writing."""
        key = key_of(obj)
        new_status: JSON = dict(status if status is not None else obj.get("status") or {})
        new_bytes = canonical_status(new_status)
        baseline = self._last.get(key)
        if baseline is None:
            baseline = canonical_status(obj.get("status"))
        if new_bytes == baseline:
            self.skipped += 1
            return None

        body = {**obj, "status": new_status}
        conflicts = 0
        failures = 0
        while True:
            try:
                result = await self.api.replace(self.kind, body, subresource="status")
                break
            except Exception as error:
                code = status_code(error)
                if code == 409:
                    conflicts += 1
                    if conflicts > self.max_conflict_retries:
                        raise StatusConflict(self.kind, key) from error
                    latest = await self.api.get(self.kind, key.name, key.namespace or None)
                    if canonical_status(latest.get("status")) != baseline:
                        raise StatusConflict(self.kind, key) from error
                    body = {**latest, "status": new_status}
                    continue
                if is_transient(error) and failures < self.transient_retries:
                    failures += 1
                    _log.warning("Status write of %s %s failed (%s); retrying", self.kind.kind, key, error)
                    await asyncio.sleep(self.transient_delay)
                    continue
                raise
        self.writes += 1
        self._last[key] = new_bytes
        # What the hooks see as "previous" is what the server held before this write.
        update = StatusUpdate(self.kind, key, _decode.decode(baseline), new_status, result)
        await call_hooks(self.hooks, update)
        return result
