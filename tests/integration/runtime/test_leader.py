"""Lease leader election against the emulator: one leader, take-over after the leader dies, fast hand-over
on release, and a leader that sees its lease taken stops at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from tests.support.conditions import until
from tests.support.runtime_kit import api_for

from flink_operator.runtime import LEASE, KubeApi, LeaderElectionConfig, LeaderElector, NotLeader
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

TIMING = {"lease_duration": 1.0, "renew_deadline": 0.6, "retry_period": 0.1}


@pytest_asyncio.fixture
async def api(api_kubeconfig: Path) -> AsyncIterator[KubeApi]:
    kube = api_for(api_kubeconfig)
    yield kube
    await kube.client.close()


def elector(api: KubeApi, identity: str) -> LeaderElector:
    return LeaderElector(api, LeaderElectionConfig("lease", "default", identity, **TIMING))


class Candidate:
    """An elector with its acquire-then-renew loop running as a task (what a manager does)."""

    def __init__(self, api: KubeApi, identity: str) -> None:
        self.elector = elector(api, identity)
        self.led_at: float | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self.elector.acquire()
            self.led_at = time.monotonic()
            await self.elector.keep_renewing()

    async def die(self) -> None:
        """Stop without releasing anything, as a killed process would."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def shut_down(self) -> None:
        await self.die()
        await self.elector.release()


async def holder(api: KubeApi) -> str | None:
    holder_identity: str | None = (await api.get(LEASE, "lease", "default"))["spec"].get("holderIdentity")
    return holder_identity


async def test_one_leader_and_a_standby_takes_over_only_after_the_dead_leaders_lease_expires(
    api: KubeApi,
) -> None:
    a = Candidate(api, "a")
    await until(lambda: a.elector.is_leader, what="a leads")
    b = Candidate(api, "b")
    # While a renews, b must stay a standby for several lease durations.
    window_end = time.monotonic() + 2.5 * TIMING["lease_duration"]
    while time.monotonic() < window_end:
        assert not b.elector.is_leader
        await asyncio.sleep(0.05)
    assert await holder(api) == "a" and b.elector.contacted

    died = time.monotonic()
    await a.die()
    await until(lambda: b.elector.is_leader, within=5, what="b takes over")
    assert b.led_at is not None
    waited = b.led_at - died
    assert TIMING["lease_duration"] * 0.9 <= waited <= TIMING["lease_duration"] + 1.0
    assert not a.elector.is_leader  # its renew deadline has passed: the write gate is closed
    with pytest.raises(NotLeader):
        a.elector.check()
    lease = await api.get(LEASE, "lease", "default")
    assert lease["spec"]["holderIdentity"] == "b" and lease["spec"]["leaseTransitions"] == 1
    await b.shut_down()


async def test_release_on_shutdown_hands_over_within_a_retry_period(api: KubeApi) -> None:
    a = Candidate(api, "a")
    await until(lambda: a.elector.is_leader, what="a leads")
    b = Candidate(api, "b")
    await until(lambda: b.elector.contacted, what="b is a standby")
    released = time.monotonic()
    await a.shut_down()
    assert await holder(api) in (None, "", "b")
    await until(lambda: b.elector.is_leader, within=5, what="b takes over")
    assert b.led_at is not None and b.led_at - released < TIMING["lease_duration"] * 0.8
    await b.shut_down()
    assert not await holder(api)


async def test_a_leader_that_sees_another_holder_steps_down_at_once(api: KubeApi) -> None:
    a = Candidate(api, "a")
    await until(lambda: a.elector.is_leader, what="a leads")
    lease = await api.get(LEASE, "lease", "default")
    lease["spec"]["holderIdentity"] = "intruder"
    lease["spec"]["leaseDurationSeconds"] = 1
    await api.replace(LEASE, lease)
    stolen = time.monotonic()
    await until(lambda: a.elector.lost.is_set(), within=2, what="a notices")
    assert time.monotonic() - stolen < TIMING["renew_deadline"]
    assert not a.elector.is_leader
    # The intruder never renews, so a wins the lease back after it expires.
    await until(lambda: a.elector.is_leader, within=5, what="a leads again")
    assert await holder(api) == "a"
    await a.shut_down()


async def test_a_leader_cut_off_from_the_api_server_stops_within_the_renew_deadline(
    api_server: EmbeddedApiServer, api: KubeApi
) -> None:
    a = Candidate(api, "a")
    await until(lambda: a.elector.is_leader, what="a leads")
    outage = api_server.hooks.faults.add_latency(5.0, path="/leases")
    cut = time.monotonic()
    await until(lambda: not a.elector.is_leader, within=3, what="a stops leading")
    assert time.monotonic() - cut <= TIMING["renew_deadline"] + 0.2
    api_server.hooks.faults.remove(outage)
    await a.die()
