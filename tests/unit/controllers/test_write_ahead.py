"""Status as a write-ahead log: intent is recorded before every action, and a crash at any step boundary of
an upgrade resumes without repeating an effect, losing state, or running a job twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from tests.support.deployment_driver import Crash, Driver
from tests.support.flink_world import InMemoryFlink

from flink_operator.api import ReconciliationState, ResourceLifecycleState, stored_job_state
from flink_operator.controllers.deployment.steps import CancelJob, DeployCluster, Step
from flink_operator.flink.service import SuspendMode

pytestmark = pytest.mark.unit

HA = {"high-availability.type": "zookeeper", "high-availability.storageDir": "file:/ha"}


def assert_intent_recorded(step: Step) -> None:
    """What must be persisted before each kind of action."""
    action = step.action
    if isinstance(action, DeployCluster):
        request = action.request
        status = step.status
        reconciliation = status.reconciliation_status
        assert reconciliation.state is ReconciliationState.UPGRADING, step.note
        assert stored_job_state(reconciliation.last_reconciled_spec) == "suspended", step.note
        assert status.job_status.job_id == request.job_id, step.note
        assert status.observed_generation == request.generation, step.note
        if request.restore_path is not None:
            assert status.job_status.upgrade_savepoint_path == request.restore_path, step.note
    if isinstance(action, CancelJob) and action.mode is SuspendMode.SAVEPOINT and "deletion" not in step.note:
        info = step.status.job_status.savepoint_info
        assert (info.trigger_id, info.trigger_type and info.trigger_type.value) == (action.job_id, "UPGRADE")


async def _deployed(driver: Driver) -> None:
    await driver.converge()
    driver.world.progress(driver.ref, 10)
    driver.world.checkpoint(driver.ref)
    driver.world.progress(driver.ref, 5)


SCENARIOS: dict[str, Callable[[Driver], Awaitable[None]]] = {}


def scenario(function: Callable[[Driver], Awaitable[None]]) -> Callable[[Driver], Awaitable[None]]:
    SCENARIOS[function.__name__] = function
    return function


@scenario
async def savepoint_upgrade(driver: Driver) -> None:
    await _deployed(driver)
    driver.edit_job(parallelism=2)
    await driver.converge()


@scenario
async def suspend_resume(driver: Driver) -> None:
    await _deployed(driver)
    driver.edit_job(state="suspended")
    await driver.converge()
    driver.edit_job(state="running")
    await driver.converge()


@scenario
async def recovery_and_redeploy(driver: Driver) -> None:
    await _deployed(driver)
    driver.world.kill_jobmanager(driver.ref)
    await driver.converge()
    driver.edit_job(savepointRedeployNonce=1, initialSavepointPath=driver.world.checkpoint(driver.ref))
    await driver.converge()


@scenario
async def deletion(driver: Driver) -> None:
    await _deployed(driver)
    driver.delete()
    await driver.converge()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize(("mode", "config"), [("savepoint", {}), ("last-state", HA), ("stateless", {})])
async def test_every_action_is_preceded_by_its_intent(name: str, mode: str, config: dict[str, str]) -> None:
    driver = Driver.of(upgrade_mode=mode, config=config)
    await SCENARIOS[name](driver)
    acting = [step for step in driver.steps if step.action is not None]
    assert acting
    for step in acting:
        assert_intent_recorded(step)


UPGRADE_MODES = [("savepoint", {}, 15), ("last-state", HA, 10), ("last-state", {}, 10), ("stateless", {}, 0)]


def _upgrade_length() -> int:
    return 3  # suspend, restore, observe: the reconciles a clean upgrade of any mode takes at most


@pytest.mark.parametrize(("mode", "config", "expected_count"), UPGRADE_MODES)
@pytest.mark.parametrize("crash", list(Crash))
@pytest.mark.parametrize("crash_at", range(_upgrade_length()))
async def test_crash_at_every_step_of_an_upgrade_resumes_exactly_once(
    mode: str, config: dict[str, str], expected_count: int, crash: Crash, crash_at: int
) -> None:
    world = InMemoryFlink()
    driver = Driver.of(world, upgrade_mode=mode, config=config)
    await _deployed(driver)
    old_job = world.job(driver.ref).job_id
    driver.edit_job(parallelism=2)
    for _ in range(crash_at):
        await driver.reconcile()
    await driver.reconcile(crash=crash)
    # A new operator starts: it only has the persisted status and the world.
    await driver.converge()

    assert driver.lifecycle is ResourceLifecycleState.STABLE
    assert len(world.running_jobs()) == 1, "exactly one job runs"
    generation_2 = [d for d in world.deploys if d.generation == 2]
    assert len(generation_2) == 1, f"the new spec was deployed {len(generation_2)} times"
    assert len(world.started_jobs) == 2, "one job before, one after: nothing was started twice"
    savepoints = [s for s in world.snapshots.values() if s.savepoint]
    assert len(savepoints) == (1 if mode == "savepoint" else 0), "the savepoint was taken once"
    job = world.job(driver.ref)
    assert job.count == expected_count, "the state continues where the old job left it"
    if mode == "last-state" and config:
        assert job.job_id == old_job  # HA resumes the same job
    else:
        assert job.job_id != old_job
    for step in driver.steps:
        if step.action is not None:
            assert_intent_recorded(step)


async def test_crash_after_a_stop_with_savepoint_recovers_that_savepoint_not_an_older_checkpoint() -> None:
    driver = Driver.of()
    await _deployed(driver)
    driver.edit_job(parallelism=2)
    await driver.reconcile(crash=Crash.AFTER_ACTION)  # stopped with a savepoint at count 15, not recorded
    assert driver.status.reconciliation_status.state is ReconciliationState.DEPLOYED
    replay = await driver.reconcile()
    assert isinstance(replay.action, CancelJob) and replay.action.mode is SuspendMode.SAVEPOINT
    assert driver.status.job_status.upgrade_savepoint_path is not None
    assert "savepoint-" in driver.status.job_status.upgrade_savepoint_path
    await driver.converge()
    assert driver.world.job(driver.ref).count == 15


async def test_a_replayed_stop_that_shows_no_savepoint_yet_waits_within_the_grace_period() -> None:
    driver = Driver.of()
    await _deployed(driver)
    driver.edit_job(parallelism=2)
    await driver.reconcile(crash=Crash.AFTER_ACTION)
    original = driver.world.cancel_job

    async def stale_statistics(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = await original(*args, **kwargs)
        return type(result)(result.job_id, result.final_state)  # the savepoint is not listed yet

    driver.world.cancel_job = stale_statistics  # type: ignore[method-assign]
    waiting = await driver.reconcile()
    assert isinstance(waiting.action, CancelJob)
    assert driver.status.reconciliation_status.state is ReconciliationState.DEPLOYED, "nothing restored yet"
    assert driver.status.job_status.savepoint_info.trigger_id is not None, "the stop marker stays"
    driver.world.cancel_job = original  # type: ignore[method-assign]
    await driver.converge()
    assert driver.world.job(driver.ref).count == 15
