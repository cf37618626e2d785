"""`flink-operator webhook` as a process against the API emulator: it creates its certificate, serves the
configurations the test registered, refuses a bad resource, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest
from lightkube import ApiError, AsyncClient, KubeConfig
from tests.support.admission_reviews import webhook_configurations
from tests.support.resource_builders import application, with_field

from flink_operator.api import crd_manifests
from flink_operator.runtime import KubeApi
from flink_operator.runtime.kinds import Kind
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

NAMESPACE = "flink-ops"
FLINK_DEPLOYMENT = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_command_serves_until_sigterm(api_server: EmbeddedApiServer, tmp_path: Path) -> None:
    kubeconfig = api_server.write_kubeconfig(tmp_path / "kubeconfig")
    await api_server.hooks.seed(list(crd_manifests()))
    await api_server.hooks.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    for configuration in webhook_configurations(NAMESPACE):
        await api_server.hooks.create(configuration)
    (tmp_path / "config.yaml").write_text("kubernetes.operator.plugins.audit-log.enabled: false\n")
    port = free_port()
    api_server.hooks.map_service(NAMESPACE, "flink-operator-webhook-service", 443, f"127.0.0.1:{port}")
    command = Path(sys.executable).parent / "flink-operator"
    process = await asyncio.create_subprocess_exec(
        str(command), "webhook", "--kubeconfig", str(kubeconfig), "--namespace", NAMESPACE,
        "--host", "127.0.0.1", "--port", str(port), "--config", str(tmp_path / "config.yaml"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "FLINK_PLUGINS_DIR": str(tmp_path / "no-plugins")},
    )
    assert process.stdout is not None
    user = KubeApi(AsyncClient(KubeConfig.from_file(kubeconfig)), user_agent="test-user")
    output: list[str] = []
    try:
        async with asyncio.timeout(30):
            while True:
                line = (await process.stdout.readline()).decode()
                assert line, "the webhook exited:\n" + "".join(output)
                output.append(line)
                if "flink-operator webhook listening on https://127.0.0.1:" in line:
                    break
        assert api_server.hooks.get("v1", "Secret", "flink-operator-webhook-cert", NAMESPACE) is not None
        bad = with_field(application("bad"), "spec.job.parallelism", 0)
        with pytest.raises(ApiError) as refused:
            await user.create(FLINK_DEPLOYMENT, bad, "default")
        assert "spec.job.parallelism" in str(refused.value.status.message)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            rest = (await process.stdout.read()).decode()
            code = await process.wait()
        assert code == 0, "".join(output) + rest
        assert "flink-operator webhook stopped" in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await user.client.close()
