"""Fixtures for the `flink-operator local` command tests: a private HOME and state directory per test, the
counter job built once, and a safety net that fails a test leaving any process under its directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.local_mode import kill_all, processes_with

from flink_operator.flink.local import build_counter_job
from flink_operator.flink.local.distribution import installed_flink_home


@pytest.fixture(scope="session")
def usrlib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = installed_flink_home()
    if home is None:
        pytest.fail("no Flink distribution installed (scripts/setup.sh installs apache-flink)")
    directory = tmp_path_factory.mktemp("usrlib")
    build_counter_job(home, directory)
    return directory


@pytest.fixture
def home(tmp_path: Path) -> Path:
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


@pytest.fixture(autouse=True)
def nothing_left_running(tmp_path: Path) -> Iterator[None]:
    yield
    left = processes_with(str(tmp_path))
    kill_all(left)
    assert not left, f"processes left running: {left}"
