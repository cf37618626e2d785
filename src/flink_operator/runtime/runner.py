"""Running one controller for one leadership term: informer events in, reconciles out.

The runner turns informer changes into queue entries (`changes.primary_change` for the controller's own
kind, the watch's mapper for secondary kinds), and a dispatcher hands queued keys to reconcile tasks:
at most as many at once as the shared `slots` allow (None: no bound), never two for one key (the queue
holds a key until its reconcile ends), each first admitted by the per-key rate limiter (over the limit:
deferred, not dropped; user-driven work has a larger allowance, see `rate_limit`). The dispatcher takes a
slot before it takes a key off the queue, so no key is held while capacity is awaited and the key chosen is
the most urgent one when a slot frees; urgent work (USER keys and the follow-up of a user-driven reconcile)
may use the slots `WorkerSlots` keeps in reserve.

After a reconcile: success resets the key's retry count and sets its next timer from `Result` (replacing
any pending one; `requeue_after=0` re-queues as EVENT work, later timers as PERIODIC, stretched by up to
`PERIODIC_JITTER` of the delay, at most `PERIODIC_JITTER_MAX_S`, so that resources created together do not
resync in lock-step; a timer never fires early). The immediate
follow-up of a user-driven reconcile (`requeue_after=0` after a USER one: the next step of the same change,
e.g. redeploying after stop-with-savepoint) gets the user's rate-limit allowance once; later follow-ups do
not, so a controller that keeps re-queuing itself is still capped. An exception
schedules a retry after the `RetryPolicy` delay; one with a `warning_reason` attribute (a transient
condition the user should see, e.g. a validator that did not answer in time) is also recorded as a Warning
event with that reason on the object. When attempts are exhausted the reconciler's
`on_retries_exhausted` decides (default: wait for the next change). `NotLeader` ends nothing but the
current reconcile: the manager is already stopping the term. When a reconciled key no longer exists, its
per-key memory (status, rate limit, retries) is dropped.

`stop(grace)` stops dispatching, lets running reconciles finish for up to `grace` seconds, then cancels
them; `grace=0` cancels at once (leadership lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from flink_operator.runtime.backoff import RetryPolicy
from flink_operator.runtime.cache import Store
from flink_operator.runtime.changes import primary_change, secondary_change
from flink_operator.runtime.controller import (
    ControllerSpec,
    ExhaustionAware,
    Mapper,
    Reconciler,
    Result,
)
from flink_operator.runtime.event_reasons import EventType
from flink_operator.runtime.events import EventRecorder
from flink_operator.runtime.informer import Change, ChangeType
from flink_operator.runtime.kinds import ObjectKey
from flink_operator.runtime.kube_api import NotLeader, status_code
from flink_operator.runtime.rate_limit import RateLimiter
from flink_operator.runtime.slots import WorkerSlots
from flink_operator.runtime.status import StatusWriter
from flink_operator.runtime.workqueue import Priority, WorkQueue

_log = logging.getLogger(__name__)

PERIODIC_JITTER = 0.1
"""Largest stretch of a periodic requeue, relative to its delay."""
PERIODIC_JITTER_MAX_S = 10.0
"""Largest stretch of a periodic requeue in seconds (long timers, e.g. snapshot schedules, stay close)."""


def jittered(delay: float, rand: float) -> float:
    """`delay` stretched by `rand` in [0, 1) of the allowed jitter; never shorter than `delay`."""
    return delay + rand * min(PERIODIC_JITTER * delay, PERIODIC_JITTER_MAX_S)


@dataclass
class RunnerStats:
    started: int = 0
    succeeded: int = 0
    failed: int = 0
    exhausted: int = 0
    rate_limited: int = 0
    cancelled: int = 0


class ControllerRunner:
    def __init__(
        self,
        spec: ControllerSpec,
        store: Store,
        status: StatusWriter,
        *,
        retry: RetryPolicy,
        rate_limiter: RateLimiter,
        slots: WorkerSlots | None,
        events: EventRecorder | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """`events` records the Warning events of errors with a `warning_reason`; `rand` draws the jitter
        and retry spread (tests pass their own)."""
        self.spec = spec
        self.store = store
        self.status = status
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.queue: WorkQueue[ObjectKey] = WorkQueue()
        self.stats = RunnerStats()
        self._slots = slots
        self._events = events
        self._rand = rand
        self._wake = asyncio.Event()
        self.queue.add_listener(self._wake.set)
        self._attempts: dict[ObjectKey, int] = {}
        self._continuing: set[ObjectKey] = set()
        """Keys whose next reconcile continues a user-driven one (urgent for the rate limiter, once)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._reconciler: Reconciler | None = None

    # --- event handlers -------------------------------------------------------------------------------

    def on_primary(self, change: Change) -> None:
        key = change.obj.key
        if change.type is ChangeType.FORGOTTEN:
            self.queue.forget(key)
            self._drop_memory(key)
            return
        priority = primary_change(change.old, change.new)
        if priority is not None:
            self.queue.add(key, priority)

    def secondary_handler(self, mapper: Mapper) -> Callable[[Change], None]:
        def handle(change: Change) -> None:
            if change.type is ChangeType.FORGOTTEN:
                return
            priority = secondary_change(change.old, change.new)
            if priority is None:
                return
            for key in mapper(change, self.store):
                self.queue.add(key, priority)

        return handle

    def enqueue(self, key: ObjectKey, priority: Priority, delay: float) -> None:
        if delay > 0:
            self.queue.add_after(key, delay, priority)
        else:
            self.queue.add(key, priority)

    # --- running --------------------------------------------------------------------------------------

    def start(self, reconciler: Reconciler) -> None:
        self._reconciler = reconciler
        self._dispatcher = asyncio.create_task(self._dispatch(), name=f"dispatch-{self.spec.name}")

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        slots = self._slots
        unsubscribe = slots.on_change(self._wake.set) if slots is not None else None
        try:
            while True:
                # Cleared before looking, so an add or a release from now on wakes the wait below.
                self._wake.clear()
                if self.queue.is_shut_down:
                    return
                head = self.queue.peek()
                if head is None:
                    await self._wake.wait()
                    continue
                key, priority = head
                urgent = priority is Priority.USER or key in self._continuing
                if slots is not None and not slots.try_acquire(urgent=urgent):
                    await self._wake.wait()  # a slot freed, or more urgent work arrived
                    continue
                taken = self.queue.get_nowait()
                assert taken == head
                delay = self.rate_limiter.acquire(key, loop.time(), urgent=urgent)
                if delay > 0:
                    self.stats.rate_limited += 1
                    self.queue.defer(key, delay, priority)
                    if slots is not None:
                        slots.release()
                    continue
                self._start(key, priority)
        finally:
            if unsubscribe is not None:
                unsubscribe()

    def _start(self, key: ObjectKey, priority: Priority) -> None:
        self._continuing.discard(key)
        name = f"reconcile-{self.spec.name}-{key}"
        task = asyncio.create_task(self._reconcile(key, priority), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reconcile(self, key: ObjectKey, priority: Priority) -> None:
        assert self._reconciler is not None
        self.stats.started += 1
        try:
            result = await self._reconciler.reconcile(key)
            if not isinstance(result, Result):
                got = type(result).__name__
                raise TypeError(f"controller {self.spec.name!r}: reconcile must return a Result, got {got}")
        except asyncio.CancelledError:
            self.stats.cancelled += 1
            raise
        except NotLeader:
            _log.info("%s %s: reconcile stopped, this replica is no longer the leader", self.spec.name, key)
        except Exception as error:
            self.stats.failed += 1
            await self._on_failure(key, error)
        else:
            self.stats.succeeded += 1
            self._attempts.pop(key, None)
            self._schedule(key, result, continues_user_work=priority is Priority.USER)
        finally:
            if key not in self.store:
                self._drop_memory(key)
            self.queue.done(key)
            if self._slots is not None:
                self._slots.release()

    def _schedule(self, key: ObjectKey, result: Result, *, continues_user_work: bool = False) -> None:
        if result.requeue_after is None:
            self.queue.cancel_timer(key)
        elif result.requeue_after == 0:
            self.queue.cancel_timer(key)
            if continues_user_work:
                self._continuing.add(key)
            self.queue.add(key, Priority.EVENT)
        else:
            delay = jittered(result.requeue_after, self._rand())
            self.queue.add_after(key, delay, Priority.PERIODIC, keep_earlier=False)

    async def _on_failure(self, key: ObjectKey, error: Exception) -> None:
        if status_code(error) == 404 and key not in self.store:
            # The resource was deleted while it was being reconciled: nothing is left to retry.
            _log.debug("%s %s: gone during its reconcile: %s", self.spec.name, key, error)
            self._attempts.pop(key, None)
            return
        attempt = self._attempts.get(key, 0) + 1
        delay = self.retry.delay(attempt, self._rand())
        await self._warn(key, error, delay)
        if delay is not None:
            self._attempts[key] = attempt
            _log.warning(
                "%s %s: reconcile failed (attempt %d of %d), retrying in %.1f s: %s",
                self.spec.name, key, attempt, self.retry.max_attempts + 1, delay, error,
                exc_info=_log.isEnabledFor(logging.DEBUG),
            )
            self.queue.add_after(key, delay, Priority.PERIODIC, keep_earlier=False)
            return
        self.stats.exhausted += 1
        self._attempts.pop(key, None)
        _log.error(
            "%s %s: reconcile failed, retries exhausted: %s", self.spec.name, key, error, exc_info=error
        )
        result: Result | None = None
        if isinstance(self._reconciler, ExhaustionAware):
            try:
                result = await self._reconciler.on_retries_exhausted(key, error)
            except Exception:
                _log.exception("%s %s: on_retries_exhausted failed", self.spec.name, key)
        self._schedule(key, result or Result.done())

    async def _warn(self, key: ObjectKey, error: Exception, retry_in: float | None) -> None:
        """A Warning event for an error that names its reason (a transient condition the user should see)."""
        reason = getattr(error, "warning_reason", None)
        if self._events is None or not isinstance(reason, str) or not reason:
            return
        obj = self.store.get(key)
        if obj is None:
            return
        retry = f"; retrying in {retry_in:.0f} s" if retry_in is not None else "; retries exhausted"
        try:
            await self._events.record(obj, EventType.WARNING, reason, f"{error}{retry}", message_key=reason)
        except asyncio.CancelledError:
            raise
        except Exception as failure:  # the retry matters more than the event
            _log.warning("%s %s: recording the %s event failed: %s", self.spec.name, key, reason, failure)

    def _drop_memory(self, key: ObjectKey) -> None:
        self.status.forget(key)
        self.rate_limiter.forget(key)
        self._attempts.pop(key, None)
        self._continuing.discard(key)

    async def stop(self, grace: float) -> None:
        """Stop dispatching; wait up to `grace` seconds for running reconciles, then cancel them."""
        self.queue.shut_down()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        tasks = set(self._tasks)
        if tasks and grace > 0:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            if pending:
                _log.warning("%s: cancelling %d reconciles still running after %.1f s", self.spec.name,
                             len(pending), grace)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
