"""Fixtures for FlinkSessionJob controller tests: the emulator (`api_server`), the fake Flink runtime and a
`SessionJobEnv` factory."""

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
async def fake_flink() -> AsyncIterator[FakeFlinkService]:
    async with FakeFlinkServer() as server:
        flink = FakeFlinkService(server, FakeRuntimeSettings(ready_delay=0.1))
        yield flink
        await flink.aclose()


@pytest_asyncio.fixture
async def make_env(
    api_server: EmbeddedApiServer, tmp_path: Path, fake_flink: FakeFlinkService
) -> AsyncIterator[EnvFactory]:
    """`await make_env(config={...}, start=True)`: an environment with a running session-job controller."""
    made: list[SessionJobEnv] = []

    async def factory(config: Mapping[str, str] | None = None, *, start: bool = True) -> SessionJobEnv:
        env = SessionJobEnv(api_server, tmp_path, fake_flink, config)
        await env.setup()
        made.append(env)
        if start:
            await env.start_operator()
        return env

    yield factory
    for env in made:
        await env.close()
