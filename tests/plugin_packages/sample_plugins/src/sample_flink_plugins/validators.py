"""A validator written as plain methods: every enforced resource must name its owner."""

from __future__ import annotations

from flink_operator.api import FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot
from flink_operator.plugins import FlinkResourceValidator
from sample_flink_plugins import enforced


class RequireOwnerLabel(FlinkResourceValidator):
    def _check(self, resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot) -> str | None:
        if enforced(resource) and not (resource.metadata.labels or {}).get("owner"):
            return f"{resource.kind} {resource.metadata.name} needs an 'owner' label"
        return None

    def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        return self._check(deployment)

    def validate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> str | None:
        return self._check(session_job)

    def validate_state_snapshot(
        self, snapshot: FlinkStateSnapshot, target: FlinkDeployment | FlinkSessionJob | None
    ) -> str | None:
        return self._check(snapshot)
