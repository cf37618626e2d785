"""Fixtures for FlinkSessionJob controller tests: the emulator (`api_server`), the fake Flink runtime and a
`SessionJobEnv` factory (the real operator wiring)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

import pytest_asyncio
from tests.support.sessionjob_env import SessionJobEnv

from flink_operator.testing.fake_flink import FakeFlinkServer
from flink_operator.testing.fake_runtime import FakeFlinkService, FakeRuntimeSettings
from kube_emulator import EmbeddedApiServer

EnvFactory = Callable[..., Awaitable[SessionJobEnv]]


@pytest_asyncio.fixture
async def fake_server() -> AsyncIterator[FakeFlinkServer]:
    async with FakeFlinkServer() as server:
        yield server


@pytest_asyncio.fixture
async def fake_flink(fake_server: FakeFlinkServer) -> AsyncIterator[FakeFlinkService]:
    flink = FakeFlinkService(fake_server, FakeRuntimeSettings(ready_delay=0.1))
    yield flink
    await flink.aclose()


@pytest_asyncio.fixture
async def make_env(
    api_server: EmbeddedApiServer, tmp_path: Path, fake_server: FakeFlinkServer, fake_flink: FakeFlinkService
) -> AsyncIterator[EnvFactory]:
    """`await make_env(config={...}, start=True, ready_delay=None)`: an environment with a running operator;
    `ready_delay` gives it its own fake runtime whose JobManagers take that long to answer."""
    made: list[SessionJobEnv] = []
    services: list[FakeFlinkService] = []

    async def factory(
        config: Mapping[str, str] | None = None, *, start: bool = True, ready_delay: float | None = None
    ) -> SessionJobEnv:
        flink = fake_flink
        if ready_delay is not None:
            flink = FakeFlinkService(fake_server, FakeRuntimeSettings(ready_delay=ready_delay))
            services.append(flink)
        env = SessionJobEnv(api_server, tmp_path, flink, config)
        await env.setup()
        made.append(env)
        if start:
            await env.start_operator()
        return env

    yield factory
    for env in made:
        await env.close()
    for service in services:
        await service.aclose()
