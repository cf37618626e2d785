"""Isolated plugin calls: sync in threads, async on the loop, deadlines, failures as values, few threads."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from tests.support.conditions import until

from flink_operator.plugins._calls import PluginCaller, PluginCallError, PluginTimeoutError

pytestmark = pytest.mark.unit


class Plugin:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.threads: list[str] = []

    def sync_value(self, x: int) -> int:
        self.threads.append(threading.current_thread().name)
        return x * 2

    async def async_value(self, x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    def sync_raises(self) -> None:
        raise ValueError("bad input")

    async def async_raises(self) -> None:
        raise KeyError("missing")

    def sync_blocks(self) -> str:
        self.release.wait(10)
        return "late"

    async def async_hangs(self) -> None:
        await asyncio.sleep(30)

    def sync_returns_coroutine(self) -> object:
        return self.async_value(41)

    def own_timeout(self) -> None:
        raise TimeoutError("the plugin's own HTTP call timed out")


async def test_sync_method_runs_in_a_plugin_thread_and_returns_its_value() -> None:
    plugin = Plugin()
    caller = PluginCaller("p", timeout=2)
    assert await caller.call(plugin.sync_value, 21) == 42
    assert plugin.threads == ["plugin:p"]


async def test_async_method_is_awaited_on_the_loop() -> None:
    assert await PluginCaller("p", timeout=2).call(Plugin().async_value, 1) == 2


async def test_awaitable_returned_by_a_sync_method_is_awaited() -> None:
    assert await PluginCaller("p", timeout=2).call(Plugin().sync_returns_coroutine) == 42


@pytest.mark.parametrize("method", ["sync_raises", "async_raises"])
async def test_exceptions_are_wrapped_with_plugin_and_method(method: str) -> None:
    with pytest.raises(PluginCallError) as caught:
        await PluginCaller("my-plugin", timeout=2).call(getattr(Plugin(), method))
    error = caught.value
    assert error.plugin == "my-plugin"
    assert error.method == method
    assert error.reason.startswith(("ValueError: bad input", "KeyError: 'missing'"))
    assert not isinstance(error, PluginTimeoutError)


async def test_a_plugins_own_timeout_error_is_not_mistaken_for_ours() -> None:
    with pytest.raises(PluginCallError) as caught:
        await PluginCaller("p", timeout=2).call(Plugin().own_timeout)
    assert not isinstance(caught.value, PluginTimeoutError)
    assert "own HTTP call" in caught.value.reason


async def test_hanging_async_method_times_out() -> None:
    started = time.monotonic()
    with pytest.raises(PluginTimeoutError) as caught:
        await PluginCaller("p", timeout=0.2).call(Plugin().async_hangs)
    assert caught.value.reason == "no answer within 0.2 s"
    assert time.monotonic() - started < 5


async def test_blocked_sync_method_times_out_and_its_late_result_is_dropped() -> None:
    plugin = Plugin()
    caller = PluginCaller("p", timeout=0.2)
    with pytest.raises(PluginTimeoutError):
        await caller.call(plugin.sync_blocks)
    assert caller.threads_alive == 1
    plugin.release.set()
    await until(lambda: caller.threads_alive == 0, what="the released thread finished")
    assert await caller.call(plugin.sync_value, 1) == 2


async def test_threads_per_plugin_are_bounded_while_calls_hang() -> None:
    plugin = Plugin()
    caller = PluginCaller("p", timeout=0.2, max_threads=2)
    for _ in range(4):
        with pytest.raises(PluginTimeoutError):
            await caller.call(plugin.sync_blocks)
    # Two threads hang; the later calls waited for a slot and timed out without starting a thread.
    assert caller.threads_alive == 2
    plugin.release.set()
    await until(lambda: caller.threads_alive == 0, what="the released threads finished")
    assert await caller.call(plugin.sync_value, 5) == 10


def test_same_caller_works_from_successive_event_loops() -> None:
    caller = PluginCaller("p", timeout=2, max_threads=1)
    plugin = Plugin()
    assert asyncio.run(caller.call(plugin.sync_value, 1)) == 2
    assert asyncio.run(caller.call(plugin.sync_value, 2)) == 4


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="timeout must be positive"):
        PluginCaller("p", timeout=0)
    with pytest.raises(ValueError, match="max_threads"):
        PluginCaller("p", timeout=1, max_threads=0)


async def test_a_call_waiting_for_a_thread_fails_once_every_thread_is_stuck_past_its_deadline() -> None:
    plugin = Plugin()
    caller = PluginCaller("p", timeout=0.2, max_threads=1)
    first = asyncio.create_task(caller.call(plugin.sync_blocks))
    await until(lambda: caller.threads_alive == 1, what="the first call running")
    # The second call waits for the only thread; once the first is past its deadline (still blocked), the
    # plugin is hung and waiting longer would be for ever.
    with pytest.raises(PluginTimeoutError) as caught:
        await caller.call(plugin.sync_value, 1)
    assert caught.value.reason == "all 1 of its threads are still in calls that timed out"
    with pytest.raises(PluginTimeoutError):
        await first
    assert not plugin.release.is_set() and caller.threads_alive == 1
    plugin.release.set()
    await until(lambda: caller.threads_alive == 0, what="the released thread finished")


async def test_queued_calls_each_get_their_full_time_once_started() -> None:
    caller = PluginCaller("p", timeout=0.3, max_threads=1)

    def slow(x: int) -> int:
        time.sleep(0.05)
        return x

    # 12 x 50 ms on one thread: the last starts ~0.55 s after it was asked, past the 0.3 s deadline.
    results = await asyncio.gather(*(caller.call(slow, i) for i in range(12)))
    assert results == list(range(12))
