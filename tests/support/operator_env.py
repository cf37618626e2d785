"""An operator on the Kubernetes API emulator with the fake Flink runtime, for controller integration tests.

    env = OperatorEnv(api_server, tmp_path, flink)       # flink: FakeFlinkService on a FakeFlinkServer
    await env.setup()                                    # CRDs installed, test client ready
    operator = await env.start_operator("op-1")          # the real wiring (`flink_operator.app`)
    await env.create(deployment_document("demo"))
    await env.wait_for("demo", lambda d: lifecycle(d) == "STABLE")
    await env.close()

Everything talks over real HTTP on 127.0.0.1. Timing options are shortened so that a deployment becomes
STABLE in about a second; a killed operator's lease expires after 1 s.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from lightkube import AsyncClient, KubeConfig

from flink_operator.api import crd_manifests
from flink_operator.app import Operator, OperatorSettings, start_operator
from flink_operator.controllers.deployment.controller import FLINK_DEPLOYMENT
from flink_operator.flink.service import ClusterRef, FlinkService
from flink_operator.runtime import EVENT, KubeApi, status_code
from kube_emulator import EmbeddedApiServer

JSON = dict[str, Any]

FAST: dict[str, str] = {
    "kubernetes.operator.reconcile.interval": "2 s",
    "kubernetes.operator.observer.progress-check.interval": "100 ms",
    "kubernetes.operator.observer.rest-ready.delay": "100 ms",
    "kubernetes.operator.rate-limiter.limit": "0",
    "kubernetes.operator.termination.timeout": "2 s",
    "kubernetes.operator.retry.initial.interval": "200 ms",
    "kubernetes.operator.retry.max.interval": "1 s",
    "kubernetes.operator.plugins.listener-call-timeout": "1 s",
    "kubernetes.operator.plugins.shutdown-timeout": "1 s",
    "kubernetes.operator.dynamic.config.enabled": "false",
}


def lifecycle(document: Mapping[str, Any] | None) -> str | None:
    return ((document or {}).get("status") or {}).get("lifecycleState")


def condition(document: Mapping[str, Any] | None, kind: str) -> Mapping[str, Any]:
    for item in ((document or {}).get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            return dict(item)
    return {}


def for_creation(document: Mapping[str, Any]) -> JSON:
    """A document as a user would apply it: no uid, generation or status."""
    metadata = document["metadata"]
    return {
        **{k: v for k, v in document.items() if k not in ("metadata", "status")},
        "metadata": {"name": metadata["name"], "namespace": metadata.get("namespace", "default")},
    }


class OperatorEnv:
    def __init__(
        self,
        api_server: EmbeddedApiServer,
        directory: Path,
        flink: FlinkService | None,
        config: Mapping[str, str] | None = None,
        *,
        lease_timing: tuple[float, float, float] = (1.0, 0.7, 0.1),
    ) -> None:
        self.lease_timing = lease_timing
        self.api_server = api_server
        self.directory = directory
        self.flink = flink
        self.config = {**FAST, **(config or {})}
        self.kubeconfig = directory / "kubeconfig"
        self.config_file = directory / "config.yaml"
        self.operators: list[Operator] = []
        self._client: AsyncClient | None = None
        self.api: KubeApi | None = None

    async def setup(self) -> None:
        self.api_server.write_kubeconfig(self.kubeconfig)
        self.config_file.write_text(yaml.safe_dump(self.config))
        await self.api_server.hooks.seed(list(crd_manifests()))
        self._client = AsyncClient(config=KubeConfig.from_file(str(self.kubeconfig)), namespace="default")
        self.api = KubeApi(self._client, user_agent="test-user")

    @property
    def kube(self) -> KubeApi:
        assert self.api is not None, "call setup() first"
        return self.api

    async def start_operator(self, identity: str = "operator-1") -> Operator:
        client = AsyncClient(
            config=KubeConfig.from_file(str(self.kubeconfig)), field_manager="flink-operator"
        )
        operator = await start_operator(
            OperatorSettings(
                config_file=self.config_file,
                kubeconfig=self.kubeconfig,
                environ={},
                namespace="default",
                identity=identity,
                health_host="127.0.0.1",
                health_port=0,
                lease_timing=self.lease_timing,
            ),
            kube_client=client,
            flink_service=self.flink,
        )
        operator.client = client
        self.operators.append(operator)
        return operator

    async def close(self) -> None:
        """Stop every operator started here (idempotent)."""
        operators, self.operators = self.operators, []
        for operator in operators:
            await operator.stop()
            await operator.client.close()
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    # ------------------------------------------------------------------ resources

    async def create(self, document: Mapping[str, Any]) -> JSON:
        return await self.kube.create(FLINK_DEPLOYMENT, for_creation(document), "default")

    async def get(self, name: str) -> JSON | None:
        try:
            return await self.kube.get(FLINK_DEPLOYMENT, name, "default")
        except Exception as error:
            if status_code(error) == 404:  # gone once its finalizer is released
                return None
            raise

    async def patch_spec(self, name: str, spec: Mapping[str, Any]) -> JSON:
        """A JSON merge patch of the spec (nested keys merge, null removes)."""
        return await self.kube.patch(FLINK_DEPLOYMENT, name, "default", {"spec": dict(spec)})

    async def patch_job(self, name: str, **fields: Any) -> JSON:
        return await self.patch_spec(name, {"job": fields})

    async def delete(self, name: str) -> None:
        await self.kube.delete(FLINK_DEPLOYMENT, name, "default")

    async def wait_for(
        self, name: str, predicate: Callable[[JSON | None], object], *, within: float = 10.0, what: str = ""
    ) -> JSON | None:
        deadline = time.monotonic() + within
        document: JSON | None = None
        while True:
            document = await self.get(name)
            if predicate(document):
                return document
            if time.monotonic() >= deadline:
                status = (document or {}).get("status")
                raise AssertionError(
                    f"{name}: {what or 'condition'} not reached within {within:g} s; status {status}"
                )
            await asyncio.sleep(0.05)

    async def wait_settled(
        self, name: str, generation: int, *, within: float = 15.0, state: str = "STABLE"
    ) -> JSON:
        def settled(document: JSON | None) -> bool:
            status = (document or {}).get("status") or {}
            return status.get("observedGeneration") == generation and status.get("lifecycleState") == state

        found = await self.wait_for(name, settled, within=within, what=f"{state} at generation {generation}")
        assert found is not None
        return found

    async def events(self, name: str) -> list[JSON]:
        _, raw = await self.kube.list_raw(EVENT, "default")
        items = [json.loads(item) for item in raw]
        return [e for e in items if (e.get("involvedObject") or {}).get("name") == name]

    async def reasons(self, name: str) -> list[str]:
        return [str(e.get("reason")) for e in await self.events(name)]

    @staticmethod
    def ref(name: str) -> ClusterRef:
        return ClusterRef("default", name)
