"""Kubernetes Events the controllers emit, as plain data: upstream's reasons, components and messages (§6).

Reasons, components and types are the runtime's vocabulary (`flink_operator.runtime.event_reasons`).
A decision returns `EventSpec`s; the controller shell hands them to the runtime's event recorder after the
status write that goes with them. `message_key` (when set) replaces the message in the event's identity, so
events with changing text still aggregate into one Kubernetes Event; `once` asks the recorder not to update
an existing event with the same identity (upstream's "once per generation" events put the generation into
the key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flink_operator.runtime.event_reasons import Component, EventType, Reason

__all__ = ["Component", "EventSpec", "EventType", "Reason", "normal", "warning"]


@dataclass(frozen=True)
class EventSpec:
    """One event to record for the resource being reconciled."""

    reason: str
    type: EventType
    component: Component
    message: str
    message_key: str | None = None
    once: bool = False
    annotations: Mapping[str, str] | None = None
    """Annotations of the Kubernetes Event (upstream puts details of job exceptions there)."""

    @property
    def is_warning(self) -> bool:
        return self.type is EventType.WARNING


def normal(
    reason: str,
    component: Component,
    message: str,
    *,
    message_key: str | None = None,
    once: bool = False,
    annotations: Mapping[str, str] | None = None,
) -> EventSpec:
    return EventSpec(reason, EventType.NORMAL, component, message, message_key, once, annotations)


def warning(
    reason: str,
    component: Component,
    message: str,
    *,
    message_key: str | None = None,
    once: bool = False,
    annotations: Mapping[str, str] | None = None,
) -> EventSpec:
    return EventSpec(reason, EventType.WARNING, component, message, message_key, once, annotations)


# Upstream's messages, so dashboards and alert rules written for the Java operator keep working.
MSG_SUBMIT = "Starting deployment"
MSG_SUSPENDED = "Suspending existing deployment."
MSG_CLEANUP_DEPLOYMENT = "Cleaning up FlinkDeployment"
MSG_MISSING_JM = "Missing JobManager deployment"
MSG_JOB_NOT_FOUND = "Job Not Found"
MSG_RECOVER = "Recovering lost deployment"
MSG_INGRESS_NOT_MANAGED = (
    "spec.ingress is set but kubernetes.operator.ingress.manage is false: no Ingress is created or updated"
)


def spec_changed_message(diff_type: str, diff_description: str) -> str:
    return f"{diff_type} change(s) detected ({diff_description}), starting reconciliation."


def job_status_changed_message(previous: str | None, current: str) -> str:
    if previous is None:
        return f"Job status changed to {current}"
    return f"Job status changed from {previous} to {current}"


def unsupported_version_message(version: str | None) -> str:
    return f"Flink version {version} is not supported by this operator version"
