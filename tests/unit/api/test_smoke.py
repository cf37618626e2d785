"""First checks of the resource models: an upstream example parses, round-trips and reports a typo."""

import pytest

from flink_operator.api import FlinkDeployment, Problem, UpgradeMode, parse_resource

pytestmark = pytest.mark.unit

BASIC = {
    "apiVersion": "flink.apache.org/v1beta1",
    "kind": "FlinkDeployment",
    "metadata": {"name": "basic-example"},
    "spec": {
        "image": "flink:1.20",
        "flinkVersion": "v1_20",
        "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
        "serviceAccount": "flink",
        "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
        "taskManager": {"resource": {"memory": "2048m", "cpu": 1}},
        "job": {"jarURI": "local:///opt/flink/examples/streaming/StateMachineExample.jar", "parallelism": 2},
    },
}


def test_upstream_basic_example_round_trips() -> None:
    resource = parse_resource(BASIC)
    assert isinstance(resource, FlinkDeployment)
    assert resource.spec.job is not None
    assert resource.spec.job.upgrade_mode is UpgradeMode.STATELESS
    assert resource.to_dict() == BASIC


def test_typo_is_reported_with_its_path() -> None:
    document = {**BASIC, "spec": {**BASIC["spec"], "job": {"paralelism": 2}}}  # type: ignore[dict-item]
    assert parse_resource(document) == [Problem("spec.job.paralelism", "unknown field")]
