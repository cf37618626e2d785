"""`to_dict()`: what was parsed comes back unchanged; what the code set or changed is added."""

import pytest

from flink_operator.api import (
    Condition,
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkJobState,
    FlinkSessionJob,
    FlinkStateSnapshot,
    JobSpec,
    JobState,
    ObjectMeta,
    Resource,
    Savepoint,
    TaskManagerSpec,
    UpgradeMode,
)

pytestmark = pytest.mark.unit


def test_models_built_in_code_serialise_by_json_name() -> None:
    resource = FlinkDeployment(
        metadata=ObjectMeta(name="demo", namespace="default"),
        spec=FlinkDeploymentSpec(
            image="flink:2.3",
            job=JobSpec(
                jar_uri="local:///opt/flink/job.jar", parallelism=2, upgrade_mode=UpgradeMode.LAST_STATE
            ),
            task_manager=TaskManagerSpec(resource=Resource(cpu=1, memory="2g")),
        ),
    )
    assert resource.to_dict() == {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "demo", "namespace": "default"},
        "spec": {
            "image": "flink:2.3",
            "job": {"jarURI": "local:///opt/flink/job.jar", "parallelism": 2, "upgradeMode": "last-state"},
            "taskManager": {"resource": {"cpu": 1, "memory": "2g"}},
        },
    }


def test_api_version_and_kind_are_always_written() -> None:
    assert FlinkSessionJob().to_dict() == {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
    }
    assert FlinkStateSnapshot().to_dict() == {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
    }


def test_defaults_are_not_written_unless_set() -> None:
    spec = FlinkDeploymentSpec.from_dict({"job": {"jarURI": "local:///a.jar"}})
    assert spec.job is not None and spec.job.upgrade_mode is UpgradeMode.STATELESS and spec.job.args == []
    assert spec.to_dict() == {"job": {"jarURI": "local:///a.jar"}}
    spec.job.state = JobState.RUNNING  # the default value, but now set explicitly
    assert spec.to_dict() == {"job": {"jarURI": "local:///a.jar", "state": "running"}}


def test_in_place_changes_of_default_objects_are_written() -> None:
    resource = FlinkDeployment.from_dict(
        {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment"}
    )
    resource.status.job_status.state = FlinkJobState.RECONCILING
    resource.status.job_status.savepoint_info.savepoint_history.append(Savepoint(location="s3://sp/1"))
    resource.status.conditions.append(Condition(type="Running", status="False"))
    resource.spec.flink_configuration["taskmanager.numberOfTaskSlots"] = "2"
    assert resource.to_dict() == {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "spec": {"flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"}},
        "status": {
            "jobStatus": {
                "state": "RECONCILING",
                "savepointInfo": {"savepointHistory": [{"location": "s3://sp/1"}]},
            },
            "conditions": [{"type": "Running", "status": "False"}],
        },
    }


def test_numbers_keep_their_json_type() -> None:
    spec = FlinkDeploymentSpec.from_dict(
        {"jobManager": {"resource": {"cpu": 1}}, "taskManager": {"resource": {"cpu": 1.0}}, "restartNonce": 3}
    )
    dumped = spec.to_dict()
    assert type(dumped["jobManager"]["resource"]["cpu"]) is int
    assert type(dumped["taskManager"]["resource"]["cpu"]) is float


def test_explicit_nulls_are_kept() -> None:
    document = {"image": None, "job": {"entryClass": None}, "ingress": None}
    assert FlinkDeploymentSpec.from_dict(document).to_dict() == document


def test_assignments_are_validated() -> None:
    spec = JobSpec()
    spec.upgrade_mode = "savepoint"  # type: ignore[assignment]
    assert spec.upgrade_mode is UpgradeMode.SAVEPOINT
    with pytest.raises(ValueError, match="parallelism"):
        spec.parallelism = "4"  # type: ignore[assignment]


def test_unknown_metadata_fields_are_kept() -> None:
    document = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
        "metadata": {"name": "s", "selfLink": "/x", "managedFields": [{"manager": "kubectl"}]},
    }
    resource = FlinkStateSnapshot.from_dict(document)
    assert resource.to_dict() == document
    assert resource.name == "s" and resource.namespace == ""
