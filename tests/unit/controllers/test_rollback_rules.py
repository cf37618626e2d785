"""The rollback decisions as pure rules (contract §3.17 and ours): when a rollback starts, continues, is
abandoned or is not possible, and which state it restores from."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.deployment_driver import deployment_document

from flink_operator.api import FlinkDeploymentSpec, ReconciliationState, UpgradeMode
from flink_operator.controllers.deployment.rollback_rules import (
    RollbackInputs,
    RollbackPlan,
    Verdict,
    rollback_decision,
    rollback_plan,
)

pytestmark = pytest.mark.unit

S = ReconciliationState
TIMEOUT = 300_000


def spec(**job: Any) -> FlinkDeploymentSpec:
    document = deployment_document()["spec"]
    flink_version = job.pop("flinkVersion", None)
    if flink_version:
        document["flinkVersion"] = flink_version
    document["job"].update(job)
    return FlinkDeploymentSpec.model_validate(document)


STABLE = spec(parallelism=1)
BROKEN = spec(parallelism=2)


def inputs(**changes: Any) -> RollbackInputs:
    values: dict[str, Any] = {
        "enabled": True,
        "cancel_requested": False,
        "state": S.DEPLOYED,
        "reconciled_is_stable": False,
        "reconciled": BROKEN,
        "desired": BROKEN,
        "stable": STABLE,
        "reconciliation_timestamp_ms": 1_000_000,
        "readiness_timeout_ms": TIMEOUT,
        "now_ms": 1_000_000 + TIMEOUT + 1,
    }
    values.update(changes)
    return RollbackInputs(**values)


def test_an_unstable_spec_past_the_readiness_timeout_is_rolled_back() -> None:
    decision = rollback_decision(inputs())
    assert decision.verdict is Verdict.START and not decision.cancel
    assert decision.reason == "the deployment did not become stable within 300 s"


def test_not_before_the_readiness_timeout_and_the_time_left_is_known() -> None:
    decision = rollback_decision(inputs(now_ms=1_000_000 + TIMEOUT))
    assert decision.verdict is Verdict.NONE and decision.due_in_ms == 1
    decision = rollback_decision(inputs(now_ms=1_000_000 + 100_000))
    assert decision.due_in_ms == TIMEOUT - 100_000 + 1


def test_an_upgrade_whose_deployment_keeps_failing_is_rolled_back_too() -> None:
    stored = spec(parallelism=2, state="suspended")  # an UPGRADING intent stores its target suspended
    assert rollback_decision(inputs(state=S.UPGRADING, reconciled=stored)).verdict is Verdict.START


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"enabled": False}, "rollback is not enabled"),
        ({"reconciled_is_stable": True}, "no deployment is in flight: the running spec is stable"),
        ({"state": S.ROLLED_BACK}, "the deployment was rolled back already"),
        ({"stable": None}, "there is no stable spec to return to"),
        ({"stable": spec(parallelism=1, state="suspended")}, "the last stable spec is suspended"),
        (
            {"stable": spec(parallelism=2, upgradeMode="stateless")},
            "the spec in flight is the last stable spec",
        ),
        (
            {"stable": spec(parallelism=1, flinkVersion="v1_20")},
            "the spec in flight changes flinkVersion; its state may not load in the old version",
        ),
        ({"desired": spec(parallelism=3)}, "a newer spec is being deployed"),
    ],
    ids=[
        "disabled",
        "stable",
        "rolled-back",
        "no-stable",
        "stable-suspended",
        "same-spec",
        "version",
        "newer",
    ],
)
def test_no_rollback_when(changes: dict[str, Any], why: str) -> None:
    decision = rollback_decision(inputs(**changes))
    assert (decision.verdict, decision.reason) == (Verdict.NONE, why)
    # The cancel annotation overrides only "not enabled" (and the timeout).
    cancelled = rollback_decision(inputs(cancel_requested=True, **changes)).verdict
    assert cancelled is (Verdict.START if changes == {"enabled": False} else Verdict.NONE)


def test_a_cancel_request_rolls_back_at_once_even_with_rollback_disabled() -> None:
    decision = rollback_decision(inputs(enabled=False, cancel_requested=True, now_ms=1_000_001))
    assert decision.verdict is Verdict.START and decision.cancel
    assert decision.reason == "the deployment in flight was cancelled on request"


def test_a_rollback_in_flight_continues_and_a_user_change_abandons_it() -> None:
    assert rollback_decision(inputs(state=S.ROLLING_BACK)).verdict is Verdict.CONTINUE
    # Another upgrade mode or trigger nonce is not a change of what runs.
    same = spec(parallelism=2, upgradeMode="last-state", savepointTriggerNonce=5)
    assert rollback_decision(inputs(state=S.ROLLING_BACK, desired=same)).verdict is Verdict.CONTINUE
    changed = spec(parallelism=4)
    assert rollback_decision(inputs(state=S.ROLLING_BACK, desired=changed)).verdict is Verdict.ABANDON
    assert rollback_decision(inputs(state=S.ROLLING_BACK, enabled=False)).verdict is Verdict.CONTINUE


def plan(stable_mode: UpgradeMode = UpgradeMode.SAVEPOINT, **facts: Any) -> RollbackPlan:
    values: dict[str, Any] = {
        "ha_enabled": False,
        "ha_metadata_available": False,
        "job_id": "a" * 32,
        "failing_checkpoint": None,
        "start_point": None,
    }
    values.update(facts)
    return rollback_plan(stable_mode, **values)


def test_a_stateless_stable_spec_restarts_empty() -> None:
    result = plan(UpgradeMode.STATELESS, failing_checkpoint="file:/c/chk-3", start_point="file:/s/sp-1")
    assert (result.mode, result.restore_path, result.reuse_job_id) == (UpgradeMode.STATELESS, None, False)
    assert result.delete_ha_data


@pytest.mark.parametrize("stable_mode", [UpgradeMode.SAVEPOINT, UpgradeMode.LAST_STATE])
def test_with_ha_metadata_the_same_job_resumes_from_it(stable_mode: UpgradeMode) -> None:
    result = plan(
        stable_mode,
        ha_enabled=True,
        ha_metadata_available=True,
        failing_checkpoint="file:/c/chk-3",
        start_point="file:/s/sp-1",
    )
    assert (result.mode, result.restore_path, result.reuse_job_id) == (
        UpgradeMode.LAST_STATE,
        "file:/c/chk-3",
        True,
    )
    assert not result.delete_ha_data


@pytest.mark.parametrize("stable_mode", [UpgradeMode.SAVEPOINT, UpgradeMode.LAST_STATE])
def test_without_ha_the_failing_jobs_latest_checkpoint_comes_first(stable_mode: UpgradeMode) -> None:
    # FLINK-33107: never the stable spec's own mode when that would drop the state the job is in.
    result = plan(
        stable_mode, ha_enabled=True, failing_checkpoint="file:/c/chk-3", start_point="file:/s/sp-1"
    )
    assert (result.mode, result.restore_path, result.reuse_job_id) == (
        UpgradeMode.SAVEPOINT,
        "file:/c/chk-3",
        False,
    )
    assert result.delete_ha_data


def test_a_job_that_never_checkpointed_restarts_from_where_the_failed_attempt_started() -> None:
    result = plan(UpgradeMode.LAST_STATE, start_point="file:/s/sp-1")
    assert (result.mode, result.restore_path) == (UpgradeMode.SAVEPOINT, "file:/s/sp-1")
    assert "where the failed attempt started from" in result.source


def test_without_any_snapshot_the_state_was_empty_already() -> None:
    result = plan(UpgradeMode.SAVEPOINT)
    assert (result.mode, result.restore_path) == (UpgradeMode.SAVEPOINT, None)
    assert "started without state" in result.source


def test_ha_enabled_without_metadata_or_job_id_falls_back_to_snapshots() -> None:
    assert (
        plan(ha_enabled=True, ha_metadata_available=False, start_point="file:/s/sp").mode
        is UpgradeMode.SAVEPOINT
    )
    assert plan(ha_enabled=True, ha_metadata_available=True, job_id=None).mode is UpgradeMode.SAVEPOINT
