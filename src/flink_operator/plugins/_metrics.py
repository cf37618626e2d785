"""Prometheus metrics of the plugin system, on an injectable registry (default: the global one).

`flink_operator_plugin_calls_total{role,plugin,outcome}`: validator/mutator calls (outcome `ok`, `error`,
`timeout`, `invalid` for a result of the wrong type).
`flink_operator_listener_deliveries_total{listener,outcome}`: listener calls (`ok`, `error`, `timeout`).
`flink_operator_listener_dropped_total{listener,reason}`: notifications never delivered (`overflow` of the
listener's queue, `shutdown` when the drain deadline passed, `closed` after shutdown began, `unmaskable` when
the resource could not be copied with its secrets masked).
`flink_operator_listener_queue_depth{listener}`: notifications waiting per listener.
`flink_operator_http_sink_requests_total{listener,outcome}`: HTTP sink requests (`delivered`, `retried`,
`failed`, `dropped`).
"""

from __future__ import annotations

import threading
import weakref

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge


class PluginMetrics:
    """The metric families, created once per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "flink_operator_plugin_calls",
            "Validator and mutator calls by outcome.",
            ("role", "plugin", "outcome"),
            registry=registry,
        )
        self.deliveries = Counter(
            "flink_operator_listener_deliveries",
            "Listener calls by outcome.",
            ("listener", "outcome"),
            registry=registry,
        )
        self.dropped = Counter(
            "flink_operator_listener_dropped",
            "Notifications a listener never received, by reason.",
            ("listener", "reason"),
            registry=registry,
        )
        self.queue_depth = Gauge(
            "flink_operator_listener_queue_depth",
            "Notifications waiting for a listener.",
            ("listener",),
            registry=registry,
        )
        self.sink_requests = Counter(
            "flink_operator_http_sink_requests",
            "HTTP sink requests by outcome.",
            ("listener", "outcome"),
            registry=registry,
        )


_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, PluginMetrics] = weakref.WeakKeyDictionary()


def plugin_metrics(registry: CollectorRegistry | None = None) -> PluginMetrics:
    """The plugin metrics registered in `registry` (created on first use; later calls share them)."""
    target = REGISTRY if registry is None else registry
    with _lock:
        metrics = _by_registry.get(target)
        if metrics is None:
            metrics = PluginMetrics(target)
            _by_registry[target] = metrics
        return metrics
