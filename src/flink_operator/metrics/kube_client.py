"""Kubernetes API client metrics (upstream's `KubeClient.Http*`), measured at the HTTP transport.

`KubeClientMetrics.instrument(client)` wraps the transports of a lightkube `AsyncClient`'s HTTP client, so
every request of the operator is seen, whichever code sends it (the runtime's `KubeApi`, the Lease, typed
lightkube calls):

* `flink_operator_kube_client_requests_total{method}`: requests sent;
* `flink_operator_kube_client_responses_total{method,code}`: responses by HTTP status code;
* `flink_operator_kube_client_failed_requests_total{method}`: requests that got no response (transport
  errors, timeouts);
* `flink_operator_kube_client_slow_requests_total{method}`: responses slower than the slow-request threshold;
* `flink_operator_kube_client_request_duration_seconds{method}`: time until the response headers arrived
  (for a watch: until the server accepted it, not the life of the stream);
* with response code groups on, `flink_operator_kube_client_responses_by_class_total{class}` (`2xx`, ...).

Rates (upstream's `NumPerSecond`) are left to PromQL's `rate()`. `uninstall()` takes the wrappers out again
(or, when someone wrapped the transport after us, turns ours into a pass-through).

Not guaranteed: requests sent through other HTTP clients (the Flink REST client) are not counted.
"""

from __future__ import annotations

import asyncio
import time

import httpx2
from lightkube import AsyncClient
from prometheus_client import CollectorRegistry, Counter, Histogram

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, float("inf"))


class KubeClientMetrics:
    def __init__(
        self, registry: CollectorRegistry, *, slow_threshold: float = 5.0, code_groups: bool = False
    ) -> None:
        self.slow_threshold = slow_threshold
        self.requests = Counter(
            "flink_operator_kube_client_requests", "Kubernetes API requests sent.", ("method",),
            registry=registry,
        )
        self.responses = Counter(
            "flink_operator_kube_client_responses", "Kubernetes API responses by status code.",
            ("method", "code"), registry=registry,
        )
        self.failed = Counter(
            "flink_operator_kube_client_failed_requests",
            "Kubernetes API requests that got no response (transport error or timeout).", ("method",),
            registry=registry,
        )
        self.slow = Counter(
            "flink_operator_kube_client_slow_requests",
            "Kubernetes API requests slower than the slow-request threshold.", ("method",),
            registry=registry,
        )
        self.duration = Histogram(
            "flink_operator_kube_client_request_duration_seconds",
            "Time until the Kubernetes API response headers arrived.", ("method",),
            buckets=REQUEST_BUCKETS, registry=registry,
        )
        self.code_classes = (
            Counter(
                "flink_operator_kube_client_responses_by_class",
                "Kubernetes API responses by status class (1xx ... 5xx).", ("class",), registry=registry,
            )
            if code_groups
            else None
        )
        self._installed: list[tuple[httpx2.AsyncClient, MeteredTransport]] = []

    # --- recording ------------------------------------------------------------------------------------

    def record_response(self, method: str, code: int, seconds: float) -> None:
        self.responses.labels(method, str(code)).inc()
        self.duration.labels(method).observe(seconds)
        if seconds > self.slow_threshold:
            self.slow.labels(method).inc()
        if self.code_classes is not None:
            self.code_classes.labels(f"{code // 100}xx").inc()

    def record_failure(self, method: str, seconds: float) -> None:
        self.failed.labels(method).inc()
        if seconds > self.slow_threshold:
            self.slow.labels(method).inc()

    # --- installing -----------------------------------------------------------------------------------

    def instrument(self, client: AsyncClient) -> None:
        """Count the requests of `client` from now on."""
        # lightkube keeps its configured httpx2 client there and offers no public accessor (the runtime's
        # KubeApi reads it the same way).
        self.instrument_http(client._client._client)

    def instrument_http(self, http: httpx2.AsyncClient) -> None:
        transport = MeteredTransport(http._transport, self)
        http._transport = transport
        self._installed.append((http, transport))
        for pattern, mounted in list(http._mounts.items()):
            if mounted is not None:  # None means "use the default transport", which is wrapped above
                wrapped = MeteredTransport(mounted, self)
                http._mounts[pattern] = wrapped
                self._installed.append((http, wrapped))

    def uninstall(self) -> None:
        installed, self._installed = self._installed, []
        for http, transport in installed:
            transport.active = False
            if http._transport is transport:
                http._transport = transport.inner
            for pattern, mounted in list(http._mounts.items()):
                if mounted is transport:
                    http._mounts[pattern] = transport.inner


class MeteredTransport(httpx2.AsyncBaseTransport):
    """Times and counts every request passed on to `inner`."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, metrics: KubeClientMetrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.active = True

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not self.active:
            return await self.inner.handle_async_request(request)
        method = request.method
        self.metrics.requests.labels(method).inc()
        start = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.metrics.record_failure(method, time.perf_counter() - start)
            raise
        self.metrics.record_response(method, response.status_code, time.perf_counter() - start)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
