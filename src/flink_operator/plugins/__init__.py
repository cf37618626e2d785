"""The public plugin API: validators, mutators, listeners and what listeners receive.

Write a plugin by subclassing one of the three base classes (or by providing the same methods) and publish it
through an entry point, a plugins directory or a configuration key; docs/plugins.md tells how. Everything not
exported here is internal to the operator and may change.

    from flink_operator.plugins import FlinkResourceValidator

    class RequireOwnerLabel(FlinkResourceValidator):
        def validate_deployment(self, deployment):
            if "owner" not in (deployment.metadata.labels or {}):
                return "metadata.labels.owner is required"
            return None
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flink_operator.plugins._contexts import (
    KubernetesEvent,
    ResourceEventContext,
    StateSnapshotEventContext,
    StateSnapshotStatusUpdateContext,
    StatusUpdateContext,
)
from flink_operator.plugins._interfaces import (
    FlinkResourceListener,
    FlinkResourceMutator,
    FlinkResourceValidator,
)

if TYPE_CHECKING:
    from flink_operator.plugins._http_sink import HttpSinkListener

__all__ = [
    "FlinkResourceListener",
    "FlinkResourceMutator",
    "FlinkResourceValidator",
    "HttpSinkListener",
    "KubernetesEvent",
    "ResourceEventContext",
    "StateSnapshotEventContext",
    "StateSnapshotStatusUpdateContext",
    "StatusUpdateContext",
]


def __getattr__(name: str) -> Any:
    # The HTTP sink pulls in an HTTP client; plugin authors importing this package should not pay for it.
    if name == "HttpSinkListener":
        from flink_operator.plugins._http_sink import HttpSinkListener

        return HttpSinkListener
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
