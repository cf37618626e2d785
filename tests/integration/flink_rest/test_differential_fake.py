"""The shared REST scenario against the fake Flink server, in its 2.x and 1.20 flavours.

The same scenario runs against real Flink in tests/flink/rest; both must produce the transcript that
real Flink of that version produces (tests.support.rest_scenario.expected_transcript).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.fake_jars import fake_jar
from tests.support.rest_scenario import Target, assert_transcript, run_scenario

from flink_operator.testing.fake_flink import FakeFlinkServer

pytestmark = pytest.mark.integration

# What the real-Flink runs use (tests.support.flink_local.FAST_TEST_CONFIG) plus the directories the local
# runtime configures.
FAST_CONFIG = {
    "web.refresh-interval": "500",
    "metrics.fetcher.update-interval": "500",
    "execution.checkpointing.interval": "1s",
    "jobmanager.scheduler": "adaptive",
    "jobmanager.adaptive-scheduler.scaling-interval.min": "1s",
    "taskmanager.numberOfTaskSlots": "2",
    "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
}


@pytest.mark.parametrize("flink_version", ["2.3.0", "1.20.5"])
async def test_fake_behaves_like_flink(tmp_path: Path, flink_version: str) -> None:
    jar = tmp_path / "counter-job.jar"
    jar.write_bytes(fake_jar("demo.CounterJob"))
    config = {
        **FAST_CONFIG,
        "execution.checkpointing.dir": f"file://{tmp_path / 'checkpoints'}",
        "execution.checkpointing.savepoint-dir": f"file://{tmp_path / 'savepoints'}",
    }
    async with FakeFlinkServer(write_snapshot_files=True) as server:
        cluster = await server.add_cluster(
            "session", flink_version=flink_version, config=config, slots_per_taskmanager=2
        )
        target = Target(cluster.base_url, jar, flink_version, within=20.0)
        transcript = await run_scenario(target)
    assert_transcript(transcript, flink_version)
