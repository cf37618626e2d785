"""Leader hand-over across operator processes: the leader is SIGKILLed, the standby takes over after the
lease expires, and the two never write in overlapping periods; SIGTERM shuts down gracefully and releases
the lease."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from tests.support.runtime_kit import CONFIG_MAP, COUNTER, COUNTER_CRD, api_for, config_map, counter

from flink_operator.runtime import LEASE, KubeApi
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest_asyncio.fixture
async def api(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[KubeApi]:
    await api_server.hooks.seed([COUNTER_CRD])
    kube = api_for(api_kubeconfig, "test-client")
    yield kube
    await kube.client.close()


class OperatorProcess:
    def __init__(self, kubeconfig: Path, identity: str, log: Path) -> None:
        self.kubeconfig = kubeconfig
        self.identity = identity
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src")])}
        with self.log.open("wb") as output:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.support.runtime_kit", "--kubeconfig", str(self.kubeconfig),
                "--identity", self.identity, "--requeue-after", "0.2",
                cwd=REPO_ROOT, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT,
            )

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def wait(self, within: float) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within)

    async def ensure_gone(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            with contextlib.suppress(TimeoutError):
                await self.wait(10)


async def holder(api: KubeApi) -> str | None:
    try:
        lease = await api.get(LEASE, "counter-lease", "default")
    except Exception:
        return None
    value: str | None = lease["spec"].get("holderIdentity")
    return value


async def wait_for(check: object, within: float, what: str) -> None:
    assert callable(check)
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {within} s")
        await asyncio.sleep(0.05)


def writes_by(api_server: EmbeddedApiServer, identity: str) -> list[tuple[float, float]]:
    return [
        (r.started, r.started + r.duration) for r in api_server.hooks.requests()
        if r.method != "GET" and identity in r.user_agent and "/leases" not in r.path
    ]


async def test_sigkill_of_the_leader_hands_over_to_the_standby_without_overlapping_writes(
    api_server: EmbeddedApiServer, api: KubeApi, api_kubeconfig: Path, tmp_path: Path
) -> None:
    for i in range(3):
        await api.create(COUNTER, counter(f"c{i}"))
    a = OperatorProcess(api_kubeconfig, "proc-a", tmp_path / "a.log")
    b = OperatorProcess(api_kubeconfig, "proc-b", tmp_path / "b.log")
    try:
        await a.start()

        async def a_leads() -> bool:
            return await holder(api) == "proc-a"

        await wait_for(a_leads, 30, "proc-a leads")

        async def counted(name: str, expected: int) -> bool:
            status = (await api.get(COUNTER, name, "default")).get("status") or {}
            return bool(status.get("count") == expected)

        await wait_for(lambda: counted("c0", 0), 10, "proc-a reconciles")
        await b.start()

        async def b_is_standby() -> bool:
            return any("proc-b" in r.user_agent for r in api_server.hooks.requests("GET", "/leases/"))

        await wait_for(b_is_standby, 30, "proc-b polls the lease")
        assert await holder(api) == "proc-a"

        a.signal(signal.SIGKILL)
        killed = time.monotonic()
        assert await a.wait(10) == -signal.SIGKILL

        async def b_leads() -> bool:
            return await holder(api) == "proc-b"

        await wait_for(b_leads, 10, "proc-b takes over")
        took_over = time.monotonic() - killed
        await api.create(CONFIG_MAP, config_map("cm", "c1"))
        await wait_for(lambda: counted("c1", 1), 10, "proc-b reconciles a change")

        b.signal(signal.SIGTERM)
        assert await b.wait(20) == 0

        async def released() -> bool:
            return not await holder(api)

        await wait_for(released, 5, "proc-b released the lease on SIGTERM")
    finally:
        await a.ensure_gone()
        await b.ensure_gone()

    a_writes, b_writes = writes_by(api_server, "proc-a"), writes_by(api_server, "proc-b")
    assert a_writes and b_writes
    assert max(end for _, end in a_writes) < min(start for start, _ in b_writes)
    assert 1.0 <= took_over <= 5.0, took_over  # 2 s lease (+ one retry period and the check interval)
