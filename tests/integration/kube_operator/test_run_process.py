"""`flink-operator run --webhook` as a process, in Kubernetes mode, against the API emulator: the admission
webhook it serves refuses a bad FlinkDeployment, a good one reaches STABLE on a cluster the process creates
as Kubernetes objects (made to run by the test's kubelet stand-in), and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
import yaml
from lightkube import ApiError
from tests.support.admission_reviews import webhook_configurations
from tests.support.deployment_driver import deployment_document
from tests.support.kube_operator_env import KubeOperatorStack, kubernetes_runtime_config
from tests.support.operator_env import FAST

from flink_operator.flink.service import ClusterRef

pytestmark = pytest.mark.integration

COMMAND = Path(sys.executable).parent / "flink-operator"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def refused_by_the_webhook(stack: KubeOperatorStack, process: asyncio.subprocess.Process) -> str:
    """Create a FlinkDeployment the validator must refuse, until the webhook answers (it starts with the
    process; until then the API server cannot call it). Returns the refusal."""
    bad = deployment_document("bad")
    del bad["spec"]["serviceAccount"]
    deadline = time.monotonic() + 30
    while True:
        assert process.returncode is None, "the operator exited early"
        try:
            await stack.env.create(bad)
        except ApiError as error:
            message = str(error.status.message)
            if "denied the request" in message:
                return message
            assert time.monotonic() < deadline, f"the webhook did not answer within 30 s: {message}"
        else:
            raise AssertionError("a FlinkDeployment without a service account was admitted")
        await asyncio.sleep(0.2)


async def test_run_with_webhook_in_kubernetes_mode(stack: KubeOperatorStack, tmp_path: Path) -> None:
    world, env = stack.world, stack.env
    port = free_port()
    for configuration in webhook_configurations("default"):
        await world.api_server.hooks.create(configuration)
    world.api_server.hooks.map_service("default", "flink-operator-webhook-service", 443, f"127.0.0.1:{port}")
    config = tmp_path / "operator" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        yaml.safe_dump(
            {
                **FAST,
                **kubernetes_runtime_config(world),
                "kubernetes.operator.webhook.host": "127.0.0.1",
                "kubernetes.operator.webhook.port": str(port),
            }
        )
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("FLINK_CONF_DIR", "CONF_OVERRIDE_DIR")}
    environment["OPERATOR_NAMESPACE"] = "default"
    environment["FLINK_PLUGINS_DIR"] = str(tmp_path / "no-plugins")
    log = tmp_path / "operator.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            str(COMMAND),
            "run",
            "--kubeconfig",
            str(env.kubeconfig),
            "--config",
            str(config),
            "--health-port",
            "-1",
            "--webhook",
            env=environment,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        refusal = await refused_by_the_webhook(stack, process)
        assert "spec.serviceAccount" in refusal

        async with world.kubelet() as started:
            await env.create(deployment_document("orders", upgrade_mode="savepoint"))
            document = await env.wait_settled("orders", 1, within=30)
        assert document["status"]["jobManagerDeploymentStatus"] == "READY"
        assert started == [ClusterRef("default", "orders")]
        jobmanager = world.get("apps/v1", "Deployment", "orders", "default")
        assert (
            jobmanager is not None and jobmanager["metadata"]["labels"]["type"] == "flink-native-kubernetes"
        )
        job_id = document["status"]["jobStatus"]["jobId"]
        assert list(world.fake_cluster(ClusterRef("default", "orders")).jobs) == [job_id]

        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        output = log.read_text(errors="replace")
        assert code == 0, output
        assert "flink-operator stopped" in output
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
