"""From Flink's REST answers about failures to the FlinkService's `JobFailure` / `JobExceptionInfo` (pure).

`failure_from_result(result)` reads a job's execution result (`GET /jobs/:id/execution-result`): the
failure cause's class, its rendered stack trace, the cause chain in it and the most specific message.
`exceptions_from_history(body, since_ms=..., limit=...)` reads the exception history
(`GET /jobs/:id/exceptions`, the 1.20 and the 2.x shape alike): root exceptions newer than `since_ms`,
newest first.

Not guaranteed: the cause chain is read from Java's rendering of a throwable (`Class: message` headers and
`Caused by:` lines); a trace in another layout yields its first line as the only cause.
"""

from __future__ import annotations

import re

from flink_operator.flink.rest.errors import root_cause_message
from flink_operator.flink.rest.models.jobs import ExecutionResult, JobExceptions
from flink_operator.flink.service import JobExceptionInfo, JobFailure, ThrowableInfo

__all__ = ["cause_chain", "exceptions_from_history", "failure_from_result"]

_HEADER = re.compile(r"^(?P<cls>(?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*)(?::\s?(?P<msg>.*))?$", re.S)
_CAUSED_BY = "Caused by:"


def _frame(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("at ") or (stripped.startswith("...") and stripped.endswith("more"))


def cause_chain(trace: str) -> tuple[ThrowableInfo, ...]:
    """The exceptions of a rendered Java throwable, outermost first (suppressed ones left out)."""
    headers: list[list[str]] = []
    current: list[str] | None = []
    for raw in trace.splitlines():
        stripped = raw.strip()
        if stripped.startswith(_CAUSED_BY):
            current = [stripped[len(_CAUSED_BY) :].strip()]
            headers.append(current)
        elif stripped.startswith("Suppressed:") or _frame(raw):
            current = None
        elif current is not None:
            if not current and not headers:
                headers.append(current)
            current.append(stripped)
    chain: list[ThrowableInfo] = []
    for lines in headers:
        text = "\n".join(lines).strip()
        if not text:
            continue
        match = _HEADER.match(text)
        if match is None:
            chain.append(ThrowableInfo("", text))
        else:
            chain.append(ThrowableInfo(match.group("cls"), (match.group("msg") or "").strip()))
    return tuple(chain)


def failure_from_result(result: ExecutionResult) -> JobFailure | None:
    """The failure of a job whose execution result is known; None while it runs or when it did not fail."""
    if not result.done or result.job_execution_result is None:
        return None
    cause = result.job_execution_result.failure_cause
    if cause is None:
        return None
    trace = cause.stack_trace or ""
    chain = cause_chain(trace)
    exception_class = cause.class_name or (chain[0].exception_class if chain else "")
    message = root_cause_message(trace) if trace.strip() else exception_class
    return JobFailure(
        exception_class=exception_class,
        message=message or exception_class,
        causes=chain,
        stack_trace=trace,
    )


def exceptions_from_history(body: JobExceptions, *, since_ms: int, limit: int) -> list[JobExceptionInfo]:
    """Root exceptions of the history that happened after `since_ms`, newest first, at most `limit`."""
    found: list[JobExceptionInfo] = []
    entries = sorted(body.exception_history.entries, key=lambda entry: entry.timestamp, reverse=True)
    for entry in entries:
        if entry.timestamp <= since_ms or len(found) >= limit:
            break
        found.append(
            JobExceptionInfo(
                exception=entry.exception_name,
                timestamp_ms=entry.timestamp,
                stack_trace=entry.stacktrace,
                task_name=entry.task_name,
                endpoint=entry.endpoint,
                task_manager_id=entry.task_manager_id,
                failure_labels=dict(entry.failure_labels),
            )
        )
    return found
