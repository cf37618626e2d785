"""Choosing and starting the FlinkService the controllers use (`kubernetes.operator.runtime`).

`create_flink_service(configuration, kube_client=..., gate=...)` returns the runtime and how to release it:

* `kubernetes` (the default): `KubernetesRuntimes`, native or standalone per resource (`spec.mode`), on the
  operator's own Kubernetes client; every write it makes goes through `gate` (the leader-election write
  gate), so a replica that lost its lease cannot create or delete Flink clusters. The REST API of each
  cluster is reached at its `<name>-rest` Service, or where `kubernetes.operator.flink.rest.url-template`
  says (an operator outside the cluster).
* `local`: every cluster as processes on this machine. It first adopts clusters an earlier run left
  behind (`LocalFlinkService.recover`), so an operator restart neither duplicates nor orphans Flink
  processes.

Closing releases HTTP connections only: clusters keep running across operator restarts, as upstream's do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from lightkube import AsyncClient

from flink_operator.app.options import RUNTIME, RuntimeKind
from flink_operator.config import ConfigError, Configuration
from flink_operator.flink.service import FlinkService
from flink_operator.runtime.kube_api import KubeApi, WriteGate

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManagedFlinkService:
    service: FlinkService
    close: Callable[[], Awaitable[None]]
    kind: RuntimeKind


async def create_flink_service(
    configuration: Configuration,
    *,
    state_dir: Path | None = None,
    kube_client: AsyncClient | None = None,
    gate: WriteGate | None = None,
) -> ManagedFlinkService:
    """The FlinkService the configuration asks for; raises `ConfigError` for one that cannot be started.

    `kube_client` (the operator's client) is required for the Kubernetes runtime; `gate` is called before
    each of its writes; `state_dir` overrides the local runtime's state directory."""
    kind = configuration.get(RUNTIME)
    if kind is RuntimeKind.local:
        from flink_operator.flink.local.service import LocalFlinkService

        local = LocalFlinkService.from_configuration(configuration, state_dir=state_dir)
        report = await local.recover()
        _log.info(
            "Local Flink runtime in %s: adopted %d running cluster(s), cleaned up %d",
            local.state_dir,
            len(report.adopted),
            len(report.reaped),
        )
        return ManagedFlinkService(local, local.close, kind)
    if kube_client is None:
        raise ConfigError(
            f"{RUNTIME.key}: the '{kind.value}' runtime needs a Kubernetes client (none was given)",
            key=RUNTIME.key,
        )
    from flink_operator.flink.kubernetes.runtimes import KubernetesRuntimes
    from flink_operator.kube.kube_options import REST_URL_TEMPLATE

    api = KubeApi(kube_client, user_agent="flink-operator", gate=gate)
    runtimes = KubernetesRuntimes.from_configuration(api, configuration)
    template = configuration.get(REST_URL_TEMPLATE)
    _log.info(
        "Kubernetes Flink runtime (native and standalone per spec.mode); Flink REST APIs at %s",
        template or "http://<name>-rest.<namespace>.svc:<rest.port>",
    )
    return ManagedFlinkService(runtimes, runtimes.close, kind)


def runs_on_kubernetes(service: FlinkService) -> bool:
    """Whether the service's clusters are Kubernetes objects (then the controllers watch them)."""
    from flink_operator.flink.kubernetes.runtimes import KubernetesRuntimes
    from flink_operator.flink.kubernetes.service import KubernetesFlinkService

    return isinstance(service, KubernetesRuntimes | KubernetesFlinkService)
