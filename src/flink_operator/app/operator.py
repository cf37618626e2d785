"""Wiring the operator: configuration (+ live reload), plugins, the Flink runtime, the runtime manager (leader
election, health), the FlinkDeployment and the FlinkSessionJob controllers, and the FlinkStateSnapshot
controller when its CRD is installed and snapshot resources are enabled.

`start_operator(settings, kube_client=..., flink_service=...)` builds and starts everything and returns an
`Operator` handle; `run_operator(...)` does the same and runs until SIGTERM/SIGINT (or `stop_event`), then
shuts down gracefully: reconciles drain (bounded by `kubernetes.operator.termination.timeout`), the lease
is released, listeners get their queued notifications (bounded by the plugin shutdown timeout). Flink
clusters keep running across operator restarts.

Start-up fails loudly, naming the problem: an unreadable configuration file or bad value (`ConfigError`),
a plugin that cannot be loaded (`PluginLoadError`), an unavailable runtime, an unreachable API server.

Callers that bring their own Kubernetes client or FlinkService (tests, `flink-operator local up`) keep
ownership of them: the operator does not close what it did not create.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lightkube import AsyncClient, KubeConfig

from flink_operator.api import FlinkDeployment, FlinkSessionJob
from flink_operator.app.runtimes import ManagedFlinkService, create_flink_service, runs_on_kubernetes
from flink_operator.config import ConfigReloader, load_declared_options
from flink_operator.config.resource_options import SNAPSHOT_RESOURCE_ENABLED
from flink_operator.controllers.common.listener_bridge import ListenerBridge
from flink_operator.controllers.deployment.controller import (
    DeploymentControllerDeps,
    deployment_controller_spec,
)
from flink_operator.controllers.sessionjob import SessionJobControllerDeps, session_job_controller_spec
from flink_operator.controllers.snapshot import (
    SnapshotControllerDeps,
    SnapshotListenerBridge,
    snapshot_controller_spec,
)
from flink_operator.controllers.snapshot.job_hooks import JobSnapshots
from flink_operator.controllers.snapshot.wiring import snapshot_crd_installed
from flink_operator.flink.service import FlinkService
from flink_operator.metrics import OperatorMetrics
from flink_operator.plugins._host import PluginHost
from flink_operator.runtime import (
    KubeApi,
    LeaderElectionConfig,
    Manager,
    default_identity,
    operator_namespace,
)
from flink_operator.validation import DefaultValidator
from flink_operator.webhook import WebhookServer

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperatorSettings:
    """How to start the operator (everything else comes from the configuration file and environment)."""

    config_file: Path | None = None
    """A Flink-style configuration file (`config.yaml` / `flink-conf.yaml`) or a directory holding one;
    None: `$FLINK_CONF_DIR` (and `$CONF_OVERRIDE_DIR`), as upstream."""
    kubeconfig: Path | None = None
    """None: in-cluster service account, else `$KUBECONFIG` / `~/.kube/config`."""
    context: str | None = None
    environ: Mapping[str, str] | None = None
    """Environment for configuration loading (None: the process environment)."""
    namespace: str | None = None
    """The operator's own namespace (for its Lease); None: `OPERATOR_NAMESPACE`, the service account's."""
    identity: str | None = None
    leader_election: bool | None = None
    """None follows `kubernetes.operator.leader-election.enabled` (on by default)."""
    health_host: str = "0.0.0.0"  # noqa: S104 - a probe endpoint inside the pod
    health_port: int | None = None
    """None follows `kubernetes.operator.health.probe.*`; 0 picks a free port; negative disables it."""
    local_state_dir: Path | None = None
    """The local runtime's state directory (overrides `kubernetes.operator.local.state-dir`)."""
    lease_timing: tuple[float, float, float] | None = None
    """(duration, renew deadline, retry period) overriding the configured lease timing (tests)."""
    webhook: bool = False
    """Also serve the admission webhook (`kubernetes.operator.webhook.*`) in this process, on every
    replica (leader or not)."""


@dataclass
class Operator:
    """A started operator: stop it gracefully with `stop()`, or `kill()` it as a crash would."""

    manager: Manager
    plugins: PluginHost
    flink: FlinkService
    reloader: ConfigReloader
    client: AsyncClient
    _owned_client: bool
    _owned_flink: ManagedFlinkService | None
    _reload_task: asyncio.Task[None] | None = None
    _stopped: bool = field(default=False)
    webhook: WebhookServer | None = None
    metrics: OperatorMetrics | None = None

    @property
    def health_port(self) -> int | None:
        server = self.manager.health_server
        return server.port if server is not None else None

    async def stop(self) -> None:
        """Graceful shutdown (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        await self.manager.stop()
        await self._release(self.plugins.settings.shutdown_timeout)

    async def kill(self) -> None:
        """Stop at once, as if the process died mid-reconcile: running reconciles are cancelled where they
        are, the lease is not released, queued listener notifications are dropped."""
        if self._stopped:
            return
        self._stopped = True
        await self.manager.kill()
        await self._release(0.0)

    async def _release(self, listener_grace: float) -> None:
        if self.webhook is not None:
            await self.webhook.stop()
        if self.metrics is not None:
            await self.metrics.stop()
        if self._reload_task is not None:
            self._reload_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reload_task
        await self.plugins.listeners.aclose(listener_grace)
        if listener_grace > 0:
            await self.plugins.aclose()
        if self._owned_flink is not None:
            await self._owned_flink.close()
        if self._owned_client:
            await self.client.close()


def _kube_client(settings: OperatorSettings) -> AsyncClient:
    if settings.kubeconfig is not None:
        config = KubeConfig.from_file(settings.kubeconfig)
        return AsyncClient(config=config.get(context_name=settings.context), field_manager="flink-operator")
    config = KubeConfig.from_env()
    return AsyncClient(config=config.get(context_name=settings.context), field_manager="flink-operator")


def _leader_election(
    settings: OperatorSettings, reloader: ConfigReloader
) -> LeaderElectionConfig | bool | None:
    if settings.leader_election is False:
        return False
    if settings.lease_timing is None:
        return settings.leader_election
    configured = LeaderElectionConfig.from_configuration(
        reloader.current.configuration,
        settings.namespace or operator_namespace(),
        settings.identity or default_identity(),
    )
    duration, deadline, retry = settings.lease_timing
    return LeaderElectionConfig(
        configured.lease_name, configured.namespace, configured.identity, duration, deadline, retry
    )


async def start_operator(
    settings: OperatorSettings,
    *,
    kube_client: AsyncClient | None = None,
    flink_service: FlinkService | None = None,
    reloader: ConfigReloader | None = None,
) -> Operator:
    """Build and start the operator; returns once the manager runs (it may still be a standby)."""
    load_declared_options()
    reloader = reloader or ConfigReloader(environ=settings.environ, path=settings.config_file)
    configuration = reloader.current.configuration
    metrics = OperatorMetrics.from_configuration(configuration)
    client = kube_client or _kube_client(settings)
    owned_flink: ManagedFlinkService | None = None
    plugins: PluginHost | None = None
    webhook: WebhookServer | None = None
    try:
        plugins = PluginHost.load(
            configuration,
            default_validator=DefaultValidator(lambda: reloader.current),
            kubernetes_client=client,
            environ=settings.environ,
            registry=metrics.registry,
        )
        _log.info(
            "Plugins: validators %s, mutators %s, listeners %s",
            list(plugins.validators.names),
            list(plugins.mutators.names),
            list(plugins.listeners.listener_names),
        )
        manager = Manager(
            client,
            reloader,
            namespace=settings.namespace,
            identity=settings.identity,
            leader_election=_leader_election(settings, reloader),
            health_host=settings.health_host,
            health_port=settings.health_port,
        )
        if flink_service is None:
            # The Kubernetes runtime writes through the leader-election gate, as the controllers do.
            owned_flink = await create_flink_service(
                configuration,
                state_dir=settings.local_state_dir,
                kube_client=client,
                gate=manager.elector.check if manager.elector is not None else None,
            )
            flink_service = owned_flink.service
        bridge: ListenerBridge[FlinkDeployment] = ListenerBridge(plugins.listeners, FlinkDeployment)
        crd_installed = await snapshot_crd_installed(KubeApi(client, user_agent="flink-operator"))
        job_snapshots = JobSnapshots(flink_service, crd_installed=crd_installed)
        deps = DeploymentControllerDeps(
            flink=flink_service, plugins=plugins, bridge=bridge, snapshots=job_snapshots
        )
        manager.add(deployment_controller_spec(deps, watch_jobmanagers=runs_on_kubernetes(flink_service)))
        job_bridge: ListenerBridge[FlinkSessionJob] = ListenerBridge(plugins.listeners, FlinkSessionJob)
        session_deps = SessionJobControllerDeps(
            flink=flink_service,
            plugins=plugins,
            bridge=job_bridge,
            snapshots=JobSnapshots(flink_service, crd_installed=crd_installed),
        )
        manager.add(session_job_controller_spec(session_deps, snapshot_watch_enabled=crd_installed))
        if crd_installed and configuration.get(SNAPSHOT_RESOURCE_ENABLED):
            snapshot_deps = SnapshotControllerDeps(
                flink_service, plugins, SnapshotListenerBridge(plugins.listeners)
            )
            manager.add(snapshot_controller_spec(snapshot_deps))
        metrics.install(manager)
        if settings.webhook:
            webhook = WebhookServer.from_config(plugins, configuration, client, namespace=settings.namespace)
            await webhook.start()
        await metrics.start()
        await manager.start()
    except BaseException:
        await metrics.stop()
        if webhook is not None:
            await webhook.stop()
        if plugins is not None:
            await plugins.aclose()
        if owned_flink is not None:
            await owned_flink.close()
        if kube_client is None:
            await client.close()
        raise
    reload_task = asyncio.create_task(reloader.run(), name="config-reload")
    _log.info("Operator started (identity %s)", manager.identity)
    return Operator(
        manager=manager,
        plugins=plugins,
        flink=flink_service,
        reloader=reloader,
        client=client,
        _owned_client=kube_client is None,
        _owned_flink=owned_flink,
        _reload_task=reload_task,
        webhook=webhook,
        metrics=metrics,
    )


async def run_operator(
    settings: OperatorSettings,
    *,
    kube_client: AsyncClient | None = None,
    flink_service: FlinkService | None = None,
    stop_event: asyncio.Event | None = None,
) -> None:
    """Run the operator until `stop_event` is set or the process gets SIGTERM/SIGINT; then stop gracefully."""
    stop = stop_event or asyncio.Event()
    operator = await start_operator(settings, kube_client=kube_client, flink_service=flink_service)
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await stop.wait()
        _log.info("Stopping the operator")
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await operator.stop()
