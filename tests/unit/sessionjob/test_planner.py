"""The FlinkSessionJob decision (`planner.decide`) and its observation, on plain values: the write-ahead
invariants (job id recorded before submission, reused on retry, never a second submission of a running
intent), upgrades in three modes, crash replay, waiting for the session, lost jobs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flink_operator.api import (
    FlinkJobState,
    FlinkSessionJob,
    FlinkSessionJobStatus,
    ReconciliationState,
    ResourceLifecycleState,
    SnapshotTriggerType,
    read_spec_with_meta,
)
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.sessionjob.context import Facts, SessionJobContext, SessionJobSettings
from flink_operator.controllers.sessionjob.deletion import SessionAvailability
from flink_operator.controllers.sessionjob.observation import apply_observation
from flink_operator.controllers.sessionjob.planner import REASON_SESSION_NOT_READY, decide
from flink_operator.controllers.sessionjob.session_view import session_view
from flink_operator.controllers.sessionjob.steps import CancelJob, Step, SubmitJob
from flink_operator.flink.service import CancelResult, JobSummary, SuspendMode

pytestmark = pytest.mark.unit

OLD = "0" * 31 + "1"
NEW = "0" * 31 + "2"
EFFECTIVE = {
    "execution.checkpointing.dir": "file:///cp",
    "execution.checkpointing.savepoint-dir": "file:///sp",
}


def session_document(jm: str = "READY", *, deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "session", "namespace": "default", "uid": "s-1", "generation": 1}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": metadata,
        "spec": {"flinkVersion": "v2_3", "image": "flink:2.3"},
        "status": {
            "jobManagerDeploymentStatus": jm,
            "reconciliationStatus": {"state": "DEPLOYED", "lastReconciledSpec": '{"spec":{}}'},
        },
    }


def resource(mode: str = "savepoint", *, generation: int = 1, **job: Any) -> FlinkSessionJob:
    return FlinkSessionJob.from_dict(
        {
            "metadata": {"name": "job", "namespace": "default", "uid": "j-1", "generation": generation},
            "spec": {
                "deploymentName": "session",
                "job": {"jarURI": "local:///job.jar", "parallelism": 1, "upgradeMode": mode, **job},
            },
        }
    )


def context(
    res: FlinkSessionJob,
    status: FlinkSessionJobStatus | None = None,
    *,
    session: dict[str, Any] | None = None,
    facts: Facts | None = None,
    validation_error: str | None = None,
) -> SessionJobContext:
    view = session_view("default", "session", session if session is not None else session_document())
    return SessionJobContext(
        resource=res,
        observed=status if status is not None else res.status,
        spec=res.spec,
        session=view,
        settings=ResourceSettings(),
        session_settings=SessionJobSettings(),
        effective=EFFECTIVE,
        now_ms=1_000_000,
        new_job_id=NEW,
        validation_error=validation_error,
        facts=facts or Facts(session=SessionAvailability.READY),
    )


def running(mode: str = "savepoint") -> tuple[FlinkSessionJob, FlinkSessionJobStatus]:
    """A job submitted, deployed and observed RUNNING under OLD."""
    res = resource(mode)
    step = decide(context(res))
    deployed = step.on_success(OLD)
    status = deployed.status.model_copy(deep=True)
    status.job_status.job_id = OLD
    status.job_status.state = FlinkJobState.RUNNING
    status.job_status.start_time = "1000"
    status.reconciliation_status.mark_reconciled_spec_as_stable()
    return res, status


def stored_state(status: FlinkSessionJobStatus) -> Any:
    text = status.reconciliation_status.last_reconciled_spec
    assert text is not None
    return read_spec_with_meta(text).spec["job"].get("state", "running")


def test_first_submission_records_the_job_id_before_submitting() -> None:
    step = decide(context(resource()))
    assert isinstance(step.action, SubmitJob)
    status = step.status
    assert status.reconciliation_status.state is ReconciliationState.UPGRADING
    assert status.job_status.job_id == NEW == step.action.request.job_id
    assert status.job_status.state is FlinkJobState.RECONCILING
    assert stored_state(status) == "suspended"
    assert status.lifecycle_state is ResourceLifecycleState.UPGRADING
    assert step.action.request.configuration["pipeline.name"] == "job"
    assert (
        step.action.request.configuration["execution.checkpointing.externalized-checkpoint-retention"]
        == "RETAIN_ON_CANCELLATION"
    )
    assert [e.reason for e in step.events] == ["Submit"]
    done = step.on_success(NEW).status
    assert done.reconciliation_status.state is ReconciliationState.DEPLOYED
    assert stored_state(done) == "running" and done.job_status.job_id == NEW


def test_a_retry_of_the_intent_reuses_the_recorded_job_id() -> None:
    res = resource()
    intent = decide(context(res)).status
    retry = decide(replace(context(res, intent), new_job_id="f" * 32))
    assert isinstance(retry.action, SubmitJob) and retry.action.request.job_id == NEW


def test_a_submission_that_happened_before_a_crash_is_recognised() -> None:
    res = resource()
    intent = decide(context(res)).status
    facts = Facts(
        session=SessionAvailability.READY,
        job_id_checked=NEW,
        job=JobSummary(NEW, "job", "RUNNING", start_time_ms=5),
    )
    observed = apply_observation(intent, facts, now_ms=2).status
    assert observed.reconciliation_status.state is ReconciliationState.DEPLOYED
    assert observed.job_status.state is FlinkJobState.RUNNING
    step = decide(context(res, observed, facts=facts))
    assert step.action is None, "nothing is submitted again"


def test_an_intent_whose_job_was_cancelled_is_not_taken_as_done() -> None:
    res = resource()
    intent = decide(context(res)).status
    facts = Facts(
        session=SessionAvailability.READY, job_id_checked=NEW, job=JobSummary(NEW, "job", "CANCELED")
    )
    assert apply_observation(intent, facts, now_ms=2).status.reconciliation_status.state is (
        ReconciliationState.UPGRADING
    )


@pytest.mark.parametrize(
    ("session", "message", "event_type"),
    [
        (None, "session cluster default/session not found", "Warning"),
        (
            session_document("DEPLOYING"),
            "session cluster default/session not ready (JobManager DEPLOYING)",
            "Normal",
        ),
        (session_document(deleting=True), "session cluster default/session is being deleted", "Normal"),
    ],
)
def test_waiting_for_the_session_says_why(
    session: dict[str, Any] | None, message: str, event_type: str
) -> None:
    res = resource()
    view_doc = session if session is not None else {}
    ctx = context(res, session=view_doc or None)
    if session is None:
        ctx = replace(ctx, session=session_view("default", "session", None))
    step = decide(ctx)
    assert step.action is None
    assert message in (step.status.error or "")
    assert step.status.lifecycle_state is ResourceLifecycleState.CREATED
    waiting = [e for e in step.events if e.reason == REASON_SESSION_NOT_READY]
    assert len(waiting) == 1 and waiting[0].type.value == event_type and waiting[0].once
    assert step.requeue.after == ResourceSettings().progress_check_interval


def test_an_application_deployment_is_not_a_session() -> None:
    document = session_document()
    document["spec"]["job"] = {"jarURI": "local:///x.jar"}
    step = decide(context(resource(), session=document))
    assert step.action is None and "is not a session cluster" in (step.status.error or "")


@pytest.mark.parametrize(
    ("mode", "runtime_mode"),
    [
        ("savepoint", SuspendMode.SAVEPOINT),
        ("last-state", SuspendMode.LAST_STATE),
        ("stateless", SuspendMode.STATELESS),
    ],
)
def test_spec_change_stops_the_job_as_the_mode_says(mode: str, runtime_mode: SuspendMode) -> None:
    _, status = running(mode)
    changed = resource(mode, generation=2, parallelism=2)
    step = decide(context(changed, status))
    assert (
        isinstance(step.action, CancelJob) and step.action.mode is runtime_mode and step.action.job_id == OLD
    )
    reasons = [e.reason for e in step.events]
    assert reasons == ["SpecChanged", "Suspended"]
    marker = step.status.job_status.savepoint_info
    assert (marker.trigger_type is SnapshotTriggerType.UPGRADE) is (mode == "savepoint")
    if runtime_mode is SuspendMode.SAVEPOINT:
        assert step.action.savepoint_dir == "file:///sp"
    result = CancelResult(
        OLD,
        "FINISHED" if mode == "savepoint" else "CANCELED",
        savepoint_path="file:///sp/savepoint-1" if mode == "savepoint" else None,
        checkpoint_path="file:///cp/chk-3" if mode == "last-state" else None,
    )
    outcome = step.on_success(result)
    after = outcome.status
    paths = {"savepoint": "file:///sp/savepoint-1", "last-state": "file:///cp/chk-3", "stateless": None}
    expected = paths[mode]
    assert after.job_status.upgrade_savepoint_path == expected
    if mode == "last-state":
        # The cancelled job's latest checkpoint is read again once Flink's statistics cache has expired.
        assert after.lifecycle_state is ResourceLifecycleState.SUSPENDED
        assert outcome.requeue.after == pytest.approx(3.0)
        early = decide(context(changed, after))
        assert early.action is None and early.requeue.after == pytest.approx(3.0)
        later = replace(context(changed, after), now_ms=1_003_000, new_job_id="e" * 32)
        resume = decide(later)
        assert isinstance(resume.action, SubmitJob) and resume.action.request.job_id == "e" * 32
    else:
        assert after.reconciliation_status.state is ReconciliationState.UPGRADING
        assert after.job_status.job_id == NEW, "the new submission's id is chosen with the intent"
        resume = decide(replace(context(changed, after), new_job_id="e" * 32))
        assert isinstance(resume.action, SubmitJob) and resume.action.request.job_id == NEW
    assert resume.action.request.restore_path == expected
    assert resume.action.request.job.parallelism == 2


def test_an_interrupted_stop_with_savepoint_is_replayed_without_a_second_suspend_event() -> None:
    _, status = running("savepoint")
    changed = resource("savepoint", generation=2, parallelism=2)
    intent = decide(context(changed, status)).status
    replay = decide(context(changed, intent))
    assert isinstance(replay.action, CancelJob) and replay.action.mode is SuspendMode.SAVEPOINT
    assert "Suspended" not in [e.reason for e in replay.events]


def test_suspend_then_resume_restores_from_the_savepoint() -> None:
    _, status = running("savepoint")
    suspended_spec = resource("savepoint", generation=2, state="suspended")
    step = decide(context(suspended_spec, status))
    after = step.on_success(CancelResult(OLD, "FINISHED", savepoint_path="file:///sp/sp-1")).status
    assert after.lifecycle_state is ResourceLifecycleState.SUSPENDED
    assert after.reconciliation_status.is_last_reconciled_spec_stable
    resumed = decide(context(resource("savepoint", generation=3), after))
    assert isinstance(resumed.action, SubmitJob)
    assert resumed.action.request.restore_path == "file:///sp/sp-1" and resumed.action.request.job_id == NEW


def test_invalid_change_keeps_the_running_job() -> None:
    _, status = running("savepoint")
    step = decide(context(resource("savepoint", generation=2, parallelism=5), status, validation_error="bad"))
    assert step.action is None
    assert "bad" in (step.status.error or "")
    assert "ValidationError" in [e.reason for e in step.events]


def test_a_lost_stateless_job_is_submitted_again() -> None:
    res, status = running("stateless")
    facts = Facts(session=SessionAvailability.READY, job_id_checked=OLD, job=None)
    observed = apply_observation(status, facts, now_ms=5)
    assert "Missing" in [e.reason for e in observed.events]
    step = decide(context(res, observed.status, facts=facts))
    assert isinstance(step.action, SubmitJob) and step.action.request.job_id == NEW


def test_a_lost_stateful_job_restarts_from_its_retained_checkpoint_or_waits() -> None:
    from flink_operator.flink.service import CheckpointInfo

    res, status = running("last-state")
    lost = Facts(session=SessionAvailability.READY, job_id_checked=OLD, job=None)
    observed = apply_observation(status, lost, now_ms=5, desired_mode=res.spec.job.upgrade_mode).status
    assert observed.error == "Job Not Found"
    waiting = decide(context(res, observed, facts=lost))
    assert waiting.action is None
    with_checkpoint = replace(
        lost, checkpoint_checked=True, latest_checkpoint=CheckpointInfo(3, "file:///cp/chk-3")
    )
    step = decide(context(res, observed, facts=with_checkpoint))
    assert isinstance(step.action, SubmitJob) and step.action.request.restore_path == "file:///cp/chk-3"
    assert "RecoverDeployment" in [e.reason for e in step.events]


def test_session_rest_failure_makes_the_job_state_unknown_and_waits() -> None:
    res, status = running("savepoint")
    facts = Facts(
        session=SessionAvailability.UNREACHABLE, session_detail="boom", job_id_checked=OLD, job_error="x"
    )
    observed = apply_observation(status, facts, now_ms=5).status
    assert observed.job_status.state is FlinkJobState.RECONCILING
    step = decide(context(res, observed, facts=facts))
    assert step.action is None


def test_a_step_without_action_has_no_continuation() -> None:
    step = Step(FlinkSessionJobStatus())
    with pytest.raises(AssertionError):
        step.on_success(None)
