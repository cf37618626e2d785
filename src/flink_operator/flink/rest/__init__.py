"""The Flink REST client: typed responses, typed errors, and waiting helpers.

Public names are re-exported here; import from ``flink_operator.flink.rest`` rather than the modules.
"""

from flink_operator.flink.rest.client import DEFAULT_AGGREGATIONS, DEFAULT_TIMEOUT, FlinkRestClient
from flink_operator.flink.rest.errors import (
    ClusterUnreachable,
    DeadlineExceeded,
    FlinkRestError,
    JobNotFound,
    JobTerminated,
    NotFound,
    ResponseFormatError,
    TriggerFailed,
    root_cause_message,
)
from flink_operator.flink.rest.models._base import parse_number
from flink_operator.flink.rest.models.cluster import ClusterConfig, ClusterOverview, TaskManagerInfo
from flink_operator.flink.rest.models.jars import JarFileInfo, JarRunResult
from flink_operator.flink.rest.models.jobs import (
    ExceptionHistoryEntry,
    ExecutionResult,
    ExecutionState,
    JobDetails,
    JobExceptions,
    JobOverview,
    JobState,
    VertexInfo,
)
from flink_operator.flink.rest.models.metrics import AggregatedMetric, MetricValue
from flink_operator.flink.rest.models.rescale import ParallelismBounds, VertexResourceRequirements
from flink_operator.flink.rest.models.snapshots import (
    CheckpointConfig,
    CheckpointDetails,
    CheckpointStats,
    CheckpointTriggerStatus,
    DisposalStatus,
    SavepointStatus,
)
from flink_operator.flink.rest.requests import CheckpointType, JarRunRequest, SavepointFormat
from flink_operator.flink.rest.retry import RetryPolicy
from flink_operator.flink.rest.versions import ClaimMode, FlinkVersion
from flink_operator.flink.rest.waiting import (
    TriggerOutcome,
    all_vertices_running,
    parallelism_reached,
    read_fresh_vertex_metrics,
    wait_for_checkpoint,
    wait_for_checkpoint_details,
    wait_for_disposal,
    wait_for_job_running,
    wait_for_job_state,
    wait_for_parallelism,
    wait_for_savepoint,
)

__all__ = [
    "DEFAULT_AGGREGATIONS",
    "DEFAULT_TIMEOUT",
    "AggregatedMetric",
    "CheckpointConfig",
    "CheckpointDetails",
    "CheckpointStats",
    "CheckpointTriggerStatus",
    "CheckpointType",
    "ClaimMode",
    "ClusterConfig",
    "ClusterOverview",
    "ClusterUnreachable",
    "DeadlineExceeded",
    "DisposalStatus",
    "ExceptionHistoryEntry",
    "ExecutionResult",
    "ExecutionState",
    "FlinkRestClient",
    "FlinkRestError",
    "FlinkVersion",
    "JarFileInfo",
    "JarRunRequest",
    "JarRunResult",
    "JobDetails",
    "JobExceptions",
    "JobNotFound",
    "JobOverview",
    "JobState",
    "JobTerminated",
    "MetricValue",
    "NotFound",
    "ParallelismBounds",
    "ResponseFormatError",
    "RetryPolicy",
    "SavepointFormat",
    "SavepointStatus",
    "TaskManagerInfo",
    "TriggerFailed",
    "TriggerOutcome",
    "VertexInfo",
    "VertexResourceRequirements",
    "all_vertices_running",
    "parallelism_reached",
    "parse_number",
    "read_fresh_vertex_metrics",
    "root_cause_message",
    "wait_for_checkpoint",
    "wait_for_checkpoint_details",
    "wait_for_disposal",
    "wait_for_job_running",
    "wait_for_job_state",
    "wait_for_parallelism",
    "wait_for_savepoint",
]
