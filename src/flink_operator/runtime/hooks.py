"""Calling hooks (sync or async callables) so that a failing hook never fails the operation it observes."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

_log = logging.getLogger(__name__)


async def call_hooks(hooks: Sequence[Callable[[Any], Awaitable[None] | None]], argument: Any) -> None:
    """Call each hook with `argument`, awaiting async ones; exceptions are logged and swallowed."""
    for hook in hooks:
        try:
            outcome = hook(argument)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            _log.exception("Hook %r failed", hook)
