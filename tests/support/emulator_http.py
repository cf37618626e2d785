"""Raw HTTP access to a Kubernetes API (the emulator) for tests: JSON client, watch reader, sample objects."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

JSON = dict[str, Any]
FD_CRD: JSON = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "State", "type": "string", "jsonPath": ".status.state"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
                                    "name": {"type": "string", "pattern": "^[a-z]+$"},
                                    "tags": {"type": "array", "items": {"type": "string"}},
                                    "port": {"x-kubernetes-int-or-string": True},
                                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    "containers": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["name"],
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "name": {"type": "string"},
                                                "image": {"type": "string"},
                                            },
                                        },
                                    },
                                },
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}
WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def widget(object_name: str, size: int = 1, **extra: Any) -> JSON:
    """A Widget with `spec.size` and any other spec fields given as keywords."""
    metadata = {"name": object_name, **extra.pop("metadata", {})}
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": metadata,
        "spec": {"size": size, **extra},
    }


def configmap(name: str, data: dict[str, str] | None = None, **metadata: Any) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, **metadata},
        "data": data or {},
    }


class Http:
    """A minimal JSON client: every call returns (status, decoded body)."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        ctype: str = "application/json",
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = None
        all_headers = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, str | bytes) else json.dumps(body)
            all_headers.setdefault("Content-Type", ctype)
        async with self.session.request(
            method, self.base + path, data=data, params=params, headers=all_headers
        ) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        return await self.request("GET", path, params=params or None)

    async def post(self, path: str, body: Any, **params: str) -> tuple[int, Any]:
        return await self.request("POST", path, body, params=params or None)

    async def put(self, path: str, body: Any, **params: str) -> tuple[int, Any]:
        return await self.request("PUT", path, body, params=params or None)

    async def patch(
        self, path: str, body: Any, ctype: str = "application/merge-patch+json", **params: str
    ) -> tuple[int, Any]:
        return await self.request("PATCH", path, body, ctype, params=params or None)

    async def delete(self, path: str, body: Any = None, **params: str) -> tuple[int, Any]:
        return await self.request("DELETE", path, body, params=params or None)

    async def watch(
        self,
        path: str,
        params: dict[str, str],
        until: Callable[[list[JSON]], bool],
        deadline_s: float = 5.0,
        during: Callable[[], Awaitable[Any]] | None = None,
    ) -> tuple[list[JSON], bool]:
        """Collect watch events until `until(events)` holds or the stream ends; (events, stream_ended)."""
        events: list[JSON] = []
        ended = False
        deadline = time.monotonic() + deadline_s
        async with self.session.get(self.base + path, params={**params, "watch": "true"}) as response:
            assert response.status == 200, await response.text()
            task = asyncio.ensure_future(during()) if during is not None else None
            try:
                while not until(events):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        line = await asyncio.wait_for(response.content.readline(), remaining)
                    except TimeoutError:
                        break
                    if not line:
                        ended = True
                        break
                    if line.strip():
                        events.append(json.loads(line))
            finally:
                if task is not None:
                    await task
        return events, ended


async def eventually(
    check: Callable[[], Awaitable[bool]], deadline_s: float = 5.0, interval: float = 0.02
) -> None:
    """Wait until `check()` is true, failing after `timeout` seconds."""
    deadline = time.monotonic() + deadline_s
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {deadline_s}s")
        await asyncio.sleep(interval)
