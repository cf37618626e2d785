"""`flink-operator run --webhook`: the operator process serves the admission webhook too (the real wiring in
`flink_operator.app`, with the fake Flink runtime), and stops it on shutdown."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml
from lightkube import ApiError, AsyncClient, KubeConfig
from tests.support.admission_reviews import webhook_configurations
from tests.support.operator_env import FAST

from flink_operator.api import crd_manifests
from flink_operator.app import OperatorSettings, start_operator
from flink_operator.runtime import KubeApi
from flink_operator.runtime.kinds import Kind
from flink_operator.testing.fake_flink import FakeFlinkServer
from flink_operator.testing.fake_runtime import FakeFlinkService, FakeRuntimeSettings
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

SESSION_JOB = Kind("flink.apache.org", "v1beta1", "FlinkSessionJob", "flinksessionjobs")
FLINK_DEPLOYMENT = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_operator_serves_the_webhook(api_server: EmbeddedApiServer, tmp_path: Path) -> None:
    port = free_port()
    config = {
        **FAST,
        "kubernetes.operator.webhook.host": "127.0.0.1",
        "kubernetes.operator.webhook.port": str(port),
        "kubernetes.operator.user.artifacts.disallow-restricted-hosts": "false",
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    kubeconfig = api_server.write_kubeconfig(tmp_path / "kubeconfig")
    await api_server.hooks.seed(list(crd_manifests()))
    for configuration in webhook_configurations("default"):
        await api_server.hooks.create(configuration)
    api_server.hooks.map_service("default", "flink-operator-webhook-service", 443, f"127.0.0.1:{port}")

    client = AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), field_manager="flink-operator")
    user = KubeApi(AsyncClient(config=KubeConfig.from_file(str(kubeconfig))), user_agent="test-user")
    async with FakeFlinkServer() as flink_server:
        flink = FakeFlinkService(flink_server, FakeRuntimeSettings(ready_delay=0.1))
        operator = await start_operator(
            OperatorSettings(
                config_file=tmp_path / "config.yaml", environ={}, namespace="default",
                health_host="127.0.0.1", health_port=0, leader_election=False, webhook=True,
            ),
            kube_client=client,
            flink_service=flink,
        )
        try:
            assert operator.webhook is not None and operator.webhook.port == port
            job = {
                "apiVersion": "flink.apache.org/v1beta1",
                "kind": "FlinkSessionJob",
                "metadata": {"name": "job", "namespace": "default"},
                "spec": {
                    "deploymentName": "session",
                    "job": {"jarURI": "https://repo/job.jar", "parallelism": 1},
                },
            }
            created = await user.create(SESSION_JOB, job, "default")
            assert created["metadata"]["labels"] == {"target.session": "session"}
            bad = {
                "apiVersion": "flink.apache.org/v1beta1",
                "kind": "FlinkDeployment",
                "metadata": {"name": "bad", "namespace": "default"},
                "spec": {"flinkVersion": "v1_20", "image": "flink:1.20"},
            }
            with pytest.raises(ApiError) as refused:
                await user.create(FLINK_DEPLOYMENT, bad, "default")
            assert "spec.serviceAccount" in str(refused.value.status.message)
        finally:
            await operator.stop()
            await user.client.close()
            await client.close()
            await flink.aclose()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
