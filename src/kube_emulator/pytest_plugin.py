"""pytest fixtures for tests that need a Kubernetes API (`pytest_plugins = ["kube_emulator.pytest_plugin"]`).

Fixtures:
- `api_server`: an `EmbeddedApiServer` on the test's event loop (async tests; pytest-asyncio);
- `api_kubeconfig`: a kubeconfig file for `api_server` (path), e.g. for kubectl or lightkube;
- `threaded_api_server`: a `ThreadedApiServer` for synchronous tests.
Options per test: `@pytest.mark.kube_emulator(history_size=10, bookmark_interval=0.2, gc_delay=0.5,
crd_files=[...])` (any `EmulatorConfig` field).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from .server import EmbeddedApiServer, EmulatorConfig, ThreadedApiServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kube_emulator(**options): options (EmulatorConfig fields) for the api_server fixtures"
    )


def _config(request: pytest.FixtureRequest) -> EmulatorConfig:
    config = EmulatorConfig()
    marker = request.node.get_closest_marker("kube_emulator")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    for key, value in options.items():
        if not hasattr(config, key):
            raise pytest.UsageError(f"@pytest.mark.kube_emulator: unknown option {key!r}")
        setattr(config, key, value)
    return config


@pytest_asyncio.fixture
async def api_server(request: pytest.FixtureRequest) -> AsyncIterator[EmbeddedApiServer]:
    async with EmbeddedApiServer(_config(request)) as server:
        yield server


@pytest.fixture
def api_kubeconfig(api_server: EmbeddedApiServer, tmp_path: Path) -> Path:
    return api_server.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def threaded_api_server(request: pytest.FixtureRequest) -> Iterator[ThreadedApiServer]:
    with ThreadedApiServer(_config(request)) as server:
        yield server
