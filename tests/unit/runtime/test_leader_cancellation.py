"""The renew loop of leader election stops when it is cancelled (manager shutdown), also when the
cancellation arrives while a renewal is completing: `asyncio.wait_for` on Python 3.11 returns the renewal's
result in that case and the cancellation is lost, so the loop renewed on and the shutdown never finished."""

from __future__ import annotations

import asyncio

import pytest

from flink_operator.runtime import KubeApi, LeaderElectionConfig, LeaderElector

pytestmark = pytest.mark.unit


class InstantRenewals(LeaderElector):
    """Renewals that succeed at once, without an API server; `attempt` is set when one is in flight."""

    def __init__(self) -> None:
        config = LeaderElectionConfig("lease", "default", "me", 30.0, 20.0, 0.001)
        super().__init__(KubeApi.__new__(KubeApi), config)
        self.attempt = asyncio.Event()

    async def try_acquire_or_renew(self) -> bool:
        self.attempt.set()
        await asyncio.sleep(0)
        self._renewed_at = self.clock()
        return True


async def test_cancelling_the_renew_loop_while_a_renewal_completes_stops_it() -> None:
    elector = InstantRenewals()
    assert await elector.try_acquire_or_renew()
    elector._leading = True
    elector.attempt.clear()
    loop = asyncio.create_task(elector.keep_renewing())
    await elector.attempt.wait()  # a renewal is in flight and completes in the same loop iteration
    loop.cancel()
    done, _ = await asyncio.wait({loop}, timeout=2.0)
    if not done:
        elector.step_down()  # let the runaway loop end so the test does not leak it
        await loop
        pytest.fail("the renew loop kept renewing after it was cancelled")
    assert loop.cancelled()
