"""Rules on a FlinkSessionJob itself and on its relation to its session cluster (contract §4.4 (a)-(c) and the
"with the cluster found" rules). The jarURI rule is in `artifact_rules`; the job and autoscaler rules that
also apply are run by `default_validator` with the combined configuration.
"""

from __future__ import annotations

from collections.abc import Iterator

from flink_operator.api import Problem
from flink_operator.validation.context import resource_label
from flink_operator.validation.deployment_rules import cluster_name_problem
from flink_operator.validation.rule import got, rule
from flink_operator.validation.subjects import SessionJobSubject


@rule("session-deployment-name", "spec.deploymentName names a FlinkDeployment (a valid cluster id).")
def session_deployment_name(s: SessionJobSubject) -> Iterator[Problem]:
    problem = cluster_name_problem("spec.deploymentName", s.session_job.spec.deployment_name)
    if problem:
        yield problem


@rule("session-job-required", "spec.job is set.")
def session_job_required(s: SessionJobSubject) -> Iterator[Problem]:
    if s.session_job.spec.job is None:
        yield Problem("spec.job", "required field is missing: the job to submit to the session cluster")


@rule("session-deployment-name-unchanged", "spec.deploymentName does not change after the first deployment.")
def session_deployment_name_unchanged(s: SessionJobSubject) -> Iterator[Problem]:
    last = s.last_spec
    if last is None:
        return
    before, after = last.deployment_name, s.session_job.spec.deployment_name
    if before != after:
        yield Problem(
            "spec.deploymentName",
            f"cannot change from {got(before)} to {got(after)} after the job was deployed; delete the job "
            "and create it for the other cluster",
        )


@rule(
    "session-cluster-type",
    "The FlinkDeployment named by spec.deploymentName is a session cluster (no spec.job).",
)
def session_cluster_type(s: SessionJobSubject) -> Iterator[Problem]:
    if s.session is not None and s.session.spec.job is not None:
        yield Problem(
            "spec.deploymentName",
            f"FlinkDeployment {resource_label(s.session)} is an application cluster (it has spec.job); "
            "session jobs run on session clusters only",
        )


@rule(
    "session-cluster-match",
    "The session cluster found is the one spec.deploymentName names, in the same namespace.",
)
def session_cluster_match(s: SessionJobSubject) -> Iterator[Problem]:
    session = s.session
    if session is None:
        return
    job_meta, session_meta = s.session_job.metadata, session.metadata
    if session_meta.name != s.session_job.spec.deployment_name:
        yield Problem(
            "spec.deploymentName",
            f"does not match the session cluster {resource_label(session)} "
            f"(got {got(s.session_job.spec.deployment_name)})",
        )
    elif (session_meta.namespace or "default") != (job_meta.namespace or "default"):
        yield Problem(
            "spec.deploymentName",
            f"the session cluster {resource_label(session)} is in another namespace than the job "
            f"({job_meta.namespace or 'default'})",
        )
