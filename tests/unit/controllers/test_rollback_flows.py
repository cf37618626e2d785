"""Rollback, cancel-deploy, health restarts and failed/finished jobs, scenario by scenario: the real decision
code (build_context -> decide -> action -> outcome) against the in-memory Flink world."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.deployment_driver import Crash, Driver, deployment_document
from tests.support.flink_world import InMemoryFlink

from flink_operator.api import (
    FlinkDeployment,
    FlinkJobState,
    ReconciliationState,
    ResourceLifecycleState,
    read_spec_with_meta,
)
from flink_operator.config import DefaultConfiguration
from flink_operator.controllers.common.health import read_info
from flink_operator.controllers.deployment.rollback import ANNOTATION_CANCEL_DEPLOY
from flink_operator.controllers.deployment.steps import CancelJob, DeleteCluster, DeployCluster
from flink_operator.flink.service import JobManagerStatus, SuspendMode

pytestmark = pytest.mark.unit

L = ResourceLifecycleState
S = ReconciliationState
HA = {"high-availability.type": "zookeeper", "high-availability.storageDir": "file:/ha"}
ROLLBACK = {"kubernetes.operator.deployment.rollback.enabled": "true"}
TIMEOUT_MS = 5 * 60 * 1000


def reconciled(driver: Driver) -> dict[str, Any]:
    text = driver.status.reconciliation_status.last_reconciled_spec
    assert text is not None
    job = read_spec_with_meta(text).spec["job"]
    assert isinstance(job, dict)
    return job


def annotate(driver: Driver, annotations: dict[str, str]) -> None:
    document = driver.resource.to_dict()
    document["metadata"]["annotations"] = annotations
    driver.resource = FlinkDeployment.from_dict(document)


def after_deploy(driver: Driver, millis: int) -> None:
    """Move the world's clock to `millis` after the reconciled spec's deployment started."""
    driver.world.now_ms = driver.status.reconciliation_status.reconciliation_timestamp + millis


async def stable(driver: Driver, records: int = 40) -> int:
    await driver.converge()
    driver.world.progress(driver.ref, records)
    driver.world.checkpoint(driver.ref)
    driver.world.progress(driver.ref, 5)
    return records


async def broken_upgrade(driver: Driver, expect: L = L.FAILED, **job: Any) -> None:
    """A new spec whose job fails at start (`expect`: the lifecycle once its failure was observed)."""
    driver.edit_job(**(job or {"parallelism": 2}))
    for _ in range(10):
        await driver.reconcile()
        if driver.status.reconciliation_status.state is S.DEPLOYED:
            break
    driver.world.settle()
    driver.world.fail_job(driver.ref, "--keys must be at least 1, got 0")
    await driver.reconcile()
    assert driver.lifecycle is expect


async def test_a_failed_new_spec_is_rolled_back_after_the_readiness_timeout_keeping_the_state() -> None:
    driver = Driver.of(config=ROLLBACK)
    await stable(driver)
    savepoint_count = 45
    await broken_upgrade(driver)
    upgrade_savepoint = driver.status.job_status.upgrade_savepoint_path
    assert upgrade_savepoint is not None and "savepoint-" in upgrade_savepoint
    assert "--keys must be at least 1" in (driver.status.error or "")

    after_deploy(driver, TIMEOUT_MS - 1000)
    step = await driver.reconcile()
    assert step.action is None and driver.lifecycle is L.FAILED
    assert step.requeue.after is not None and step.requeue.after <= 1.001, "looked at again when it falls due"

    after_deploy(driver, TIMEOUT_MS + 1)
    step = await driver.reconcile()
    assert isinstance(step.action, DeployCluster)
    request = step.action.request
    assert request.restore_path == upgrade_savepoint and request.job is not None
    assert request.job.parallelism == 1, "the last stable spec is deployed"
    assert step.status.reconciliation_status.state is S.ROLLING_BACK
    assert step.status.lifecycle_state is L.ROLLING_BACK
    assert step.status.job_status.job_id == request.job_id
    assert step.action.delete_ha_data
    rollback = [e for e in step.events if e.reason == "Rollback"]
    assert len(rollback) == 1 and upgrade_savepoint in rollback[0].message
    # Outcome: ROLLED_BACK; the user's spec stays the reconciled one, the generation stays.
    assert driver.lifecycle is L.ROLLED_BACK
    assert reconciled(driver)["parallelism"] == 2 and reconciled(driver)["upgradeMode"] == "savepoint"
    assert driver.status.observed_generation == 2
    assert "--keys must be at least 1" in (driver.status.error or ""), "the reason stays visible"
    driver.world.settle()
    assert driver.world.job(driver.ref).count == savepoint_count
    await driver.run(3)
    assert driver.lifecycle is L.ROLLED_BACK and len(driver.world.deploys) == 3
    ready = {c.type: c for c in driver.status.conditions}["Ready"]
    assert (ready.status, ready.reason) == ("False", "RolledBack")


async def test_a_rollback_interrupted_after_its_intent_is_resumed_as_recorded() -> None:
    driver = Driver.of(config=ROLLBACK)
    await stable(driver)
    await broken_upgrade(driver)
    after_deploy(driver, TIMEOUT_MS + 1)
    first = await driver.reconcile(crash=Crash.AFTER_INTENT)
    assert isinstance(first.action, DeployCluster)
    assert driver.status.reconciliation_status.state is S.ROLLING_BACK
    second = await driver.reconcile()
    assert isinstance(second.action, DeployCluster)
    assert second.action.request.job_id == first.action.request.job_id
    assert second.action.request.restore_path == first.action.request.restore_path
    assert driver.lifecycle is L.ROLLED_BACK and driver.reasons().count("Rollback") == 1


async def test_with_ha_a_crash_looping_jobmanager_rolls_back_to_the_same_job_id() -> None:
    driver = Driver.of(upgrade_mode="last-state", config={**ROLLBACK, **HA})
    await stable(driver)
    driver.edit_job(parallelism=2)
    for _ in range(10):
        await driver.reconcile()
        if driver.status.reconciliation_status.state is S.DEPLOYED:
            break
    job_id = driver.status.job_status.job_id
    driver.world.crash_loop(driver.ref)
    driver.world.kill_jobmanager(driver.ref)  # the JobManager is gone; HA metadata stays
    await driver.reconcile()
    after_deploy(driver, TIMEOUT_MS + 1)
    steps = await driver.run(2)
    deploys = [s.action for s in steps if isinstance(s.action, DeployCluster)]
    assert deploys, [s.note for s in steps]
    rollback = deploys[0]
    assert rollback.request.job_id == job_id and not rollback.delete_ha_data
    assert reconciled(driver)["upgradeMode"] == "last-state"
    assert driver.lifecycle is L.ROLLED_BACK
    assert driver.world.job(driver.ref).count == 40, "resumed from HA (the latest checkpoint)"


async def test_repairs_of_the_new_spec_do_not_postpone_the_rollback() -> None:
    driver = Driver.of(config={**ROLLBACK, "kubernetes.operator.job.restart.failed": "true"})
    await stable(driver)
    # The failure is observed and the failed job restarted in the same reconcile.
    await broken_upgrade(driver, expect=L.DEPLOYED)
    for _ in range(3):
        driver.world.now_ms += 60_000
        driver.world.settle()
        driver.world.fail_job(driver.ref)  # the restarted job fails again...
        step = await driver.reconcile()  # ... and is restarted
        assert isinstance(step.action, DeployCluster) and step.action.request.job is not None
        assert step.action.request.job.parallelism == 2
        assert step.status.lifecycle_state is not L.ROLLING_BACK
    driver.world.now_ms += 2 * 60_000 + 1
    driver.world.settle()
    driver.world.fail_job(driver.ref)
    step = await driver.reconcile()
    assert isinstance(step.action, DeployCluster) and step.status.lifecycle_state is L.ROLLING_BACK


async def test_cancel_deploy_rolls_back_at_once_and_is_consumed() -> None:
    driver = Driver.of()
    await stable(driver)
    await broken_upgrade(driver)
    annotate(driver, {ANNOTATION_CANCEL_DEPLOY: "true"})
    step = await driver.reconcile()
    assert isinstance(step.action, DeployCluster)
    assert step.clear_annotations == (ANNOTATION_CANCEL_DEPLOY,)
    [event] = [e for e in step.events if e.reason == "Rollback"]
    assert ANNOTATION_CANCEL_DEPLOY in event.message
    assert driver.lifecycle is L.ROLLED_BACK


async def test_cancel_deploy_aborts_an_upgrade_stuck_deploying() -> None:
    driver = Driver.of()  # rollback is not enabled
    await stable(driver)
    driver.edit_job(parallelism=2)
    deploy = driver.world.deploy_application_cluster

    async def refuse(request: Any) -> Any:
        if request.job is not None and request.job.parallelism == 2:
            raise RuntimeError("the image cannot be pulled")
        return await deploy(request)

    driver.world.deploy_application_cluster = refuse  # type: ignore[method-assign]
    for _ in range(4):
        await driver.reconcile()
    assert driver.lifecycle is L.UPGRADING and not driver.world.running_jobs()
    path = driver.status.job_status.upgrade_savepoint_path
    annotate(driver, {ANNOTATION_CANCEL_DEPLOY: "true"})
    step = await driver.reconcile()
    assert isinstance(step.action, DeployCluster) and step.action.request.restore_path == path
    assert step.clear_annotations == (ANNOTATION_CANCEL_DEPLOY,)
    assert driver.lifecycle is L.ROLLED_BACK
    driver.world.settle()
    assert driver.world.job(driver.ref).count == 45 and len(driver.world.running_jobs()) == 1


@pytest.mark.parametrize("value", ["true", "TRUE"])
async def test_cancel_deploy_with_nothing_in_flight_says_so(value: str) -> None:
    driver = Driver.of()
    await stable(driver)
    annotate(driver, {ANNOTATION_CANCEL_DEPLOY: value})
    step = await driver.reconcile()
    assert step.action is None and step.clear_annotations == (ANNOTATION_CANCEL_DEPLOY,)
    [event] = [e for e in step.events if e.reason == "Rollback"]
    assert event.message == (
        f"Nothing to cancel ({ANNOTATION_CANCEL_DEPLOY}): "
        "no deployment is in flight: the running spec is stable."
    )
    assert driver.lifecycle is L.STABLE


async def test_another_value_of_the_annotation_is_ignored() -> None:
    driver = Driver.of()
    await stable(driver)
    await broken_upgrade(driver)
    annotate(driver, {ANNOTATION_CANCEL_DEPLOY: "please"})
    step = await driver.reconcile()
    assert step.action is None and step.clear_annotations == ()
    assert driver.lifecycle is L.FAILED


async def test_while_rolled_back_repairs_deploy_the_stable_spec_and_stay_rolled_back() -> None:
    driver = Driver.of(config=ROLLBACK)
    await stable(driver)
    await broken_upgrade(driver)
    after_deploy(driver, TIMEOUT_MS + 1)
    await driver.converge()
    assert driver.lifecycle is L.ROLLED_BACK
    user_spec = driver.status.reconciliation_status.last_reconciled_spec
    driver.world.progress(driver.ref, 7)
    driver.world.checkpoint(driver.ref)
    driver.world.kill_jobmanager(driver.ref)
    steps = await driver.run(3)
    recovery = [s for s in steps if isinstance(s.action, DeployCluster)]
    assert len(recovery) == 1 and recovery[0].action is not None
    assert isinstance(recovery[0].action, DeployCluster)
    assert recovery[0].action.request.job is not None and recovery[0].action.request.job.parallelism == 1
    assert "RecoverDeployment" in driver.reasons()
    assert driver.lifecycle is L.ROLLED_BACK
    assert reconciled(driver)["parallelism"] == 2
    assert read_spec_with_meta(user_spec or "").spec["job"]["parallelism"] == 2
    assert driver.world.job(driver.ref).count == 52, "recovered from the rolled-back job's checkpoint"


async def test_changing_the_spec_back_to_the_rolled_back_one_only_records_it() -> None:
    driver = Driver.of(config=ROLLBACK)
    await stable(driver)
    await broken_upgrade(driver)
    after_deploy(driver, TIMEOUT_MS + 1)
    await driver.converge()
    deploys = len(driver.world.deploys)
    driver.edit_job(parallelism=1)
    step = await driver.reconcile()
    assert step.action is None and len(driver.world.deploys) == deploys
    assert driver.status.reconciliation_status.state is S.DEPLOYED
    assert driver.status.observed_generation == 3
    assert driver.lifecycle is L.STABLE


async def test_a_fixed_spec_after_a_rollback_upgrades_from_the_rolled_back_job() -> None:
    driver = Driver.of(config=ROLLBACK)
    await stable(driver)
    await broken_upgrade(driver)
    after_deploy(driver, TIMEOUT_MS + 1)
    await driver.converge()
    driver.world.progress(driver.ref, 10)
    driver.edit_job(parallelism=3)
    steps = await driver.converge()
    actions = [s.action for s in steps if s.action is not None]
    assert isinstance(actions[0], CancelJob) and actions[0].mode is SuspendMode.SAVEPOINT
    assert driver.lifecycle is L.STABLE and reconciled(driver)["parallelism"] == 3
    assert driver.world.job(driver.ref).count == 55


async def test_a_user_change_during_the_rollback_abandons_it() -> None:
    driver = Driver.of(config=ROLLBACK)
    await stable(driver)
    await broken_upgrade(driver)
    after_deploy(driver, TIMEOUT_MS + 1)
    intent = await driver.reconcile(crash=Crash.AFTER_INTENT)
    assert isinstance(intent.action, DeployCluster)
    restore = intent.action.request.restore_path
    driver.edit_job(parallelism=4)
    step = await driver.reconcile()
    assert isinstance(step.action, DeployCluster) and step.action.request.job is not None
    assert step.action.request.job.parallelism == 4 and step.action.request.restore_path == restore
    assert driver.status.reconciliation_status.state is S.DEPLOYED
    assert driver.status.observed_generation == 3
    assert [e.message for e in step.events if e.reason == "SpecChanged"] == [
        "The rollback was abandoned: generation 3 is deployed instead."
    ]


async def test_no_rollback_without_the_option_nor_into_a_different_flink_version() -> None:
    driver = Driver.of()
    await stable(driver)
    await broken_upgrade(driver)
    driver.world.now_ms += TIMEOUT_MS * 3
    steps = await driver.run(2)
    assert all(s.action is None for s in steps) and driver.lifecycle is L.FAILED

    other = Driver.of(InMemoryFlink(), config=ROLLBACK)
    await stable(other)
    other.edit(lambda spec: spec.update(flinkVersion="v2_2"))
    for _ in range(10):
        await other.reconcile()
        if other.status.reconciliation_status.state is S.DEPLOYED:
            break
    other.world.settle()
    other.world.fail_job(other.ref)
    other.world.now_ms += TIMEOUT_MS * 3
    steps = await other.run(2)
    assert all(not isinstance(s.action, DeployCluster) for s in steps)


async def test_a_deployment_that_keeps_failing_rolls_back_from_the_upgrade_savepoint() -> None:
    driver = Driver.of(config=ROLLBACK)
    await stable(driver)
    driver.edit_job(parallelism=2)
    failing = driver.world.deploy_application_cluster

    async def refuse(request: Any) -> Any:
        if request.job is not None and request.job.parallelism == 2:
            raise RuntimeError("the image cannot be pulled")
        return await failing(request)

    driver.world.deploy_application_cluster = refuse  # type: ignore[method-assign]
    for _ in range(4):
        await driver.reconcile()
    assert driver.lifecycle is L.UPGRADING and "image cannot be pulled" in (driver.status.error or "")
    path = driver.status.job_status.upgrade_savepoint_path
    after_deploy(driver, TIMEOUT_MS + 1)
    step = await driver.reconcile()
    assert isinstance(step.action, DeployCluster) and step.action.request.restore_path == path
    assert driver.lifecycle is L.ROLLED_BACK
    driver.world.settle()
    assert driver.world.job(driver.ref).count == 45


# --------------------------------------------------------------------------------- health


HEALTH = {
    "kubernetes.operator.cluster.health-check.enabled": "true",
    "kubernetes.operator.cluster.health-check.restarts.threshold": "1",
}


async def test_an_unhealthy_job_is_restarted_from_its_latest_checkpoint() -> None:
    driver = Driver.of(config=HEALTH)
    await stable(driver)
    assert read_info(driver.status.cluster_info) is not None, "a baseline was sampled"
    driver.world.restart_job(driver.ref)
    step = await driver.reconcile()
    assert step.action is None, "one restart is within the threshold"
    driver.world.restart_job(driver.ref)
    step = await driver.reconcile()
    assert isinstance(step.action, CancelJob) and step.action.mode is SuspendMode.LAST_STATE
    [warning] = [e for e in step.events if e.reason == "RestartUnhealthyJob"]
    assert warning.message == "Restart count hit threshold: 2" and warning.is_warning
    assert "Suspended" not in [e.reason for e in step.events]
    assert [e.reason for e in step.events if e.reason == "JobException"]
    await driver.converge()
    assert driver.lifecycle is L.STABLE
    assert driver.world.job(driver.ref).count == 40, "restored from the latest checkpoint"
    info = read_info(driver.status.cluster_info)
    assert info is not None and info.health_result is not None and info.health_result.healthy


async def test_a_terminal_job_is_never_restarted_by_the_health_check() -> None:
    driver = Driver.of(config=HEALTH)
    await stable(driver)
    driver.world.restart_job(driver.ref)
    driver.world.restart_job(driver.ref)
    driver.world.fail_job(driver.ref)
    steps = await driver.run(3)
    assert all(s.action is None for s in steps)
    assert driver.lifecycle is L.FAILED and "RestartUnhealthyJob" not in driver.reasons()


async def test_with_ha_an_unhealthy_job_resumes_from_ha() -> None:
    driver = Driver.of(upgrade_mode="last-state", config={**HEALTH, **HA})
    await stable(driver)
    job_id = driver.world.job(driver.ref).job_id
    driver.world.restart_job(driver.ref)
    driver.world.restart_job(driver.ref)
    step = await driver.reconcile()
    assert isinstance(step.action, DeleteCluster) and not step.action.delete_ha_data
    await driver.converge()
    assert driver.world.job(driver.ref).job_id == job_id and driver.world.job(driver.ref).count == 40


# --------------------------------------------------------------------------------- failed and finished jobs


async def test_a_failed_job_names_its_root_cause_once() -> None:
    driver = Driver.of()
    await stable(driver)
    driver.world.fail_job(driver.ref, "the input is corrupt")
    step = await driver.reconcile()
    assert driver.lifecycle is L.FAILED
    assert '"message":"the input is corrupt"' in (driver.status.error or "")
    assert [e.message for e in step.events if e.reason == "Error"] == [
        f"Job {driver.world.job(driver.ref).job_id} (counter) failed: the input is corrupt"
    ]
    again = await driver.reconcile()
    assert not [e for e in again.events if e.reason in ("Error", "JobException")]


@pytest.mark.parametrize(("limit", "expected"), [(None, 10), ("3", 3)])
async def test_job_exception_events_are_bounded_per_reconcile(limit: str | None, expected: int) -> None:
    driver = Driver.of()
    if limit is not None:  # an operator option
        driver.configuration = DefaultConfiguration(
            {"kubernetes.operator.events.exceptions.limit-per-reconciliation": limit}
        )
    await stable(driver)
    for attempt in range(15):
        driver.world.restart_job(driver.ref, f"attempt {attempt} failed")
    driver.world.fail_job(driver.ref, "gave up")
    step = await driver.reconcile()
    assert driver.lifecycle is L.FAILED
    messages = [e.message for e in step.events if e.reason == "JobException"]
    assert len(messages) == expected, "the newest ones, oldest first"
    assert messages[-1].startswith("java.lang.RuntimeException: gave up")
    assert all(e.is_warning and e.once for e in step.events if e.reason == "JobException")


async def test_a_finished_job_does_not_loop_and_changes_make_progress() -> None:
    driver = Driver.of()
    await stable(driver)
    driver.world.job(driver.ref).state = "FINISHED"
    steps = await driver.run(4)
    assert all(s.action is None for s in steps)
    assert driver.lifecycle is L.STABLE and driver.status.job_status.state is FlinkJobState.FINISHED
    assert driver.last_requeue is not None and driver.last_requeue > 0
    quiet_writes = driver.writes
    await driver.run(2)
    assert driver.writes == quiet_writes, "nothing is written while nothing changes"
    driver.edit_job(parallelism=2)
    await driver.converge()
    assert driver.status.observed_generation == 2 and driver.world.job(driver.ref).state == "RUNNING"
    driver.world.job(driver.ref).state = "FINISHED"
    await driver.reconcile()
    driver.edit_job(state="suspended")
    await driver.converge()
    assert driver.lifecycle is L.SUSPENDED and driver.status.observed_generation == 3
    driver.delete()
    await driver.converge()
    assert driver.released and not driver.world.clusters


# --------------------------------------------------------------------------------- observation


async def test_a_job_not_listed_right_after_its_deployment_is_reconciling_not_missing() -> None:
    world = InMemoryFlink()
    driver = Driver(world, FlinkDeployment.from_dict(deployment_document()))
    await driver.reconcile()
    world.clusters[driver.ref].status = JobManagerStatus.READY
    world.clusters[driver.ref].job = None  # the application's main() has not submitted it yet
    await driver.reconcile()
    assert driver.status.job_status.state is FlinkJobState.RECONCILING
    assert driver.status.error is None and "Missing" not in driver.reasons()
    world.now_ms += 61_000
    await driver.reconcile()
    assert driver.status.error == "Job Not Found" and "Missing" in driver.reasons()
