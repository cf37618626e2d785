"""One local-mode stack per snapshot end-to-end module (operator options from the module's
`LOCAL_UP_OPTIONS`, KEY=VALUE strings), the counter job built once, and clean-up of what a test created:
its FlinkStateSnapshots first (so that their savepoints are disposed while the job still runs), then its
FlinkDeployments.

Safety nets: after each test no Flink process of a deployment it created may remain; after the module, no
process whose command line names the module's directory (emulator, operator, Flink)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.local_mode import Kubectl, LocalUp, kill_all, poll
from tests.support.local_snapshots import delete_snapshots
from tests.support.local_stack import USRLIB_KEY, Deployments, Stack, stop_stack

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


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, usrlib: Path
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("snapshot-e2e")
    home = root / "home"
    home.mkdir()
    options = [f"{USRLIB_KEY}={usrlib}", *getattr(request.module, "LOCAL_UP_OPTIONS", ())]
    up = LocalUp(root / "state", home, *(arg for option in options for arg in ("-D", option)))
    started = Stack(root, up, Kubectl(up.kubeconfig, home))
    try:
        up.start()
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
            try:
                delete_snapshots(stack.kubectl)
            finally:
                made.delete_all()
        for name in made.names:
            try:
                poll(
                    no_processes(stack, name),
                    within=30,
                    what=f"no Flink process of {name} after its deletion",
                )
            finally:
                kill_all(stack.cluster_processes(name))


def no_processes(stack: Stack, name: str) -> Callable[[], bool | None]:
    return lambda: True if not stack.cluster_processes(name) else None
