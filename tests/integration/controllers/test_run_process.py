"""`flink-operator run` as a process against the emulator: it takes the lease, reconciles, and on SIGTERM
stops gracefully (the lease is released at once for a standby)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from tests.support.deployment_driver import deployment_document
from tests.support.operator_env import OperatorEnv

from flink_operator.runtime import LEASE
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

COMMAND = Path(sys.executable).parent / "flink-operator"


async def _lease_holder(api_server: EmbeddedApiServer) -> str | None:
    lease = api_server.hooks.get(LEASE.api_version, LEASE.kind, "flink-operator-lease", "default")
    return ((lease or {}).get("spec") or {}).get("holderIdentity")


async def test_run_reconciles_and_stops_gracefully_on_sigterm(
    api_server: EmbeddedApiServer, tmp_path: Path
) -> None:
    env = OperatorEnv(api_server, tmp_path / "client", None)
    (tmp_path / "client").mkdir()
    await env.setup()
    kubeconfig = env.kubeconfig
    config = tmp_path / "config.yaml"
    config.write_text(
        "kubernetes.operator.runtime: local\n"
        f"kubernetes.operator.local.state-dir: {tmp_path / 'state'}\n"
        "kubernetes.operator.dynamic.config.enabled: false\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in ("FLINK_CONF_DIR", "CONF_OVERRIDE_DIR")}
    environment["OPERATOR_NAMESPACE"] = "default"
    process = await asyncio.create_subprocess_exec(
        str(COMMAND),
        "run",
        "--kubeconfig",
        str(kubeconfig),
        "--config",
        str(config),
        "--health-port",
        "-1",
        "--log-level",
        "WARNING",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while await _lease_holder(api_server) is None:
            assert process.returncode is None, "the operator exited early"
            assert asyncio.get_running_loop().time() < deadline, "no lease taken within 30 s"
            await asyncio.sleep(0.1)
        # A resource the operator must refuse (unsupported version): reconciled without starting Flink.
        await env.create(deployment_document("old", flinkVersion="v1_14"))
        while "UnsupportedFlinkVersion" not in await env.reasons("old"):
            assert asyncio.get_running_loop().time() < deadline, "the resource was not reconciled"
            await asyncio.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, output.decode()
        assert b"flink-operator stopped" in output
        assert await _lease_holder(api_server) is None, "the lease was released"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await env.close()
