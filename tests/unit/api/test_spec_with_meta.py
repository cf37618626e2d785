"""The stored lastReconciledSpec / lastStableSpec form of §2.2."""

import json

import pytest

from flink_operator.api import (
    FlinkDeploymentSpec,
    FlinkSessionJobSpec,
    JobSpec,
    ReconciliationMetadata,
    ReconciliationState,
    ReconciliationStatus,
    UpgradeMode,
    read_spec,
    read_spec_with_meta,
    stored_job_state,
    stored_upgrade_mode,
    write_spec_with_meta,
)

pytestmark = pytest.mark.unit


def test_written_form() -> None:
    spec = FlinkDeploymentSpec(image="flink:2.3", job=JobSpec(jar_uri="local:///a.jar", parallelism=2))
    text = write_spec_with_meta(spec, "flink.apache.org/v1beta1", True)
    assert text == (
        '{"spec":{"job":{"jarURI":"local:///a.jar","parallelism":2},"image":"flink:2.3"},'
        '"resource_metadata":{"apiVersion":"flink.apache.org/v1beta1","firstDeployment":true}}'
    )
    stored = read_spec_with_meta(text)
    assert stored.metadata == ReconciliationMetadata("flink.apache.org/v1beta1", first_deployment=True)
    assert read_spec(text, FlinkDeploymentSpec) == spec


def test_writing_is_deterministic_and_keeps_non_ascii() -> None:
    spec = FlinkSessionJobSpec(deployment_name="café", flink_configuration={"b": "1", "a": {"x": 2}})
    first = write_spec_with_meta(spec, "flink.apache.org/v1beta1", False)
    assert first == write_spec_with_meta(spec.model_copy(deep=True), "flink.apache.org/v1beta1", False)
    assert "café" in first


def test_old_format_is_read() -> None:
    text = json.dumps({"apiVersion": "flink.apache.org/v1beta1", "job": {"jarURI": "local:///a.jar"}})
    stored = read_spec_with_meta(text)
    assert stored.metadata is None
    assert stored.spec == {"job": {"jarURI": "local:///a.jar"}}
    assert read_spec(text, FlinkDeploymentSpec).job == JobSpec(jar_uri="local:///a.jar")


def test_java_nulls_and_unknown_fields_are_ignored_when_reading() -> None:
    text = json.dumps(
        {
            "spec": {"job": {"jarURI": None, "upgradeMode": None, "newJobField": 1}, "futureField": {}},
            "resource_metadata": {"apiVersion": "v", "metadata": {"generation": 3}, "firstDeployment": False},
        }
    )
    spec = read_spec(text, FlinkDeploymentSpec)
    assert spec.job == JobSpec()
    assert read_spec_with_meta(text).metadata == ReconciliationMetadata("v", first_deployment=False)


def test_unreadable_specs_raise_value_errors_that_say_why() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        read_spec_with_meta("{")
    with pytest.raises(ValueError, match="must be a JSON object"):
        read_spec_with_meta("[1]")
    with pytest.raises(ValueError, match="'spec' and 'resource_metadata'"):
        read_spec_with_meta('{"spec": 1, "resource_metadata": {}}')
    bad = write_spec_with_meta({"job": {"parallelism": "two"}}, "v", False)
    with pytest.raises(ValueError, match=r"spec\.job\.parallelism: expected an integer"):
        read_spec(bad, FlinkDeploymentSpec)


def test_stored_job_state() -> None:
    assert stored_job_state(None) is None
    assert stored_job_state("garbage") is None
    assert stored_job_state(write_spec_with_meta({"image": "x"}, "v", False)) is None
    assert stored_job_state(write_spec_with_meta({"job": {}}, "v", False)) == "running"
    assert stored_job_state(write_spec_with_meta({"job": {"state": "suspended"}}, "v", False)) == "suspended"


def test_reconciliation_status_helpers() -> None:
    status = ReconciliationStatus(last_reconciled_spec="new", last_stable_spec="old")
    assert not status.is_before_first_deployment and not status.is_last_reconciled_spec_stable
    assert status.deployed_spec_json() == "new"
    status.state = ReconciliationState.ROLLED_BACK
    assert status.deployed_spec_json() == "old"
    status.mark_reconciled_spec_as_stable()
    assert status.last_stable_spec == "new" and status.is_last_reconciled_spec_stable
    assert ReconciliationStatus().is_before_first_deployment


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, None),
        ('{"spec":{"job":{"upgradeMode":"last-state"}},"resource_metadata":{}}', UpgradeMode.LAST_STATE),
        ('{"spec":{"job":{"jarURI":"local:///a.jar"}},"resource_metadata":{}}', UpgradeMode.STATELESS),
        (
            '{"job":{"upgradeMode":"savepoint"},"apiVersion":"flink.apache.org/v1beta1"}',
            UpgradeMode.SAVEPOINT,
        ),
        ('{"spec":{},"resource_metadata":{}}', None),
        ('{"spec":{"job":{"upgradeMode":"sometimes"}},"resource_metadata":{}}', None),
        ("not json", None),
    ],
)
def test_the_upgrade_mode_a_stored_spec_records(stored: str | None, expected: UpgradeMode | None) -> None:
    assert stored_upgrade_mode(stored) is expected
