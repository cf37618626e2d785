"""A FlinkService wrapper that freezes one chosen call, to stop an operator exactly at a step boundary.

    flink = PausingFlink(fake)
    flink.arm("cancel_job", after=True)      # the next cancel_job runs, then never returns
    ...                                      # trigger the upgrade
    await flink.paused.wait()                # the operator is frozen right after the stop-with-savepoint
    await operator.kill()                    # as if the process died there

Every other attribute is the wrapped service's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


class PausingFlink:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.paused = asyncio.Event()
        self._armed: tuple[str, bool] | None = None
        self.frozen_at: str | None = None

    def arm(self, method: str, *, after: bool) -> None:
        """Freeze the next call of `method`, before it does anything or right after it returned."""
        self._armed = (method, after)
        self.paused.clear()
        self.frozen_at = None

    def disarm(self) -> None:
        self._armed = None

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if self._armed is None or self._armed[0] != name:
            return attribute
        _, after = self._armed
        return self._freezing(name, attribute, after)

    def _freezing(
        self, name: str, call: Callable[..., Awaitable[Any]], after: bool
    ) -> Callable[..., Awaitable[Any]]:
        async def frozen(*args: Any, **kwargs: Any) -> Any:
            self._armed = None
            if after:
                await call(*args, **kwargs)
            self.frozen_at = f"{'after' if after else 'before'} {name}"
            self.paused.set()
            await asyncio.Event().wait()  # until the operator's task is cancelled

        return frozen
