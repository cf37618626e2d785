"""The upgrade decision table (contract §3.14 getJobUpgrade), branch by branch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flink_operator.api import FlinkJobState, JobManagerDeploymentStatus, UpgradeMode
from flink_operator.controllers.common.errors import UpgradeFailureError
from flink_operator.controllers.common.upgrade import SuspendMode, UpgradeInputs, job_upgrade
from flink_operator.flink.config_builder import LAST_STATE_DUMMY_SAVEPOINT_PATH

pytestmark = pytest.mark.unit

J = FlinkJobState
JM = JobManagerDeploymentStatus
M = UpgradeMode
S = SuspendMode

RUNNING = UpgradeInputs(
    upgrade_mode=M.SAVEPOINT, job_state=J.RUNNING, jm_status=JM.READY, savepoint_dir_configured=True
)


def decide(**changes: object) -> tuple[SuspendMode | None, UpgradeMode | None, bool]:
    result = job_upgrade(replace(RUNNING, **changes))  # type: ignore[arg-type]
    return result.suspend_mode, result.restore_mode, result.available


def test_never_downgrades_a_stateful_mode_to_stateless() -> None:
    modes = (M.SAVEPOINT, M.LAST_STATE)
    for mode in modes:
        for job in (*J, None):
            for jm in JM:
                for ha in (False, True):
                    for metadata in (False, True):
                        inputs = replace(
                            RUNNING,
                            upgrade_mode=mode,
                            job_state=job,
                            jm_status=jm,
                            ha_enabled=ha,
                            ha_metadata_available=metadata,
                        )
                        try:
                            result = job_upgrade(inputs)
                        except UpgradeFailureError:
                            continue
                        assert result.restore_mode is not M.STATELESS
                        assert result.suspend_mode is not S.STATELESS


# 1. stateless
def test_stateless_running_and_terminal() -> None:
    assert decide(upgrade_mode=M.STATELESS) == (S.STATELESS, M.STATELESS, True)
    assert decide(upgrade_mode=M.STATELESS, job_state=J.FINISHED) == (S.NOOP, M.STATELESS, True)


# 2. terminal job with a usable status savepoint
@pytest.mark.parametrize(
    ("job", "jm", "metadata"),
    [(J.CANCELED, JM.MISSING, True), (J.FAILED, JM.MISSING, False), (J.FINISHED, JM.READY, True)],
)
def test_terminal_job_restores_from_savepoint(
    job: FlinkJobState, jm: JobManagerDeploymentStatus, metadata: bool
) -> None:
    assert decide(job_state=job, jm_status=jm, ha_metadata_available=metadata) == (S.NOOP, M.SAVEPOINT, True)


def test_terminal_job_with_unknown_checkpoint_fails_loudly() -> None:
    with pytest.raises(UpgradeFailureError, match="Manual restore required"):
        decide(job_state=J.FAILED, upgrade_savepoint_path=LAST_STATE_DUMMY_SAVEPOINT_PATH)


# 3. cancelling
def test_cancelling_job_is_pending() -> None:
    result = job_upgrade(replace(RUNNING, job_state=J.CANCELLING))
    assert not result.available and result.allow_other_reconcile_actions


# 4. savepoint mode
def test_savepoint_mode_running_takes_a_savepoint() -> None:
    assert decide() == (S.SAVEPOINT, M.SAVEPOINT, True)


def test_savepoint_mode_not_running_without_fallback_waits() -> None:
    result = job_upgrade(replace(RUNNING, job_state=J.RESTARTING, last_state_fallback_enabled=False))
    assert not result.available and not result.allow_fallback


def test_savepoint_mode_not_running_falls_back_to_last_state() -> None:
    # A restarting job on a READY JobManager without HA metadata is cancellable: cancel, restore checkpoint.
    assert decide(job_state=J.RESTARTING) == (S.CANCEL, M.SAVEPOINT, True)
    # A Flink version change forces the last-state logic even without fallback.
    assert decide(job_state=J.RESTARTING, last_state_fallback_enabled=False, flink_version_changed=True) == (
        S.CANCEL,
        M.SAVEPOINT,
        True,
    )


# 5. last-state
def test_last_state_running_with_ha_metadata_deletes_the_cluster_keeping_ha() -> None:
    assert decide(upgrade_mode=M.LAST_STATE, ha_metadata_available=True) == (S.LAST_STATE, M.LAST_STATE, True)


def test_last_state_running_without_ha_metadata_cancels() -> None:
    assert decide(upgrade_mode=M.LAST_STATE) == (S.CANCEL, M.SAVEPOINT, True)


def test_last_state_job_cancel_enabled_cancels_even_with_ha_metadata() -> None:
    assert decide(
        upgrade_mode=M.LAST_STATE, ha_metadata_available=True, last_state_job_cancel_enabled=True
    ) == (S.CANCEL, M.SAVEPOINT, True)


def test_last_state_version_change() -> None:
    assert decide(upgrade_mode=M.LAST_STATE, flink_version_changed=True) == (S.SAVEPOINT, M.SAVEPOINT, True)
    assert decide(upgrade_mode=M.LAST_STATE, flink_version_changed=True, savepoint_dir_configured=False) == (
        S.CANCEL,
        M.SAVEPOINT,
        True,
    )
    result = job_upgrade(
        replace(
            RUNNING,
            upgrade_mode=M.LAST_STATE,
            flink_version_changed=True,
            savepoint_dir_configured=False,
            jm_status=JM.DEPLOYING,
            job_state=J.RECONCILING,
            ha_metadata_available=True,
        )
    )
    assert not result.available


def test_last_state_max_checkpoint_age() -> None:
    base = {
        "upgrade_mode": M.LAST_STATE,
        "ha_metadata_available": True,
        "max_checkpoint_age_ms": 60_000,
        "now_ms": 1_000_000,
    }
    # Started recently: default.
    assert decide(**base, job_start_time_ms=990_000) == (S.LAST_STATE, M.LAST_STATE, True)
    # Started long ago with a recent checkpoint: default.
    assert decide(**base, job_start_time_ms=0, latest_checkpoint_time_ms=950_000) == (
        S.LAST_STATE,
        M.LAST_STATE,
        True,
    )
    # Started long ago, checkpoint too old: savepoint instead.
    assert decide(**base, job_start_time_ms=0, latest_checkpoint_time_ms=100) == (
        S.SAVEPOINT,
        M.SAVEPOINT,
        True,
    )


def test_last_state_not_running_but_cancellable() -> None:
    assert decide(upgrade_mode=M.LAST_STATE, job_state=J.RESTARTING) == (S.CANCEL, M.SAVEPOINT, True)


# 6. unavailable, and the application overrides
def test_unavailable_with_ha_metadata_falls_back_to_last_state() -> None:
    assert decide(
        upgrade_mode=M.LAST_STATE,
        job_state=J.RECONCILING,
        jm_status=JM.DEPLOYING,
        ha_enabled=True,
        ha_metadata_available=True,
    ) == (S.LAST_STATE, M.LAST_STATE, True)


def test_unavailable_without_ha_is_pending_while_the_jobmanager_exists() -> None:
    result = job_upgrade(
        replace(RUNNING, upgrade_mode=M.LAST_STATE, job_state=J.RECONCILING, jm_status=JM.DEPLOYING)
    )
    assert not result.available


@pytest.mark.parametrize("jm", [JM.MISSING, JM.ERROR])
def test_jobmanager_gone_without_ha_metadata_needs_manual_restore(jm: JobManagerDeploymentStatus) -> None:
    with pytest.raises(UpgradeFailureError) as raised:
        decide(upgrade_mode=M.LAST_STATE, job_state=J.RECONCILING, jm_status=jm)
    assert "Manual restore required." in raised.value.message
    assert "HA metadata is not available" in raised.value.message


def test_jobmanager_gone_with_a_retained_checkpoint_restores_from_it() -> None:
    result = job_upgrade(
        replace(
            RUNNING,
            upgrade_mode=M.LAST_STATE,
            job_state=J.RECONCILING,
            jm_status=JM.MISSING,
            retained_checkpoint_path="file:/c/chk-3",
        )
    )
    assert (result.suspend_mode, result.restore_mode, result.restore_path) == (
        S.NOOP,
        M.SAVEPOINT,
        "file:/c/chk-3",
    )


def test_suspend_mode_cluster_and_ha_effects() -> None:
    assert S.STATELESS.deletes_cluster and S.STATELESS.deletes_ha_data
    assert S.LAST_STATE.deletes_cluster and not S.LAST_STATE.deletes_ha_data
    assert not S.SAVEPOINT.deletes_cluster and not S.CANCEL.deletes_cluster and not S.NOOP.deletes_cluster


def test_a_job_that_never_started_resumes_from_its_start_point() -> None:
    result = job_upgrade(
        replace(
            RUNNING,
            job_state=J.RECONCILING,
            jm_status=JM.ERROR,
            job_started=False,
            upgrade_savepoint_path="file:/sp-0",
        )
    )
    assert (result.suspend_mode, result.restore_mode, result.restore_path) == (
        S.NOOP,
        M.SAVEPOINT,
        "file:/sp-0",
    )
