"""The FlinkSessionJob controller: jobs submitted to session clusters (contract §3.3, §3.12, §3.14, §3.20).

    deps = SessionJobControllerDeps(flink=service, plugins=host, bridge=bridge, snapshots=snapshots)
    manager.add(session_job_controller_spec(deps))

The decision is pure (`planner.decide` over a `SessionJobContext`); the shell (`controller`) gathers facts
and performs at most one FlinkService call per reconcile. `deletion` holds the pure rules that let a session
cluster and its session jobs be deleted in any order (the session cluster side is used by the FlinkDeployment
controller).
"""

from flink_operator.controllers.sessionjob.controller import (
    BY_SESSION_INDEX,
    FLINK_DEPLOYMENT,
    FLINK_SESSION_JOB,
    FlinkSessionJobController,
    SessionJobControllerDeps,
    session_job_controller_spec,
)
from flink_operator.controllers.sessionjob.options import FORCE_DELETION_ANNOTATION

__all__ = [
    "BY_SESSION_INDEX",
    "FLINK_DEPLOYMENT",
    "FLINK_SESSION_JOB",
    "FORCE_DELETION_ANNOTATION",
    "FlinkSessionJobController",
    "SessionJobControllerDeps",
    "session_job_controller_spec",
]
