"""A listener that remembers what it heard (the latest notifications, bounded)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flink_operator.plugins import FlinkResourceListener


@dataclass(frozen=True)
class Heard:
    listener: str
    method: str
    context: Any


RECORDED: deque[Heard] = deque(maxlen=1000)


class RecordingListener(FlinkResourceListener):
    def __init__(self) -> None:
        self.label = "sample-recorder"

    def configure(self, config: Mapping[str, str]) -> None:
        self.label = config.get("label", self.label)

    def _heard(self, method: str, ctx: Any) -> None:
        RECORDED.append(Heard(self.label, method, ctx))

    def on_deployment_status_update(self, ctx: Any) -> None:
        self._heard("on_deployment_status_update", ctx)

    def on_deployment_event(self, ctx: Any) -> None:
        self._heard("on_deployment_event", ctx)

    def on_session_job_status_update(self, ctx: Any) -> None:
        self._heard("on_session_job_status_update", ctx)

    def on_session_job_event(self, ctx: Any) -> None:
        self._heard("on_session_job_event", ctx)

    def on_state_snapshot_status_update(self, ctx: Any) -> None:
        self._heard("on_state_snapshot_status_update", ctx)

    def on_state_snapshot_event(self, ctx: Any) -> None:
        self._heard("on_state_snapshot_event", ctx)
