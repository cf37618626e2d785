"""Fixtures for the real-Flink tests of the local runtime: Flink versions, the built counter job, services,
and a session-wide safety net that fails the run if any process started under the test tmp dir remains."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.support.flink_local import flink_home_for, kill_all, processes_with_marker

from flink_operator.flink.local.jobs import build_counter_job
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.service import LocalFlinkService

VERSIONS = [
    pytest.param("v2_3", id="flink2"),
    pytest.param("v1_20", id="flink120", marks=pytest.mark.flink120),
]


@pytest.fixture(scope="session", autouse=True)
def no_flink_process_left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    marker = str(tmp_path_factory.getbasetemp())
    yield
    left = processes_with_marker(marker)
    kill_all(left)
    assert not left, f"processes started by the tests were still running: {left}"


@pytest.fixture(scope="session")
def job_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jobs")


def home_or_skip(version: str) -> Path:
    home = flink_home_for(version)
    if home is None:
        pytest.skip(f"no Flink distribution for {version} (scripts/setup.sh --tests installs .venv-flink120)")
    return home


def counter_jar(version: str, job_dir: Path) -> Path:
    return build_counter_job(home_or_skip(version), job_dir / version)


def local_settings(state_dir: Path, version: str, **overrides: object) -> LocalFlinkSettings:
    homes = {version: home_or_skip(version)}
    values: dict[str, object] = {"state_dir": state_dir, "flink_homes": homes, "stop_timeout": 5.0}
    values.update(overrides)
    return LocalFlinkSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def service_factory(tmp_path: Path) -> AsyncIterator[list[LocalFlinkService]]:
    """Services made by a test (append them); every cluster they know is stopped afterwards."""
    made: list[LocalFlinkService] = []
    yield made
    for service in made:
        await service.stop_all()
        await service.close()
