"""The HTTP sink listener: POSTs every status change and Kubernetes Event as JSON to a URL.

Enable it by configuration, under any name (several sinks may coexist):
    kubernetes.operator.plugins.listeners.<name>.class: flink_operator.plugins:HttpSinkListener
    kubernetes.operator.plugins.listeners.<name>.url: https://hooks.example.com/flink
and optionally `timeout`, `max-retries`, `queue-size`, `headers` (`Name:value,...`), `initial-backoff`,
`max-backoff` under the same prefix.

Its listener methods only build the payload and queue it (bounded; the oldest is dropped when full), so they
return at once. One sender task posts the queue in order. Connection errors, timeouts and 5xx, 408 and 429
answers are retried with exponential backoff and jitter, up to `max-retries` times; any other 4xx is final.
Each payload carries an `idempotencyKey` (also sent as the `Idempotency-Key` header) derived from the
resource uid, generation and the identity of the transition or event, so a receiver can drop duplicates of a
retried or re-sent notification.

Payloads are built from the masked resource the dispatcher hands to listeners: no secret is ever sent. Header
values and the URL's credentials/query are never logged. Not guaranteed: delivery is at most once per
attempt budget and in memory only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp

from flink_operator.api import (
    CommonStatus,
    FlinkDeployment,
    FlinkDeploymentStatus,
    FlinkSessionJob,
    FlinkSessionJobStatus,
    FlinkStateSnapshotStatus,
    compute_lifecycle_state,
)
from flink_operator.config.errors import ConfigError
from flink_operator.config.option import ConfigOption
from flink_operator.plugins._contexts import (
    KubernetesEvent,
    ResourceEventContext,
    StateSnapshotEventContext,
    StateSnapshotStatusUpdateContext,
    StatusUpdateContext,
)
from flink_operator.plugins._interfaces import FlinkResourceListener
from flink_operator.plugins._metrics import PluginMetrics, plugin_metrics
from flink_operator.plugins._options import (
    HTTP_SINK_HEADERS,
    HTTP_SINK_INITIAL_BACKOFF,
    HTTP_SINK_MAX_BACKOFF,
    HTTP_SINK_MAX_RETRIES,
    HTTP_SINK_QUEUE_SIZE,
    HTTP_SINK_TIMEOUT,
)
from flink_operator.plugins._queueing import DropOldestQueue

T = TypeVar("T")

_log = logging.getLogger("flink_operator.plugins.http_sink")

_RETRIED_CLIENT_ERRORS = frozenset({408, 429})
_KNOWN_KEYS = frozenset(
    {
        "class",
        "enabled",
        "url",
        "timeout",
        "max-retries",
        "queue-size",
        "headers",
        "initial-backoff",
        "max-backoff",
    }
)

# --- payloads (pure) ------------------------------------------------------------------------------------


def _states(status: Any) -> dict[str, str | None]:
    if isinstance(status, FlinkStateSnapshotStatus):
        return {"snapshotState": status.state.value}
    if isinstance(status, CommonStatus):
        job_state = status.job_status.state
        return {
            "lifecycleState": compute_lifecycle_state(status).value,
            "jobState": job_state.value if job_state is not None else None,
        }
    return {}


def _resource_fields(resource: Any) -> dict[str, Any]:
    meta = resource.metadata
    return {
        "kind": resource.kind,
        "namespace": meta.namespace,
        "name": meta.name,
        "uid": meta.uid,
        "generation": meta.generation,
    }


def idempotency_key(resource: Any, *identity: str) -> str:
    """Stable for the same notification, different for different ones: uid, generation and `identity`."""
    meta = resource.metadata
    text = "\x1f".join((meta.uid or f"{meta.namespace}/{meta.name}", str(meta.generation), *identity))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def status_payload(resource: Any, previous: Any | None, new: Any, timestamp: datetime) -> dict[str, Any]:
    before = _states(previous) if previous is not None else None
    after = _states(new)
    new_document = json.dumps(new.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
    transition = f"{json.dumps(before, sort_keys=True)}->{json.dumps(after, sort_keys=True)}"
    digest = hashlib.sha256(new_document.encode()).hexdigest()
    error = getattr(new, "error", None)
    if isinstance(new, FlinkStateSnapshotStatus):
        message = error or new.path or ""
    elif isinstance(new, CommonStatus):
        message = error or compute_lifecycle_state(new).description
    else:
        message = error or ""
    return {
        "idempotencyKey": idempotency_key(resource, "status", transition, digest),
        "notification": "StatusUpdate",
        **_resource_fields(resource),
        "previousState": before,
        "state": after,
        "reason": "StatusChanged",
        "type": "Warning" if error else "Normal",
        "message": message,
        "timestamp": timestamp.isoformat(),
    }


def event_payload(resource: Any, event: KubernetesEvent, timestamp: datetime) -> dict[str, Any]:
    identity = (event.name or event.reason, event.reason, str(event.count), event.message)
    return {
        "idempotencyKey": idempotency_key(resource, "event", *identity),
        "notification": "Event",
        **_resource_fields(resource),
        "previousState": None,
        "state": _states(resource.status),
        "reason": event.reason,
        "type": event.type,
        "message": event.message,
        "timestamp": timestamp.isoformat(),
        "event": {
            "name": event.name,
            "component": event.component,
            "count": event.count,
            "firstTimestamp": event.first_timestamp.isoformat() if event.first_timestamp else None,
            "lastTimestamp": event.last_timestamp.isoformat() if event.last_timestamp else None,
        },
    }


def backoff_delay(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: half the capped delay fixed, half random ("equal jitter")."""
    capped = min(maximum, initial * (1 << attempt))
    return capped / 2 + rng.uniform(0, capped / 2)


def _safe_url(url: str) -> str:
    """Scheme, host, port and path only: user info and query strings may hold credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


# --- the listener ---------------------------------------------------------------------------------------


class HttpSinkListener(FlinkResourceListener):
    """Sends notifications to an HTTP endpoint; see the module documentation for keys and guarantees."""

    def __init__(self) -> None:
        self.name = "http-sink"
        self._url: str | None = None
        self._timeout = HTTP_SINK_TIMEOUT.default.total_seconds()
        self._max_retries = HTTP_SINK_MAX_RETRIES.default
        self._headers: dict[str, str] = {}
        self._initial_backoff = HTTP_SINK_INITIAL_BACKOFF.default.total_seconds()
        self._max_backoff = HTTP_SINK_MAX_BACKOFF.default.total_seconds()
        self._queue: DropOldestQueue[dict[str, Any]] = DropOldestQueue(HTTP_SINK_QUEUE_SIZE.default)
        self._metrics: PluginMetrics = plugin_metrics()
        self._rng = random.Random()  # noqa: S311  (jitter, not cryptography)
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = False

    def configure(self, config: Mapping[str, str]) -> None:
        unknown = sorted(set(config) - _KNOWN_KEYS)
        if unknown:
            _log.warning("HTTP sink: ignoring unknown keys %s (known: %s)", unknown, sorted(_KNOWN_KEYS))
        url_text = (config.get("url") or "").strip()
        if not url_text:
            raise ConfigError("url: the HTTP sink needs the URL to POST to", key="url")
        parts = urlsplit(url_text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = _safe_url(url_text)
            raise ConfigError(f"url: expected an http(s) URL with a host, got {shown!r}", key="url")
        self._url = url_text
        self._timeout = _read(config, "timeout", HTTP_SINK_TIMEOUT).total_seconds()
        self._max_retries = max(_read(config, "max-retries", HTTP_SINK_MAX_RETRIES), 0)
        headers: Mapping[str, str] = _read(config, "headers", HTTP_SINK_HEADERS)
        self._headers = dict(headers)
        self._initial_backoff = _read(config, "initial-backoff", HTTP_SINK_INITIAL_BACKOFF).total_seconds()
        self._max_backoff = _read(config, "max-backoff", HTTP_SINK_MAX_BACKOFF).total_seconds()
        self._queue = DropOldestQueue(max(_read(config, "queue-size", HTTP_SINK_QUEUE_SIZE), 1))
        if self._timeout <= 0:
            raise ConfigError("timeout: must be a positive duration", key="timeout")

    def _flink_operator_bind(self, name: str, metrics: PluginMetrics) -> None:
        """Called by the operator after loading: the listener's configured name and metrics registry."""
        self.name = name
        self._metrics = metrics

    @property
    def pending(self) -> int:
        return len(self._queue)

    # Listener methods: build the payload, queue it, return.

    async def on_deployment_status_update(
        self, ctx: StatusUpdateContext[FlinkDeployment, FlinkDeploymentStatus]
    ) -> None:
        self._enqueue(status_payload(ctx.resource, ctx.previous_status, ctx.new_status, ctx.timestamp))

    async def on_session_job_status_update(
        self, ctx: StatusUpdateContext[FlinkSessionJob, FlinkSessionJobStatus]
    ) -> None:
        self._enqueue(status_payload(ctx.resource, ctx.previous_status, ctx.new_status, ctx.timestamp))

    async def on_state_snapshot_status_update(self, ctx: StateSnapshotStatusUpdateContext) -> None:
        self._enqueue(status_payload(ctx.resource, ctx.previous_status, ctx.new_status, ctx.timestamp))

    async def on_deployment_event(self, ctx: ResourceEventContext[FlinkDeployment]) -> None:
        self._enqueue(event_payload(ctx.resource, ctx.event, ctx.timestamp))

    async def on_session_job_event(self, ctx: ResourceEventContext[FlinkSessionJob]) -> None:
        self._enqueue(event_payload(ctx.resource, ctx.event, ctx.timestamp))

    async def on_state_snapshot_event(self, ctx: StateSnapshotEventContext) -> None:
        self._enqueue(event_payload(ctx.resource, ctx.event, ctx.timestamp))

    def _enqueue(self, payload: dict[str, Any]) -> None:
        if self._url is None:
            raise RuntimeError("the HTTP sink was not configured (no url)")
        if self._closing:
            self._metrics.sink_requests.labels(self.name, "dropped").inc()
            return
        dropped = self._queue.put(payload)
        if dropped is not None:
            self._metrics.sink_requests.labels(self.name, "dropped").inc()
            _log.warning(
                "HTTP sink %r is falling behind (queue size %d): dropped notification %s",
                self.name,
                self._queue.maxsize,
                dropped["idempotencyKey"],
            )
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._send_all(), name=f"http-sink:{self.name}"
            )

    async def _send_all(self) -> None:
        while True:
            payload = await self._queue.get()
            try:
                await self._send(payload)
            finally:
                self._queue.task_done()

    async def _send(self, payload: dict[str, Any]) -> None:
        assert self._url is not None
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        headers = {
            **self._headers,
            "Content-Type": "application/json",
            "Idempotency-Key": payload["idempotencyKey"],
        }
        key = payload["idempotencyKey"]
        for attempt in range(self._max_retries + 1):
            problem: str
            try:
                async with self._session.post(self._url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status < 300:
                        self._metrics.sink_requests.labels(self.name, "delivered").inc()
                        return
                    problem = f"HTTP {response.status}"
                    if response.status < 500 and response.status not in _RETRIED_CLIENT_ERRORS:
                        self._failed(key, f"{problem} (not retried)")
                        return
            except (aiohttp.ClientError, TimeoutError) as error:
                problem = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            if attempt == self._max_retries:
                self._failed(key, f"{problem} after {attempt + 1} attempt(s)")
                return
            self._metrics.sink_requests.labels(self.name, "retried").inc()
            delay = backoff_delay(attempt, self._initial_backoff, self._max_backoff, self._rng)
            _log.info("HTTP sink %r: %s for %s, retrying in %.2f s", self.name, problem, key, delay)
            await asyncio.sleep(delay)

    def _failed(self, key: str, problem: str) -> None:
        self._metrics.sink_requests.labels(self.name, "failed").inc()
        assert self._url is not None
        _log.warning(
            "HTTP sink %r could not deliver %s to %s: %s", self.name, key, _safe_url(self._url), problem
        )

    async def close(self) -> None:
        """Stop accepting, send what is queued (the operator bounds how long), then release the connection."""
        self._closing = True
        try:
            await self._queue.join()
        finally:
            if self._task is not None:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            left = self._queue.clear()
            if left:
                self._metrics.sink_requests.labels(self.name, "dropped").inc(left)
                _log.warning("HTTP sink %r: %d notification(s) not sent before shutdown", self.name, left)
            if self._session is not None:
                await self._session.close()


def _read(config: Mapping[str, str], key: str, option: ConfigOption[T]) -> T:
    text = config.get(key)
    if text is None:
        return option.default
    return option.parse(text, key=key)
