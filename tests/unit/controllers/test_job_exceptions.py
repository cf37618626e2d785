"""A failed job's root cause and its exception history: reading Flink's answers (1.20 and 2.x shapes) and
what they become in status.error and events."""

from __future__ import annotations

import json

import pytest

from flink_operator.controllers.common.job_exceptions import (
    exception_events,
    failed_job_error,
    failed_job_event,
    newest_timestamp,
)
from flink_operator.flink.job_failures import cause_chain, exceptions_from_history, failure_from_result
from flink_operator.flink.rest.models.jobs import ExecutionResult, JobExceptions
from flink_operator.flink.service import JobExceptionInfo, JobFailure, ThrowableInfo

pytestmark = pytest.mark.unit

TRACE = """org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy
\tat org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(X.java:1)
\tat org.apache.flink.runtime.scheduler.DefaultScheduler.handleTaskFailure(X.java:2)
Caused by: java.lang.IllegalArgumentException: --keys must be at least 1, got 0
\tat demo.CounterJob.main(CounterJob.java:37)
\t... 12 more
Suppressed: java.io.IOException: close failed
\tat demo.Sink.close(Sink.java:1)
"""


def test_the_cause_chain_of_a_rendered_throwable() -> None:
    assert cause_chain(TRACE) == (
        ThrowableInfo(
            "org.apache.flink.runtime.JobException", "Recovery is suppressed by NoRestartBackoffTimeStrategy"
        ),
        ThrowableInfo("java.lang.IllegalArgumentException", "--keys must be at least 1, got 0"),
    )
    multi = "java.lang.RuntimeException: first line\nsecond line\n\tat a.B.c(B.java:1)"
    assert cause_chain(multi) == (ThrowableInfo("java.lang.RuntimeException", "first line\nsecond line"),)
    assert cause_chain("something odd happened") == (ThrowableInfo("", "something odd happened"),)
    assert cause_chain("") == ()


def test_a_failed_execution_result_names_the_root_cause() -> None:
    result = ExecutionResult.model_validate(
        {
            "status": {"id": "COMPLETED"},
            "job-execution-result": {
                "id": "a" * 32,
                "application-status": "FAILED",
                "failure-cause": {"class": "org.apache.flink.runtime.JobException", "stack-trace": TRACE},
            },
        }
    )
    failure = failure_from_result(result)
    assert failure is not None
    assert failure.exception_class == "org.apache.flink.runtime.JobException"
    assert failure.message == "--keys must be at least 1, got 0"
    assert len(failure.causes) == 2 and failure.stack_trace == TRACE


def test_no_failure_while_running_or_after_success() -> None:
    running = ExecutionResult.model_validate({"status": {"id": "IN_PROGRESS"}})
    assert failure_from_result(running) is None
    finished = ExecutionResult.model_validate(
        {
            "status": {"id": "COMPLETED"},
            "job-execution-result": {"id": "a" * 32, "application-status": "SUCCEEDED"},
        }
    )
    assert failure_from_result(finished) is None


HISTORY_2X = {
    "exceptionHistory": {
        "entries": [
            {
                "exceptionName": "java.lang.RuntimeException",
                "stacktrace": "java.lang.RuntimeException: third\n\tat a.B.c(B.java:1)",
                "timestamp": 3000,
                "taskName": "counter (1/1)",
                "endpoint": "127.0.0.1:40000",
                "taskManagerId": "tm-1",
                "failureLabels": {"type": "user"},
                "concurrentExceptions": [],
            },
            {"exceptionName": "java.lang.IllegalStateException", "stacktrace": "", "timestamp": 2000},
            {"exceptionName": "java.lang.RuntimeException", "stacktrace": "", "timestamp": 1000},
        ],
        "truncated": False,
    }
}
HISTORY_120 = {**HISTORY_2X, "root-exception": "java.lang.RuntimeException: third", "all-exceptions": []}


@pytest.mark.parametrize("body", [HISTORY_2X, HISTORY_120], ids=["2.x", "1.20"])
def test_the_exception_history_newer_than_a_mark_newest_first(body: dict[str, object]) -> None:
    history = JobExceptions.model_validate(body)
    found = exceptions_from_history(history, since_ms=1000, limit=10)
    assert [e.exception for e in found] == ["java.lang.RuntimeException", "java.lang.IllegalStateException"]
    assert found[0] == JobExceptionInfo(
        "java.lang.RuntimeException",
        3000,
        "java.lang.RuntimeException: third\n\tat a.B.c(B.java:1)",
        "counter (1/1)",
        "127.0.0.1:40000",
        "tm-1",
        {"type": "user"},
    )
    assert [e.timestamp_ms for e in exceptions_from_history(history, since_ms=0, limit=1)] == [3000]
    assert exceptions_from_history(history, since_ms=3000, limit=10) == []


FAILURE = JobFailure(
    "org.apache.flink.runtime.JobException",
    "--keys must be at least 1, got 0",
    cause_chain(TRACE),
    TRACE,
)


def test_a_failed_job_error_carries_the_root_cause_and_its_causes() -> None:
    body = json.loads(failed_job_error("j" * 32, "counter-job", FAILURE, max_length=2048, max_causes=2))
    assert body["type"] == "org.apache.flink.runtime.JobException"
    assert body["message"] == "--keys must be at least 1, got 0"
    assert body["throwableList"] == [
        {
            "type": "java.lang.IllegalArgumentException",
            "message": "--keys must be at least 1, got 0",
            "additionalMetadata": {},
        }
    ]
    assert (
        json.loads(failed_job_error("j" * 32, "x", FAILURE, max_length=2048, max_causes=0))["throwableList"]
        == []
    )
    short = json.loads(failed_job_error("j" * 32, "x", FAILURE, max_length=10, max_causes=2))
    assert len(short["message"]) == 10 and short["message"].endswith("...")
    unknown = json.loads(failed_job_error("j" * 32, "counter-job", None, max_length=2048, max_causes=2))
    assert unknown["message"] == f"Job {'j' * 32} (counter-job) failed"


def test_the_failed_job_event_names_the_job_and_the_cause() -> None:
    event = failed_job_event("j" * 32, "counter-job", FAILURE)
    assert (event.reason, event.type.value, event.component.value) == ("Error", "Warning", "Job")
    assert event.message == f"Job {'j' * 32} (counter-job) failed: --keys must be at least 1, got 0"


def exception(stamp: int, lines: int = 0, **extra: object) -> JobExceptionInfo:
    frames = [f"\tat a.B.m{i}(B.java:{i})" for i in range(lines)]
    trace = "\n".join([f"java.lang.RuntimeException: boom {stamp}", *frames])
    return JobExceptionInfo("java.lang.RuntimeException", stamp, trace, **extra)  # type: ignore[arg-type]


def test_exception_events_are_bounded_deduplicated_and_truncated() -> None:
    history = [exception(5000, 8), exception(4000), exception(3000), exception(2000), exception(1000)]
    events = exception_events(history, job_id="j" * 32, since_ms=1000, limit=3, stacktrace_lines=3)
    # The newest three after the mark, oldest first.
    assert [e.message.splitlines()[0] for e in events] == [
        "java.lang.RuntimeException: boom 3000",
        "java.lang.RuntimeException: boom 4000",
        "java.lang.RuntimeException: boom 5000",
    ]
    assert all(e.reason == "JobException" and e.type.value == "Warning" and e.once for e in events)
    assert events[-1].message.splitlines()[1:] == [
        "\tat a.B.m0(B.java:0)",
        "\tat a.B.m1(B.java:1)",
        "\tat a.B.m2(B.java:2)",
        "... (5 more lines)",
    ]
    assert len({e.message_key for e in events}) == 3
    again = exception_events(history, job_id="j" * 32, since_ms=1000, limit=3, stacktrace_lines=3)
    assert [e.message_key for e in again] == [e.message_key for e in events], "the same identity each time"
    assert exception_events(history, job_id="j" * 32, since_ms=5000, limit=3, stacktrace_lines=3) == []
    assert exception_events(history, job_id="j" * 32, since_ms=0, limit=0, stacktrace_lines=3) == []
    assert newest_timestamp(history, 1000) == 5000 and newest_timestamp([], 1000) == 1000


def test_exception_events_carry_upstreams_annotations() -> None:
    detailed = exception(
        1_700_000_000_123,
        task_name="counter (1/1)",
        endpoint="127.0.0.1:40000",
        task_manager_id="tm-1",
        failure_labels={"type": "user", "odd key": "x"},
    )
    [event] = exception_events([detailed], job_id="j" * 32, since_ms=0, limit=10, stacktrace_lines=0)
    assert event.annotations == {
        "exception-timestamp": "2023-11-14T22:13:20.123Z",
        "task-name": "counter (1/1)",
        "endpoint": "127.0.0.1:40000",
        "tm-id": "tm-1",
        "failure-label-type": "user",
        "failure-label-odd-key": "x",
    }
    assert event.message == "java.lang.RuntimeException: boom 1700000000123"
    nameless = JobExceptionInfo("java.lang.OutOfMemoryError", 5, "")
    [event] = exception_events([nameless], job_id="j" * 32, since_ms=0, limit=10, stacktrace_lines=5)
    assert event.message == "java.lang.OutOfMemoryError"
