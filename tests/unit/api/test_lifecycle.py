"""The lifecycle state computation of §2.1, rule by rule and in its order."""

from typing import Any

import pytest

from flink_operator.api import (
    FlinkDeploymentStatus,
    FlinkSessionJobStatus,
    ResourceLifecycleState,
    compute_lifecycle_state,
    write_spec_with_meta,
)
from flink_operator.api.lifecycle import TERMINAL_ERROR_MARKERS

pytestmark = pytest.mark.unit

State = ResourceLifecycleState
RUNNING_SPEC = write_spec_with_meta({"job": {"jarURI": "local:///a.jar", "state": "running"}}, "v", False)
SUSPENDED_SPEC = write_spec_with_meta({"job": {"jarURI": "local:///a.jar", "state": "suspended"}}, "v", False)
OTHER_SPEC = write_spec_with_meta({"job": {"jarURI": "local:///b.jar"}}, "v", False)
SESSION_SPEC = write_spec_with_meta({"image": "flink:2.3"}, "v", False)


def status(
    *,
    stored: str | None = None,
    reconciled: str | None = RUNNING_SPEC,
    stable: str | None = None,
    state: str = "DEPLOYED",
    job: str | None = "RUNNING",
    error: str | None = None,
    jm: str = "READY",
    session_job: bool = False,
) -> FlinkDeploymentStatus | FlinkSessionJobStatus:
    document: dict[str, Any] = {
        "reconciliationStatus": {"lastReconciledSpec": reconciled, "lastStableSpec": stable, "state": state},
        "jobStatus": {"state": job},
        "error": error,
        "lifecycleState": stored,
    }
    if session_job:
        return FlinkSessionJobStatus.from_dict(document)
    return FlinkDeploymentStatus.from_dict({**document, "jobManagerDeploymentStatus": jm})


@pytest.mark.parametrize("stored", ["DELETING", "DELETED"])
def test_deleting_and_deleted_are_sticky(stored: str) -> None:
    assert compute_lifecycle_state(status(stored=stored, reconciled=None, error="boom")) is State(stored)
    assert compute_lifecycle_state(status(stored=stored, job="FAILED")) is State(stored)


def test_other_stored_values_are_recomputed() -> None:
    assert compute_lifecycle_state(status(stored="FAILED", reconciled=None)) is State.CREATED


def test_before_first_deployment() -> None:
    assert compute_lifecycle_state(status(reconciled=None)) is State.CREATED
    assert compute_lifecycle_state(status(reconciled=None, error="")) is State.CREATED
    assert compute_lifecycle_state(status(reconciled=None, error="invalid spec")) is State.FAILED
    assert compute_lifecycle_state(status(reconciled=None, state="UPGRADING")) is State.CREATED


def test_upgrading_and_rolling_back() -> None:
    assert compute_lifecycle_state(status(state="UPGRADING")) is State.UPGRADING
    assert compute_lifecycle_state(status(state="ROLLING_BACK")) is State.ROLLING_BACK
    # They come before the suspended and failed rules.
    assert compute_lifecycle_state(status(state="UPGRADING", reconciled=SUSPENDED_SPEC)) is State.UPGRADING
    assert compute_lifecycle_state(status(state="ROLLING_BACK", job="FAILED")) is State.ROLLING_BACK


def test_suspended() -> None:
    assert compute_lifecycle_state(status(reconciled=SUSPENDED_SPEC)) is State.SUSPENDED
    assert compute_lifecycle_state(status(reconciled=SUSPENDED_SPEC, job="FAILED")) is State.SUSPENDED
    old_format = '{"apiVersion":"flink.apache.org/v1beta1","job":{"state":"suspended"}}'
    assert compute_lifecycle_state(status(reconciled=old_format)) is State.SUSPENDED
    assert compute_lifecycle_state(status(reconciled=SESSION_SPEC, stable=SESSION_SPEC)) is State.STABLE


def test_failed_job() -> None:
    assert compute_lifecycle_state(status(job="FAILED", stable=RUNNING_SPEC)) is State.FAILED
    assert compute_lifecycle_state(status(job="FAILED", state="ROLLED_BACK")) is State.FAILED
    assert compute_lifecycle_state(status(job="FAILED", session_job=True)) is State.FAILED


@pytest.mark.parametrize("marker", TERMINAL_ERROR_MARKERS)
@pytest.mark.parametrize("jm", ["MISSING", "ERROR"])
def test_deployment_without_jobmanager_and_unrecoverable_error(marker: str, jm: str) -> None:
    error = f"Flink job cannot be recovered. {marker} Please check."
    assert compute_lifecycle_state(status(jm=jm, error=error, stable=RUNNING_SPEC)) is State.FAILED
    # Before the rolled-back rule.
    assert compute_lifecycle_state(status(jm=jm, error=error, state="ROLLED_BACK")) is State.FAILED


@pytest.mark.parametrize("jm", ["READY", "DEPLOYING", "DEPLOYED_NOT_READY"])
def test_unrecoverable_error_with_a_jobmanager_is_not_failed(jm: str) -> None:
    error = TERMINAL_ERROR_MARKERS[0]
    assert compute_lifecycle_state(status(jm=jm, error=error)) is State.DEPLOYED


def test_jobmanager_rule_is_for_deployments_only() -> None:
    error = TERMINAL_ERROR_MARKERS[2]
    assert compute_lifecycle_state(status(error=error, session_job=True)) is State.DEPLOYED
    assert compute_lifecycle_state(status(jm="MISSING", error="something else")) is State.DEPLOYED


def test_rolled_back_stable_deployed() -> None:
    assert compute_lifecycle_state(status(state="ROLLED_BACK", stable=RUNNING_SPEC)) is State.ROLLED_BACK
    assert compute_lifecycle_state(status(stable=RUNNING_SPEC)) is State.STABLE
    assert compute_lifecycle_state(status(stable=OTHER_SPEC)) is State.DEPLOYED
    assert compute_lifecycle_state(status(stable=None)) is State.DEPLOYED
    assert compute_lifecycle_state(status(stable=RUNNING_SPEC, session_job=True)) is State.STABLE


def test_unreadable_stored_spec_skips_the_suspended_rule() -> None:
    assert compute_lifecycle_state(status(reconciled="{not json", stable="{not json")) is State.STABLE


def test_terminal_states_and_descriptions() -> None:
    terminal = {s for s in State if s.is_terminal}
    assert terminal == {State.SUSPENDED, State.STABLE, State.ROLLED_BACK, State.FAILED, State.DELETED}
    assert all(s.description for s in State)


def test_cleared_states_after_transition() -> None:
    everything = frozenset(State)
    assert State.STABLE.cleared_states_after_transition(State.DEPLOYED) == everything - {State.STABLE}
    assert State.UPGRADING.cleared_states_after_transition(State.STABLE) == everything - {
        State.UPGRADING,
        State.STABLE,
    }
    assert State.DEPLOYED.cleared_states_after_transition(State.UPGRADING) == frozenset()
    assert State.STABLE.cleared_states_after_transition(State.STABLE) == frozenset()
