"""Where the metrics endpoint listens and which metric groups are published: `MetricsSettings`.

The endpoint is served when `kubernetes.operator.metrics.port` is set, or when the configuration enables a
Prometheus reporter the way upstream does (`kubernetes.operator.metrics.reporter.<name>.factory.class:
org.apache.flink.metrics.prometheus.PrometheusReporterFactory`, port from `...reporter.<name>.port`, default
9249, a range such as `9250-9260` tries each port in turn). Configuration files and Helm values written for
the upstream operator therefore expose `/metrics` unchanged. Other reporter types (SLF4J, JMX, push
gateways, ...) are not implemented: they are named in a warning and otherwise ignored.

The enabling flags are upstream's keys (declared in `config.metrics_options`). All of these are read once at
start-up: changing them needs a restart. Reading never raises for values the option checks accepted; a bad
reporter port raises `ConfigError` naming the key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flink_operator.config.configuration import Configuration
from flink_operator.config.constraints import between
from flink_operator.config.errors import ConfigError
from flink_operator.config.metrics_options import (
    JOSDK_METRICS_ENABLED,
    JVM_METRICS_ENABLED,
    KUBERNETES_CLIENT_METRICS_ENABLED,
    KUBERNETES_CLIENT_METRICS_HTTP_RESPONSE_CODE_GROUPS_ENABLED,
    KUBERNETES_CLIENT_METRICS_SLOW_REQUEST_THRESHOLD,
    RESOURCE_LIFECYCLE_METRICS_ENABLED,
    RESOURCE_LIFECYCLE_NAMESPACE_HISTOGRAMS_ENABLED,
    RESOURCE_METRICS_ENABLED,
)
from flink_operator.config.registry import declare, declare_optional
from flink_operator.config.values import BOOLEAN, INTEGER, STRING

DOCS_SECTION = "Metrics endpoint"

_log = logging.getLogger(__name__)

_P = "kubernetes.operator.metrics."
REPORTER_PREFIX = _P + "reporter."
PROMETHEUS_FACTORY = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
PROMETHEUS_DEFAULT_PORT = 9249
"""Flink's Prometheus reporter's default port."""

METRICS_PORT = declare_optional(
    _P + "port", INTEGER,
    "Port of the operator's Prometheus endpoint (`/metrics`); 0 picks a free port. When unset, the port of a "
    "configured Prometheus reporter (`kubernetes.operator.metrics.reporter.<name>.port`) is used; with "
    "neither, no endpoint is served.",
    check=between(0, 65535),
)
METRICS_HOST = declare(
    _P + "host", STRING, "0.0.0.0",  # noqa: S104 - scraped from outside the pod
    "Address the Prometheus endpoint binds to.",
)
METRICS_RESOURCE_LABELS_ENABLED = declare(
    _P + "resource-labels.enabled", BOOLEAN, False,
    "Label lifecycle histograms and reconcile metrics with the resource's namespace and name. Off by "
    "default: with it, the number of series grows with the number of resources.",
)


@dataclass(frozen=True)
class MetricsSettings:
    """What to publish and where."""

    host: str = "0.0.0.0"  # noqa: S104 - scraped from outside the pod
    ports: tuple[int, ...] = ()
    """Ports to try in order; empty: no endpoint."""
    controller_metrics: bool = True
    process_metrics: bool = True
    kube_client_metrics: bool = True
    kube_client_code_groups: bool = False
    kube_client_slow_threshold: float = 5.0
    resource_metrics: bool = True
    lifecycle_metrics: bool = True
    namespace_histograms: bool = True
    resource_labels: bool = False

    @property
    def serves(self) -> bool:
        return bool(self.ports)

    @classmethod
    def from_configuration(cls, configuration: Configuration) -> MetricsSettings:
        return cls(
            host=configuration.get(METRICS_HOST),
            ports=endpoint_ports(configuration),
            controller_metrics=configuration.get(JOSDK_METRICS_ENABLED),
            process_metrics=configuration.get(JVM_METRICS_ENABLED),
            kube_client_metrics=configuration.get(KUBERNETES_CLIENT_METRICS_ENABLED),
            kube_client_code_groups=configuration.get(
                KUBERNETES_CLIENT_METRICS_HTTP_RESPONSE_CODE_GROUPS_ENABLED
            ),
            kube_client_slow_threshold=configuration.get(
                KUBERNETES_CLIENT_METRICS_SLOW_REQUEST_THRESHOLD
            ).total_seconds(),
            resource_metrics=configuration.get(RESOURCE_METRICS_ENABLED),
            lifecycle_metrics=configuration.get(RESOURCE_LIFECYCLE_METRICS_ENABLED),
            namespace_histograms=configuration.get(RESOURCE_LIFECYCLE_NAMESPACE_HISTOGRAMS_ENABLED),
            resource_labels=configuration.get(METRICS_RESOURCE_LABELS_ENABLED),
        )


def parse_port_range(text: str, *, key: str) -> tuple[int, ...]:
    """`9249` or `9250-9260` (inclusive) as the ports to try; `ConfigError` naming `key` otherwise."""
    expected = "a port (0-65535) or a range such as 9250-9260"
    parts = text.strip().split("-")
    try:
        numbers = [int(part.strip()) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (1, 2) or any(not 0 <= n <= 65535 for n in numbers):
        raise ConfigError(f"{key}: {text!r} is not {expected}", key=key)
    first, last = numbers[0], numbers[-1]
    if last < first:
        raise ConfigError(f"{key}: {text!r} is not {expected} (the range ends before it starts)", key=key)
    return tuple(range(first, last + 1))


def reporters(configuration: Configuration) -> dict[str, dict[str, str]]:
    """The configured reporters: name -> their own keys (`factory.class`, `port`, ...)."""
    found: dict[str, dict[str, str]] = {}
    for rest, value in configuration.subset(REPORTER_PREFIX).items():
        name, _, key = rest.partition(".")
        if name and key:
            found.setdefault(name, {})[key] = value
    return found


def endpoint_ports(configuration: Configuration) -> tuple[int, ...]:
    """The ports to try for the endpoint: `metrics.port`, else the first Prometheus reporter's (by name)."""
    explicit = configuration.get(METRICS_PORT)
    if explicit is not None:
        return (explicit,)
    chosen: tuple[int, ...] = ()
    for name, keys in sorted(reporters(configuration).items()):
        factory = keys.get("factory.class", "").strip()
        if not factory:
            continue
        if factory != PROMETHEUS_FACTORY:
            _log.warning(
                "Metric reporter %r (%s) is not supported and is ignored; only the Prometheus reporter (%s) "
                "is served", name, factory, PROMETHEUS_FACTORY,
            )
            continue
        port_key = f"{REPORTER_PREFIX}{name}.port"
        port = keys.get("port")
        ports = parse_port_range(port, key=port_key) if port else (PROMETHEUS_DEFAULT_PORT,)
        if chosen:
            _log.warning("Prometheus reporter %r ignored: one endpoint is served, on %s", name, chosen)
            continue
        chosen = ports
    return chosen
