"""Pure status rules: write-ahead transitions, stability, observation, conditions, reschedule policy."""

from __future__ import annotations

from typing import Any

import pytest

from flink_operator.api import (
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    FlinkJobState,
    JobManagerDeploymentStatus,
    ReconciliationState,
    ResourceLifecycleState,
    Savepoint,
    SnapshotTriggerType,
    compute_lifecycle_state,
    read_spec_with_meta,
    stored_job_state,
    write_spec_with_meta,
)
from flink_operator.controllers.common import status_updates
from flink_operator.controllers.common.conditions import camel_case, deployment_conditions, ready_reason
from flink_operator.controllers.common.reschedule import reschedule
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.deployment.observation import Facts, apply_observation, follow_ups
from flink_operator.flink.service import CheckpointInfo, JobManagerObservation, JobManagerStatus, JobSummary

pytestmark = pytest.mark.unit

SPEC = FlinkDeploymentSpec.from_dict(
    {
        "flinkVersion": "v2_3",
        "job": {"jarURI": "local:///j.jar", "parallelism": 3, "savepointTriggerNonce": 9},
    }
)
RUNNING_TEXT = write_spec_with_meta(
    {"job": {"jarURI": "local:///j.jar", "savepointTriggerNonce": 4}}, "flink.apache.org/v1beta1", False
)

STABLE = {"lastReconciledSpec": RUNNING_TEXT, "lastStableSpec": RUNNING_TEXT, "state": "DEPLOYED"}


def status(**fields: Any) -> FlinkDeploymentStatus:
    document: dict[str, Any] = {
        "reconciliationStatus": {"lastReconciledSpec": RUNNING_TEXT, "state": "DEPLOYED"},
        "jobStatus": {"state": "RUNNING", "jobId": "a" * 32},
        "jobManagerDeploymentStatus": "READY",
    }
    document.update(fields)
    return FlinkDeploymentStatus.from_dict(document)


# ------------------------------------------------------------------------------------- transitions


def test_before_deployment_attempt_is_the_intent() -> None:
    before = status(error="old error")
    intent = status_updates.before_deployment_attempt(before, SPEC, generation=4, now_ms=77)
    rec = intent.reconciliation_status
    assert rec.state is ReconciliationState.UPGRADING and rec.reconciliation_timestamp == 77
    assert stored_job_state(rec.last_reconciled_spec) == "suspended"
    assert intent.observed_generation == 4 and intent.error is None
    assert before.error == "old error", "the input is not changed"
    rolling = status(reconciliationStatus={"lastReconciledSpec": RUNNING_TEXT, "state": "ROLLING_BACK"})
    assert (
        status_updates.before_deployment_attempt(
            rolling, SPEC, generation=1, now_ms=1
        ).reconciliation_status.state
        is ReconciliationState.ROLLING_BACK
    )


def test_deployed_spec_keeps_pending_manual_trigger_nonces_and_sets_taskmanager_info() -> None:
    out = status_updates.for_deployed_spec(status(), SPEC, generation=2, now_ms=5, name="demo")
    job = read_spec_with_meta(out.reconciliation_status.last_reconciled_spec or "").spec["job"]
    assert job["savepointTriggerNonce"] == 4  # the reconciled one, not the spec's 9
    assert out.reconciliation_status.state is ReconciliationState.DEPLOYED
    assert out.task_manager is not None
    assert (out.task_manager.label_selector, out.task_manager.replicas) == (
        "component=taskmanager,app=demo",
        3,
    )
    assert not out.reconciliation_status.is_last_reconciled_spec_stable


def test_first_deployed_spec_keeps_its_own_nonces_and_marks_first_deployment() -> None:
    fresh = FlinkDeploymentStatus()
    out = status_updates.for_deployed_spec(fresh, SPEC, generation=1, now_ms=5, name="demo")
    stored = read_spec_with_meta(out.reconciliation_status.last_reconciled_spec or "")
    assert stored.spec["job"]["savepointTriggerNonce"] == 9
    assert stored.metadata is not None and stored.metadata.first_deployment


def test_suspended_deployed_spec_is_stable_at_once() -> None:
    suspended = FlinkDeploymentSpec.from_dict({"job": {"jarURI": "local:///j.jar", "state": "suspended"}})
    out = status_updates.for_deployed_spec(status(), suspended, generation=2, now_ms=5, name="demo")
    assert out.reconciliation_status.is_last_reconciled_spec_stable
    assert out.task_manager is not None and out.task_manager.replicas == 0
    assert compute_lifecycle_state(out) is ResourceLifecycleState.SUSPENDED


@pytest.mark.parametrize(
    ("job", "reconciled_running", "stable"),
    [
        ("RUNNING", True, True),
        ("FINISHED", True, True),
        ("FINISHED", False, False),
        ("RECONCILING", True, False),
    ],
)
def test_check_stable(job: str, reconciled_running: bool, stable: bool) -> None:
    text = (
        RUNNING_TEXT
        if reconciled_running
        else write_spec_with_meta({"job": {"state": "suspended"}}, "v", False)
    )
    current = status(
        jobStatus={"state": job}, reconciliationStatus={"lastReconciledSpec": text, "state": "DEPLOYED"}
    )
    assert status_updates.check_stable(current).reconciliation_status.is_last_reconciled_spec_stable is stable


def test_check_stable_only_when_deployed() -> None:
    upgrading = status(reconciliationStatus={"lastReconciledSpec": RUNNING_TEXT, "state": "UPGRADING"})
    assert not status_updates.check_stable(upgrading).reconciliation_status.is_last_reconciled_spec_stable


def test_already_upgraded_and_marked_suspended() -> None:
    intent = status_updates.before_deployment_attempt(status(), SPEC, generation=2, now_ms=1)
    done = status_updates.for_already_upgraded(intent)
    assert done.reconciliation_status.state is ReconciliationState.DEPLOYED
    assert stored_job_state(done.reconciliation_status.last_reconciled_spec) == "running"
    assert done.job_status.state is FlinkJobState.RECONCILING
    assert done.job_manager_deployment_status is JobManagerDeploymentStatus.DEPLOYING
    marked = status_updates.mark_reconciled_suspended(status(observedGeneration=3))
    assert stored_job_state(marked.reconciliation_status.last_reconciled_spec) == "suspended"
    assert marked.observed_generation == 3


# ------------------------------------------------------------------------------------- observation


def facts(jm: JobManagerStatus = JobManagerStatus.READY, **fields: Any) -> Facts:
    return Facts(
        jm=JobManagerObservation(jm, generation=fields.pop("generation", 1), rest_url="http://x"), **fields
    )


def test_observed_job_state_change_emits_event_and_marks_stable() -> None:
    job = JobSummary("a" * 32, "counter", "RUNNING", 123)
    observed = apply_observation(
        status(jobStatus={"state": "RECONCILING", "jobId": "a" * 32}),
        facts(job_id_checked="a" * 32, job=job),
        now_ms=9,
    )
    out = observed.status
    assert out.job_status.state is FlinkJobState.RUNNING and out.job_status.update_time == "9"
    assert out.job_status.start_time == "123" and out.job_status.job_name == "counter"
    assert [e.message for e in observed.events] == ["Job status changed from RECONCILING to RUNNING"]
    assert out.reconciliation_status.is_last_reconciled_spec_stable
    assert out.cluster_info["rest-url"] == "http://x"


def test_canceled_job_marks_the_reconciled_spec_suspended_and_records_its_checkpoint() -> None:
    job = JobSummary("a" * 32, "counter", "CANCELED")
    checkpoint = CheckpointInfo(4, "file:/c/chk-4", 50)
    out = apply_observation(
        status(),
        facts(job_id_checked="a" * 32, job=job, checkpoint_checked=True, latest_checkpoint=checkpoint),
        now_ms=9,
    ).status
    assert stored_job_state(out.reconciliation_status.last_reconciled_spec) == "suspended"
    assert out.job_status.upgrade_savepoint_path == "file:/c/chk-4"


def test_a_recorded_stop_savepoint_is_not_replaced_by_an_older_checkpoint() -> None:
    base = status(jobStatus={"state": "FINISHED", "jobId": "a" * 32, "upgradeSavepointPath": "file:/sp-1"})
    base.job_status.savepoint_info.update_last_savepoint(
        Savepoint(time_stamp=100, location="file:/sp-1", trigger_type=SnapshotTriggerType.UPGRADE)
    )
    job = JobSummary("a" * 32, "counter", "FINISHED")
    older = CheckpointInfo(4, "file:/c/chk-4", 50)
    out = apply_observation(
        base,
        facts(job_id_checked="a" * 32, job=job, checkpoint_checked=True, latest_checkpoint=older),
        now_ms=9,
    ).status
    assert out.job_status.upgrade_savepoint_path == "file:/sp-1"
    newer = CheckpointInfo(5, "file:/c/chk-5", 500)
    out = apply_observation(
        base,
        facts(job_id_checked="a" * 32, job=job, checkpoint_checked=True, latest_checkpoint=newer),
        now_ms=9,
    ).status
    assert out.job_status.upgrade_savepoint_path == "file:/c/chk-5"


def test_missing_job_and_missing_jobmanager() -> None:
    lost = apply_observation(status(), facts(job_id_checked="a" * 32), now_ms=1)
    assert lost.status.error == "Job Not Found" and lost.status.job_status.state is FlinkJobState.RECONCILING
    assert [(e.reason, e.component) for e in lost.events] == [("Missing", "Job")]
    gone = apply_observation(status(), facts(JobManagerStatus.MISSING), now_ms=1)
    assert gone.status.error == "Missing JobManager deployment"
    assert gone.status.job_manager_deployment_status is JobManagerDeploymentStatus.MISSING
    assert [(e.reason, e.component) for e in gone.events] == [("Missing", "JobManagerDeployment")]
    again = apply_observation(gone.status, facts(JobManagerStatus.MISSING), now_ms=2)
    assert again.events == ()  # reported once per transition


def test_failed_jobmanager_is_an_error_once() -> None:
    failed = apply_observation(
        status(), Facts(jm=JobManagerObservation(JobManagerStatus.ERROR, reason="exit 1")), now_ms=1
    )
    assert "exit 1" in (failed.status.error or "")
    assert [e.reason for e in failed.events] == ["Error"]
    assert (
        apply_observation(
            failed.status, Facts(jm=JobManagerObservation(JobManagerStatus.ERROR)), now_ms=2
        ).events
        == ()
    )


def test_rest_error_makes_a_running_job_reconciling() -> None:
    out = apply_observation(status(), facts(job_id_checked="a" * 32, job_error="timeout"), now_ms=1).status
    assert out.job_status.state is FlinkJobState.RECONCILING


def test_upgrading_intent_counts_as_deployed_only_when_the_intended_job_runs() -> None:
    intent = status_updates.before_deployment_attempt(status(), SPEC, generation=2, now_ms=1)
    job = JobSummary("a" * 32, "counter", "RUNNING")
    old_cluster = apply_observation(intent, facts(generation=1), now_ms=2)
    assert old_cluster.status.reconciliation_status.state is ReconciliationState.UPGRADING
    starting = apply_observation(intent, facts(JobManagerStatus.DEPLOYING, generation=2), now_ms=2)
    assert starting.deployment_in_progress
    wrong_job = apply_observation(intent, facts(generation=2, job_id_checked="a" * 32), now_ms=2)
    assert wrong_job.status.reconciliation_status.state is ReconciliationState.UPGRADING
    running = apply_observation(intent, facts(generation=2, job_id_checked="a" * 32, job=job), now_ms=2)
    assert running.status.reconciliation_status.state is ReconciliationState.DEPLOYED
    assert running.status.job_status.state is FlinkJobState.RUNNING


def test_follow_ups_ask_only_what_is_needed() -> None:
    ready = JobManagerObservation(JobManagerStatus.READY, generation=1)
    plain = follow_ups(
        status(clusterInfo={"flink-version": "2.3"}), ready, stateful=False, change_pending=False
    )
    assert (plain.job_id, plain.cluster_info, plain.latest_checkpoint_of, plain.ha_metadata) == (
        "a" * 32,
        False,
        None,
        False,
    )
    stateful = follow_ups(status(), ready, stateful=True, change_pending=True)
    assert stateful.cluster_info and stateful.latest_checkpoint_of == "a" * 32 and stateful.ha_metadata


# ------------------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("fields", "generation", "invalid", "expected"),
    [
        ({"lifecycleState": "DELETING"}, 1, None, (False, "Deleting")),
        ({}, 1, "bad", (False, "InvalidSpec")),
        ({"jobStatus": {"state": "FAILED"}}, 1, None, (False, "Failed")),
        (
            {
                "reconciliationStatus": {
                    "lastReconciledSpec": write_spec_with_meta({"job": {"state": "suspended"}}, "v", False),
                    "state": "DEPLOYED",
                }
            },
            1,
            None,
            (False, "Suspended"),
        ),
        (
            {"reconciliationStatus": {"lastReconciledSpec": RUNNING_TEXT, "state": "UPGRADING"}},
            1,
            None,
            (False, "Upgrading"),
        ),
        ({"reconciliationStatus": {}}, 1, None, (False, "Deploying")),
        ({"observedGeneration": 1}, 2, None, (False, "Reconciling")),
        ({"observedGeneration": 1}, 1, None, (False, "Deploying")),
        ({"observedGeneration": 1, "reconciliationStatus": STABLE}, 1, None, (True, "Ready")),
        (
            {"observedGeneration": 1, "jobStatus": {"state": "FINISHED"}, "reconciliationStatus": STABLE},
            1,
            None,
            (False, "Finished"),
        ),
    ],
)
def test_ready_rule(
    fields: dict[str, Any], generation: int, invalid: str | None, expected: tuple[bool, str]
) -> None:
    ok, reason, _ = ready_reason(status(**fields), session=False, generation=generation, invalid_spec=invalid)
    assert (ok, reason) == expected


def test_conditions_keep_transition_time_while_status_is_unchanged() -> None:
    stable = status(observedGeneration=1, reconciliationStatus=STABLE)
    first = deployment_conditions(stable, session=False, now="T1", generation=1)
    stable.conditions = first
    second = deployment_conditions(stable, session=False, now="T2", generation=1)
    assert [c.last_transition_time for c in second] == ["T1", "T1"]
    stable.job_status.state = FlinkJobState.RESTARTING
    third = deployment_conditions(stable, session=False, now="T3", generation=1)
    assert [(c.type, c.status, c.reason, c.last_transition_time) for c in third] == [
        ("Running", "False", "Restarting", "T3"),
        ("Ready", "False", "Restarting", "T3"),
    ]
    assert camel_case("DEPLOYED_NOT_READY") == "DeployedNotReady"


def test_session_running_condition_follows_the_jobmanager() -> None:
    conditions = deployment_conditions(status(), session=True, now="T", generation=1)
    assert (conditions[0].type, conditions[0].status, conditions[0].reason) == (
        "Running",
        "True",
        "JobManagerReady",
    )


# ------------------------------------------------------------------------------------- reschedule

SETTINGS = ResourceSettings(reconcile_interval=60, progress_check_interval=5, rest_ready_delay=7)


@pytest.mark.parametrize(
    ("previous", "current", "after", "periodic"),
    [
        ({}, {"jobStatus": {"state": "CANCELLING"}}, 5, False),
        ({}, {"reconciliationStatus": {"state": "UPGRADING"}}, 0, False),
        (
            {"reconciliationStatus": {"state": "UPGRADING"}},
            {"reconciliationStatus": {"state": "UPGRADING"}},
            5,
            False,
        ),
        ({}, {"jobManagerDeploymentStatus": "DEPLOYING"}, 5, False),
        ({}, {"jobManagerDeploymentStatus": "DEPLOYED_NOT_READY"}, 7, False),
        ({}, {"jobStatus": {"state": "RECONCILING"}}, 5, False),
        ({}, {}, 60, True),
        ({}, {"jobManagerDeploymentStatus": "MISSING"}, 60, True),
        ({}, {"jobManagerDeploymentStatus": "ERROR"}, 60, True),
    ],
)
def test_reschedule_policy(
    previous: dict[str, Any], current: dict[str, Any], after: float, periodic: bool
) -> None:
    result = reschedule(status(**previous), status(**current), SETTINGS)
    assert (result.after, result.periodic) == (after, periodic)


def test_retry_delay_grows_and_is_capped() -> None:
    settings = ResourceSettings(retry_initial_interval=2, retry_multiplier=2, retry_max_interval=5)
    assert [settings.retry_delay(n) for n in (1, 2, 3, 4)] == [2, 4, 5, 5]


def test_a_savepoint_the_job_was_restored_from_gives_way_to_the_jobs_own_checkpoints() -> None:
    restored_from = status(
        jobStatus={
            "state": "FAILED",
            "jobId": "a" * 32,
            "startTime": "1000",
            "upgradeSavepointPath": "file:/sp-0",
        }
    )
    restored_from.job_status.savepoint_info.update_last_savepoint(
        Savepoint(time_stamp=500, location="file:/sp-0", trigger_type=SnapshotTriggerType.UPGRADE)
    )
    job = JobSummary("a" * 32, "counter", "FAILED", 1000)
    checkpoint = CheckpointInfo(9, "file:/c/chk-9", 400)  # even with a skewed checkpoint clock
    out = apply_observation(
        restored_from,
        facts(job_id_checked="a" * 32, job=job, checkpoint_checked=True, latest_checkpoint=checkpoint),
        now_ms=9,
    ).status
    assert out.job_status.upgrade_savepoint_path == "file:/c/chk-9"
    stopped = status(
        jobStatus={
            "state": "FINISHED",
            "jobId": "a" * 32,
            "startTime": "1000",
            "upgradeSavepointPath": "file:/sp-1",
        }
    )
    stopped.job_status.savepoint_info.update_last_savepoint(
        Savepoint(time_stamp=2000, location="file:/sp-1", trigger_type=SnapshotTriggerType.UPGRADE)
    )
    newer_clock = CheckpointInfo(8, "file:/c/chk-8", 2500)  # completed while the stop ran
    out = apply_observation(
        stopped,
        facts(
            job_id_checked="a" * 32,
            job=JobSummary("a" * 32, "c", "FINISHED", 1000),
            checkpoint_checked=True,
            latest_checkpoint=newer_clock,
        ),
        now_ms=9,
    ).status
    assert out.job_status.upgrade_savepoint_path == "file:/sp-1"
