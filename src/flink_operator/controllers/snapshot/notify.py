"""From the runtime's status and event hooks to the listener plugins, for FlinkStateSnapshots.

The same protocol as the FlinkDeployment controller's listener bridge (`controllers.common.listener_bridge`):
after every status write and every created or updated Event the listeners hear about it
(`on_state_snapshot_status_update`, `on_state_snapshot_event`) through the plugin host's dispatcher, which
queues per listener and returns at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from flink_operator.api import KIND_FLINK_STATE_SNAPSHOT, FlinkStateSnapshot, FlinkStateSnapshotStatus
from flink_operator.plugins import KubernetesEvent
from flink_operator.runtime import ObjectKey, RecordedEvent, StatusUpdate

_log = logging.getLogger(__name__)

Lookup = Callable[[ObjectKey], Mapping[str, Any] | None]


class ListenerSink(Protocol):
    def notify_status_update(self, resource: Any, previous_status: Any | None) -> None: ...

    def notify_event(self, resource: Any, event: KubernetesEvent) -> None: ...


class SnapshotListenerBridge:
    def __init__(self, dispatcher: ListenerSink) -> None:
        self._dispatcher = dispatcher
        self._lookup: Lookup | None = None

    def bind(self, lookup: Lookup) -> None:
        """Where to find the snapshot an event is about (the controller's cache with status overlay)."""
        self._lookup = lookup

    @staticmethod
    def _parse(document: Mapping[str, Any]) -> FlinkStateSnapshot | None:
        try:
            return FlinkStateSnapshot.from_dict(document)
        except ValidationError as error:
            _log.warning("Not notifying listeners about an unreadable FlinkStateSnapshot: %s", error)
            return None

    def on_status(self, update: StatusUpdate) -> None:
        snapshot = self._parse(update.obj)
        if snapshot is None:
            return
        previous = None
        if update.previous:
            try:
                previous = FlinkStateSnapshotStatus.from_dict(update.previous)
            except ValidationError:
                previous = None
        self._dispatcher.notify_status_update(snapshot, previous)

    def on_event(self, recorded: RecordedEvent) -> None:
        if recorded.target.kind != KIND_FLINK_STATE_SNAPSHOT or self._lookup is None:
            return
        document = self._lookup(recorded.target.key)
        if document is None:
            return
        snapshot = self._parse(document)
        if snapshot is None:
            return
        now = datetime.now(UTC)
        self._dispatcher.notify_event(
            snapshot,
            KubernetesEvent(
                name=recorded.name,
                reason=recorded.reason,
                type=recorded.type,
                message=recorded.message,
                component=recorded.component,
                count=recorded.count,
                first_timestamp=now if recorded.created else None,
                last_timestamp=now,
            ),
        )
