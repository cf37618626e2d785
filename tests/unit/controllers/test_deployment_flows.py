"""FlinkDeployment decisions, scenario by scenario, driven against an in-memory Flink world.

Each test runs the real decision code (`build_context` -> `decide` -> action -> outcome) the way the shell
does, and checks the status written, the events, the actions, and what runs in the world afterwards.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.support.deployment_driver import Driver
from tests.support.flink_world import InMemoryFlink

from flink_operator.api import (
    FlinkJobState,
    JobManagerDeploymentStatus,
    ReconciliationState,
    ResourceLifecycleState,
    UpgradeMode,
    compute_lifecycle_state,
    read_spec_with_meta,
    stored_job_state,
)
from flink_operator.config import DefaultConfiguration
from flink_operator.controllers.common.errors import error_message
from flink_operator.controllers.deployment.steps import CancelJob, DeleteCluster, DeployCluster
from flink_operator.flink.service import SuspendMode

pytestmark = pytest.mark.unit

L = ResourceLifecycleState
HA = {"high-availability.type": "zookeeper", "high-availability.storageDir": "file:/ha"}


def reconciled(driver: Driver) -> dict[str, Any]:
    text = driver.status.reconciliation_status.last_reconciled_spec
    assert text is not None
    return read_spec_with_meta(text).spec


async def running(driver: Driver, records: int = 10, checkpoint: bool = True) -> int:
    """Deploy, let the job count `records`, checkpoint, count 5 more; returns the checkpointed count."""
    await driver.converge()
    driver.world.progress(driver.ref, records)
    if checkpoint:
        driver.world.checkpoint(driver.ref)
    driver.world.progress(driver.ref, 5)
    return records


# --------------------------------------------------------------------------------- first deployment


async def test_first_deployment_records_intent_then_deploys_once() -> None:
    driver = Driver.of()
    step = await driver.reconcile()
    assert isinstance(step.action, DeployCluster)
    intent = step.status
    assert intent.reconciliation_status.state is ReconciliationState.UPGRADING
    assert stored_job_state(intent.reconciliation_status.last_reconciled_spec) == "suspended"
    assert intent.job_status.job_id == step.action.request.job_id
    assert intent.observed_generation == step.action.request.generation == 1
    assert intent.lifecycle_state is L.UPGRADING
    request = step.action.request
    assert request.restore_path is None and not request.ha_enabled
    assert request.configuration["$internal.pipeline.job-id"] == request.job_id
    # The outcome: deployed, not yet stable; the recorded upgrade mode of a fresh start is stateless.
    assert driver.lifecycle is L.DEPLOYED
    assert driver.status.job_status.state is FlinkJobState.RECONCILING
    assert driver.status.job_manager_deployment_status is JobManagerDeploymentStatus.DEPLOYING
    assert reconciled(driver)["job"]["upgradeMode"] == "stateless"
    assert driver.status.cluster_info["rest-url"].startswith("http://127.0.0.1")
    assert driver.reasons() == ["Submit"]
    driver.world.settle()
    await driver.converge()
    assert compute_lifecycle_state(driver.status) is L.STABLE
    ready = {c.type: c for c in driver.status.conditions}
    assert ready["Ready"].status == "True" and ready["Running"].status == "True"
    assert len(driver.world.deploys) == 1 and len(driver.world.running_jobs()) == 1


async def test_first_deployment_from_initial_savepoint() -> None:
    world = InMemoryFlink()
    source = Driver.of(world, name="source")
    await running(source, 40)
    savepoint = await world.cancel_job(source.ref, world.job(source.ref).job_id, SuspendMode.SAVEPOINT)
    driver = Driver.of(world)
    driver.edit_job(initialSavepointPath=savepoint.savepoint_path, allowNonRestoredState=True)
    step = await driver.reconcile()
    assert isinstance(step.action, DeployCluster)
    assert step.action.request.restore_path == savepoint.savepoint_path
    assert step.action.request.allow_non_restored_state
    assert step.status.job_status.upgrade_savepoint_path == savepoint.savepoint_path
    assert reconciled(driver)["job"]["upgradeMode"] == "savepoint"
    assert world.job(driver.ref).count == 45


async def test_created_suspended_is_not_deployed() -> None:
    driver = Driver.of(state="suspended")
    step = await driver.reconcile()
    assert step.action is None
    assert driver.lifecycle is L.CREATED and not driver.world.deploys


async def test_unsupported_flink_version_is_reported_and_not_rescheduled() -> None:
    driver = Driver.of(flinkVersion="v1_14")
    step = await driver.reconcile()
    assert step.action is None and step.requeue.after is None
    assert driver.reasons() == ["UnsupportedFlinkVersion"]
    assert "v1_14 is not supported" in driver.events[0].message


# --------------------------------------------------------------------------------- validation


async def test_invalid_spec_before_first_deployment_waits_for_the_user() -> None:
    driver = Driver.of()
    driver.validate = lambda _: "spec.job.parallelism: must be at least 1"
    step = await driver.reconcile()
    assert step.action is None and step.requeue.after is None
    body = json.loads(driver.status.error or "")
    assert body["type"].endswith("ValidationException")
    assert body["message"] == "spec.job.parallelism: must be at least 1"
    assert driver.reasons() == ["ValidationError"]
    assert driver.events[0].is_warning and "spec.job.parallelism" in driver.events[0].message
    assert driver.lifecycle is L.FAILED
    assert not driver.world.deploys


async def test_invalid_change_keeps_the_last_valid_spec_running() -> None:
    driver = Driver.of()
    await running(driver)
    job_id = driver.world.job(driver.ref).job_id
    driver.edit_job(parallelism=-3)
    driver.validate = lambda r: (
        "spec.job.parallelism: must be at least 1" if r.spec.job and r.spec.job.parallelism < 0 else None
    )
    for _ in range(3):
        step = await driver.reconcile()
        assert step.action is None
    assert driver.world.job(driver.ref).job_id == job_id and driver.world.job(driver.ref).state == "RUNNING"
    assert "spec.job.parallelism" in (error_message(driver.status.error) or "")
    assert driver.status.observed_generation == 1  # the rejected generation is not reconciled
    ready = {c.type: c for c in driver.status.conditions}["Ready"]
    assert (ready.status, ready.reason) == ("False", "InvalidSpec")
    assert driver.lifecycle is L.STABLE
    # Fixing the spec upgrades and clears the error.
    driver.edit_job(parallelism=2)
    await driver.converge()
    assert driver.status.error is None
    assert driver.status.observed_generation == 3
    assert reconciled(driver)["job"]["parallelism"] == 2


# --------------------------------------------------------------------------------- upgrades


async def test_stateless_upgrade_restarts_from_nothing() -> None:
    driver = Driver.of(upgrade_mode="stateless")
    await running(driver)
    old_job = driver.world.job(driver.ref).job_id
    driver.edit_job(parallelism=2)
    steps = await driver.converge()
    actions = [s.action for s in steps if s.action is not None]
    assert isinstance(actions[0], DeleteCluster) and actions[0].delete_ha_data
    assert isinstance(actions[1], DeployCluster) and actions[1].request.restore_path is None
    job = driver.world.job(driver.ref)
    assert job.job_id != old_job and job.count == 0
    assert driver.reasons().count("SpecChanged") == 1


async def test_savepoint_upgrade_continues_from_the_savepoint() -> None:
    driver = Driver.of()
    await running(driver)
    old_job = driver.world.job(driver.ref).job_id
    driver.edit_job(parallelism=2)
    steps = await driver.converge()
    actions = [s.action for s in steps if s.action is not None]
    assert isinstance(actions[0], CancelJob) and actions[0].mode is SuspendMode.SAVEPOINT
    assert actions[0].savepoint_dir == "file:/savepoints"
    assert isinstance(actions[1], DeployCluster)
    path = actions[1].request.restore_path
    assert path is not None and "savepoint-" in path
    job = driver.world.job(driver.ref)
    assert job.job_id != old_job and job.count == 15 and job.restored_from == path
    last = driver.status.job_status.savepoint_info.last_savepoint
    assert last is not None and last.location == path and last.trigger_type.value == "UPGRADE"
    assert driver.status.job_status.savepoint_info.trigger_id is None
    assert reconciled(driver)["job"]["upgradeMode"] == "savepoint"
    assert driver.reasons() == [
        "Submit",
        "JobStatusChanged",
        "SpecChanged",
        "Suspended",
        "Submit",
        "JobStatusChanged",
    ]


async def test_last_state_upgrade_without_ha_cancels_and_restores_the_latest_checkpoint() -> None:
    driver = Driver.of(upgrade_mode="last-state")
    checkpointed = await running(driver)
    driver.edit_job(parallelism=2)
    steps = await driver.converge()
    actions = [s.action for s in steps if s.action is not None]
    assert isinstance(actions[0], CancelJob) and actions[0].mode is SuspendMode.LAST_STATE
    assert isinstance(actions[1], DeployCluster)
    assert actions[1].request.restore_path is not None and "chk-" in actions[1].request.restore_path
    assert driver.world.job(driver.ref).count == checkpointed
    assert reconciled(driver)["job"]["upgradeMode"] == "savepoint"  # the restore mode used


async def test_last_state_upgrade_with_ha_keeps_the_job_id_and_ha_data() -> None:
    driver = Driver.of(upgrade_mode="last-state", config=HA)
    checkpointed = await running(driver)
    job_id = driver.world.job(driver.ref).job_id
    driver.edit_job(parallelism=2)
    steps = await driver.converge()
    actions = [s.action for s in steps if s.action is not None]
    assert isinstance(actions[0], DeleteCluster) and not actions[0].delete_ha_data
    assert isinstance(actions[1], DeployCluster) and not actions[1].delete_ha_data
    assert actions[1].request.ha_enabled and actions[1].request.job_id == job_id
    assert driver.world.job(driver.ref).count == checkpointed


async def test_restart_nonce_restarts_and_clearing_it_does_nothing() -> None:
    driver = Driver.of()
    await running(driver)
    driver.edit(lambda spec: spec.update(restartNonce=7))
    await driver.converge()
    assert len(driver.world.deploys) == 2
    driver.edit(lambda spec: spec.pop("restartNonce"))
    steps = await driver.run(2)
    assert all(s.action is None for s in steps)
    assert len(driver.world.deploys) == 2
    assert driver.status.observed_generation == 3


async def test_ignored_change_only_refreshes_the_observed_generation() -> None:
    driver = Driver.of()
    await running(driver)
    driver.edit_job(upgradeMode="last-state")
    step = await driver.reconcile()
    assert step.action is None and not any(e.reason == "SpecChanged" for e in driver.events)
    assert driver.status.observed_generation == 2


async def test_spec_changed_event_names_paths_without_secret_values_once_per_generation() -> None:
    driver = Driver.of(config={"s3.secret-key": "super-secret-1"})
    await running(driver)
    driver.edit(lambda spec: spec["flinkConfiguration"].update({"s3.secret-key": "super-secret-2"}))
    step = await driver.reconcile()
    changed = [e for e in step.events if e.reason == "SpecChanged"]
    assert len(changed) == 1
    assert changed[0].once and changed[0].message_key == "SpecChanged-generation-2"
    assert changed[0].message == (
        "UPGRADE change(s) detected (Diff: FlinkDeploymentSpec[flinkConfiguration.s3.secret-key]), "
        "starting reconciliation."
    )
    assert "super-secret" not in changed[0].message


async def test_savepoint_redeploy_starts_from_the_initial_path_and_is_stable_at_once() -> None:
    world = InMemoryFlink()
    source = Driver.of(world, name="source")
    await running(source, 70)
    savepoint = await world.cancel_job(source.ref, world.job(source.ref).job_id, SuspendMode.SAVEPOINT)
    driver = Driver.of(world)
    await running(driver)
    driver.edit_job(initialSavepointPath=savepoint.savepoint_path, savepointRedeployNonce=1)
    steps = await driver.run(2)
    actions = [s.action for s in steps]
    assert isinstance(actions[0], DeleteCluster) and actions[0].delete_ha_data
    assert (
        isinstance(actions[1], DeployCluster) and actions[1].request.restore_path == savepoint.savepoint_path
    )
    reconciliation = driver.status.reconciliation_status
    assert reconciliation.last_stable_spec == reconciliation.last_reconciled_spec  # no rollback across it
    assert world.job(driver.ref).count == 75


# --------------------------------------------------------------------------------- suspend / resume


@pytest.mark.parametrize(
    ("mode", "config", "first", "kept"),
    [
        ("savepoint", {}, CancelJob, 15),
        ("last-state", HA, DeleteCluster, 10),
        ("stateless", {}, DeleteCluster, 0),
    ],
)
async def test_suspend_and_resume(mode: str, config: dict[str, str], first: type, kept: int) -> None:
    driver = Driver.of(upgrade_mode=mode, config=config)
    await running(driver)
    driver.edit_job(state="suspended")
    steps = await driver.converge()
    assert isinstance(steps[0].action, first)
    assert driver.lifecycle is L.SUSPENDED
    assert not driver.world.clusters, "a suspended job leaves no cluster running"
    ready = {c.type: c for c in driver.status.conditions}["Ready"]
    assert (ready.status, ready.reason) == ("False", "Suspended")
    assert driver.status.task_manager is not None and driver.status.task_manager.replicas == 0
    driver.edit_job(state="running")
    await driver.converge()
    assert driver.world.job(driver.ref).count == kept
    assert len(driver.world.running_jobs()) == 1


async def test_upgrade_mode_of_a_suspended_job_is_kept_for_the_restore() -> None:
    driver = Driver.of()
    await running(driver)
    driver.edit_job(state="suspended")
    await driver.converge()
    driver.edit(lambda spec: spec.update(image="flink:other"))
    driver.edit_job(upgradeMode="last-state")
    await driver.converge()
    assert reconciled(driver)["job"]["upgradeMode"] == "savepoint"
    driver.edit_job(state="running")
    await driver.converge()
    assert driver.world.job(driver.ref).count == 15


# --------------------------------------------------------------------------------- failures, recovery


async def test_pending_upgrade_while_the_job_is_cancelling() -> None:
    driver = Driver.of(upgrade_mode="last-state")
    await running(driver)
    driver.world.job(driver.ref).state = "CANCELLING"
    driver.edit_job(parallelism=2)
    step = await driver.reconcile()
    assert (
        step.action is None
        and step.requeue.after
        == driver.configuration.configuration.get(
            __import__(
                "flink_operator.config.operator_options", fromlist=["x"]
            ).OBSERVER_PROGRESS_CHECK_INTERVAL
        ).total_seconds()
    )


async def test_stateful_upgrade_without_any_state_source_fails_loudly() -> None:
    driver = Driver.of(upgrade_mode="last-state")
    await running(driver, checkpoint=False)
    driver.world.kill_jobmanager(driver.ref)
    driver.edit_job(parallelism=2)
    step = await driver.reconcile()
    assert step.action is None
    assert "Manual restore required." in (error_message(driver.status.error) or "")
    assert "UpgradeFailed" in driver.reasons() and "Missing" in driver.reasons()
    assert driver.lifecycle is L.FAILED
    assert not driver.world.clusters


async def test_lost_jobmanager_of_a_stateless_job_is_recovered() -> None:
    driver = Driver.of(upgrade_mode="stateless")
    await running(driver)
    driver.world.kill_jobmanager(driver.ref)
    await driver.converge()
    assert "RecoverDeployment" in driver.reasons()
    assert len(driver.world.running_jobs()) == 1


async def test_lost_jobmanager_of_a_stateful_job_resumes_from_ha() -> None:
    driver = Driver.of(upgrade_mode="last-state", config=HA)
    checkpointed = await running(driver)
    job_id = driver.world.job(driver.ref).job_id
    driver.world.kill_jobmanager(driver.ref)
    await driver.converge()
    job = driver.world.job(driver.ref)
    assert job.job_id == job_id and job.count == checkpointed


async def test_lost_jobmanager_without_ha_restores_the_retained_checkpoint() -> None:
    driver = Driver.of()
    checkpointed = await running(driver)
    driver.world.kill_jobmanager(driver.ref)
    await driver.converge()
    assert driver.world.job(driver.ref).count == checkpointed


async def test_failed_job_restarts_only_when_asked_to() -> None:
    driver = Driver.of()
    await running(driver)
    driver.world.fail_job(driver.ref)
    await driver.run(2)
    assert driver.lifecycle is L.FAILED and len(driver.world.deploys) == 1
    assert "Error" in driver.reasons()
    driver.configuration = DefaultConfiguration({"kubernetes.operator.job.restart.failed": "true"})
    await driver.run(2)
    assert len(driver.world.deploys) == 2
    assert driver.world.job(driver.ref).count == 10  # from the latest checkpoint of the failed job


async def test_deploy_failure_keeps_the_intent_and_retries_with_the_same_job_id() -> None:
    driver = Driver.of()
    world = driver.world
    original = world.deploy_application_cluster
    attempts: list[str | None] = []

    async def failing(request):  # type: ignore[no-untyped-def]
        attempts.append(request.job_id)
        if len(attempts) == 1:
            raise RuntimeError("no distribution for v2_3")
        return await original(request)

    world.deploy_application_cluster = failing  # type: ignore[method-assign]
    await driver.reconcile()
    assert driver.lifecycle is L.UPGRADING
    assert "no distribution" in (error_message(driver.status.error) or "")
    assert driver.reasons() == ["Submit", "Error"]
    await driver.converge()
    assert attempts[0] == attempts[1]
    assert driver.status.error is None


# --------------------------------------------------------------------------------- deletion


async def test_deletion_removes_the_cluster_and_its_ha_data() -> None:
    driver = Driver.of(upgrade_mode="last-state", config=HA)
    await running(driver)
    driver.delete()
    step = await driver.reconcile()
    assert isinstance(step.action, DeleteCluster) and step.action.delete_ha_data
    assert step.status.lifecycle_state is L.DELETING
    assert driver.released and driver.status.lifecycle_state is L.DELETED
    assert not driver.world.clusters and not driver.world.ha_store
    assert driver.reasons() == ["Submit", "JobStatusChanged", "Cleanup"]


async def test_deletion_with_savepoint_on_deletion_stops_with_a_savepoint_first() -> None:
    driver = Driver.of()
    driver.configuration = DefaultConfiguration({"kubernetes.operator.job.savepoint-on-deletion": "true"})
    await running(driver)
    driver.delete()
    first = await driver.reconcile()
    assert isinstance(first.action, CancelJob) and first.action.mode is SuspendMode.SAVEPOINT
    assert not driver.released
    second = await driver.reconcile()
    assert isinstance(second.action, DeleteCluster)
    assert driver.released and not driver.world.clusters
    assert driver.status.job_status.upgrade_savepoint_path is not None


async def test_deletion_goes_on_when_the_savepoint_fails() -> None:
    driver = Driver.of()
    driver.configuration = DefaultConfiguration({"kubernetes.operator.job.savepoint-on-deletion": "true"})
    await running(driver)

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("savepoint failed")

    driver.world.cancel_job = broken  # type: ignore[method-assign]
    driver.delete()
    await driver.reconcile()
    assert "CleanupFailed" in driver.reasons() and not driver.released
    await driver.reconcile()
    assert driver.released and not driver.world.clusters


async def test_deletion_before_anything_was_deployed() -> None:
    driver = Driver.of()
    driver.validate = lambda _: "bad"
    await driver.reconcile()
    driver.delete()
    await driver.reconcile()
    assert driver.released


async def test_suspended_job_leftover_cluster_is_removed_keeping_the_recorded_mode() -> None:
    driver = Driver.of()
    await running(driver)
    driver.edit_job(state="suspended")
    first = await driver.reconcile()
    assert isinstance(first.action, CancelJob)
    assert driver.world.clusters, "the stopped job's cluster stays until the savepoint is recorded"
    assert driver.lifecycle is L.SUSPENDED
    second = await driver.reconcile()
    assert isinstance(second.action, DeleteCluster) and second.action.delete_ha_data
    assert not driver.world.clusters
    assert UpgradeMode(reconciled(driver)["job"]["upgradeMode"]) is UpgradeMode.SAVEPOINT


async def test_a_fix_for_a_deployment_whose_jobmanager_never_came_up_is_applied() -> None:
    driver = Driver.of()
    await driver.reconcile()
    driver.world.crash_loop(driver.ref)  # the JobManager fails on start; its job never runs
    await driver.reconcile()
    assert driver.status.job_manager_deployment_status is JobManagerDeploymentStatus.ERROR
    assert "Error" in driver.reasons()
    driver.edit(lambda spec: spec.update(image="flink:fixed"))
    await driver.converge()
    assert driver.lifecycle is L.STABLE
    assert (
        driver.world.clusters[driver.ref].request.configuration["kubernetes.container.image.ref"]
        == "flink:fixed"
    )


async def test_a_jobmanager_lost_before_its_job_ever_ran_is_redeployed_from_the_start_point() -> None:
    world = InMemoryFlink()
    source = Driver.of(world, name="source")
    await running(source, 30)
    savepoint = await world.cancel_job(source.ref, world.job(source.ref).job_id, SuspendMode.SAVEPOINT)
    driver = Driver.of(world)
    driver.edit_job(initialSavepointPath=savepoint.savepoint_path)
    await driver.reconcile()
    world.kill_jobmanager(driver.ref)
    await driver.converge()
    assert "RecoverDeployment" in driver.reasons()
    assert (
        world.job(driver.ref).count == 35 and world.job(driver.ref).restored_from == savepoint.savepoint_path
    )


async def test_an_invalid_change_during_an_upgrade_completes_the_valid_upgrade() -> None:
    driver = Driver.of()
    await running(driver)
    driver.edit_job(parallelism=2)
    await driver.reconcile()  # stopped with a savepoint; UPGRADING towards generation 2
    assert driver.lifecycle is L.UPGRADING
    driver.edit_job(parallelism=-1)
    driver.validate = lambda r: (
        "spec.job.parallelism: must be at least 1" if r.spec.job and r.spec.job.parallelism < 0 else None
    )
    steps = await driver.run(3)
    deploy = next(s.action for s in steps if isinstance(s.action, DeployCluster))
    assert deploy.request.generation == 2 and deploy.request.job is not None
    assert deploy.request.job.parallelism == 2
    assert driver.status.observed_generation == 2
    assert "must be at least 1" in (error_message(driver.status.error) or "")
    assert driver.world.job(driver.ref).count == 15
    ready = {c.type: c for c in driver.status.conditions}["Ready"]
    assert (ready.reason, ready.observed_generation) == ("InvalidSpec", 3)
