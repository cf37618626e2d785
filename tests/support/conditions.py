"""Waiting for a condition with a deadline (never a bare sleep as synchronisation)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(condition: Callable[[], object], *, within: float = 5.0, what: str = "condition") -> None:
    """Poll `condition()` on the event loop until it is truthy; fail naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not reached within {within:g} s")
        await asyncio.sleep(0.01)
