"""Enum values, constants and the bookkeeping helpers upstream keeps on the models."""

import pytest

import flink_operator.api as api
from flink_operator.api import (
    Checkpoint,
    CheckpointInfo,
    CheckpointType,
    FlinkJobState,
    FlinkStateSnapshotState,
    FlinkVersion,
    JobManagerDeploymentStatus,
    ReconciliationState,
    Savepoint,
    SavepointFormatType,
    SavepointInfo,
    SnapshotTriggerType,
)

pytestmark = pytest.mark.unit


def values(enum_type: type) -> list[str]:
    return [member.value for member in enum_type]  # type: ignore[attr-defined]


def test_enum_values_are_upstreams() -> None:
    assert values(FlinkVersion) == [f"v1_{n}" for n in range(13, 21)] + [f"v2_{n}" for n in range(5)]
    assert values(api.UpgradeMode) == ["savepoint", "last-state", "stateless"]
    assert values(api.JobState) == ["running", "suspended"]
    assert values(api.KubernetesDeploymentMode) == ["native", "standalone"]
    assert values(JobManagerDeploymentStatus) == [
        "READY",
        "DEPLOYED_NOT_READY",
        "DEPLOYING",
        "MISSING",
        "ERROR",
    ]
    assert values(ReconciliationState) == ["DEPLOYED", "UPGRADING", "ROLLING_BACK", "ROLLED_BACK"]
    assert values(SnapshotTriggerType) == ["MANUAL", "PERIODIC", "UPGRADE", "UNKNOWN"]
    assert values(SavepointFormatType) == ["CANONICAL", "NATIVE", "UNKNOWN"]
    assert values(CheckpointType) == ["FULL", "INCREMENTAL", "UNKNOWN"]
    assert values(FlinkStateSnapshotState) == [
        "TRIGGER_PENDING",
        "IN_PROGRESS",
        "COMPLETED",
        "FAILED",
        "ABANDONED",
    ]
    assert values(api.JobKind) == ["FlinkDeployment", "FlinkSessionJob"]
    assert set(values(FlinkJobState)) == {
        "INITIALIZING",
        "CREATED",
        "RUNNING",
        "FAILING",
        "FAILED",
        "CANCELLING",
        "CANCELED",
        "FINISHED",
        "RESTARTING",
        "SUSPENDED",
        "RECONCILING",
    }
    assert {s for s in FlinkJobState if s.is_globally_terminal} == {
        FlinkJobState.FAILED,
        FlinkJobState.CANCELED,
        FlinkJobState.FINISHED,
    }
    assert len(values(api.ResourceLifecycleState)) == 10


def test_flink_versions_are_ordered() -> None:
    assert FlinkVersion.v2_0.is_equal_or_newer(FlinkVersion.v1_20)
    assert not FlinkVersion.v1_19.is_equal_or_newer(FlinkVersion.v1_20)
    assert FlinkVersion.v1_20.is_equal_or_newer(FlinkVersion.v1_20)
    assert [v.is_supported for v in (FlinkVersion.v1_14, FlinkVersion.v1_15)] == [False, True]
    assert FlinkVersion.v1_18.is_deprecated and not FlinkVersion.v1_19.is_deprecated
    assert FlinkVersion.v2_3.major_minor == (2, 3)
    assert FlinkVersion("v2_3") == "v2_3"


def test_constants() -> None:
    assert (api.GROUP, api.VERSION, api.API_VERSION) == (
        "flink.apache.org",
        "v1beta1",
        "flink.apache.org/v1beta1",
    )
    assert api.FINALIZER_FLINK_DEPLOYMENT == "flinkdeployments.flink.apache.org/finalizer"
    assert api.FINALIZER_FLINK_SESSION_JOB == "flinksessionjobs.flink.apache.org/finalizer"
    assert api.FINALIZER_FLINK_STATE_SNAPSHOT == "flinkstatesnapshots.flink.apache.org/finalizer"
    assert api.PLURALS == {
        "FlinkDeployment": "flinkdeployments",
        "FlinkSessionJob": "flinksessionjobs",
        "FlinkStateSnapshot": "flinkstatesnapshots",
    }
    assert api.ANNOTATION_GENERATION == "flinkdeployment.flink.apache.org/generation"
    assert (api.LABEL_TARGET_SESSION, api.LABEL_CANARY) == ("target.session", "flink.apache.org/canary")
    assert [
        api.LABEL_SNAPSHOT_TYPE,
        api.LABEL_SNAPSHOT_TRIGGER_TYPE,
        api.LABEL_SNAPSHOT_STATE,
        api.LABEL_SNAPSHOT_JOB_REFERENCE_KIND,
        api.LABEL_SNAPSHOT_JOB_REFERENCE_NAME,
    ] == [
        "snapshot.type",
        "snapshot.trigger-type",
        "snapshot.state",
        "job-reference.kind",
        "job-reference.name",
    ]
    assert api.MAIN_CONTAINER_NAME == "flink-main-container"


def test_public_names_resolve() -> None:
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert missing == []


def test_savepoint_history_grows_only_for_new_locations() -> None:
    info = SavepointInfo()
    info.set_trigger("t1", SnapshotTriggerType.PERIODIC, SavepointFormatType.CANONICAL, now_millis=100)
    assert (info.trigger_id, info.trigger_timestamp) == ("t1", 100)
    first = Savepoint(time_stamp=200, location="s3://sp/1", trigger_type=SnapshotTriggerType.PERIODIC)
    info.update_last_savepoint(first)
    assert info.last_savepoint == first and info.savepoint_history == [first]
    assert info.last_periodic_savepoint_timestamp == 200
    assert (info.trigger_id, info.trigger_timestamp, info.trigger_type, info.format_type) == (None,) * 4
    same_location = Savepoint(time_stamp=300, location="s3://sp/1", trigger_type=SnapshotTriggerType.PERIODIC)
    info.update_last_savepoint(same_location)
    assert info.savepoint_history == [first] and info.last_periodic_savepoint_timestamp == 200
    manual = Savepoint(time_stamp=400, location="s3://sp/2", trigger_type=SnapshotTriggerType.MANUAL)
    info.update_last_savepoint(manual)
    assert info.savepoint_history == [first, manual] and info.last_periodic_savepoint_timestamp == 200
    info.update_last_savepoint(None)
    assert info.last_savepoint is None and info.savepoint_history == [first, manual]


def test_checkpoint_bookkeeping() -> None:
    info = CheckpointInfo()
    info.set_trigger("c1", SnapshotTriggerType.MANUAL, CheckpointType.FULL, now_millis=5)
    periodic = Checkpoint(time_stamp=10, trigger_type=SnapshotTriggerType.PERIODIC)
    info.update_last_checkpoint(periodic)
    assert info.last_checkpoint == periodic and info.last_periodic_checkpoint_timestamp == 10
    assert info.trigger_id is None and info.trigger_timestamp is None
    info.update_last_checkpoint(Checkpoint(time_stamp=20, trigger_type=SnapshotTriggerType.MANUAL))
    assert info.last_periodic_checkpoint_timestamp == 10
