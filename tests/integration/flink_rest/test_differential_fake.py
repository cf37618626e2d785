"""The shared REST scenario against the fake Flink server, in its 2.x and 1.20 flavours.

The same scenario runs against real Flink in tests/flink/rest; both must produce the transcript that
real Flink of that version produces (tests.support.rest_scenario.expected_transcript).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.fake_jars import fake_jar
from tests.support.flink_local import FAST_TEST_CONFIG
from tests.support.rest_scenario import Target, assert_transcript, run_scenario

from flink_operator.testing.fake_flink import FakeFlinkServer

pytestmark = pytest.mark.integration

# The real-Flink runs use FAST_TEST_CONFIG plus the directories and retention the local runtime sets.
FAST_CONFIG = {
    **FAST_TEST_CONFIG,
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
