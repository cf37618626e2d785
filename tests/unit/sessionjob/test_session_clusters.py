"""Session-cluster decisions of the FlinkDeployment controller on plain values: observation (stable once REST
answers, lost JobManager), first deployment and redeploy intents, recovery, and deletion that waits for the
session jobs (Warning + DeletionBlocked condition) and then deletes with HA data."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentStatus,
    JobManagerDeploymentStatus,
    ReconciliationState,
    ResourceLifecycleState,
)
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.deployment import planner
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.observation import Facts
from flink_operator.controllers.deployment.session_observation import observe_session
from flink_operator.controllers.deployment.steps import DeleteCluster, DeployCluster
from flink_operator.controllers.sessionjob.deletion import SessionDeletionSettings, SessionJobRef
from flink_operator.flink.service import DeployResult, JobManagerObservation, JobManagerStatus, JobSummary

pytestmark = pytest.mark.unit


def resource(generation: int = 1, *, deleting: bool = False, **spec: Any) -> FlinkDeployment:
    metadata: dict[str, Any] = {
        "name": "session",
        "namespace": "default",
        "uid": "u-1",
        "generation": generation,
    }
    if deleting:
        metadata["deletionTimestamp"] = "1970-01-01T00:16:40Z"  # 1_000_000 ms
    return FlinkDeployment.from_dict(
        {
            "metadata": metadata,
            "spec": {
                "image": "flink:2.3",
                "flinkVersion": "v2_3",
                "serviceAccount": "flink",
                "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
                "jobManager": {"resource": {"memory": "1g", "cpu": 1}},
                "taskManager": {"resource": {"memory": "1g", "cpu": 1}},
                **spec,
            },
        }
    )


def context(
    res: FlinkDeployment, status: FlinkDeploymentStatus | None = None, **extra: Any
) -> DeploymentContext:
    values: dict[str, Any] = {
        "resource": res,
        "observed": status if status is not None else res.status,
        "spec": res.spec,
        "settings": ResourceSettings(),
        "defaults": {},
        "now_ms": 1_000_000,
        "new_job_id": "1" * 32,
        "new_deployment_id": "2" * 32,
    }
    values.update(extra)
    return DeploymentContext(**values)


def ready(generation: int = 1) -> Facts:
    return Facts(jm=JobManagerObservation(JobManagerStatus.READY, generation=generation, rest_url="http://x"))


def deployed(res: FlinkDeployment) -> FlinkDeploymentStatus:
    """First deployment done and observed READY: STABLE."""
    step = planner.decide(context(res))
    assert isinstance(step.action, DeployCluster) and step.action.request.job is None
    status = step.on_success(DeployResult(ref=None, started=True, rest_url="http://x", job_id=None)).status  # type: ignore[arg-type]
    observed = observe_session(status, ready()).status
    assert observed.reconciliation_status.is_last_reconciled_spec_stable
    return observed


def test_first_deployment_writes_the_intent_then_deploys_a_session() -> None:
    res = resource()
    step = planner.decide(context(res))
    assert step.status.reconciliation_status.state is ReconciliationState.UPGRADING
    assert isinstance(step.action, DeployCluster)
    assert step.action.request.configuration["execution.target"] == "kubernetes-session"
    assert step.action.delete_ha_data is False
    assert [e.reason for e in step.events] == ["Submit"]
    after = step.on_success(DeployResult(ref=None, started=True, rest_url="http://x", job_id=None)).status  # type: ignore[arg-type]
    assert after.job_manager_deployment_status is JobManagerDeploymentStatus.DEPLOYING
    assert after.lifecycle_state is ResourceLifecycleState.DEPLOYED


def test_a_session_is_stable_once_rest_answers_and_ready_conditions_follow() -> None:
    status = deployed(resource())
    step = planner.decide(context(resource(), status))
    assert step.action is None
    assert step.status.lifecycle_state is ResourceLifecycleState.STABLE
    conditions = {c.type: c for c in step.status.conditions}
    assert conditions["Running"].reason == "JobManagerReady" and conditions["Ready"].status == "True"
    assert step.status.job_status.state is None


def test_an_intent_whose_cluster_runs_is_taken_as_deployed_and_a_starting_one_is_waited_for() -> None:
    res = resource()
    intent = planner.decide(context(res)).status
    starting = Facts(jm=JobManagerObservation(JobManagerStatus.DEPLOYING, generation=1))
    assert observe_session(intent, starting).deployment_in_progress
    done = observe_session(intent, ready()).status
    assert done.reconciliation_status.state is ReconciliationState.DEPLOYED
    assert done.job_status.state is None


def test_spec_change_redeploys_keeping_ha_data() -> None:
    status = deployed(resource())
    changed = resource(2, flinkConfiguration={"taskmanager.numberOfTaskSlots": "4"})
    step = planner.decide(context(changed, status))
    assert isinstance(step.action, DeployCluster) and step.action.delete_ha_data is False
    assert step.action.request.generation == 2
    assert [e.reason for e in step.events] == ["SpecChanged", "Submit"]


def test_lost_jobmanager_is_recovered() -> None:
    status = deployed(resource())
    lost = Facts(jm=JobManagerObservation(JobManagerStatus.MISSING))
    observed = observe_session(status, lost)
    assert [e.reason for e in observed.events] == ["Missing"]
    step = planner.decide(context(resource(), observed.status, facts=lost))
    assert isinstance(step.action, DeployCluster)
    assert "RecoverDeployment" in [e.reason for e in step.events]


def test_deletion_is_blocked_by_session_jobs_with_a_warning_and_a_condition() -> None:
    status = deployed(resource())
    res = resource(deleting=True)
    ctx = context(res, status, facts=ready(), session_jobs=(SessionJobRef("b"), SessionJobRef("a")))
    step = planner.decide(ctx)
    assert step.action is None
    warnings = [e for e in step.events if e.reason == "CleanupFailed"]
    assert len(warnings) == 1 and "[a, b] should be deleted first" in warnings[0].message
    blocked = {c.type: c for c in step.status.conditions}["DeletionBlocked"]
    assert blocked.status == "True" and blocked.reason == "SessionJobsExist"
    assert step.status.lifecycle_state is ResourceLifecycleState.DELETING


def test_deletion_waits_for_unmanaged_jobs_then_deletes_with_ha_data() -> None:
    status = deployed(resource())
    res = resource(deleting=True)
    jobs = (JobSummary("a" * 32, "by-hand", "RUNNING"), JobSummary("b" * 32, "managed", "RUNNING"))
    options = SessionDeletionSettings(unmanaged_jobs_timeout=60)
    ctx = context(
        res,
        status,
        facts=ready(),
        session_cluster_jobs=jobs,
        managed_job_ids=frozenset({"b" * 32}),
        session_deletion=options,
    )
    waiting = planner.decide(ctx)
    assert waiting.action is None
    assert {c.type: c for c in waiting.status.conditions}["DeletionBlocked"].reason == "UnmanagedJobsRunning"
    later = planner.decide(replace(ctx, now_ms=1_000_000 + 61_000))
    assert isinstance(later.action, DeleteCluster) and later.action.delete_ha_data is True
    outcome = later.on_success(None)
    assert outcome.remove_finalizer and outcome.status.lifecycle_state is ResourceLifecycleState.DELETED
    assert any("although jobs" in e.message for e in later.events if e.reason == "CleanupFailed")


def test_deletion_of_an_unreachable_session_does_not_wait() -> None:
    status = deployed(resource())
    res = resource(deleting=True)
    lost = Facts(jm=JobManagerObservation(JobManagerStatus.MISSING))
    step = planner.decide(context(res, status, facts=lost))
    assert isinstance(step.action, DeleteCluster)
