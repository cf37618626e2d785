"""The built-in mutator, always first: labels a FlinkSessionJob with the session it runs on (contract §4.6).

`target.session=<spec.deploymentName>` is set when the label is missing or differs, so session jobs can be
selected by session. FlinkDeployments and FlinkStateSnapshots are left as they are. A session job without a
`deploymentName` is left alone too (the validator rejects it; a label cannot be empty of meaning).
"""

from __future__ import annotations

from flink_operator.api import LABEL_TARGET_SESSION, FlinkDeployment, FlinkSessionJob
from flink_operator.plugins._interfaces import FlinkResourceMutator


class DefaultFlinkMutator(FlinkResourceMutator):
    def mutate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> FlinkSessionJob:
        target = session_job.spec.deployment_name
        if not target:
            return session_job
        labels = session_job.metadata.labels or {}
        if labels.get(LABEL_TARGET_SESSION) != target:
            session_job.metadata.labels = {**labels, LABEL_TARGET_SESSION: target}
        return session_job
