"""Root-cause extraction from Flink's error strings and the typed error hierarchy."""

from __future__ import annotations

import pytest
from tests.unit.flink_rest.shapes import VERSIONS, shape

from flink_operator.flink.rest.errors import (
    FlinkRestError,
    JobNotFound,
    NotFound,
    error_for_response,
    error_messages_from_body,
    root_cause_message,
)

pytestmark = pytest.mark.unit

SERVER_SIDE_TRACE = """<Exception on server side:
org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.
\tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$1(JarRunHandler.java:114)
\tat java.base/java.util.concurrent.CompletableFuture.uniHandle(CompletableFuture.java:934)
Caused by: java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: \
Could not execute application.
\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:315)
\t... 2 more
Caused by: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: boom
with a second line
\tat org.apache.flink.client.program.PackagedProgram.callMainMethod(PackagedProgram.java:373)
\t... 12 more

End of exception on server side>"""


def test_innermost_cause_wins_and_keeps_multiline_message() -> None:
    expected = "The main method caused an error: boom\nwith a second line"
    assert root_cause_message(SERVER_SIDE_TRACE) == expected


def test_plain_message_is_returned_stripped() -> None:
    assert root_cause_message("  Job 42 not found \n") == "Job 42 not found"


def test_wrapper_exception_is_skipped_for_its_cause() -> None:
    trace = (
        "java.util.concurrent.CompletionException: java.lang.IllegalStateException: no slots\n"
        "\tat Foo.bar(Foo.java:1)\n"
        "Caused by: java.lang.IllegalStateException: no slots\n"
        "\tat Foo.baz(Foo.java:2)\n"
    )
    assert root_cause_message(trace) == "no slots"


def test_exception_without_message_yields_class_name() -> None:
    trace = "java.lang.NullPointerException\n\tat Foo.bar(Foo.java:1)\n"
    assert root_cause_message(trace) == "java.lang.NullPointerException"


def test_suppressed_exceptions_are_not_the_cause() -> None:
    trace = (
        "java.lang.RuntimeException: outer\n\tat A.a(A.java:1)\n"
        "\tSuppressed: java.lang.IllegalStateException: noise\n\t\tat B.b(B.java:1)\n"
    )
    assert root_cause_message(trace) == "outer"


def test_errors_body_shapes() -> None:
    assert error_messages_from_body({"errors": ["a", "b"]}) == ["a", "b"]
    assert error_messages_from_body({"errors": "one"}) == ["one"]
    assert error_messages_from_body(["not", "a", "dict"]) == []
    assert error_messages_from_body({"other": 1}) == []


def test_error_from_response_summarises_root_causes_and_keeps_raw_messages() -> None:
    body = {"errors": ["Internal server error.", SERVER_SIDE_TRACE]}
    error = FlinkRestError.from_response(status=500, body=body, method="POST", url="http://h/jars/x/run")
    assert error.status == 500
    assert error.messages == body["errors"]
    assert error.root_cause.startswith("The main method caused an error: boom")
    assert "HTTP 500" in str(error)
    assert "Internal server error" not in error.root_cause


def test_error_from_non_json_body_keeps_text() -> None:
    error = FlinkRestError.from_response(
        status=502, body="Bad Gateway", method="GET", url="http://h/overview"
    )
    assert error.messages == ["Bad Gateway"]
    assert error.root_cause == "Bad Gateway"


# ---------------------------------------------------------------- against answers captured from real Flink


UNKNOWN_JOB = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "name",
    [
        "error_job_status_unknown",  # 500 on this endpoint
        "error_job_details_unknown",
        "error_job_checkpoints_unknown",
        "error_execution_result_unknown",
        "error_exceptions_unknown",
        "error_cancel_unknown",  # "Job could not be found."
        "error_rr_unknown_job",  # 500 as well
    ],
)
def test_unknown_job_becomes_job_not_found(version: str, name: str) -> None:
    status, body = shape(version, name)
    error = error_for_response(status, body, method="GET", url="http://h/x", job_id=UNKNOWN_JOB)
    assert isinstance(error, JobNotFound)
    assert error.job_id == UNKNOWN_JOB and error.status == status
    assert "Could not find Flink job" in error.root_cause or "not found" in error.root_cause


@pytest.mark.parametrize("version", VERSIONS)
def test_other_errors_keep_flinks_reason(version: str) -> None:
    def error(name: str, job_id: str | None = None) -> FlinkRestError:
        status, body = shape(version, name)
        return error_for_response(status, body, method="POST", url="http://h/x", job_id=job_id)

    unknown_trigger = error("error_savepoint_trigger_unknown", job_id="1" * 32)
    assert type(unknown_trigger) is NotFound
    assert unknown_trigger.root_cause.startswith("There is no savepoint operation with triggerId=")
    assert "Cannot resolve path parameter (jobid)" in error("error_job_bad_id").root_cause
    bad_claim = error("error_jar_run_bad_claim")
    # The innermost cause is Jackson's, naming the enum and the accepted values.
    assert 'from String "NOT_A_MODE"' in bad_claim.root_cause
    assert "[LEGACY, CLAIM, NO_CLAIM]" in bad_claim.root_cause
    bad_entry = error("error_jar_run_bad_entry")
    assert bad_entry.status == 500
    assert bad_entry.root_cause == "The program's entry point class 'no.Such' was not found in the jar file."
    cancel_finished = error("cancel_finished_job", job_id="1" * 32)
    assert cancel_finished.status == 409 and type(cancel_finished) is FlinkRestError
    assert "already reached another terminal state (FINISHED)" in cancel_finished.root_cause
    assert type(error("error_unknown_route")) is NotFound
