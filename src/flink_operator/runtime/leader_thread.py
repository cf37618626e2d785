"""Leader election on a thread of its own, so that a saturated operator event loop cannot starve renewals.

`ThreadedLeaderElector` runs a `LeaderElector` (acquisition, the renew loop and the release) on a daemon
thread with its own event loop and its own Kubernetes client, built from the same configuration as the
operator's client (an httpx client belongs to the loop it first ran on, so the operator's cannot be
shared). A thousand reconciles keeping the operator's loop busy then no longer delay the Lease renewals
past the renew deadline.

The operator's loop sees the same interface as a `LeaderElector`: `acquire`, `keep_renewing` and `release`
are coroutines that run on the thread and return (or are cancelled) on the caller's loop; when a cancelled
call returns, its work on the thread has finished unwinding. The write gate (`check`, `is_leader`) reads
state shared under a lock, so a lost lease closes it at once, even while the operator's loop is busy;
`lost` (an event of the operator's loop) is set through `call_soon_threadsafe`, so the term is torn down
as soon as that loop gets to it. `close()` stops the thread (joined) and closes its client; nothing is
released by it (that is `release()`).

Not guaranteed: renewals still share the interpreter lock with the operator's loop; CPU-bound work in
Python slows them (the interpreter switches threads every few milliseconds) but cannot stall them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from lightkube import AsyncClient

from flink_operator.runtime.kube_api import KubeApi, NotLeader
from flink_operator.runtime.leader import LeaderElectionConfig, LeaderElector

_log = logging.getLogger(__name__)

T = TypeVar("T")

_THREAD_NAME = "leader-election"


def client_like(client: AsyncClient) -> AsyncClient:
    """A new client with the configuration (cluster, credentials, namespace, timeouts, field manager) of
    `client`, to be used on another event loop."""
    return AsyncClient(
        config=client.config,
        namespace=client.namespace,
        timeout=client._timeout,
        field_manager=client._client._field_manager,
    )


def _settle(target: asyncio.Future[T], source: asyncio.Future[T]) -> None:
    """Copy the outcome of `source` (done, on another loop) into `target` (on this loop)."""
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (error := source.exception()) is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())


class ThreadedLeaderElector:
    """A `LeaderElector` whose Lease traffic runs on a thread with its own loop and client."""

    def __init__(
        self,
        client: AsyncClient,
        config: LeaderElectionConfig,
        *,
        user_agent: str = "flink-operator",
        client_factory: Callable[[], AsyncClient] | None = None,
    ) -> None:
        """`client`: the operator's client, whose configuration the thread's own client copies
        (`client_factory` builds it instead, when given). The thread starts with the first `acquire`."""
        self.config = config
        self._make_client = client_factory or (lambda: client_like(client))
        self._user_agent = user_agent
        self.client_hooks: list[Callable[[AsyncClient], None]] = []
        """Called on the thread with its new client before its first request (e.g. to count requests)."""
        self.lost = asyncio.Event()
        """Set on the caller's loop when leadership ends (lost, stepped down); cleared by `acquire`."""
        self._elector: LeaderElector | None = None
        self._main: asyncio.AbstractEventLoop | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._finished: asyncio.Future[None] | None = None
        self._closed = False

    # --- leadership state (any thread) ------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return self.config.identity

    @property
    def is_leader(self) -> bool:
        return self._elector is not None and self._elector.is_leader

    @property
    def contacted(self) -> bool:
        """True once the Lease could be read or created (the API server is reachable)."""
        return self._elector is not None and self._elector.contacted

    @property
    def observed_holder(self) -> str | None:
        return None if self._elector is None else self._elector.observed_holder

    @property
    def terms(self) -> int:
        return 0 if self._elector is None else self._elector.terms

    def check(self) -> None:
        """The write gate: raises `NotLeader` unless this replica holds a live lease."""
        if self._elector is None:
            raise NotLeader(f"{self.identity} does not hold lease {self.config.namespace}/"
                            f"{self.config.lease_name}")
        self._elector.check()

    # --- calls (on the caller's loop) -------------------------------------------------------------------

    async def acquire(self) -> None:
        """Block until this replica leads."""
        await self._start()
        await self._call(lambda elector: elector.acquire())
        self.lost.clear()

    async def keep_renewing(self) -> None:
        """Renew (on the thread) until leadership is lost; `lost` is set then, and this returns."""
        await self._call(lambda elector: elector.keep_renewing())

    async def release(self) -> bool:
        """Give the lease up so a standby takes over without waiting for expiry."""
        if self._elector is None or self._closed:
            return False
        return await self._call(lambda elector: elector.release())

    def step_down(self) -> None:
        """Stop leading locally at once (without touching the Lease)."""
        if self._elector is not None and self._elector.stop_leading():
            self.lost.set()

    async def close(self) -> None:
        """Stop the thread (its pending calls are cancelled), close its client and join it."""
        self._closed = True
        thread, loop, stop, finished = self._thread, self._loop, self._stop, self._finished
        if thread is None:
            return
        self._thread = None
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended
                loop.call_soon_threadsafe(stop.set)
        try:
            if finished is not None:
                await asyncio.shield(finished)
        finally:
            # Returns at once when `finished` is set; waits briefly if this call was cancelled meanwhile.
            thread.join(timeout=10.0)
            if thread.is_alive():
                _log.warning("The leader-election thread did not stop within 10 s")

    # --- plumbing ---------------------------------------------------------------------------------------

    async def _start(self) -> None:
        if self._closed:
            raise RuntimeError("the leader elector was closed")
        if self._thread is not None:
            return
        main = asyncio.get_running_loop()
        self._main = main
        ready: asyncio.Future[None] = main.create_future()
        self._finished = main.create_future()
        self._thread = threading.Thread(
            target=self._run, args=(main, ready, self._finished), name=_THREAD_NAME, daemon=True
        )
        self._thread.start()
        await ready

    def _run(
        self, main: asyncio.AbstractEventLoop, ready: asyncio.Future[None], finished: asyncio.Future[None]
    ) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(main, ready))
        except BaseException as error:
            _log.exception("The leader-election thread failed")
            with contextlib.suppress(RuntimeError):
                main.call_soon_threadsafe(_fail_if_pending, ready, error)
        finally:
            loop.close()
            with contextlib.suppress(RuntimeError):  # the caller's loop is gone: nobody waits
                main.call_soon_threadsafe(_finish, finished)

    async def _serve(self, main: asyncio.AbstractEventLoop, ready: asyncio.Future[None]) -> None:
        stop = asyncio.Event()
        client = self._make_client()
        try:
            for hook in self.client_hooks:
                hook(client)
            elector = LeaderElector(
                KubeApi(client, user_agent=self._user_agent), self.config, on_lost=self._signal_lost
            )
            self._elector = elector
            self._loop = asyncio.get_running_loop()
            self._stop = stop
            main.call_soon_threadsafe(_finish, ready)
            await stop.wait()
            # Calls whose callers went away (their loop is closing) end here, before the client closes.
            pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            await client.close()

    def _signal_lost(self) -> None:
        main = self._main
        if main is not None:
            with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody to tell
                main.call_soon_threadsafe(self.lost.set)

    async def _call(self, work: Callable[[LeaderElector], Coroutine[Any, Any, T]]) -> T:
        """Run `work(elector)` on the thread; if the caller is cancelled, cancel it there and return only
        once it has finished unwinding (so no renewal overlaps what the caller does next)."""
        loop, elector = self._loop, self._elector
        if loop is None or elector is None or self._thread is None:
            raise RuntimeError("the leader-election thread is not running")
        main = asyncio.get_running_loop()
        outcome: asyncio.Future[T] = main.create_future()
        tasks: list[asyncio.Task[T]] = []

        def begin() -> None:
            task = loop.create_task(work(elector))
            tasks.append(task)
            task.add_done_callback(lambda done: _report(main, outcome, done))

        def cancel() -> None:
            for task in tasks:  # `begin` ran first: both go through the same FIFO queue
                task.cancel()

        loop.call_soon_threadsafe(begin)
        try:
            return await asyncio.shield(outcome)
        except asyncio.CancelledError:
            if not outcome.done():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(cancel)
                await asyncio.wait({outcome})
            raise


def _report(main: asyncio.AbstractEventLoop, outcome: asyncio.Future[T], done: asyncio.Future[T]) -> None:
    with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody waits for this
        main.call_soon_threadsafe(_settle, outcome, done)


def _finish(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _fail_if_pending(future: asyncio.Future[None], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
