"""What a failed job and its exceptions become in the status and in events (contract §3.4, §6), as pure
functions shared by FlinkDeployments and FlinkSessionJobs.

* `failed_job_error(...)`: `status.error` of a FAILED job, upstream's JSON form with the failure's class as
  `type`, the most specific message of its cause chain as `message` (the root cause a person needs), and
  the causes below the outermost one in `throwableList` (at most
  `kubernetes.operator.exception.throwable.list.max.count`);
* `failed_job_event(...)`: the Warning `Error` event (component Job) saying the same;
* `exception_events(...)`: one Warning `JobException` event per root exception of the job's exception
  history that is newer than what was reported before (at most
  `kubernetes.operator.events.exceptions.limit-per-reconciliation` per reconcile, the newest ones, emitted
  oldest first), its message the exception (`class: message`) and the next
  `kubernetes.operator.events.exceptions.stacktrace-lines` lines of its stack trace, its annotations
  upstream's (`exception-timestamp`, `task-name`, `endpoint`, `tm-id`, `failure-label-<key>`). Each event's
  identity names the job and the exception's timestamp and is recorded once, so an exception is never
  reported twice, even after an operator restart.

When is the exception history read (`should_read_exceptions`)? Upstream reads it at every observation of
a live job. Here it is read when there can be something new: the job was not terminal before, and it
changed state since the last read (Flink's `last-modification`), or it is failing, restarting or failed, or
its restart counter grew (read by the health check). A region failover that leaves the job RUNNING between
two observations is therefore reported at the job's next state change, or at once with the health check
on. `ExceptionMarks` keeps, per resource and in memory, what was reported and read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from flink_operator.api import FlinkJobState
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.errors import error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.flink.service import JobExceptionInfo, JobFailure, JobSummary

__all__ = [
    "FAILED_JOB_TYPE",
    "REPORT_WINDOW_MS",
    "ExceptionMark",
    "ExceptionMarks",
    "JobReporting",
    "exception_events",
    "failed_job_error",
    "failed_job_event",
    "failed_job_message",
    "newest_timestamp",
    "should_read_exceptions",
]

FAILED_JOB_TYPE = "org.apache.flink.runtime.JobException"
"""`status.error.type` of a failed job whose cause the cluster did not report."""
REPORT_WINDOW_MS = 30 * 60 * 1000
"""Exceptions older than this when a resource is first seen (e.g. after an operator restart) are not
reported (upstream looks back as far)."""

_LABEL_KEY = re.compile(r"[^A-Za-z0-9._-]+")


def failed_job_message(job_id: str, job_name: str | None, failure: JobFailure | None) -> str:
    name = f" ({job_name})" if job_name else ""
    if failure is None:
        return f"Job {job_id}{name} failed"
    return f"Job {job_id}{name} failed: {failure.message}"


def failed_job_error(
    job_id: str,
    job_name: str | None,
    failure: JobFailure | None,
    *,
    max_length: int,
    max_causes: int,
) -> str:
    """`status.error` of a FAILED job (see the module docstring)."""
    if failure is None:
        return error_json(FAILED_JOB_TYPE, failed_job_message(job_id, job_name, None), max_length=max_length)
    causes = [(c.exception_class, c.message) for c in failure.causes[1 : 1 + max(max_causes, 0)]]
    return error_json(
        failure.exception_class or FAILED_JOB_TYPE,
        failure.message,
        max_length=max_length,
        throwables=causes,
    )


def failed_job_event(job_id: str, job_name: str | None, failure: JobFailure | None) -> EventSpec:
    return ev.warning(Reason.ERROR, Component.JOB, failed_job_message(job_id, job_name, failure))


def _message(exception: JobExceptionInfo, stacktrace_lines: int) -> str:
    """The exception's first trace line (`class: message`, else Flink's exception name), then at most
    `stacktrace_lines` further lines of its stack trace."""
    lines = [line.rstrip() for line in exception.stack_trace.splitlines() if line.strip()]
    header = lines[0] if lines else (exception.exception or "(an exception without a name)")
    rest = lines[1:]
    shown = rest[: max(stacktrace_lines, 0)]
    text = "\n".join([header, *shown])
    if len(rest) > len(shown):
        text += f"\n... ({len(rest) - len(shown)} more lines)"
    return text


def _annotations(exception: JobExceptionInfo) -> dict[str, str]:
    stamp = datetime.fromtimestamp(exception.timestamp_ms / 1000, tz=UTC)
    millis = f"{stamp.microsecond // 1000:03d}"
    annotations = {"exception-timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z"}
    if exception.task_name:
        annotations["task-name"] = exception.task_name
    if exception.endpoint:
        annotations["endpoint"] = exception.endpoint
    if exception.task_manager_id:
        annotations["tm-id"] = exception.task_manager_id
    for key, value in exception.failure_labels.items():
        annotations[f"failure-label-{_LABEL_KEY.sub('-', key)}"] = value
    return annotations


def exception_events(
    exceptions: Sequence[JobExceptionInfo],
    *,
    job_id: str,
    since_ms: int,
    limit: int,
    stacktrace_lines: int,
) -> list[EventSpec]:
    """JobException events for the exceptions after `since_ms` (see the module docstring)."""
    fresh = sorted((e for e in exceptions if e.timestamp_ms > since_ms), key=lambda e: e.timestamp_ms)
    if limit <= 0:
        return []
    return [
        ev.warning(
            Reason.JOB_EXCEPTION,
            Component.JOB,
            _message(exception, stacktrace_lines),
            message_key=f"JobException-{job_id}-{exception.timestamp_ms}-{exception.exception[:200]}",
            once=True,
            annotations=_annotations(exception),
        )
        for exception in fresh[-limit:]
    ]


def newest_timestamp(exceptions: Sequence[JobExceptionInfo], since_ms: int) -> int:
    """What to pass as `since_ms` next time."""
    return max([since_ms, *(e.timestamp_ms for e in exceptions)])


@dataclass(frozen=True)
class JobReporting:
    """How failures and exceptions are reported (from the resource's settings)."""

    max_error_length: int = 2048
    max_causes: int = 2
    events_limit: int = 10
    stacktrace_lines: int = 5

    @classmethod
    def of(cls, settings: ResourceSettings) -> JobReporting:
        return cls(
            max_error_length=settings.exception_field_max_length,
            max_causes=settings.exception_throwable_list_max_count,
            events_limit=settings.exception_events_limit,
            stacktrace_lines=settings.exception_stacktrace_lines,
        )


_TROUBLED = frozenset({"FAILING", "RESTARTING", "FAILED"})


def should_read_exceptions(
    previous: FlinkJobState | None, job: JobSummary, *, modified_seen: int, restarts_grew: bool = False
) -> bool:
    """Whether the job's exception history may hold something new (see the module docstring)."""
    if previous is not None and previous.is_globally_terminal:
        return False
    if job.state in _TROUBLED or restarts_grew:
        return True
    return job.last_modification_ms is not None and job.last_modification_ms > modified_seen


@dataclass(frozen=True)
class ExceptionMark:
    reported_ms: int
    """Exceptions up to this time were reported."""
    modified_ms: int
    """The job's last modification when its history was last read."""


class ExceptionMarks:
    """Per resource (by uid), in memory. A resource seen for the first time (or after an operator restart)
    looks back `REPORT_WINDOW_MS`; its events of that time exist already and are not repeated."""

    def __init__(self) -> None:
        self._marks: dict[str, ExceptionMark] = {}

    def get(self, key: str, now_ms: int) -> ExceptionMark:
        known = self._marks.get(key)
        if known is not None:
            return known
        return ExceptionMark(max(now_ms - REPORT_WINDOW_MS, 0), 0)

    def read(
        self, key: str, mark: ExceptionMark, job: JobSummary, exceptions: Sequence[JobExceptionInfo]
    ) -> None:
        """The history of `job` was read (with `exceptions` newer than `mark`) and reported."""
        modified = max(mark.modified_ms, job.last_modification_ms or 0)
        self._marks[key] = ExceptionMark(newest_timestamp(exceptions, mark.reported_ms), modified)

    def forget(self, key: str) -> None:
        self._marks.pop(key, None)
