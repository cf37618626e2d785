"""Calling plugin code without trusting it: every call has a deadline and its failures become values.

`async def` methods run on the event loop under `asyncio.timeout`. Plain `def` methods run in daemon threads
owned by the plugin (one is kept idle for the next call), so a hung plugin can never occupy a shared pool nor
keep the process from exiting. A plugin has at most `max_threads` calls running in threads at once; further
calls wait for a slot, which bounds what a permanently hung plugin can cost.

A call's deadline counts from when it starts running, not from when it began waiting for a thread: a burst
of calls (a thousand resources reconciled at once) makes calls wait, not fail. Waiting is not unbounded
either: when every thread of the plugin is held by a call past its deadline (a hung plugin), a waiting call
fails at once with `PluginTimeoutError`.

Not guaranteed: Python cannot stop a thread, so a timed-out sync call keeps running in the background until it
returns (its result is dropped); an `async def` method that blocks the event loop (e.g. `time.sleep`) cannot
be interrupted at all, and stalls the operator for as long as it blocks. Docs tell plugin authors which to
write.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import queue
import threading
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Idle threads kept per plugin for its next sync call (a thread start costs more than the call itself).
_IDLE_THREADS_KEPT = 1


class PluginCallError(Exception):
    """A plugin method raised; `cause` is what it raised."""

    def __init__(self, plugin: str, method: str, cause: BaseException) -> None:
        self.plugin = plugin
        self.method = method
        self.cause = cause
        super().__init__(f"{plugin}.{method} raised {type(cause).__name__}: {cause}")

    @property
    def reason(self) -> str:
        """`ValueError: bad thing` (no plugin name)."""
        text = str(self.cause)
        return f"{type(self.cause).__name__}: {text}" if text else type(self.cause).__name__


class PluginTimeoutError(PluginCallError):
    """A plugin method did not return within its deadline (or could not start: every thread of the plugin is
    held by a call past its deadline)."""

    def __init__(self, plugin: str, method: str, timeout: float, *, detail: str = "") -> None:
        self.timeout = timeout
        self.detail = detail
        cause = TimeoutError(detail or f"no answer within {timeout:g} s")
        super().__init__(plugin, method, cause)

    @property
    def reason(self) -> str:
        return self.detail or f"no answer within {self.timeout:g} s"


class PluginCaller:
    """Runs one plugin's methods with a timeout; one instance per plugin."""

    def __init__(self, plugin: str, *, timeout: float, max_threads: int = 4) -> None:
        if timeout <= 0:
            raise ValueError(f"plugin call timeout must be positive, got {timeout}")
        if max_threads < 1:
            raise ValueError(f"max_threads must be at least 1, got {max_threads}")
        self.plugin = plugin
        self.timeout = timeout
        self._max_threads = max_threads
        # Slots per event loop: asyncio primitives are bound to the loop that first uses them, and offline
        # tools may drive the same plugins from several short-lived loops.
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ThreadSlots] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._threads_alive = 0
        self._idle: list[_Worker] = []

    @property
    def threads_alive(self) -> int:
        """Threads still running a call of this plugin, including ones whose caller gave up."""
        return self._threads_alive

    async def call(self, method: Callable[..., Any], *args: Any) -> Any:
        """Call `method(*args)` and return its result (awaited if needed).

        Raises `PluginTimeoutError` past the deadline (counted from the call's start, after any wait for a
        thread), `PluginCallError` wrapping anything the method raised. Cancellation of the caller
        propagates unchanged.
        """
        name = getattr(method, "__name__", "call")
        slot: _Slot | None = None
        if not inspect.iscoroutinefunction(method):
            slots = self._slots_of(asyncio.get_running_loop())
            slot = await slots.acquire(self.timeout)
            if slot is None:
                stuck = f"all {self._max_threads} of its threads are still in calls that timed out"
                raise PluginTimeoutError(self.plugin, name, self.timeout, detail=stuck)
        try:
            async with asyncio.timeout(self.timeout) as scope:
                if slot is None:
                    result = await method(*args)
                else:
                    running = self._start_in_thread(method, args, slot)
                    slot = None  # from here on the thread holds it until it returns
                    result = await running
                if inspect.isawaitable(result):
                    result = await result
                return result
        except TimeoutError as error:
            if scope.expired():
                raise PluginTimeoutError(self.plugin, name, self.timeout) from None
            raise PluginCallError(self.plugin, name, error) from error
        except (asyncio.CancelledError, PluginCallError):
            raise
        except Exception as error:
            raise PluginCallError(self.plugin, name, error) from error
        finally:
            if slot is not None:
                slot.release()  # the thread was never started

    def _slots_of(self, loop: asyncio.AbstractEventLoop) -> _ThreadSlots:
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots.setdefault(loop, _ThreadSlots(self._max_threads, loop))
        return slots

    def _start_in_thread(
        self, func: Callable[..., Any], args: tuple[Any, ...], slot: _Slot
    ) -> asyncio.Future[Any]:
        """Hand the call to a thread of the plugin; the future resolves when it returns."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def finish(ok: bool, value: Any) -> None:
            slot.release()
            if future.done():
                return  # the caller timed out or was cancelled; the late result is dropped
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

        def deliver(outcome: tuple[bool, Any]) -> None:
            # A closed loop raises RuntimeError: nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(finish, *outcome)

        self._worker().submit(_Job(func, args, contextvars.copy_context(), deliver))
        return future

    def _worker(self) -> _Worker:
        """An idle thread of this plugin, or a new one."""
        with self._lock:
            if self._idle:
                self._threads_alive += 1
                return self._idle.pop()
        worker = _Worker(self)
        with self._lock:
            self._threads_alive += 1
        return worker

    def _done(self, worker: _Worker) -> bool:
        """Called by a worker thread after a job: True keeps the thread waiting for the next job."""
        with self._lock:
            self._threads_alive -= 1
            if len(self._idle) < _IDLE_THREADS_KEPT:
                self._idle.append(worker)
                return True
            return False


class _Slot:
    """One thread slot of a plugin, held from the call's start until its thread returns."""

    __slots__ = ("_released", "_slots", "deadline")

    def __init__(self, slots: _ThreadSlots, deadline: float) -> None:
        self._slots = slots
        self.deadline = deadline
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._slots.release(self)


class _ThreadSlots:
    """Admission to one plugin's threads on one event loop; waiters are woken in arrival order.

    A caller waits while all `size` slots are held, for as long as one of the holders is still within its
    deadline (it will return or time out); when every holder is past its deadline the plugin is hung and
    `acquire` returns None instead of waiting for ever. Not guaranteed: strict FIFO (a caller arriving just
    as a slot frees may take it before the waiter that was woken for it).
    """

    def __init__(self, size: int, loop: asyncio.AbstractEventLoop) -> None:
        self.size = size
        self._loop = loop
        self._held: set[_Slot] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, call_seconds: float) -> _Slot | None:
        """A slot for a call with `call_seconds` from now, or None when the plugin is hung."""
        loop = self._loop
        while len(self._held) >= self.size:
            now = loop.time()
            live = [slot.deadline for slot in self._held if slot.deadline > now]
            if not live:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            # Woken by a release, or when the earliest holder passes its deadline (to check for a hang).
            timer = loop.call_at(min(live), _resolve, waiter)
            try:
                await waiter
            except BaseException:
                self._wake_next()  # a release meant for this waiter goes to the next one
                raise
            finally:
                timer.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
        slot = _Slot(self, loop.time() + call_seconds)
        self._held.add(slot)
        return slot

    def release(self, slot: _Slot) -> None:
        self._held.discard(slot)
        self._wake_next()

    def _wake_next(self) -> None:
        if len(self._held) < self.size:
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
                    return


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass(frozen=True)
class _Job:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    context: contextvars.Context
    deliver: Callable[[tuple[bool, Any]], None]


class _Worker:
    """A daemon thread running one plugin's sync calls, one at a time; it leaves when no longer needed."""

    def __init__(self, caller: PluginCaller) -> None:
        self._caller = caller
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name=f"plugin:{caller.plugin}", daemon=True).start()

    def submit(self, job: _Job) -> None:
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                outcome: tuple[bool, Any] = (True, job.context.run(job.func, *job.args))
            except BaseException as error:  # a plugin may raise anything, even SystemExit
                outcome = (False, error if isinstance(error, Exception) else RuntimeError(repr(error)))
            keep = self._caller._done(self)
            job.deliver(outcome)
            if not keep:
                return
