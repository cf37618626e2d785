"""Fixtures for the REST client and fake Flink server tests: a started server and quick cluster settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from flink_operator.testing.fake_flink import FakeFlinkServer

# Fresh REST caches and metrics, so tests need not wait out Flink's 3 s / 10 s defaults.
QUICK_CONFIG = {
    "web.refresh-interval": "50",
    "rest.cache.checkpoint-statistics.timeout": "50",
    "metrics.fetcher.update-interval": "100",
    "jobmanager.scheduler": "adaptive",
    "jobmanager.adaptive-scheduler.scaling-interval.min": "200ms",
}


def quick_config(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **QUICK_CONFIG,
        "execution.checkpointing.dir": f"file://{tmp_path / 'checkpoints'}",
        "execution.checkpointing.savepoint-dir": f"file://{tmp_path / 'savepoints'}",
        **extra,
    }


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeFlinkServer]:
    async with FakeFlinkServer(write_snapshot_files=True) as started:
        yield started
