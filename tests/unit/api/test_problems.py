"""Messages for documents that are not valid resources: each names the field path and what was expected."""

import datetime
from typing import Any

import pytest

from flink_operator.api import (
    FlinkDeployment,
    FlinkSessionJob,
    Problem,
    ResourceProblemsError,
    load_resource,
    parse_resource,
)

pytestmark = pytest.mark.unit


def deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "example"},
        "spec": spec,
    }


def problems(document: object) -> list[str]:
    result = parse_resource(document)
    assert isinstance(result, list), f"expected problems, got {result!r}"
    return [str(problem) for problem in result]


def test_unknown_fields_name_their_path() -> None:
    assert problems(deployment(job={"paralelism": 2})) == ["spec.job.paralelism: unknown field"]
    assert problems(deployment(taskManager={"replica": 2})) == ["spec.taskManager.replica: unknown field"]
    assert problems({**deployment(), "spc": {}}) == ["spc: unknown field"]


def test_fields_are_matched_by_their_json_name_only() -> None:
    assert problems(deployment(job_manager={"replicas": 1})) == ["spec.job_manager: unknown field"]
    assert problems(deployment(job={"jarUri": "local:///job.jar"})) == ["spec.job.jarUri: unknown field"]


def test_wrong_types_say_what_was_expected() -> None:
    assert problems(deployment(job={"parallelism": "2"})) == [
        'spec.job.parallelism: expected an integer, got string "2"'
    ]
    assert problems(deployment(job={"allowNonRestoredState": "yes"})) == [
        'spec.job.allowNonRestoredState: expected a boolean, got string "yes"'
    ]
    assert problems(deployment(image=3)) == ["spec.image: expected a string, got integer 3"]
    assert problems(deployment(job={"args": "--verbose"})) == [
        'spec.job.args: expected a list, got string "--verbose"'
    ]
    assert problems(deployment(flinkConfiguration=["a=b"])) == [
        "spec.flinkConfiguration: expected an object, got a list"
    ]
    assert problems(deployment(jobManager={"resource": {"cpu": "1"}})) == [
        'spec.jobManager.resource.cpu: expected a number, got string "1"'
    ]


def test_numbers_and_quantities() -> None:
    assert problems(deployment(jobManager={"resources": {"limits": {"cpu": 0.5}}})) == [
        "spec.jobManager.resources.limits.cpu: expected a Kubernetes quantity "
        "(an integer or a string such as '2Gi' or '500m'), got number 0.5"
    ]
    assert problems(deployment(job={"parallelism": True})) == [
        "spec.job.parallelism: expected an integer, got boolean true"
    ]
    assert problems(deployment(job={"parallelism": 2.5})) == [
        "spec.job.parallelism: expected an integer, got number 2.5"
    ]


def test_unknown_enum_values_list_the_allowed_ones() -> None:
    assert problems(deployment(job={"upgradeMode": "last_state"})) == [
        'spec.job.upgradeMode: unknown value string "last_state"; '
        "allowed values: savepoint, last-state, stateless"
    ]
    (message,) = problems(deployment(flinkVersion="v1_21"))
    assert message.startswith('spec.flinkVersion: unknown value string "v1_21"; allowed values: v1_13, v1_14')
    assert message.endswith("v2_3, v2_4")
    assert problems(deployment(mode="Native")) == [
        'spec.mode: unknown value string "Native"; allowed values: native, standalone'
    ]


def test_null_for_a_field_with_a_default() -> None:
    assert problems(deployment(job={"upgradeMode": None})) == [
        "spec.job.upgradeMode: must not be null (omit the field to use its default)"
    ]


def test_paths_quote_keys_with_dots_and_index_lists() -> None:
    document = deployment(ingress={"template": "x", "tls": [{"hosts": ["a", 5]}]})
    document["metadata"]["labels"] = {"app.kubernetes.io/name": 1}
    assert problems(document) == [
        'metadata.labels["app.kubernetes.io/name"]: expected a string, got integer 1',
        "spec.ingress.tls[0].hosts[1]: expected a string, got integer 5",
    ]


def test_values_that_are_not_json() -> None:
    document = deployment(
        flinkConfiguration={"a": {"b": [datetime.date(2025, 1, 1)]}, "list": {"dict": [{}]}}
    )
    document["metadata"]["managedFields"] = [{"time": datetime.datetime(2025, 1, 1)}]
    assert problems(document) == [
        "metadata.managedFields[0].time: expected a JSON value, got a datetime (not JSON; quote it in YAML)",
        "spec.flinkConfiguration.a.b[0]: expected a JSON value, got a date (not JSON; quote it in YAML)",
    ]


def test_map_keys_must_be_strings() -> None:
    document = deployment(
        flinkConfiguration={1: "x", "nested": {"list": [{2: "y"}]}}, logConfiguration={3: "z"}
    )
    document["metadata"]["labels"] = {4: "a"}
    assert problems(document) == [
        "metadata.labels: key integer 4 must be a string",
        "spec.flinkConfiguration: key integer 1 must be a string",
        "spec.flinkConfiguration.nested.list[0]: key integer 2 must be a string",
        "spec.logConfiguration: key integer 3 must be a string",
    ]


def test_every_problem_is_reported_not_only_the_first() -> None:
    document = deployment(job={"paralelism": 2, "upgradeMode": "x"}, image=1)
    document["spec"]["jobManager"] = {
        "podTemplate": {
            "spec": {"containers": [{"name": "flink-main-container", "ports": [{"containerPort": "x"}]}]}
        }
    }
    assert problems(document) == [
        'spec.job.upgradeMode: unknown value string "x"; allowed values: savepoint, last-state, stateless',
        "spec.job.paralelism: unknown field",
        "spec.image: expected a string, got integer 1",
        "spec.jobManager.podTemplate.spec.containers[0].ports[0].containerPort: "
        'expected an integer, got string "x"',
    ]


def test_pod_templates_are_checked_in_every_place() -> None:
    bad = {"spec": {"containers": [{"name": "flink-main-container", "imagePullPolicy": 1}]}}
    document = deployment(podTemplate=bad, jobManager={"podTemplate": bad}, taskManager={"podTemplate": bad})
    assert [p.split(":")[0] for p in problems(document)] == [
        "spec.podTemplate.spec.containers[0].imagePullPolicy",
        "spec.jobManager.podTemplate.spec.containers[0].imagePullPolicy",
        "spec.taskManager.podTemplate.spec.containers[0].imagePullPolicy",
    ]
    assert isinstance(parse_resource(document, check_pod_templates=False), FlinkDeployment)


def test_kind_and_api_version() -> None:
    assert problems({"apiVersion": "flink.apache.org/v1beta1", "spec": {}}) == [
        "kind: required field is missing; "
        "expected one of FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot"
    ]
    assert problems({"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkBlueGreenDeployment"}) == [
        'kind: unknown kind string "FlinkBlueGreenDeployment"; '
        "expected one of FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot"
    ]
    assert problems({"kind": "FlinkDeployment"}) == [
        "apiVersion: required field is missing; expected flink.apache.org/v1beta1"
    ]
    assert problems({"apiVersion": "flink.apache.org/v1alpha1", "kind": "FlinkDeployment"}) == [
        'apiVersion: unsupported value string "flink.apache.org/v1alpha1"; expected flink.apache.org/v1beta1'
    ]
    assert problems(["not", "a", "resource"]) == ["expected a resource object, got a list"]


def test_the_model_is_chosen_by_kind() -> None:
    document = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "spec": {"deploymentName": "s"},
    }
    assert isinstance(parse_resource(document), FlinkSessionJob)
    document["spec"] = {"image": "flink:2.3"}  # a FlinkDeployment field
    assert problems(document) == ["spec.image: unknown field"]


def test_status_keeps_unknown_fields_but_checks_known_ones() -> None:
    document = deployment()
    document["status"] = {"futureField": {"x": 1}, "jobStatus": {"state": "RUNNING", "newInfo": 1}}
    resource = parse_resource(document)
    assert isinstance(resource, FlinkDeployment)
    assert resource.to_dict()["status"] == document["status"]
    document["status"] = {"jobStatus": {"state": "GONE"}}
    (message,) = problems(document)
    assert message.startswith(
        'status.jobStatus.state: unknown value string "GONE"; allowed values: INITIALIZING'
    )


def test_load_resource_raises_with_all_problems() -> None:
    with pytest.raises(ResourceProblemsError) as raised:
        load_resource(deployment(job={"paralelism": 2}, image=1))
    assert raised.value.problems == [
        Problem("spec.job.paralelism", "unknown field"),
        Problem("spec.image", "expected a string, got integer 1"),
    ]
    assert "spec.job.paralelism: unknown field" in str(raised.value)
    assert isinstance(load_resource(deployment(image="flink:2.3")), FlinkDeployment)
