"""Everything one FlinkSessionJob decision looks at, as one immutable value.

The shell fills it (resource as read, observed status, the session cluster as a `SessionView`, validation
verdict, settings, facts from Flink, the clock and a fresh random job id); the decision functions read it
and nothing else, so the same context always yields the same step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flink_operator.api import FlinkSessionJob, FlinkSessionJobSpec, FlinkSessionJobStatus
from flink_operator.controllers.common.events import EventSpec
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.sessionjob.deletion import SessionAvailability
from flink_operator.controllers.sessionjob.session_view import SessionView
from flink_operator.flink.service import CheckpointInfo, ClusterRef, JobExceptionInfo, JobFailure, JobSummary


@dataclass(frozen=True)
class SessionJobSettings:
    """The session-specific options of one session job (seconds for durations)."""

    block_on_session_jobs: bool = True
    job_cancel_timeout: float = 300.0
    session_ha: bool = False
    """The session cluster runs with HA (its jobs survive a JobManager restart)."""


@dataclass(frozen=True)
class Facts:
    """What Flink said in this reconcile (None / False: not asked)."""

    session: SessionAvailability = SessionAvailability.MISSING
    session_detail: str = ""
    job_id_checked: str | None = None
    job: JobSummary | None = None
    job_error: str | None = None
    checkpoint_checked: bool = False
    latest_checkpoint: CheckpointInfo | None = None
    job_failure: JobFailure | None = None
    """Why the job failed (asked for when it is first seen FAILED)."""
    exceptions_since_ms: int | None = None
    """The exception history was read for exceptions after this time (None: not read)."""
    exceptions: tuple[JobExceptionInfo, ...] = ()


@dataclass(frozen=True)
class SessionJobContext:
    resource: FlinkSessionJob
    observed: FlinkSessionJobStatus
    """The status after observation (the starting point of the decision)."""
    spec: FlinkSessionJobSpec
    """The desired spec after mutators (in memory only; never written back)."""
    session: SessionView
    settings: ResourceSettings
    session_settings: SessionJobSettings
    effective: Mapping[str, str]
    """Scoped defaults + the session cluster's configuration + the session job's (flattened)."""
    now_ms: int
    new_job_id: str
    validation_error: str | None = None
    facts: Facts = field(default_factory=Facts)
    observation_events: tuple[EventSpec, ...] = ()
    force_deletion: bool = False

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def namespace(self) -> str:
        return self.resource.namespace

    @property
    def generation(self) -> int:
        return self.resource.metadata.generation or 0

    @property
    def deleting(self) -> bool:
        return self.resource.metadata.deletion_timestamp is not None

    @property
    def cluster(self) -> ClusterRef:
        return ClusterRef(self.namespace, self.session.name)
