"""Names fixed by the flink.apache.org/v1beta1 API: group, version, kinds, plurals, finalizers, labels.

Owns the string constants other packages must agree on with upstream. It does not own configuration keys
(see `flink_operator.config`).
"""

from __future__ import annotations

from typing import Final

GROUP: Final = "flink.apache.org"
VERSION: Final = "v1beta1"
API_VERSION: Final = "flink.apache.org/v1beta1"

KIND_FLINK_DEPLOYMENT: Final = "FlinkDeployment"
KIND_FLINK_SESSION_JOB: Final = "FlinkSessionJob"
KIND_FLINK_STATE_SNAPSHOT: Final = "FlinkStateSnapshot"
KINDS: Final = (KIND_FLINK_DEPLOYMENT, KIND_FLINK_SESSION_JOB, KIND_FLINK_STATE_SNAPSHOT)

PLURAL_FLINK_DEPLOYMENT: Final = "flinkdeployments"
PLURAL_FLINK_SESSION_JOB: Final = "flinksessionjobs"
PLURAL_FLINK_STATE_SNAPSHOT: Final = "flinkstatesnapshots"
PLURALS: Final = {
    KIND_FLINK_DEPLOYMENT: PLURAL_FLINK_DEPLOYMENT,
    KIND_FLINK_SESSION_JOB: PLURAL_FLINK_SESSION_JOB,
    KIND_FLINK_STATE_SNAPSHOT: PLURAL_FLINK_STATE_SNAPSHOT,
}
SINGULARS: Final = {kind: kind.lower() for kind in KINDS}
SHORT_NAMES: Final = {
    KIND_FLINK_DEPLOYMENT: "flinkdep",
    KIND_FLINK_SESSION_JOB: "sessionjob",
    KIND_FLINK_STATE_SNAPSHOT: "flinksnp",
}


def finalizer_for(plural: str) -> str:
    """The finalizer upstream puts on resources of the given plural: `<plural>.flink.apache.org/finalizer`."""
    return f"{plural}.{GROUP}/finalizer"


FINALIZER_FLINK_DEPLOYMENT: Final = finalizer_for(PLURAL_FLINK_DEPLOYMENT)
FINALIZER_FLINK_SESSION_JOB: Final = finalizer_for(PLURAL_FLINK_SESSION_JOB)
FINALIZER_FLINK_STATE_SNAPSHOT: Final = finalizer_for(PLURAL_FLINK_STATE_SNAPSHOT)
FINALIZERS: Final = {kind: finalizer_for(plural) for kind, plural in PLURALS.items()}

# Well-known labels and annotations (contract §1.8).
ANNOTATION_GENERATION: Final = "flinkdeployment.flink.apache.org/generation"
"""On the JobManager Deployment: the resource generation of the deploy attempt."""
LABEL_TARGET_SESSION: Final = "target.session"
"""On a FlinkSessionJob: the name of its session FlinkDeployment (set by the mutator)."""
LABEL_CANARY: Final = "flink.apache.org/canary"
"""`"true"` marks a canary resource used only for the operator health check."""
LABEL_COMPONENT: Final = "component"
LABEL_APP: Final = "app"
LABEL_TYPE: Final = "type"
COMPONENT_JOBMANAGER: Final = "jobmanager"
COMPONENT_TASKMANAGER: Final = "taskmanager"
COMPONENT_INGRESS: Final = "ingress"
COMPONENT_AUTOSCALER: Final = "autoscaler"
TYPE_NATIVE: Final = "flink-native-kubernetes"
TYPE_STANDALONE: Final = "flink-standalone-kubernetes"
MAIN_CONTAINER_NAME: Final = "flink-main-container"

# Labels the operator maintains on FlinkStateSnapshot resources (contract §1.6).
LABEL_SNAPSHOT_TYPE: Final = "snapshot.type"
LABEL_SNAPSHOT_TRIGGER_TYPE: Final = "snapshot.trigger-type"
LABEL_SNAPSHOT_STATE: Final = "snapshot.state"
LABEL_SNAPSHOT_JOB_REFERENCE_KIND: Final = "job-reference.kind"
LABEL_SNAPSHOT_JOB_REFERENCE_NAME: Final = "job-reference.name"
SNAPSHOT_TYPE_SAVEPOINT: Final = "SAVEPOINT"
SNAPSHOT_TYPE_CHECKPOINT: Final = "CHECKPOINT"
