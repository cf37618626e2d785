"""An async mutator with its own configuration: annotates enforced resources with their team."""

from __future__ import annotations

from collections.abc import Mapping

from flink_operator.api import FlinkDeployment, FlinkSessionJob
from flink_operator.plugins import FlinkResourceMutator
from sample_flink_plugins import enforced

TEAM_ANNOTATION = "sample-plugins/team"


class TeamAnnotation(FlinkResourceMutator):
    def __init__(self) -> None:
        self.team = "unassigned"

    def configure(self, config: Mapping[str, str]) -> None:
        self.team = config.get("team", self.team)

    def _annotate(self, resource: FlinkDeployment | FlinkSessionJob) -> None:
        if enforced(resource):
            resource.metadata.annotations = {
                **(resource.metadata.annotations or {}),
                TEAM_ANNOTATION: self.team,
            }

    async def mutate_deployment(self, deployment: FlinkDeployment) -> FlinkDeployment:
        self._annotate(deployment)
        return deployment

    async def mutate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> FlinkSessionJob:
        self._annotate(session_job)
        return session_job
