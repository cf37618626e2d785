"""Running one controller for one leadership term: informer events in, reconciles out.

The runner turns informer changes into queue entries (`changes.primary_change` for the controller's own
kind, the watch's mapper for secondary kinds), and a dispatcher hands queued keys to reconcile tasks:
at most as many at once as the shared `slots` semaphore allows (None: no bound), never two for one key
(the queue holds a key until its reconcile ends), each first admitted by the per-key rate limiter (over
the limit: deferred, not dropped; user-driven work has a larger allowance, see `rate_limit`).

After a reconcile: success resets the key's retry count and sets its next timer from `Result` (replacing
any pending one; `requeue_after=0` re-queues as EVENT work, later timers as PERIODIC). The immediate
follow-up of a user-driven reconcile (`requeue_after=0` after a USER one: the next step of the same change,
e.g. redeploying after stop-with-savepoint) gets the user's rate-limit allowance once; later follow-ups do
not, so a controller that keeps re-queuing itself is still capped. An exception
schedules a retry after the `RetryPolicy` delay; when attempts are exhausted the reconciler's
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
from flink_operator.runtime.informer import Change, ChangeType
from flink_operator.runtime.kinds import ObjectKey
from flink_operator.runtime.kube_api import NotLeader, status_code
from flink_operator.runtime.rate_limit import RateLimiter
from flink_operator.runtime.status import StatusWriter
from flink_operator.runtime.workqueue import Priority, QueueShutDown, WorkQueue

_log = logging.getLogger(__name__)


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
        slots: asyncio.Semaphore | None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.status = status
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.queue: WorkQueue[ObjectKey] = WorkQueue()
        self.stats = RunnerStats()
        self._slots = slots
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
        while True:
            try:
                key, priority = await self.queue.get()
            except QueueShutDown:
                return
            urgent = priority is Priority.USER or key in self._continuing
            delay = self.rate_limiter.acquire(key, loop.time(), urgent=urgent)
            if delay > 0:
                self.stats.rate_limited += 1
                self.queue.defer(key, delay, priority)
                continue
            self._continuing.discard(key)
            if self._slots is not None:
                # Taken after the key, so that controllers sharing the slots never park one on an empty
                # queue.
                await self._slots.acquire()
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
            self.queue.add_after(key, result.requeue_after, Priority.PERIODIC, keep_earlier=False)

    async def _on_failure(self, key: ObjectKey, error: Exception) -> None:
        if status_code(error) == 404 and key not in self.store:
            # The resource was deleted while it was being reconciled: nothing is left to retry.
            _log.debug("%s %s: gone during its reconcile: %s", self.spec.name, key, error)
            self._attempts.pop(key, None)
            return
        attempt = self._attempts.get(key, 0) + 1
        delay = self.retry.delay(attempt, random.random())  # noqa: S311 - jitter, not security
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
