"""Choosing and starting the FlinkService the controllers use (`kubernetes.operator.runtime`).

`create_flink_service(configuration)` returns the runtime and how to release it. The local runtime first
adopts clusters an earlier run left behind (`LocalFlinkService.recover`), so an operator restart neither
duplicates nor orphans Flink processes. Closing it releases HTTP connections only: clusters keep running
across operator restarts, as upstream's do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from flink_operator.app.options import RUNTIME, RuntimeKind
from flink_operator.config import ConfigError, Configuration
from flink_operator.flink.service import FlinkService

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManagedFlinkService:
    service: FlinkService
    close: Callable[[], Awaitable[None]]
    kind: RuntimeKind


async def create_flink_service(
    configuration: Configuration, *, state_dir: Path | None = None
) -> ManagedFlinkService:
    """The FlinkService the configuration asks for; raises `ConfigError` for one that is not available."""
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
    raise ConfigError(
        f"{RUNTIME.key}: the '{kind.value}' runtime (Flink clusters on Kubernetes, native or standalone) is "
        f"not available in this version yet; set {RUNTIME.key}: local to run Flink clusters as local "
        "processes (what 'flink-operator local up' does)"
    )
