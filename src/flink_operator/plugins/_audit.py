"""The audit log: a line per Kubernetes Event and per lifecycle change, on the `flink_operator.audit` logger.

Upstream's line format (contract §4.3), columns separated by ` | `:
    >>> Event[Job]          | Info    | JOBSTATUSCHANGED | Job status changed from CREATED to RUNNING
    >>> Status[Job]         | Info    | STABLE          | <what the lifecycle state means>
    >>> Status[Snapshot]    | COMPLETED       | <error, else path, else nothing>
Status lines of FlinkDeployments and FlinkSessionJobs are written only when the lifecycle state changed; with
`status.error` set the level column says `Error` and the error text replaces the description. Events of
snapshots use the component `Snapshot`, all others `Job`.

The audit listener runs like any listener (own queue, never blocking the operator) but is built in and on by
default (`kubernetes.operator.plugins.audit-log.enabled`). Its input is already masked, so no secret reaches
the log.
"""

from __future__ import annotations

import logging

from flink_operator.api import (
    CommonStatus,
    FlinkDeployment,
    FlinkDeploymentStatus,
    FlinkSessionJob,
    FlinkSessionJobStatus,
    FlinkStateSnapshotStatus,
    compute_lifecycle_state,
)
from flink_operator.plugins._contexts import (
    KubernetesEvent,
    ResourceEventContext,
    StateSnapshotEventContext,
    StateSnapshotStatusUpdateContext,
    StatusUpdateContext,
)
from flink_operator.plugins._interfaces import FlinkResourceListener

AUDIT_LOGGER_NAME = "flink_operator.audit"


def _line(label: str, *columns: str) -> str:
    # `>>> ` plus the label fill 23 characters, as in upstream's lines.
    return " | ".join((f">>> {label:<19}", *columns))


def event_line(event: KubernetesEvent, component: str) -> str:
    level = "Info" if event.type == "Normal" else event.type
    return _line(f"Event[{component}]", f"{level:<7}", f"{event.reason.upper():<15}", event.message)


def status_line(previous: CommonStatus | None, new: CommonStatus) -> str | None:
    """The line for a job resource's status change, None when its lifecycle state did not change."""
    state = compute_lifecycle_state(new)
    if previous is not None and compute_lifecycle_state(previous) is state:
        return None
    if new.error:
        return _line("Status[Job]", f"{'Error':<7}", f"{state.value:<15}", new.error)
    return _line("Status[Job]", f"{'Info':<7}", f"{state.value:<15}", state.description)


def snapshot_status_line(new: FlinkStateSnapshotStatus) -> str:
    return _line("Status[Snapshot]", f"{new.state.value:<15}", new.error or new.path or "")


class AuditLogListener(FlinkResourceListener):
    """Writes the audit lines at INFO (the logger's level and handlers decide where they go)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger(AUDIT_LOGGER_NAME)

    def _status(self, previous: CommonStatus | None, new: CommonStatus) -> None:
        line = status_line(previous, new)
        if line is not None:
            self._log.info(line)

    async def on_deployment_status_update(
        self, ctx: StatusUpdateContext[FlinkDeployment, FlinkDeploymentStatus]
    ) -> None:
        self._status(ctx.previous_status, ctx.new_status)

    async def on_session_job_status_update(
        self, ctx: StatusUpdateContext[FlinkSessionJob, FlinkSessionJobStatus]
    ) -> None:
        self._status(ctx.previous_status, ctx.new_status)

    async def on_state_snapshot_status_update(self, ctx: StateSnapshotStatusUpdateContext) -> None:
        self._log.info(snapshot_status_line(ctx.new_status))

    async def on_deployment_event(self, ctx: ResourceEventContext[FlinkDeployment]) -> None:
        self._log.info(event_line(ctx.event, "Job"))

    async def on_session_job_event(self, ctx: ResourceEventContext[FlinkSessionJob]) -> None:
        self._log.info(event_line(ctx.event, "Job"))

    async def on_state_snapshot_event(self, ctx: StateSnapshotEventContext) -> None:
        self._log.info(event_line(ctx.event, "Snapshot"))
