"""Response models and pure decisions over the answers real Flink 2.3 and 1.20 gave (captured fixtures)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter
from tests.unit.flink_rest.shapes import VERSIONS, body

from flink_operator.flink.rest import (
    AggregatedMetric,
    ExecutionState,
    FlinkVersion,
    JobState,
    MetricValue,
    all_vertices_running,
    parallelism_reached,
    parse_number,
    root_cause_message,
)
from flink_operator.flink.rest.models.cluster import ClusterConfig, ClusterOverview, TaskManagerList
from flink_operator.flink.rest.models.jars import JarList, JarRunResult, JarUploadResult
from flink_operator.flink.rest.models.jobs import (
    ExecutionResult,
    JobDetails,
    JobExceptions,
    JobsOverview,
    JobStatusInfo,
)
from flink_operator.flink.rest.models.rescale import ResourceRequirements
from flink_operator.flink.rest.models.snapshots import (
    CheckpointConfig,
    CheckpointDetails,
    CheckpointStats,
    CheckpointTriggerStatus,
    DisposalStatus,
    SavepointStatus,
    TriggerId,
)
from flink_operator.flink.rest.waiting import checkpoint_outcome, disposal_outcome, savepoint_outcome

pytestmark = [pytest.mark.unit, pytest.mark.parametrize("version", VERSIONS)]


def test_fixtures_cover_both_versions(version: str) -> None:
    assert {"flink-1.20", "flink-2.3"} <= set(VERSIONS)


def test_cluster_overview_and_config(version: str) -> None:
    overview = ClusterOverview.model_validate(body(version, "overview"))
    assert overview.taskmanagers == 1 and overview.slots_total == 4
    config = ClusterConfig.model_validate(body(version, "config"))
    parsed = FlinkVersion.parse(config.flink_version)
    assert f"flink-{parsed.major}.{parsed.minor}" == version
    assert config.flink_revision
    tms = TaskManagerList.model_validate(body(version, "taskmanagers")).taskmanagers
    assert len(tms) == 1 and tms[0].slots_number == 4


def test_job_states_and_vertices(version: str) -> None:
    assert JobsOverview.model_validate(body(version, "jobs_overview_empty")).jobs == []
    jobs = JobsOverview.model_validate(body(version, "jobs_overview")).jobs
    assert [j.state for j in jobs] == [JobState.RUNNING]
    assert JobStatusInfo.model_validate(body(version, "job_status_finished")).status is JobState.FINISHED
    assert JobState.FINISHED.is_globally_terminal and not JobState.SUSPENDED.is_globally_terminal

    early = JobDetails.model_validate(body(version, "job_details_early"))
    running = JobDetails.model_validate(body(version, "job_details_running"))
    rescaled = JobDetails.model_validate(body(version, "job_details_rescaled"))
    assert not all_vertices_running(early)
    assert all_vertices_running(running)
    assert [v.name for v in running.vertices] == ["Source: seq -> throttle", "counter -> Sink: print"]
    assert all(v.status is ExecutionState.RUNNING and v.parallelism == 1 for v in running.vertices)
    assert running.plan is not None and len(running.plan.nodes) == 2
    wanted = {v.id: 2 for v in running.vertices}
    assert parallelism_reached(rescaled, wanted) and not parallelism_reached(running, wanted)
    failed = JobDetails.model_validate(body(version, "job_details_failed"))
    assert failed.state is JobState.FAILED and not all_vertices_running(failed)


def test_execution_results(version: str) -> None:
    assert not ExecutionResult.model_validate(body(version, "execution_result_running")).done
    finished = ExecutionResult.model_validate(body(version, "execution_result_finished"))
    assert finished.done and finished.job_execution_result is not None
    assert finished.job_execution_result.application_status == "SUCCEEDED"
    canceled = ExecutionResult.model_validate(body(version, "execution_result_canceled"))
    assert canceled.job_execution_result is not None
    assert canceled.job_execution_result.application_status == "CANCELED"
    failed = ExecutionResult.model_validate(body(version, "execution_result_failed")).job_execution_result
    assert failed is not None and failed.failure_cause is not None
    assert failed.application_status == "FAILED"
    assert root_cause_message(failed.failure_cause.stack_trace) == "probe failure: key 0 reached 20"
    missing = ExecutionResult.model_validate(body(version, "execution_result_missing_savepoint"))
    assert missing.job_execution_result is not None and missing.job_execution_result.failure_cause is not None
    assert "Cannot find checkpoint or savepoint" in root_cause_message(
        missing.job_execution_result.failure_cause.stack_trace
    )


def test_exception_history_both_shapes(version: str) -> None:
    exceptions = JobExceptions.model_validate(body(version, "exceptions_failed"))
    latest = exceptions.latest
    assert latest is not None
    assert latest.exception_name == "java.lang.IllegalStateException"
    assert root_cause_message(latest.stacktrace) == "probe failure: key 0 reached 20"
    if version == "flink-1.20":
        assert exceptions.root_exception is not None  # the legacy field 2.x dropped
    else:
        assert exceptions.root_exception is None


def test_checkpoint_statistics(version: str) -> None:
    early = CheckpointStats.model_validate(body(version, "checkpoints_early"))
    assert early.latest.completed is None and early.latest_completed_path is None
    stats = CheckpointStats.model_validate(body(version, "checkpoints"))
    assert stats.counts.completed >= 2
    assert stats.latest_completed_path is not None and "/chk-" in stats.latest_completed_path
    restored = CheckpointStats.model_validate(body(version, "checkpoints_restored")).latest.restored
    assert restored is not None and restored.is_savepoint
    assert restored.external_path is not None and "/savepoint-" in restored.external_path
    details = CheckpointDetails.model_validate(body(version, "checkpoint_details"))
    assert details.status == "COMPLETED" and details.external_path
    config = CheckpointConfig.model_validate(body(version, "checkpoint_config"))
    assert config.interval == 500 and config.externalization.enabled
    disabled = CheckpointConfig.model_validate(body(version, "error_checkpoint_config_disabled"))
    assert disabled.interval == 2**63 - 1  # checkpointing off: Long.MAX_VALUE, not a 404


def test_savepoint_trigger_outcomes(version: str) -> None:
    assert TriggerId.model_validate(body(version, "savepoint_trigger")).request_id
    assert not savepoint_outcome(SavepointStatus.model_validate(body(version, "savepoint_status_first"))).done
    done = savepoint_outcome(SavepointStatus.model_validate(body(version, "savepoint_status")))
    assert done.done and not done.failed and done.location is not None and "/savepoint-" in done.location
    stopped = savepoint_outcome(SavepointStatus.model_validate(body(version, "stop_status")))
    assert stopped.location is not None
    failed = savepoint_outcome(SavepointStatus.model_validate(body(version, "savepoint_status_failed")))
    assert failed.failed
    assert failed.failure_reason == "Failed to create savepoint directory at file:/proc/no-such-place"
    for name in ("error_stop_finished_job_status", "error_savepoint_unknown_job_status"):
        outcome = savepoint_outcome(SavepointStatus.model_validate(body(version, name)))
        assert outcome.failure_reason is not None and outcome.failure_reason.startswith(
            "Could not find Flink job"
        )


def test_checkpoint_trigger_outcomes(version: str) -> None:
    first = CheckpointTriggerStatus.model_validate(body(version, "checkpoint_trigger_status_first"))
    assert not checkpoint_outcome(first).done
    done = checkpoint_outcome(
        CheckpointTriggerStatus.model_validate(body(version, "checkpoint_trigger_status"))
    )
    assert done.checkpoint_id is not None and done.checkpoint_id > 0
    # The checkpoint trigger names its failure "failureCause", unlike the savepoint trigger.
    failed = CheckpointTriggerStatus.model_validate(body(version, "error_checkpoint_unknown_job_status"))
    outcome = checkpoint_outcome(failed)
    assert outcome.failed and outcome.failure_reason is not None
    assert outcome.failure_reason.startswith("Could not find Flink job")


def test_disposal_outcomes(version: str) -> None:
    assert disposal_outcome(
        DisposalStatus.model_validate(body(version, "disposal_status"))
    ) == disposal_outcome(DisposalStatus.model_validate({"status": {"id": "COMPLETED"}, "operation": {}}))
    failed = disposal_outcome(DisposalStatus.model_validate(body(version, "disposal_status_failed")))
    assert failed.failure_reason == (
        "Cannot find checkpoint or savepoint file/directory 'file:///no/such/savepoint'"
        " on file system 'file'."
    )


def test_metrics(version: str) -> None:
    values = TypeAdapter(list[MetricValue]).validate_python(body(version, "job_metrics_fresh"))
    by_name = {m.id: m for m in values}
    assert by_name["numRestarts"].number == 0
    assert (by_name["numberOfCompletedCheckpoints"].number or 0) > 0
    # 2.x dropped fullRestarts; 1.20 still reports it.
    assert ("fullRestarts" in by_name) is (version == "flink-1.20")
    assert TypeAdapter(list[MetricValue]).validate_python(body(version, "vertex_metrics_first")) == []
    aggregated = TypeAdapter(list[AggregatedMetric]).validate_python(body(version, "vertex_metrics"))
    metrics = {m.id: m for m in aggregated}
    assert metrics["counter.totalCount"].sum is not None and metrics["counter.totalCount"].sum > 0
    assert metrics["busyTimeMsPerSecond"].max is not None
    source = {
        m.id: m
        for m in TypeAdapter(list[AggregatedMetric]).validate_python(body(version, "vertex_metrics_source"))
    }
    assert "numRecordsOutPerSecond" in source
    jm = {
        m.id: m.number
        for m in TypeAdapter(list[MetricValue]).validate_python(body(version, "jobmanager_metrics"))
    }
    assert jm["taskSlotsTotal"] == 4


def test_nan_and_odd_metric_values_parse_to_none(version: str) -> None:
    metric = AggregatedMetric.model_validate(
        {"id": "busyTimeMsPerSecond", "min": "NaN", "max": 1.5, "avg": "2"}
    )
    assert (metric.min, metric.max, metric.avg, metric.sum) == (None, 1.5, 2.0, None)
    assert [parse_number(v) for v in ("NaN", "Infinity", "", "x", None, True, "12")] == [
        None, None, None, None, None, None, 12.0,
    ]  # fmt: skip


def test_resource_requirements_and_jars(version: str) -> None:
    requirements = TypeAdapter(ResourceRequirements).validate_python(body(version, "resource_requirements"))
    assert len(requirements) == 2
    assert all(
        r.parallelism.lower_bound == 1 and r.parallelism.upper_bound == 1 for r in requirements.values()
    )
    upload = JarUploadResult.model_validate(body(version, "jar_upload"))
    assert upload.jar_id.endswith("_probe-job.jar") and "/" not in upload.jar_id
    jars = JarList.model_validate(body(version, "jars_list")).files
    assert [j.id for j in jars] == [upload.jar_id]
    run = JarRunResult.model_validate(body(version, "jar_run"))
    assert len(run.jobid) == 32
    assert (run.application_id is not None) is (version == "flink-2.3")
