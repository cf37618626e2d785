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
  oldest first), its message the exception and the first
  `kubernetes.operator.events.exceptions.stacktrace-lines` lines of its stack trace, its annotations
  upstream's (`exception-timestamp`, `task-name`, `endpoint`, `tm-id`, `failure-label-<key>`). Each event's
  identity names the job and the exception's timestamp and is recorded once, so an exception is never
  reported twice, even after an operator restart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common.errors import error_json
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.flink.service import JobExceptionInfo, JobFailure

__all__ = [
    "FAILED_JOB_TYPE",
    "REPORT_WINDOW_MS",
    "exception_events",
    "failed_job_error",
    "failed_job_event",
    "failed_job_message",
    "newest_timestamp",
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
    text = exception.exception or "(exception without a message)"
    lines = [line for line in exception.stack_trace.splitlines() if line.strip()]
    if stacktrace_lines > 0 and lines:
        shown = lines[:stacktrace_lines]
        text += "\n\n" + "\n".join(shown)
        if len(lines) > len(shown):
            text += f"\n... ({len(lines) - len(shown)} more lines)"
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
