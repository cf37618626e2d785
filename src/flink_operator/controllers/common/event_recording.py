"""Hands a decision's `EventSpec`s to the runtime's event recorder (the controllers' shell side of events).

An event that cannot be written is logged and skipped: it must not undo a step that already happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flink_operator.controllers.common.events import EventSpec
from flink_operator.runtime import Recurrence
from flink_operator.runtime.events import EventRecorder

_log = logging.getLogger(__name__)


async def record_events(
    recorder: EventRecorder,
    raw: Mapping[str, Any],
    events: Iterable[EventSpec],
    *,
    secret_values: Iterable[str] = (),
) -> None:
    """Record `events` on the object `raw`, masking `secret_values` in their messages."""
    secrets = tuple(secret_values)
    for event in events:
        try:
            await recorder.record(
                raw,
                event.type,
                event.reason,
                event.message,
                event.component,
                message_key=event.message_key,
                recurrence=Recurrence.ONCE if event.once else Recurrence.ALWAYS,
                secret_values=secrets,
                annotations=event.annotations,
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            metadata = raw.get("metadata") or {}
            _log.warning(
                "Recording event %s for %s/%s failed: %s",
                event.reason,
                metadata.get("namespace"),
                metadata.get("name"),
                error,
            )
