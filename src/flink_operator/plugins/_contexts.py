"""What a listener receives: immutable contexts around a resource, and a typed view of a Kubernetes Event.

The contexts are frozen, but the resource and statuses inside are ordinary (mutable) models: each listener
gets its own masked copy, so changing them affects nobody else and is never written back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from flink_operator.api import FlinkStateSnapshot, FlinkStateSnapshotStatus

if TYPE_CHECKING:
    from lightkube import AsyncClient

R = TypeVar("R")
S = TypeVar("S")


@dataclass(frozen=True)
class KubernetesEvent:
    """The parts of a core/v1 Event a listener needs (`involvedObject` is the context's resource)."""

    name: str
    reason: str
    type: str
    """`Normal` or `Warning`."""
    message: str
    component: str
    """`source.component`: `Operator`, `JobManagerDeployment`, `Job` or `Snapshot`."""
    count: int = 1
    first_timestamp: datetime | None = None
    last_timestamp: datetime | None = None

    @classmethod
    def from_manifest(cls, event: Mapping[str, Any]) -> KubernetesEvent:
        """Build the view from an Event as the API returns it (camelCase JSON)."""
        metadata = event.get("metadata") or {}
        source = event.get("source") or {}
        count = event.get("count")
        return cls(
            name=str(metadata.get("name") or ""),
            reason=str(event.get("reason") or ""),
            type=str(event.get("type") or "Normal"),
            message=str(event.get("message") or ""),
            component=str(source.get("component") or event.get("reportingComponent") or ""),
            count=count if isinstance(count, int) and count > 0 else 1,
            first_timestamp=_parse_time(event.get("firstTimestamp")),
            last_timestamp=_parse_time(event.get("lastTimestamp")) or _parse_time(event.get("eventTime")),
        )


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


@dataclass(frozen=True)
class StatusUpdateContext(Generic[R, S]):
    """A status change of `resource`, delivered after the status was written."""

    resource: R
    previous_status: S | None
    """The status before the change; None when the operator first sees the resource."""
    new_status: S
    timestamp: datetime
    """When the status was written."""
    kubernetes_client: AsyncClient | None = None
    """The operator's client (read-only use recommended), None where there is no cluster (offline tools)."""


@dataclass(frozen=True)
class ResourceEventContext(Generic[R]):
    """A Kubernetes Event recorded for `resource`, delivered after the Event was written."""

    resource: R
    event: KubernetesEvent
    timestamp: datetime
    """The event's last timestamp (when it was last recorded)."""
    kubernetes_client: AsyncClient | None = None


StateSnapshotStatusUpdateContext: TypeAlias = StatusUpdateContext[
    FlinkStateSnapshot, FlinkStateSnapshotStatus
]
StateSnapshotEventContext: TypeAlias = ResourceEventContext[FlinkStateSnapshot]
