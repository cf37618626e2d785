"""`OperatorMetrics`: every metric group of the operator on one registry, attached to a runtime manager, and
the `/metrics` endpoint, started and stopped with the operator.

    metrics = OperatorMetrics.from_configuration(configuration)   # its own CollectorRegistry
    plugins = PluginHost.load(..., registry=metrics.registry)      # plugin/listener metrics on the same one
    manager.add(spec) ...
    metrics.install(manager)          # after the controllers are added, before manager.start()
    await metrics.start()             # serves /metrics when configured (see `options`)
    ...
    await metrics.stop()

`install` instruments every registered controller (`instrument(spec)`: reconcile counters and durations,
lifecycle tracking from status writes, event counts) and the manager's Kubernetes client, and registers the
collectors that read the manager at scrape time (queues, resource gauges, leadership). Each group can be
switched off with upstream's option (contract §5.7). The process group is prometheus-client's process and
platform collectors (`process_resident_memory_bytes`, `process_cpu_seconds_total`, `process_open_fds`, ...).

Not guaranteed: metrics survive a restart (counters and histograms start from zero, as Prometheus expects).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from flink_operator.api.constants import GROUP
from flink_operator.config.configuration import Configuration
from flink_operator.metrics.controller_metrics import ReconcileMetrics, RunnerCollector, wrap_reconciler
from flink_operator.metrics.kube_client import KubeClientMetrics
from flink_operator.metrics.lifecycle_metrics import LifecycleMetrics
from flink_operator.metrics.options import MetricsSettings
from flink_operator.metrics.resource_collector import ResourceCollector
from flink_operator.metrics.resources import LIFECYCLE_KINDS
from flink_operator.metrics.server import MetricsServer
from flink_operator.runtime.cache import Store
from flink_operator.runtime.controller import ControllerSpec
from flink_operator.runtime.events import RecordedEvent
from flink_operator.runtime.kinds import ObjectKey
from flink_operator.runtime.manager import Manager
from flink_operator.runtime.status import StatusUpdate


class OperatorMetrics:
    def __init__(
        self,
        settings: MetricsSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`registry`: where every metric goes (default: a new one, so that several operators in one
        process never collide). `clock`: wall-clock seconds for lifecycle times (tests)."""
        self.settings = settings = settings or MetricsSettings()
        self.registry = registry if registry is not None else CollectorRegistry()
        self.lifecycle = (
            LifecycleMetrics(
                self.registry,
                namespace_label=settings.namespace_histograms,
                name_label=settings.resource_labels,
                clock=clock,
            )
            if settings.lifecycle_metrics
            else None
        )
        self.reconciles = (
            ReconcileMetrics(self.registry, resource_labels=settings.resource_labels)
            if settings.controller_metrics
            else None
        )
        self.kube_client = (
            KubeClientMetrics(
                self.registry,
                slow_threshold=settings.kube_client_slow_threshold,
                code_groups=settings.kube_client_code_groups,
            )
            if settings.kube_client_metrics
            else None
        )
        if settings.process_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self.server = (
            MetricsServer(self.registry, host=settings.host, ports=settings.ports)
            if settings.serves
            else None
        )
        self.resources: ResourceCollector | None = None
        self._manager: Manager | None = None
        self._instrumented: list[ControllerSpec] = []

    @classmethod
    def from_configuration(
        cls, configuration: Configuration, *, registry: CollectorRegistry | None = None
    ) -> OperatorMetrics:
        return cls(MetricsSettings.from_configuration(configuration), registry=registry)

    # --- hooks (called by the runtime) ----------------------------------------------------------------

    def on_status(self, update: StatusUpdate) -> None:
        """Status hook: lifecycle tracking."""
        if self.lifecycle is not None:
            self.lifecycle.on_status(update)

    def on_event(self, event: RecordedEvent) -> None:
        """Event hook: event counts."""
        if self.reconciles is not None:
            self.reconciles.on_event(event)

    def forget(self, kind: str, key: ObjectKey) -> None:
        """A resource is gone: drop what is remembered about it."""
        if self.lifecycle is not None:
            self.lifecycle.forget(kind, key)

    # --- wiring ---------------------------------------------------------------------------------------

    def instrument(self, spec: ControllerSpec) -> ControllerSpec:
        """`spec` with its reconciles counted and timed and this object's status and event hooks added
        (returned unchanged when it was instrumented already)."""
        if any(spec is done for done in self._instrumented):
            return spec
        kind = spec.kind.kind
        if self.reconciles is not None:
            self.reconciles.prepare(kind)
        tracked = self.lifecycle is not None and kind in LIFECYCLE_KINDS
        instrumented = dataclasses.replace(
            spec,
            reconciler=wrap_reconciler(
                kind, spec.reconciler, self.reconciles,
                (lambda key: self.forget(kind, key)) if tracked else None,
            ),
            status_hooks=(*spec.status_hooks, self.on_status) if tracked else spec.status_hooks,
            event_hooks=(
                (*spec.event_hooks, self.on_event) if self.reconciles is not None else spec.event_hooks
            ),
        )
        self._instrumented.append(instrumented)
        return instrumented

    def install(self, manager: Manager) -> None:
        """Attach to `manager`: call after its controllers are added and before it starts."""
        if self._manager is not None:
            raise RuntimeError("these operator metrics are already installed on a manager")
        self._manager = manager
        manager.specs[:] = [self.instrument(spec) for spec in manager.specs]
        if self.kube_client is not None:
            self.kube_client.instrument(manager.api.client)
            if manager.elector is not None:  # the Lease has a client of its own, on its own thread
                manager.elector.client_hooks.append(self.kube_client.instrument)
        if self.reconciles is not None:
            self.registry.register(RunnerCollector(lambda: manager.runners))
        if self.settings.resource_metrics:
            self.resources = ResourceCollector(
                lambda: _resource_stores(manager), lifecycle=self.settings.lifecycle_metrics
            )
            self.registry.register(self.resources)
        self.registry.register(_LeaderCollector(manager.is_leading))

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve `/metrics` when an endpoint is configured."""
        if self.server is not None:
            await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
        if self.kube_client is not None:
            self.kube_client.uninstall()

    @property
    def port(self) -> int | None:
        """The port `/metrics` is served on (None: not serving)."""
        return self.server.port if self.server is not None else None


def _resource_stores(manager: Manager) -> Iterable[tuple[str, Store]]:
    return [
        (informer.kind.kind, informer.store) for informer in manager.informers if informer.kind.group == GROUP
    ]


class _LeaderCollector(Collector):
    def __init__(self, is_leading: Callable[[], bool]) -> None:
        self._is_leading = is_leading

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        family.add_metric([], 1.0 if self._is_leading() else 0.0)
        return [family]

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "flink_operator_leader", "1 while this replica is the leader and runs the controllers."
        )
