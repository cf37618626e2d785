"""Leader election on its own thread against the emulator (run on a thread too, so that blocking the test's
event loop blocks only the operator side): renewals go on while the event loop is held by CPU-bound work
for longer than the renew deadline, a lease taken away closes the write gate while the loop is still held
and sets `lost` on the loop afterwards, and closing joins the thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from lightkube import AsyncClient, KubeConfig
from tests.support.conditions import until

from flink_operator.runtime import LeaderElectionConfig, NotLeader, ThreadedLeaderElector
from kube_emulator import ThreadedApiServer

pytestmark = pytest.mark.integration

TIMING = {"lease_duration": 1.0, "renew_deadline": 0.6, "retry_period": 0.1}
BLOCKED_FOR = 4 * TIMING["renew_deadline"]


def election_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "leader-election"]


@pytest_asyncio.fixture
async def elector(
    threaded_api_server: ThreadedApiServer, tmp_path: Path
) -> AsyncIterator[ThreadedLeaderElector]:
    kubeconfig = threaded_api_server.server.write_kubeconfig(tmp_path / "kubeconfig")
    client = AsyncClient(config=KubeConfig.from_file(kubeconfig).get())
    elector = ThreadedLeaderElector(client, LeaderElectionConfig("lease", "default", "a", **TIMING))
    try:
        yield elector
    finally:
        await elector.close()
        await client.close()
    assert not election_threads()


def lease_spec(server: ThreadedApiServer) -> dict[str, object]:
    """The Lease as stored, read on the emulator's own loop (safe while the test's loop is held)."""
    lease = server.call_sync(lambda: server.hooks.get("coordination.k8s.io/v1", "Lease", "lease", "default"))
    assert lease is not None
    spec: dict[str, object] = lease["spec"]
    return spec


async def hold_the_loop(for_seconds: float, each_slice: Callable[[], None]) -> None:
    """Keep the running loop busy in one callback (nothing else on it runs meanwhile), calling
    `each_slice` between slices of busy-waiting."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def hog() -> None:
        end = time.monotonic() + for_seconds
        try:
            while time.monotonic() < end:
                slice_end = min(end, time.monotonic() + 0.02)
                while time.monotonic() < slice_end:
                    pass
                each_slice()
        except BaseException as error:
            done.set_exception(error)
            return
        done.set_result(None)

    loop.call_soon(hog)
    await done


async def test_renewals_go_on_while_the_event_loop_is_held_past_the_renew_deadline(
    threaded_api_server: ThreadedApiServer, elector: ThreadedLeaderElector
) -> None:
    await elector.acquire()
    renewing = asyncio.create_task(elector.keep_renewing())
    assert len(election_threads()) == 1
    renew_times: list[object] = [lease_spec(threaded_api_server)["renewTime"]]
    gate_open: list[bool] = []

    def sample() -> None:
        renew_time = lease_spec(threaded_api_server)["renewTime"]
        if renew_time != renew_times[-1]:
            renew_times.append(renew_time)
        gate_open.append(elector.is_leader)

    await hold_the_loop(BLOCKED_FOR, sample)

    # Renewed all along (retry period 0.1 s over 2.4 s: well over ten renewals; a few suffice here).
    assert len(renew_times) >= 1 + int(BLOCKED_FOR / TIMING["renew_deadline"])
    assert all(gate_open), "the write gate closed while the loop was held"
    assert elector.is_leader and not elector.lost.is_set() and not renewing.done()
    assert lease_spec(threaded_api_server)["holderIdentity"] == "a"
    renewing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await renewing
    assert await elector.release()
    assert not lease_spec(threaded_api_server)["holderIdentity"]


async def test_a_lease_taken_while_the_loop_is_held_closes_the_gate_at_once_and_sets_lost_after(
    threaded_api_server: ThreadedApiServer, elector: ThreadedLeaderElector
) -> None:
    await elector.acquire()
    renewing = asyncio.create_task(elector.keep_renewing())
    server = threaded_api_server
    lease = server.call_sync(lambda: server.hooks.get("coordination.k8s.io/v1", "Lease", "lease", "default"))
    assert lease is not None
    lease["spec"].update(holderIdentity="intruder", leaseDurationSeconds=30)
    taken_at: list[float] = []
    gate_closed_after: list[float] = []

    def take_the_lease_then_watch_the_gate() -> None:
        if not taken_at:
            taken_at.append(time.monotonic())
            server.call(lambda: server.hooks.replace(lease))
        elif not gate_closed_after and not elector.is_leader:
            gate_closed_after.append(time.monotonic() - taken_at[0])

    await hold_the_loop(BLOCKED_FOR, take_the_lease_then_watch_the_gate)

    # The gate closed while the loop was still held, on the first renewal that saw the intruder (a few
    # retry periods), not merely because the renew deadline passed.
    assert gate_closed_after and gate_closed_after[0] < TIMING["renew_deadline"]
    with pytest.raises(NotLeader):
        elector.check()
    assert elector.observed_holder == "intruder"
    await asyncio.wait_for(elector.lost.wait(), timeout=2.0)
    await asyncio.wait_for(renewing, timeout=2.0)  # the renew loop ended with the lease lost
    assert not await elector.release()  # not ours: nothing to release
    assert lease_spec(server)["holderIdentity"] == "intruder"


async def test_cancelled_acquisition_ends_on_the_thread_and_close_joins_it(
    threaded_api_server: ThreadedApiServer, elector: ThreadedLeaderElector
) -> None:
    threaded_api_server.create({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "lease", "namespace": "default"},
        "spec": {"holderIdentity": "other", "leaseDurationSeconds": 30},
    })
    acquiring = asyncio.create_task(elector.acquire())
    await until(lambda: elector.contacted, what="the standby reads the Lease")
    assert not elector.is_leader and elector.observed_holder == "other"
    acquiring.cancel()
    with pytest.raises(asyncio.CancelledError):
        await acquiring
    assert len(election_threads()) == 1
    await elector.close()
    assert not election_threads()
    assert lease_spec(threaded_api_server)["holderIdentity"] == "other"
