"""Job responses: overview, status, details (vertices and plan), execution result, exception history."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from flink_operator.flink.rest.models._base import FlinkModel


class JobState(StrEnum):
    """Flink's ``JobStatus``."""

    INITIALIZING = "INITIALIZING"
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    FAILING = "FAILING"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELED = "CANCELED"
    FINISHED = "FINISHED"
    RESTARTING = "RESTARTING"
    SUSPENDED = "SUSPENDED"
    RECONCILING = "RECONCILING"

    @property
    def is_globally_terminal(self) -> bool:
        """The job will never run again on this cluster (FINISHED, CANCELED, FAILED)."""
        return self in _GLOBALLY_TERMINAL

    @property
    def is_terminal(self) -> bool:
        """Globally terminal, or SUSPENDED (the JobManager gave the job up, e.g. on HA leadership loss)."""
        return self in _GLOBALLY_TERMINAL or self is JobState.SUSPENDED


_GLOBALLY_TERMINAL = frozenset({JobState.FINISHED, JobState.CANCELED, JobState.FAILED})


class ExecutionState(StrEnum):
    """Flink's ``ExecutionState``: the state of a vertex (aggregated over its subtasks)."""

    CREATED = "CREATED"
    SCHEDULED = "SCHEDULED"
    DEPLOYING = "DEPLOYING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    RECONCILING = "RECONCILING"
    INITIALIZING = "INITIALIZING"


class JobOverview(FlinkModel):
    """One entry of ``GET /jobs/overview``."""

    jid: str
    name: str = ""
    state: JobState
    start_time: int = Field(-1, alias="start-time")
    end_time: int = Field(-1, alias="end-time")
    duration: int = -1
    last_modification: int = Field(0, alias="last-modification")


class JobsOverview(FlinkModel):
    jobs: list[JobOverview] = Field(default_factory=list)


class JobStatusInfo(FlinkModel):
    """``GET /jobs/:id/status`` (not cached, unlike ``/jobs/:id``)."""

    status: JobState


class VertexInfo(FlinkModel):
    """A job vertex as listed in ``GET /jobs/:id``."""

    id: str
    name: str = ""
    parallelism: int
    max_parallelism: int | None = Field(None, alias="maxParallelism")
    status: ExecutionState
    start_time: int = Field(-1, alias="start-time")
    tasks: dict[str, int] = Field(default_factory=dict)


class PlanInput(FlinkModel):
    num: int = 0
    id: str
    ship_strategy: str = ""
    exchange: str = ""


class PlanNode(FlinkModel):
    id: str
    parallelism: int = 0
    operator: str = ""
    description: str = ""
    inputs: list[PlanInput] = Field(default_factory=list)


class JobPlan(FlinkModel):
    jid: str = ""
    name: str = ""
    type: str = ""
    nodes: list[PlanNode] = Field(default_factory=list)


class JobDetails(FlinkModel):
    """``GET /jobs/:id``. Served from a cache that lags up to ``web.refresh-interval`` (3 s default)."""

    jid: str
    name: str = ""
    state: JobState
    is_stoppable: bool = Field(False, alias="isStoppable")
    start_time: int = Field(-1, alias="start-time")
    end_time: int = Field(-1, alias="end-time")
    duration: int = -1
    max_parallelism: int | None = Field(None, alias="maxParallelism")
    now: int = 0
    timestamps: dict[str, int] = Field(default_factory=dict)
    vertices: list[VertexInfo] = Field(default_factory=list)
    plan: JobPlan | None = None

    def vertex(self, vertex_id: str) -> VertexInfo | None:
        return next((v for v in self.vertices if v.id == vertex_id), None)


class SerializedFailure(FlinkModel):
    """A failure as Flink reports it in results: the Java class and the stack trace."""

    class_name: str = Field("", alias="class")
    stack_trace: str = Field("", alias="stack-trace")


class JobExecutionResult(FlinkModel):
    id: str = ""
    application_status: str = Field("UNKNOWN", alias="application-status")
    net_runtime: int | None = Field(None, alias="net-runtime")
    failure_cause: SerializedFailure | None = Field(None, alias="failure-cause")


class ExecutionResult(FlinkModel):
    """``GET /jobs/:id/execution-result``: IN_PROGRESS until the job is globally terminal."""

    status: OperationState
    job_execution_result: JobExecutionResult | None = Field(None, alias="job-execution-result")

    @property
    def done(self) -> bool:
        return self.status.id == "COMPLETED"


class OperationState(FlinkModel):
    id: str


class ExceptionEntry(FlinkModel):
    """One entry of the exception history (both the 1.20 and the 2.x shape)."""

    exception_name: str = Field("", alias="exceptionName")
    stacktrace: str = ""
    timestamp: int = 0
    task_name: str | None = Field(None, alias="taskName")
    endpoint: str | None = None
    task_manager_id: str | None = Field(None, alias="taskManagerId")
    failure_labels: dict[str, str] = Field(default_factory=dict, alias="failureLabels")


class ExceptionHistoryEntry(ExceptionEntry):
    concurrent_exceptions: list[ExceptionEntry] = Field(default_factory=list, alias="concurrentExceptions")


class ExceptionHistory(FlinkModel):
    entries: list[ExceptionHistoryEntry] = Field(default_factory=list)
    truncated: bool = False


class JobExceptions(FlinkModel):
    """``GET /jobs/:id/exceptions``.

    1.20 also has the legacy ``root-exception``/``all-exceptions`` fields, dropped in 2.x.
    """

    exception_history: ExceptionHistory = Field(default_factory=ExceptionHistory, alias="exceptionHistory")
    root_exception: str | None = Field(None, alias="root-exception")

    @property
    def latest(self) -> ExceptionHistoryEntry | None:
        """The most recent failure (entries are newest first)."""
        entries = self.exception_history.entries
        return entries[0] if entries else None


ExecutionResult.model_rebuild()
