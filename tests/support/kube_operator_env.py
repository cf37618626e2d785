"""The operator started through its real wiring with the Kubernetes runtime (`kubernetes.operator.runtime:
kubernetes`) on the API emulator, reaching the fake Flink REST server through
`kubernetes.operator.flink.rest.url-template`; the kubelet stand-in is `KubeFlinkWorld.kubelet`.

    async with KubeOperatorStack.start(api_server, kubeconfig, tmp_path) as stack:
        await stack.env.start_operator()          # no FlinkService given: the operator builds its own
        async with stack.world.kubelet():
            ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.kube_flink import KubeFlinkWorld
from tests.support.operator_env import OperatorEnv

from kube_emulator import EmbeddedApiServer


def kubernetes_runtime_config(world: KubeFlinkWorld) -> dict[str, str]:
    """Operator options selecting the Kubernetes runtime, with short bounds for tests."""
    return {
        "kubernetes.operator.runtime": "kubernetes",
        "kubernetes.operator.flink.rest.url-template": world.rest_url_template,
        "kubernetes.operator.flink.client.timeout": "5 s",
        "kubernetes.operator.flink.client.cancel.timeout": "10 s",
        "kubernetes.operator.resource.cleanup.timeout": "10 s",
    }


@dataclass
class KubeOperatorStack:
    world: KubeFlinkWorld
    env: OperatorEnv

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, api_server: EmbeddedApiServer, kubeconfig: Path, directory: Path
    ) -> AsyncIterator[KubeOperatorStack]:
        async with KubeFlinkWorld.start(api_server, kubeconfig) as world:
            env = OperatorEnv(api_server, directory, None, kubernetes_runtime_config(world))
            await env.setup()
            try:
                yield cls(world, env)
            finally:
                await env.close()
