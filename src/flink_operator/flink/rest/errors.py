"""Typed errors of the Flink REST client, and the pure extraction of Flink's own error messages.

Flink answers failures with ``{"errors": [...]}``. The strings are often whole Java stack traces
(``<Exception on server side: ... End of exception on server side>``); what a person needs is the
innermost ``Caused by:`` message, which :func:`root_cause_message` extracts. This module does no I/O.

Not guaranteed: the extraction is a heuristic over Java's ``Throwable.toString`` layout; for a string
that is not a stack trace it returns the string itself (stripped).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ClusterUnreachable",
    "DeadlineExceeded",
    "FlinkRestError",
    "JobNotFound",
    "JobTerminated",
    "NotFound",
    "ResponseFormatError",
    "TriggerFailed",
    "error_for_response",
    "error_messages_from_body",
    "mentions_missing_job",
    "root_cause_message",
]

_SERVER_SIDE_START = "<Exception on server side:"
_SERVER_SIDE_END = "End of exception on server side>"
# "org.apache.flink.Foo$Bar: message" -> class name, message. Class names are dotted Java identifiers.
_THROWABLE_HEADER = re.compile(
    r"^(?P<cls>(?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*)(?::\s?(?P<msg>.*))?$", re.S
)
# Wrapper exceptions whose message only repeats their cause's "Class: message" text.
_WRAPPER_CLASSES = frozenset(
    {
        "java.util.concurrent.CompletionException",
        "java.util.concurrent.ExecutionException",
        "java.lang.reflect.InvocationTargetException",
        "java.lang.reflect.UndeclaredThrowableException",
    }
)


def _is_frame_line(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("at ") or (stripped.startswith("...") and stripped.endswith("more"))


def _throwable_headers(trace: str) -> list[str]:
    """The 'Class: message' headers of a stack trace: the first one and each 'Caused by:' one.

    A header may span several lines (messages can contain newlines); it ends at the first frame line
    or at the next 'Caused by:'/'Suppressed:' line.
    """
    headers: list[str] = []
    current: list[str] | None = []
    for raw in trace.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if stripped.startswith("Caused by:"):
            if current:
                headers.append("\n".join(current).strip())
            current = [stripped[len("Caused by:") :].strip()]
        elif stripped.startswith("Suppressed:"):
            if current:
                headers.append("\n".join(current).strip())
            current = None  # suppressed exceptions are not the cause chain
        elif _is_frame_line(line):
            if current:
                headers.append("\n".join(current).strip())
            current = None
        elif current is not None:
            current.append(stripped)
    if current:
        headers.append("\n".join(current).strip())
    return [h for h in headers if h]


def _message_of_header(header: str) -> str:
    match = _THROWABLE_HEADER.match(header)
    if match is None:
        return header
    msg = (match.group("msg") or "").strip()
    return msg or match.group("cls")


def _is_wrapper(header: str) -> bool:
    match = _THROWABLE_HEADER.match(header)
    if match is None:
        return False
    if match.group("cls") in _WRAPPER_CLASSES:
        return True
    # "SomeException: other.pkg.Cause: msg" only repeats its cause.
    message = (match.group("msg") or "").strip()
    return _THROWABLE_HEADER.match(message) is not None and ":" in message


def root_cause_message(text: str) -> str:
    """The most specific human-readable message in a Flink error string.

    For a Java stack trace that is the message of the innermost cause, unless an enclosing exception's
    message already quotes it with more context ("entry point class 'x.Y' was not found" rather than
    "x.Y"). Wrapper exceptions that only repeat their cause are skipped. Anything else is returned
    stripped.
    """
    body = text.strip()
    if body.startswith(_SERVER_SIDE_START):
        body = body[len(_SERVER_SIDE_START) :]
        if body.rstrip().endswith(_SERVER_SIDE_END):
            body = body.rstrip()[: -len(_SERVER_SIDE_END)]
        body = body.strip()
    headers = _throwable_headers(body)
    if not headers:
        return body
    meaningful = [h for h in headers if not _is_wrapper(h)] or headers
    chosen = _message_of_header(meaningful[-1])
    for header in reversed(meaningful[:-1]):
        enclosing = _message_of_header(header)
        if chosen and chosen in enclosing and enclosing != chosen:
            chosen = enclosing
        else:
            break
    return chosen


_MISSING_JOB = re.compile(
    r"FlinkJobNotFoundException|Could not find Flink job|Job [0-9a-fA-F]{32} not found|Job could not be found"
)


def mentions_missing_job(messages: Sequence[str]) -> bool:
    """Whether Flink's messages say the job does not exist (its wording differs per endpoint)."""
    return any(_MISSING_JOB.search(m) for m in messages)


def error_messages_from_body(body: Any) -> list[str]:
    """The strings of Flink's ``{"errors": [...]}`` answer (empty if the body has another shape)."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            return [str(e) for e in errors]
        if isinstance(errors, str):
            return [errors]
    return []


def _summarise(messages: Sequence[str]) -> str:
    """One line per distinct root-cause message; Flink's generic 'Internal server error.' goes last."""
    seen: list[str] = []
    for message in messages:
        root = root_cause_message(message)
        if root and root not in seen:
            seen.append(root)
    generic = [m for m in seen if m in {"Internal server error.", "Internal server error"}]
    specific = [m for m in seen if m not in generic]
    return "; ".join(specific or generic)


class FlinkRestError(Exception):
    """Flink answered a REST call with an error status (or a response we could not use).

    ``status`` is the HTTP status (None when no response was received), ``messages`` Flink's raw
    ``errors`` strings, ``root_cause`` the most specific message among them.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        messages: Sequence[str] = (),
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.messages = list(messages)
        self.method = method
        self.url = url

    @property
    def root_cause(self) -> str:
        return _summarise(self.messages) if self.messages else str(self)

    @classmethod
    def from_response(cls, *, status: int, body: Any, method: str, url: str, **extra: Any) -> FlinkRestError:
        messages = error_messages_from_body(body)
        if not messages and isinstance(body, str) and body.strip():
            messages = [body.strip()[:2000]]
        summary = _summarise(messages) if messages else "no error message in the response"
        return cls(
            f"{method} {url} failed with HTTP {status}: {summary}",
            status=status,
            messages=messages,
            method=method,
            url=url,
            **extra,
        )


class NotFound(FlinkRestError):
    """HTTP 404: the job, jar, trigger or route does not exist on this cluster."""


class JobNotFound(NotFound):
    """HTTP 404 for a job id this cluster does not know (never submitted, or already evicted)."""

    def __init__(self, message: str, *, job_id: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.job_id = job_id


class ClusterUnreachable(FlinkRestError):
    """No usable HTTP answer: connection refused/reset, DNS failure or timeout (after any retries)."""


class ResponseFormatError(FlinkRestError):
    """Flink answered 2xx, but the body is not the JSON shape this client expects."""


class TriggerFailed(FlinkRestError):
    """A savepoint, checkpoint or disposal operation finished unsuccessfully.

    ``operation`` names it ("savepoint", "checkpoint", "savepoint disposal", "stop-with-savepoint"),
    ``reason`` is Flink's root-cause message, ``failure_class`` the Java exception class if known.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        reason: str,
        failure_class: str | None = None,
        stack_trace: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.operation = operation
        self.reason = reason
        self.failure_class = failure_class
        self.stack_trace = stack_trace

    @property
    def root_cause(self) -> str:
        return self.reason

    @property
    def job_missing(self) -> bool:
        """Flink failed the operation because the job is gone (unknown, or already terminal)."""
        return mentions_missing_job([self.reason, self.stack_trace or ""])


class DeadlineExceeded(TimeoutError):
    """A wait helper gave up: the awaited condition did not hold before its deadline.

    ``last_observed`` carries the last value seen (e.g. a job status), to say what was happening.
    """

    def __init__(self, message: str, *, last_observed: Any = None) -> None:
        super().__init__(message)
        self.last_observed = last_observed


class JobTerminated(Exception):
    """A wait for a job condition ended because the job reached a terminal state instead.

    ``state`` is the terminal job state; ``reason`` Flink's root-cause message when the job FAILED.
    """

    def __init__(self, message: str, *, job_id: str, state: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.state = state
        self.reason = reason


def error_for_response(
    status: int, body: Any, *, method: str, url: str, job_id: str | None = None
) -> FlinkRestError:
    """The typed error for an HTTP error answer of Flink (``body`` decoded JSON, or text).

    Flink reports an unknown job as 404 on most endpoints but as 500 on some (job status, resource
    requirements) and with different wordings, so for job-scoped calls the message decides.
    """
    if job_id is not None and status in (404, 500) and mentions_missing_job(error_messages_from_body(body)):
        error = JobNotFound.from_response(status=status, body=body, method=method, url=url)
        assert isinstance(error, JobNotFound)
        error.job_id = job_id
        return error
    if status == 404:
        return NotFound.from_response(status=status, body=body, method=method, url=url)
    return FlinkRestError.from_response(status=status, body=body, method=method, url=url)
