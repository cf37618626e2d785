"""Running the operator inside `local up`: the operator's own wiring (`flink_operator.app.operator`), handed
local mode's configuration, Kubernetes client (the emulator) and LocalFlinkService.

The holder identity of the Lease is stable per state directory: only one `local up` can hold a state
directory (see `instance`), so a restart after a crash renews its own Lease at once instead of waiting for
it to expire, while any other operator pointed at the same API still has to wait. No health port is opened
(`local status` is the health view here).
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

from lightkube import AsyncClient

from flink_operator.app.operator import Operator, OperatorSettings, start_operator
from flink_operator.config import ConfigReloader, DefaultConfiguration
from flink_operator.flink.local import LocalFlinkService

_CONFIG_DIR_VARIABLES = ("FLINK_CONF_DIR", "CONF_OVERRIDE_DIR")


def identity_for(state_dir: Path) -> str:
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:8]
    return f"local-{socket.gethostname() or 'host'}-{digest}"


def _environment() -> dict[str, str]:
    # The configuration is complete already (local defaults, --config, -D); a config-file reload must not
    # replace it with what a FLINK_CONF_DIR file alone says.
    return {k: v for k, v in os.environ.items() if k not in _CONFIG_DIR_VARIABLES}


async def start_local_operator(
    configuration: DefaultConfiguration,
    kube_client: AsyncClient,
    flink: LocalFlinkService,
    *,
    namespace: str,
    identity: str,
) -> Operator:
    environ = _environment()
    settings = OperatorSettings(
        environ=environ, namespace=namespace, identity=identity, leader_election=True, health_port=-1
    )
    return await start_operator(
        settings,
        kube_client=kube_client,
        flink_service=flink,
        reloader=ConfigReloader(configuration, environ=environ),
    )
