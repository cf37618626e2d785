"""The Kubernetes-runtime world (emulator + fake Flink REST) for the integration tests of this directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from tests.support.kube_flink import KubeFlinkWorld

from kube_emulator import EmbeddedApiServer


@pytest_asyncio.fixture
async def world(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[KubeFlinkWorld]:
    async with KubeFlinkWorld.start(api_server, api_kubeconfig) as started:
        yield started
