"""What a FlinkDeployment decision returns: a `Step` (status to write first, events, at most one action, and
what to record once the action succeeded or failed), as plain data plus pure continuation functions.

The shell executes a step in this order, which is the write-ahead protocol:

1. write `step.status` (the intent; a no-op when unchanged) and record `step.events`;
2. perform `step.action` (if any) through the FlinkService;
3. compute `step.on_success(result)` or `step.on_failure(error)` — pure — write its status, record its
   events, and requeue as it says.

Actions are single runtime operations (or an idempotent pair that one intent covers: `DeployCluster`
first removes a leftover cluster). Each one is safe to repeat after a crash, per the FlinkService contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flink_operator.api import FlinkDeploymentStatus
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.common.reschedule import Requeue
from flink_operator.flink.service import ClusterRequest, SavepointFormat, SuspendMode


@dataclass(frozen=True)
class DeployCluster:
    """Deploy the application cluster of `request`, after removing any cluster of the resource first
    (with its HA data when `delete_ha_data`)."""

    request: ClusterRequest
    delete_ha_data: bool

    def describe(self) -> str:
        restore = f" from {self.request.restore_path}" if self.request.restore_path else ""
        return f"deploy generation {self.request.generation} with job {self.request.job_id}{restore}"


@dataclass(frozen=True)
class CancelJob:
    """Take the job down as `mode` says (stop-with-savepoint, or cancel keeping checkpoints); the cluster
    stays so that its final state and snapshots can still be read."""

    job_id: str
    mode: SuspendMode
    savepoint_dir: str | None = None
    savepoint_format: SavepointFormat = SavepointFormat.CANONICAL
    drain: bool = False

    def describe(self) -> str:
        return f"cancel job {self.job_id} ({self.mode})"


@dataclass(frozen=True)
class DeleteCluster:
    """Remove the cluster's processes / Kubernetes objects, and its HA data when `delete_ha_data`."""

    delete_ha_data: bool

    def describe(self) -> str:
        return "delete the cluster" + (" and its HA data" if self.delete_ha_data else " (HA data kept)")


Action = DeployCluster | CancelJob | DeleteCluster


@dataclass(frozen=True)
class Outcome:
    """What to record after an action: the status, events, when to look again, and (on deletion) whether
    the finalizer may go."""

    status: FlinkDeploymentStatus
    events: tuple[EventSpec, ...] = ()
    requeue: Requeue = field(default_factory=lambda: Requeue(None))
    remove_finalizer: bool = False


def _no_continuation(_: Any) -> Outcome:
    raise AssertionError("a step without an action has no continuation")


@dataclass(frozen=True)
class Step:
    """One reconcile's decision."""

    status: FlinkDeploymentStatus
    """The status to persist before acting (observations, intent)."""
    events: tuple[EventSpec, ...] = ()
    """Recorded after `status` was written, before the action."""
    action: Action | None = None
    requeue: Requeue = field(default_factory=lambda: Requeue(None))
    """When there is no action: when to look again."""
    on_success: Callable[[Any], Outcome] = _no_continuation
    """Pure: the outcome for the action's result."""
    on_failure: Callable[[Exception], Outcome] = _no_continuation
    """Pure: the outcome when the action raised."""
    remove_finalizer: bool = False
    """Without an action: the resource may be released now (deletion finished)."""
    note: str = ""
    """Why this step (for logs and tests)."""
    clear_annotations: tuple[str, ...] = ()
    """Annotations of the resource this decision consumed (one-shot requests such as cancel-deploy); the
    shell removes them after writing `status`."""
