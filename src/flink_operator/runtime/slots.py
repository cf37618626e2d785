"""Reconcile capacity shared by the controllers of a manager, with a share kept for user-driven work.

`kubernetes.operator.reconcile.parallelism` bounds how many reconciles run at once across all controllers.
Without a reserve, a burst of periodic resyncs (10,000 resources observed every minute) fills every slot and
a user's spec change waits behind them. So a part of the capacity (`reserved`, a tenth by default) is only
handed to urgent work: USER-class keys and the immediate follow-up of a user-driven reconcile. Periodic and
event work may use the rest.

Dispatchers take a slot *before* they take a key off their queue (`try_acquire`), and wait for `on_change`
otherwise; so a key is never held by a dispatcher that waits for capacity, and the most urgent key is
chosen when the slot is free, not when the wait began.

Single event loop; no thread safety.
"""

from __future__ import annotations

from collections.abc import Callable


def default_reserve(capacity: int) -> int:
    """Slots kept for urgent work: a tenth of the capacity, at least one once there are two slots."""
    if capacity < 2:
        return 0
    return max(1, capacity // 10)


class WorkerSlots:
    """`capacity` reconciles at once; the last `reserved` of them only for urgent work."""

    def __init__(self, capacity: int, reserved: int | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"reconcile capacity must be at least 1, got {capacity}")
        reserve = default_reserve(capacity) if reserved is None else reserved
        if not 0 <= reserve < capacity:
            raise ValueError(f"reserved slots must be in [0, {capacity}), got {reserve}")
        self.capacity = capacity
        self.reserved = reserve
        self.in_use = 0
        self._listeners: list[Callable[[], None]] = []

    def try_acquire(self, *, urgent: bool) -> bool:
        """Take a slot if one is free for this class of work."""
        limit = self.capacity if urgent else self.capacity - self.reserved
        if self.in_use >= limit:
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        if self.in_use <= 0:
            raise RuntimeError("released a reconcile slot that was not taken")
        self.in_use -= 1
        for listener in list(self._listeners):
            listener()

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` whenever a slot is released; returns the function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe
