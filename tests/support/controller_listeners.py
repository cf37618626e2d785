"""Listener plugins that misbehave, for controller tests (class paths `tests.support.controller_listeners:X`).

They hang or fail on the event loop only (no threads), so a test run ends cleanly when they are cut off.
"""

from __future__ import annotations

import asyncio
from typing import Any

from flink_operator.plugins import FlinkResourceListener


class AsyncHangingListener(FlinkResourceListener):
    """Never answers: every call waits an hour (the operator's listener timeout cuts it off)."""

    def __init__(self) -> None:
        self.calls = 0

    async def on_deployment_status_update(self, ctx: Any) -> None:
        self.calls += 1
        await asyncio.sleep(3600)

    async def on_deployment_event(self, ctx: Any) -> None:
        self.calls += 1
        await asyncio.sleep(3600)


class AsyncRaisingListener(FlinkResourceListener):
    """Fails on every call."""

    def __init__(self) -> None:
        self.calls = 0

    async def on_deployment_status_update(self, ctx: Any) -> None:
        self.calls += 1
        raise RuntimeError("listener exploded")

    async def on_deployment_event(self, ctx: Any) -> None:
        self.calls += 1
        raise ValueError("listener exploded")
