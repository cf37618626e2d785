"""The session cluster as a session job sees it: a plain value read from the FlinkDeployment cache.

`session_view(name, document)` parses the FlinkDeployment named by `spec.deploymentName` (None: not in the
cache) into a `SessionView`; `availability(view)` says whether jobs can be submitted to it now and, if not,
why in words. The view never talks to Flink: whether REST answers right now is the shell's observation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from flink_operator.api import FlinkDeployment, JobManagerDeploymentStatus
from flink_operator.controllers.sessionjob.deletion import SessionAvailability
from flink_operator.flink import config_builder


@dataclass(frozen=True)
class SessionView:
    namespace: str
    name: str
    model: FlinkDeployment | None = None
    """None: no FlinkDeployment of that name (or an unreadable one)."""
    problem: str | None = None
    """Why the document could not be read."""

    @property
    def exists(self) -> bool:
        return self.model is not None

    @property
    def deleting(self) -> bool:
        return self.model is not None and self.model.metadata.deletion_timestamp is not None

    @property
    def is_session(self) -> bool:
        return self.model is not None and self.model.spec.job is None

    @property
    def jm_status(self) -> JobManagerDeploymentStatus | None:
        return self.model.status.job_manager_deployment_status if self.model is not None else None

    @property
    def deployed(self) -> bool:
        """The session cluster was deployed at least once (its status records a spec)."""
        return (
            self.model is not None
            and self.model.status.reconciliation_status.last_reconciled_spec is not None
        )

    @property
    def flink_configuration(self) -> Mapping[str, Any] | None:
        return self.model.spec.flink_configuration if self.model is not None else None

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"

    def ha_enabled(self, effective: Mapping[str, str]) -> bool:
        return config_builder.ha_enabled(effective)


def session_view(namespace: str, name: str, document: Mapping[str, Any] | None) -> SessionView:
    if document is None:
        return SessionView(namespace, name)
    try:
        return SessionView(namespace, name, FlinkDeployment.from_dict(dict(document)))
    except ValidationError as error:
        return SessionView(namespace, name, problem=str(error))


def availability(view: SessionView) -> tuple[SessionAvailability, str]:
    """Whether jobs can be submitted now, and a message for the user when not."""
    label = view.label
    if not view.exists:
        if view.problem is not None:
            return SessionAvailability.MISSING, f"session cluster {label} cannot be read: {view.problem}"
        return SessionAvailability.MISSING, f"session cluster {label} not found"
    if not view.is_session:
        return (
            SessionAvailability.MISSING,
            f"FlinkDeployment {label} is not a session cluster (it has spec.job)",
        )
    if view.deleting:
        return SessionAvailability.DELETING, f"session cluster {label} is being deleted"
    jm = view.jm_status
    if jm is not JobManagerDeploymentStatus.READY or not view.deployed:
        state = jm.value if jm is not None else "unknown"
        return SessionAvailability.NOT_READY, f"session cluster {label} not ready (JobManager {state})"
    return SessionAvailability.READY, f"session cluster {label} is ready"
