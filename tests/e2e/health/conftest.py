"""One local-mode stack for the health and rollback end-to-end module (`flink-operator local up` as a
subprocess), kubectl bound to its kubeconfig, the counter job built once, and clean-up of the
FlinkDeployments a test created.

Safety nets: after each test no Flink process of a resource it created may remain; after the module, no
process whose command line names the module's directory (emulator, operator, Flink, ZooKeeper)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.local_mode import kill_all, poll
from tests.support.local_stack import Deployments, Stack, start_stack, stop_stack

from flink_operator.flink.local import build_counter_job
from flink_operator.flink.local.distribution import installed_flink_home


@pytest.fixture(scope="module")
def usrlib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = installed_flink_home()
    if home is None:
        pytest.fail("no Flink distribution installed (scripts/setup.sh installs apache-flink)")
    directory = tmp_path_factory.mktemp("usrlib")
    build_counter_job(home, directory)
    return directory


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, usrlib: Path) -> Iterator[Stack]:
    started = start_stack(tmp_path_factory.mktemp("health-e2e"), usrlib)
    try:
        yield started
    finally:
        stop_stack(started)


@pytest.fixture
def deployments(stack: Stack, tmp_path: Path) -> Iterator[Deployments]:
    made = Deployments(stack, tmp_path)
    try:
        yield made
    finally:
        if stack.up.alive():
            made.delete_all()
        for name in made.names:
            try:
                poll(
                    lambda name=name: True if not stack.cluster_processes(name) else None,
                    within=30,
                    what=f"no Flink process of {name} after its deletion",
                )
            finally:
                kill_all(stack.cluster_processes(name))
