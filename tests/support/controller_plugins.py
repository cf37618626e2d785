"""Plugins for controller tests (class paths `tests.support.controller_plugins:X`): listeners that misbehave
(on the event loop only, no threads, so a test run ends cleanly when they are cut off) and a spec mutator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from flink_operator.plugins import FlinkResourceListener, FlinkResourceMutator


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


class PipelineNameMutator(FlinkResourceMutator):
    """Sets `pipeline.name` in every FlinkDeployment's flinkConfiguration (configurable with `name`)."""

    def __init__(self) -> None:
        self.name = "mutated"

    def configure(self, config: Mapping[str, str]) -> None:
        self.name = config.get("name", self.name)

    def mutate_deployment(self, deployment: Any) -> Any:
        deployment.spec.flink_configuration = {
            **deployment.spec.flink_configuration,
            "pipeline.name": self.name,
        }
        return deployment
