"""The event recorder: core/v1 Events about a resource, aggregated by deterministic names.

An event's name is `<component>.<hash>` where the hash is a stable 64-bit digest of (reason, message key
or message, type, kind, name, uid). The same event about the same object therefore always has the same
name: the first occurrence creates it, repeats PATCH `count` + 1, `lastTimestamp` and the message, so a
resource that fails the same way every minute shows one event with a growing count instead of flooding
the namespace. (Upstream uses Java's 31-bit `String.hashCode`, which collides at scale, and capitalised
components; names here are lower-case so they are valid DNS subdomains everywhere.)

`Recurrence.ONCE` skips an event that exists already; `dedupe_interval` skips a repeat whose labels are
equal and whose last occurrence is more recent than the interval (upstream's autoscaler reports).

Messages are redacted (`redact` callable and per-call secret values) before they leave the process.
A 403 (no RBAC permission for events) is logged and ignored, as upstream; other failures raise.
Hooks are called after every create or update (listeners hang there).

Not guaranteed: exact counts when the event's cached count is stale (e.g. after a restart the first repeat
reads the server's count).
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flink_operator.config.redaction import redact_text
from flink_operator.runtime.event_reasons import Component, EventType
from flink_operator.runtime.hooks import call_hooks
from flink_operator.runtime.kinds import EVENT, ObjectKey
from flink_operator.runtime.kube_api import KubeApi, status_code

_log = logging.getLogger(__name__)

JSON = dict[str, Any]


class Recurrence(enum.Enum):
    ALWAYS = "always"
    """Create, or count a repeat."""
    ONCE = "once"
    """Create only if it does not exist yet."""


@dataclass(frozen=True)
class EventTarget:
    """The object an event is about (`involvedObject`)."""

    api_version: str
    kind: str
    name: str
    namespace: str
    uid: str = ""
    resource_version: str = ""

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> EventTarget:
        metadata = obj.get("metadata") or {}
        return cls(
            api_version=str(obj.get("apiVersion") or ""),
            kind=str(obj.get("kind") or ""),
            name=str(metadata.get("name") or ""),
            namespace=str(metadata.get("namespace") or ""),
            uid=str(metadata.get("uid") or ""),
            resource_version=str(metadata.get("resourceVersion") or ""),
        )

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(self.namespace, self.name)


@dataclass(frozen=True)
class RecordedEvent:
    """What a hook is told after an event was created or updated."""

    name: str
    target: EventTarget
    type: str
    reason: str
    message: str
    component: str
    count: int
    labels: Mapping[str, str] = field(default_factory=dict)
    created: bool = True


EventHook = Callable[[RecordedEvent], Awaitable[None] | None]


def event_name(
    component: str, reason: str, message_key: str, event_type: str, kind: str, name: str, uid: str
) -> str:
    """The deterministic name of an event: `<component>.<16 hex digits>`."""
    material = "\x1f".join((reason, message_key, event_type, kind, name, uid)).encode()
    return f"{component.lower()}.{hashlib.sha256(material).hexdigest()[:16]}"


def _timestamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class _Known:
    count: int
    last: datetime
    labels: Mapping[str, str]


class EventRecorder:
    def __init__(
        self,
        api: KubeApi,
        *,
        hooks: Sequence[EventHook] = (),
        redact: Callable[[str], str] | None = None,
        reporting_instance: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        remembered: int = 10_000,
    ) -> None:
        self.api = api
        self.hooks = list(hooks)
        self.redact = redact
        self.reporting_instance = reporting_instance
        self.clock = clock
        self._known: OrderedDict[tuple[str, str], _Known] = OrderedDict()
        self._remembered = remembered

    async def record(
        self,
        target: EventTarget | Mapping[str, Any],
        event_type: EventType | str,
        reason: str,
        message: str,
        component: Component | str = Component.OPERATOR,
        *,
        message_key: str | None = None,
        labels: Mapping[str, str] | None = None,
        recurrence: Recurrence = Recurrence.ALWAYS,
        dedupe_interval: timedelta | None = None,
        secret_values: Iterable[str] = (),
        annotations: Mapping[str, str] | None = None,
    ) -> RecordedEvent | None:
        """Create or count the event; returns what was recorded, or None when it was skipped.
        `annotations` are set when the event is created (repeats keep the first ones)."""
        if not isinstance(target, EventTarget):
            target = EventTarget.of(target)
        if not target.namespace:
            raise ValueError(f"event target {target.kind} {target.name!r} has no namespace")
        message = redact_text(message, secret_values)
        if self.redact is not None:
            message = self.redact(message)
        event_type = str(event_type)
        component = str(component)
        name = event_name(
            component, reason, message_key or message, event_type, target.kind, target.name, target.uid
        )
        labels = dict(labels or {})
        try:
            recorded = await self._record(
                name,
                target,
                event_type,
                reason,
                message,
                component,
                labels,
                recurrence,
                dedupe_interval,
                dict(annotations or {}),
            )
        except Exception as error:
            if status_code(error) == 403:
                _log.warning("Not allowed to record event %s on %s %s: %s", reason, target.kind,
                             target.key, error)
                return None
            raise
        if recorded is not None:
            await call_hooks(self.hooks, recorded)
        return recorded

    async def _record(
        self,
        name: str,
        target: EventTarget,
        event_type: str,
        reason: str,
        message: str,
        component: str,
        labels: dict[str, str],
        recurrence: Recurrence,
        dedupe_interval: timedelta | None,
        annotations: dict[str, str],
    ) -> RecordedEvent | None:
        now = self.clock()
        cache_key = (target.namespace, name)
        known = self._known.get(cache_key)
        if known is None:
            try:
                await self.api.create(EVENT, self._new_event(name, target, event_type, reason, message,
                                                             component, labels, now, annotations),
                                      target.namespace)
            except Exception as error:
                if status_code(error) != 409:
                    raise
                existing = await self.api.get(EVENT, name, target.namespace)
                known = _Known(
                    int(existing.get("count") or 1),
                    _parse_timestamp(existing.get("lastTimestamp")) or now,
                    dict((existing.get("metadata") or {}).get("labels") or {}),
                )
            else:
                self._remember(cache_key, _Known(1, now, labels))
                return RecordedEvent(name, target, event_type, reason, message, component, 1, labels, True)

        if recurrence is Recurrence.ONCE:
            self._remember(cache_key, known)
            return None
        if dedupe_interval is not None and known.labels == labels and now - known.last < dedupe_interval:
            self._remember(cache_key, known)
            return None
        count = known.count + 1
        patch = {"count": count, "lastTimestamp": _timestamp(now), "message": message}
        if labels != known.labels:
            patch["metadata"] = {"labels": labels}
        try:
            await self.api.patch(EVENT, name, target.namespace, patch)
        except Exception as error:
            if status_code(error) != 404:
                raise
            # The event expired (events live about an hour): start again.
            self._known.pop(cache_key, None)
            await self.api.create(EVENT, self._new_event(name, target, event_type, reason, message,
                                                         component, labels, now, annotations),
                                  target.namespace)
            self._remember(cache_key, _Known(1, now, labels))
            return RecordedEvent(name, target, event_type, reason, message, component, 1, labels, True)
        self._remember(cache_key, _Known(count, now, labels))
        return RecordedEvent(name, target, event_type, reason, message, component, count, labels, False)

    def _remember(self, cache_key: tuple[str, str], known: _Known) -> None:
        self._known[cache_key] = known
        self._known.move_to_end(cache_key)
        while len(self._known) > self._remembered:
            self._known.popitem(last=False)

    def _new_event(
        self,
        name: str,
        target: EventTarget,
        event_type: str,
        reason: str,
        message: str,
        component: str,
        labels: Mapping[str, str],
        now: datetime,
        annotations: Mapping[str, str] | None = None,
    ) -> JSON:
        stamp = _timestamp(now)
        involved: JSON = {
            "apiVersion": target.api_version,
            "kind": target.kind,
            "name": target.name,
            "namespace": target.namespace,
        }
        if target.uid:
            involved["uid"] = target.uid
        if target.resource_version:
            involved["resourceVersion"] = target.resource_version
        metadata: JSON = {"name": name, "namespace": target.namespace}
        if labels:
            metadata["labels"] = dict(labels)
        if annotations:
            metadata["annotations"] = dict(annotations)
        event: JSON = {
            "metadata": metadata,
            "involvedObject": involved,
            "type": event_type,
            "reason": reason,
            "message": message,
            "count": 1,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "source": {"component": component},
            "reportingComponent": component,
        }
        if self.reporting_instance:
            event["reportingInstance"] = self.reporting_instance
        return event
