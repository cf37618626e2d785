"""Fixtures for snapshot controller tests: the emulator (`api_server`), the fake Flink runtime, and a
`SnapshotEnv` factory running the FlinkStateSnapshot controller between them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

import pytest_asyncio
from tests.support.operator_env import OperatorEnv
from tests.support.snapshot_env import SnapshotEnv

from flink_operator.testing.fake_flink import FakeFlinkServer
from flink_operator.testing.fake_runtime import FakeFlinkService, FakeRuntimeSettings
from kube_emulator import EmbeddedApiServer

EnvFactory = Callable[..., Awaitable[SnapshotEnv]]


@pytest_asyncio.fixture
async def fake_flink() -> AsyncIterator[FakeFlinkService]:
    async with FakeFlinkServer() as server:
        flink = FakeFlinkService(server, FakeRuntimeSettings(ready_delay=0.05))
        yield flink
        await flink.aclose()


@pytest_asyncio.fixture
async def make_env(
    api_server: EmbeddedApiServer, tmp_path: Path, fake_flink: FakeFlinkService
) -> AsyncIterator[EnvFactory]:
    """`await make_env(config={...}, retry_base_s=0.2)`: a running snapshot controller."""
    made: list[SnapshotEnv] = []

    async def factory(
        config: Mapping[str, str] | None = None, *, retry_base_s: float | None = 0.2
    ) -> SnapshotEnv:
        env = SnapshotEnv(api_server, tmp_path, fake_flink, config, retry_base_s=retry_base_s)
        made.append(env)
        await env.start()
        return env

    yield factory
    for env in made:
        await env.close()


@pytest_asyncio.fixture
async def make_operator_env(
    api_server: EmbeddedApiServer, tmp_path: Path, fake_flink: FakeFlinkService
) -> AsyncIterator[Callable[..., Awaitable[OperatorEnv]]]:
    """`await make_operator_env(config={...})`: the whole operator (real wiring) on the emulator."""
    made: list[OperatorEnv] = []

    async def factory(config: Mapping[str, str] | None = None) -> OperatorEnv:
        env = OperatorEnv(api_server, tmp_path, fake_flink, config)
        made.append(env)
        await env.setup()
        await env.start_operator()
        return env

    yield factory
    for env in made:
        await env.close()
