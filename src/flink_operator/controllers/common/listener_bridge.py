"""From the runtime's status and event hooks to the listener plugins (contract §4.1 "When invoked").

The runtime calls hooks after every successful status write and every created/updated Event; the bridge
turns them into resource models and hands them to the `ListenerDispatcher`, which queues them per listener
and returns at once. So listeners hear about every status change and every event after it was written,
asynchronously: a slow, hanging or failing listener cannot delay a reconcile.

One bridge serves one resource kind. Events carry only their target, so the bridge looks the resource up
through the controller's cache (`bind` is called by each new reconciler, once per leadership term).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from pydantic import ValidationError

from flink_operator.api import FlinkDeployment, FlinkSessionJob, StatusModel
from flink_operator.plugins import KubernetesEvent
from flink_operator.runtime import ObjectKey, RecordedEvent, StatusUpdate

_log = logging.getLogger(__name__)

R = TypeVar("R", FlinkDeployment, FlinkSessionJob)
Lookup = Callable[[ObjectKey], Mapping[str, Any] | None]


class ListenerSink(Protocol):
    """What the bridge needs of the plugin host's listener dispatcher (`PluginHost.listeners`)."""

    def notify_status_update(self, resource: Any, previous_status: Any | None) -> None: ...

    def notify_event(self, resource: Any, event: KubernetesEvent) -> None: ...


class ListenerBridge(Generic[R]):
    def __init__(self, dispatcher: ListenerSink, model: type[R]) -> None:
        self._dispatcher = dispatcher
        self._model: type[R] = model
        self._lookup: Lookup | None = None

    def bind(self, lookup: Lookup) -> None:
        """Where to find the resource an event is about (the controller's cache with status overlay)."""
        self._lookup = lookup

    def _parse(self, document: Mapping[str, Any]) -> R | None:
        try:
            parsed: R = self._model.from_dict(document)
        except ValidationError as error:
            _log.warning("Not notifying listeners about an unreadable %s: %s", self._model.__name__, error)
            return None
        return parsed

    def _status(self, document: Mapping[str, Any] | None) -> StatusModel | None:
        if not document:
            return None
        status_type = self._model.model_fields["status"].annotation
        assert isinstance(status_type, type) and issubclass(status_type, StatusModel)
        try:
            return status_type.from_dict(document)
        except ValidationError:
            return None

    def on_status(self, update: StatusUpdate) -> None:
        """Status hook: the object as written, and the status it replaced."""
        resource = self._parse(update.obj)
        if resource is None:
            return
        self._dispatcher.notify_status_update(resource, self._status(update.previous))

    def on_event(self, recorded: RecordedEvent) -> None:
        """Event hook: the event as recorded, about the resource found in the cache."""
        if recorded.target.kind != self._model.model_fields["kind"].default:
            return
        document = self._lookup(recorded.target.key) if self._lookup is not None else None
        if document is None:
            return
        resource = self._parse(document)
        if resource is None:
            return
        now = datetime.now(UTC)
        view = KubernetesEvent(
            name=recorded.name,
            reason=recorded.reason,
            type=recorded.type,
            message=recorded.message,
            component=recorded.component,
            count=recorded.count,
            first_timestamp=now if recorded.created else None,
            last_timestamp=now,
        )
        self._dispatcher.notify_event(resource, view)

    def notify_final(self, resource: R, previous: StatusModel | None) -> None:
        """The last notification of a deleted resource (its status says DELETED; nothing was written)."""
        self._dispatcher.notify_status_update(resource, previous)
