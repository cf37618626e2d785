"""Listener delivery: what the controllers call after each status write and each Kubernetes Event write.

`notify_status_update` / `notify_event` mask the resource (secrets), build one context, put it on the queue
of every listener that implements the matching method, and return: they never wait for a listener. Each
listener has its own bounded queue and worker task, so a slow, hanging or failing listener delays nobody
else. Calls are made one at a time per listener, in notification order, each under the listener call
timeout; a call that raises or times out is logged with the listener's name and counted, and the worker moves
on. When a queue is full the oldest waiting notification is dropped (counted, logged). `aclose` stops
accepting notifications and lets the queues drain until a deadline; what is still queued then is dropped and
counted.

Third-party listeners each receive their own deep copy of the masked resource; built-in ones share it.

Not guaranteed: delivery is at most once and in memory only (notifications waiting at a crash are lost); a
sync listener that timed out may still be running in its thread when the next call starts, so such a listener
can see calls overlap and complete out of order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flink_operator.api import FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot
from flink_operator.plugins._calls import PluginCaller, PluginCallError, PluginTimeoutError
from flink_operator.plugins._contexts import KubernetesEvent, ResourceEventContext, StatusUpdateContext
from flink_operator.plugins._loading import LoadedPlugin
from flink_operator.plugins._masking import Masker
from flink_operator.plugins._metrics import PluginMetrics
from flink_operator.plugins._queueing import DropOldestQueue

if TYPE_CHECKING:
    from lightkube import AsyncClient

_log = logging.getLogger("flink_operator.plugins")

FlinkResource = FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot
_STATUS_METHODS: dict[type[Any], str] = {
    FlinkDeployment: "on_deployment_status_update",
    FlinkSessionJob: "on_session_job_status_update",
    FlinkStateSnapshot: "on_state_snapshot_status_update",
}
_EVENT_METHODS: dict[type[Any], str] = {
    FlinkDeployment: "on_deployment_event",
    FlinkSessionJob: "on_session_job_event",
    FlinkStateSnapshot: "on_state_snapshot_event",
}
_DROP_LOG_INTERVAL = 10.0
_TRACEBACK_LOG_INTERVAL = 60.0


@dataclass(frozen=True)
class _Delivery:
    method: str
    context: StatusUpdateContext[Any, Any] | ResourceEventContext[Any]
    subject: str
    """`FlinkDeployment ns/name` for log lines."""

    def private_copy(self) -> StatusUpdateContext[Any, Any] | ResourceEventContext[Any]:
        """The context with its own copies of the models, for a listener we do not trust with shared ones."""
        context = self.context
        resource = context.resource.model_copy(deep=True)
        if isinstance(context, StatusUpdateContext):
            previous = context.previous_status
            return replace(
                context,
                resource=resource,
                previous_status=None if previous is None else previous.model_copy(deep=True),
                new_status=resource.status,
            )
        return replace(context, resource=resource)


class _ListenerWorker:
    """One listener's queue and the task that empties it."""

    def __init__(
        self, plugin: LoadedPlugin, caller: PluginCaller, queue_size: int, metrics: PluginMetrics
    ) -> None:
        self.plugin = plugin
        self.methods = plugin.methods
        self._caller = caller
        self._queue: DropOldestQueue[_Delivery] = DropOldestQueue(queue_size)
        self._metrics = metrics
        self._depth = metrics.queue_depth.labels(plugin.name)
        self._task: asyncio.Task[None] | None = None
        self._drops_unlogged = 0
        self._last_drop_log = float("-inf")
        self._last_traceback = float("-inf")

    @property
    def name(self) -> str:
        return self.plugin.name

    @property
    def pending(self) -> int:
        return len(self._queue)

    def offer(self, delivery: _Delivery) -> None:
        dropped = self._queue.put(delivery)
        if dropped is not None:
            self._dropped(dropped)
        self._depth.set(len(self._queue))
        if self._task is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError("listeners must be notified from the operator's event loop") from None
            self._task = loop.create_task(self._run(), name=f"listener:{self.name}")

    def _dropped(self, delivery: _Delivery) -> None:
        self._metrics.dropped.labels(self.name, "overflow").inc()
        self._drops_unlogged += 1
        now = time.monotonic()
        if now - self._last_drop_log >= _DROP_LOG_INTERVAL:
            _log.warning(
                "Listener %r is falling behind: dropped %d oldest notification(s) (queue size %d), "
                "the latest %s for %s",
                self.name,
                self._drops_unlogged,
                self._queue.maxsize,
                delivery.method,
                delivery.subject,
            )
            self._drops_unlogged = 0
            self._last_drop_log = now

    async def _run(self) -> None:
        while True:
            delivery = await self._queue.get()
            self._depth.set(len(self._queue))
            try:
                await self._deliver(delivery)
            finally:
                self._queue.task_done()

    async def _deliver(self, delivery: _Delivery) -> None:
        context = delivery.context if self.plugin.trusted else delivery.private_copy()
        try:
            await self._caller.call(getattr(self.plugin.instance, delivery.method), context)
        except PluginTimeoutError as error:
            self._metrics.deliveries.labels(self.name, "timeout").inc()
            _log.warning(
                "Listener %r gave no answer within %g s to %s for %s; moving on",
                self.name,
                error.timeout,
                delivery.method,
                delivery.subject,
            )
        except PluginCallError as error:
            self._metrics.deliveries.labels(self.name, "error").inc()
            # One line per failure, the traceback at most once per interval: a listener failing on every
            # call must not flood the log (nor spend the event loop on formatting tracebacks).
            now = time.monotonic()
            with_traceback = now - self._last_traceback >= _TRACEBACK_LOG_INTERVAL
            if with_traceback:
                self._last_traceback = now
            _log.warning(
                "Listener %r failed on %s for %s: %s",
                self.name,
                delivery.method,
                delivery.subject,
                error.reason,
                exc_info=error.cause if with_traceback else None,
            )
        else:
            self._metrics.deliveries.labels(self.name, "ok").inc()

    async def drain(self) -> None:
        await self._queue.join()

    def stop(self, reason: str) -> int:
        """Cancel the worker; drop (and count) what is still queued. Returns how many were dropped."""
        if self._task is not None:
            self._task.cancel()
        dropped = self._queue.clear()
        if dropped:
            self._metrics.dropped.labels(self.name, reason).inc(dropped)
        self._depth.set(0)
        return dropped

    async def wait_stopped(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


class ListenerDispatcher:
    """Fans notifications out to listeners without ever blocking the caller."""

    def __init__(
        self,
        listeners: Sequence[LoadedPlugin],
        *,
        call_timeout: float,
        queue_size: int,
        max_threads: int,
        metrics: PluginMetrics,
        masker: Masker,
        kubernetes_client: AsyncClient | None = None,
    ) -> None:
        self._workers = [
            _ListenerWorker(
                plugin,
                PluginCaller(plugin.name, timeout=call_timeout, max_threads=max_threads),
                queue_size,
                metrics,
            )
            for plugin in listeners
        ]
        self._metrics = metrics
        self._masker = masker
        self._client = kubernetes_client
        self._closed = False

    @property
    def listener_names(self) -> tuple[str, ...]:
        return tuple(worker.name for worker in self._workers)

    def pending(self) -> dict[str, int]:
        """Notifications waiting, per listener."""
        return {worker.name: worker.pending for worker in self._workers}

    def notify_status_update(
        self,
        resource: FlinkResource,
        previous_status: Any | None,
        *,
        timestamp: datetime | None = None,
    ) -> None:
        """After a status write: `resource` carries the new status, `previous_status` the one it replaced
        (None when the resource is first seen). Must be called on the event loop; returns at once."""
        method = _method_for(_STATUS_METHODS, resource)
        workers = self._accepting(method)
        if not workers:
            return
        try:
            masked, masked_previous, _ = self._masker.pair(resource, previous_status)
        except Exception:
            self._unmaskable(workers, method, resource)
            return
        context: StatusUpdateContext[Any, Any] = StatusUpdateContext(
            resource=masked,
            previous_status=masked_previous,
            new_status=masked.status,
            timestamp=timestamp or datetime.now(UTC),
            kubernetes_client=self._client,
        )
        self._offer(workers, _Delivery(method, context, _subject(resource)))

    def notify_event(self, resource: FlinkResource, event: KubernetesEvent | Mapping[str, Any] | Any) -> None:
        """After an Event was created or updated for `resource`: the Event as written (a JSON mapping or a
        lightkube model) or its `KubernetesEvent` view."""
        method = _method_for(_EVENT_METHODS, resource)
        workers = self._accepting(method)
        if not workers:
            return
        if isinstance(event, KubernetesEvent):
            view = event
        else:
            view = KubernetesEvent.from_manifest(event if isinstance(event, Mapping) else event.to_dict())
        try:
            masked, _, secrets = self._masker.pair(resource, None)
        except Exception:
            self._unmaskable(workers, method, resource)
            return
        view = replace(view, message=self._masker.text(view.message, secrets))
        context: ResourceEventContext[Any] = ResourceEventContext(
            resource=masked,
            event=view,
            timestamp=view.last_timestamp or datetime.now(UTC),
            kubernetes_client=self._client,
        )
        self._offer(workers, _Delivery(method, context, _subject(resource)))

    def _accepting(self, method: str) -> list[_ListenerWorker]:
        workers = [worker for worker in self._workers if method in worker.methods]
        if self._closed:
            for worker in workers:
                self._metrics.dropped.labels(worker.name, "closed").inc()
            if workers:
                _log.debug("Listeners are shut down: %s not delivered", method)
            return []
        return workers

    def _unmaskable(self, workers: list[_ListenerWorker], method: str, resource: FlinkResource) -> None:
        # Never let a notification fail the caller; without a masked copy nothing may be delivered.
        _log.exception("Cannot mask %s for %s; listeners are not told about it", _subject(resource), method)
        for worker in workers:
            self._metrics.dropped.labels(worker.name, "unmaskable").inc()

    @staticmethod
    def _offer(workers: list[_ListenerWorker], delivery: _Delivery) -> None:
        for worker in workers:
            worker.offer(delivery)

    async def drain(self, grace_period: float) -> bool:
        """Wait until every queue is empty and no call is running, up to `grace_period` s; True if drained."""
        waiting = [asyncio.ensure_future(worker.drain()) for worker in self._workers]
        if not waiting:
            return True
        _, still = await asyncio.wait(waiting, timeout=grace_period)
        for future in still:
            future.cancel()
        return not still

    async def aclose(self, grace_period: float) -> None:
        """Stop accepting notifications, drain within `grace_period` s, then drop and count what is left."""
        self._closed = True
        drained = await self.drain(grace_period)
        for worker in self._workers:
            left = worker.stop("shutdown")
            if left:
                _log.warning(
                    "Listener %r: %d notification(s) not delivered before shutdown", worker.name, left
                )
        await asyncio.gather(*(worker.wait_stopped() for worker in self._workers))
        if not drained:
            _log.warning("Listeners did not drain within %g s", grace_period)


def _method_for(methods: dict[type[Any], str], resource: object) -> str:
    method = methods.get(type(resource))
    if method is None:
        for cls, name in methods.items():
            if isinstance(resource, cls):
                return name
        raise TypeError(f"listeners are told about Flink resources only, not {type(resource).__name__}")
    return method


def _subject(resource: FlinkResource) -> str:
    return f"{resource.kind} {resource.metadata.namespace}/{resource.metadata.name}"
