"""The three plugin roles as base classes: validator, mutator and listener.

Every method has a no-op default, so a plugin overrides only what it needs; each may be a plain `def` or an
`async def` (the operator awaits whatever comes back). Subclassing is a convenience, not a requirement: any
object with the same method names is accepted, which keeps the roles usable as structural types.

What the operator promises a plugin is documented in docs/plugins.md; this module only fixes the shapes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, TypeAlias, TypeVar

if TYPE_CHECKING:
    from flink_operator.api import (
        FlinkDeployment,
        FlinkDeploymentStatus,
        FlinkSessionJob,
        FlinkSessionJobStatus,
        FlinkStateSnapshot,
    )
    from flink_operator.plugins._contexts import (
        ResourceEventContext,
        StateSnapshotEventContext,
        StateSnapshotStatusUpdateContext,
        StatusUpdateContext,
    )

T = TypeVar("T")

MaybeAwaitable: TypeAlias = T | Awaitable[T]
"""What a plugin method returns: the value itself (plain `def`) or an awaitable of it (`async def`)."""


class _Configurable:
    def configure(self, config: Mapping[str, str]) -> None:
        """Receive this plugin's own configuration, once, right after construction.

        The keys are those under `kubernetes.operator.plugins.<role>.<name>.` with that prefix removed (for
        example `url` for `kubernetes.operator.plugins.listeners.audit-sink.url`). Raising here stops the
        operator from starting (or skips the plugin, see `kubernetes.operator.plugins.fail-on-error`).
        """


class FlinkResourceValidator(_Configurable):
    """Rejects resources. Return an error message to reject, None to accept.

    Every validator is consulted for every resource, in the admission webhook and in the operator; all
    messages are reported, each attributed to the validator that produced it.
    """

    def validate_deployment(self, deployment: FlinkDeployment) -> MaybeAwaitable[str | None]:
        return None

    def validate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> MaybeAwaitable[str | None]:
        """`session` is the FlinkDeployment named by `spec.deploymentName`, or None when it does not exist."""
        return None

    def validate_state_snapshot(
        self, snapshot: FlinkStateSnapshot, target: FlinkDeployment | FlinkSessionJob | None
    ) -> MaybeAwaitable[str | None]:
        """`target` is the resource named by `spec.jobReference`, or None when absent or not found."""
        return None


class FlinkResourceMutator(_Configurable):
    """Changes resources on admission. Return the resource to store (the argument itself, changed or not).

    Mutators run one after another in a fixed order (docs/plugins.md); each receives its own copy of the
    result of the previous one, so a mutator that fails changes nothing.
    """

    def mutate_deployment(self, deployment: FlinkDeployment) -> MaybeAwaitable[FlinkDeployment]:
        return deployment

    def mutate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> MaybeAwaitable[FlinkSessionJob]:
        return session_job

    def mutate_state_snapshot(self, snapshot: FlinkStateSnapshot) -> MaybeAwaitable[FlinkStateSnapshot]:
        return snapshot


class FlinkResourceListener(_Configurable):
    """Hears about status changes and Kubernetes events, after they were written.

    Calls arrive asynchronously, from the listener's own queue: a listener cannot slow the operator or
    another listener down, and the resource it receives is a copy with secrets masked.
    """

    def on_deployment_status_update(
        self, ctx: StatusUpdateContext[FlinkDeployment, FlinkDeploymentStatus]
    ) -> MaybeAwaitable[None]:
        return None

    def on_deployment_event(self, ctx: ResourceEventContext[FlinkDeployment]) -> MaybeAwaitable[None]:
        return None

    def on_session_job_status_update(
        self, ctx: StatusUpdateContext[FlinkSessionJob, FlinkSessionJobStatus]
    ) -> MaybeAwaitable[None]:
        return None

    def on_session_job_event(self, ctx: ResourceEventContext[FlinkSessionJob]) -> MaybeAwaitable[None]:
        return None

    def on_state_snapshot_status_update(self, ctx: StateSnapshotStatusUpdateContext) -> MaybeAwaitable[None]:
        return None

    def on_state_snapshot_event(self, ctx: StateSnapshotEventContext) -> MaybeAwaitable[None]:
        return None
