"""Fixtures of the emulator integration tests (the `api_server` fixture comes from kube_emulator's plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio
from tests.support.emulator_http import FD_CRD, Http

from kube_emulator import EmbeddedApiServer


@pytest_asyncio.fixture
async def http(api_server: EmbeddedApiServer) -> AsyncIterator[Http]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield Http(session, api_server.url)


@pytest_asyncio.fixture
async def crd_http(http: Http) -> Http:
    """`http` with the Widget CRD registered."""
    status, body = await http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", FD_CRD)
    assert status == 201, body
    return http
