"""The operator with the Kubernetes runtime on the API emulator (`tests.support.kube_operator_env`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from tests.support.kube_operator_env import KubeOperatorStack

from kube_emulator import EmbeddedApiServer


@pytest_asyncio.fixture
async def stack(
    api_server: EmbeddedApiServer, api_kubeconfig: Path, tmp_path: Path
) -> AsyncIterator[KubeOperatorStack]:
    async with KubeOperatorStack.start(api_server, api_kubeconfig, tmp_path) as started:
        yield started
