"""The shared REST scenario against real local Flink 2.3 and 1.20 (the ground truth the fake is held to).

Each run starts its own session cluster through the local runtime (LocalFlinkService) with the example
counter job, runs tests.support.rest_scenario, and asserts the transcript real Flink of that version is
expected to produce; the same assertion is made of the fake server in tests/integration/flink_rest.
Afterwards no process started under the test's directory may remain.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.flink_local import (
    FAST_TEST_CONFIG,
    flink_home_for,
    kill_all,
    processes_with_marker,
    wait_ready,
)
from tests.support.rest_scenario import Target, assert_transcript, run_scenario

from flink_operator.flink.local.jobs import build_counter_job
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.service import ClusterRef, ClusterRequest

pytestmark = pytest.mark.flink

VERSIONS = [
    pytest.param("v2_3", "2.3", id="flink2"),
    pytest.param("v1_20", "1.20", id="flink120", marks=pytest.mark.flink120),
]


@pytest.mark.parametrize(("version", "expected_version"), VERSIONS)
async def test_real_flink_gives_the_expected_transcript(
    tmp_path: Path, version: str, expected_version: str
) -> None:
    home = flink_home_for(version)
    if home is None:
        pytest.skip(f"no Flink distribution for {version} (scripts/setup.sh --tests installs .venv-flink120)")
    jar = build_counter_job(home, tmp_path / "job")
    settings = LocalFlinkSettings(state_dir=tmp_path / "state", flink_homes={version: home}, stop_timeout=5.0)
    service = LocalFlinkService(settings)
    ref = ClusterRef("rest-tests", f"differential-{version.replace('_', '-')}")
    target: Target | None = None
    try:
        await service.deploy_session_cluster(ClusterRequest(ref, version, FAST_TEST_CONFIG, generation=1))
        await wait_ready(service, ref)
        url = service.rest_url(ref)
        assert url is not None
        target = Target(url, jar, expected_version, within=90.0)
        transcript = await run_scenario(target)
    finally:
        await service.delete_cluster(ref, delete_ha_data=True)
        await service.close()
        left = processes_with_marker(str(tmp_path))
        kill_all(left)
        assert not left, f"Flink processes were still running after the test: {left}"
    assert_transcript(transcript, expected_version)
    print(f"timings on Flink {expected_version}: {target.timings}")
