"""Drives `JobSnapshots` for one FlinkDeployment the way its controller does, against the API emulator.

    driver = JobSnapshotDriver(env, "demo")
    await driver.run_until(lambda: ..., within=10)     # reconcile every `period` seconds until true

Each `step()` reads the FlinkDeployment and the FlinkStateSnapshots from the API, runs `observe` and (for a
running job) `trigger`, writes the job status back when it changed and keeps the events it produced. Only the
snapshot part of a job reconcile is exercised here; the FlinkDeployment controller itself is not involved.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from tests.support.snapshot_env import SnapshotEnv

from flink_operator.api import FlinkDeployment
from flink_operator.config import DefaultConfiguration
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.deployment.controller import status_document
from flink_operator.controllers.snapshot import FLINK_STATE_SNAPSHOT
from flink_operator.controllers.snapshot.controller import FLINK_DEPLOYMENT
from flink_operator.controllers.snapshot.job_hooks import JobSnapshots


class JobSnapshotDriver:
    def __init__(self, env: SnapshotEnv, name: str, *, crd_installed: bool = True) -> None:
        self.env = env
        self.name = name
        self.snapshots = JobSnapshots(env.flink, crd_installed=crd_installed)
        self.configuration = DefaultConfiguration(env.config)
        self.events: list[EventSpec] = []
        self.steps = 0

    async def step(self) -> None:
        kube = self.env.kube
        raw = await kube.get(FLINK_DEPLOYMENT, self.name, "default")
        resource = FlinkDeployment.from_dict(raw)
        _, items = await kube.list_raw(FLINK_STATE_SNAPSHOT, "default")
        documents = [json.loads(item) for item in items]
        call = self.snapshots.inputs(
            resource,
            resource.status,
            configuration=self.configuration,
            snapshot_documents=documents,
            now_ms=int(time.time() * 1000),
        )
        observed = await self.snapshots.observe(kube, call)
        result = await self.snapshots.trigger(kube, call, observed)
        self.events.extend(observed.events)
        self.events.extend(result.events)
        if result.status.to_dict() != resource.status.to_dict():
            await kube.replace(
                FLINK_DEPLOYMENT, {**raw, "status": status_document(result.status)}, subresource="status"
            )
        self.steps += 1

    async def run_until(
        self, condition: Callable[[], Any], *, within: float = 10.0, period: float = 0.1, what: str = ""
    ) -> None:
        """Step every `period` seconds until `condition()` (sync or async) holds; fail after `within`."""
        deadline = time.monotonic() + within
        while True:
            await self.step()
            outcome = condition()
            if asyncio.iscoroutine(outcome):
                outcome = await outcome
            if outcome:
                return
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what or 'condition'} not reached within {within:g} s")
            await asyncio.sleep(period)

    def reasons(self) -> list[str]:
        return [event.reason for event in self.events]
