"""Root-cause extraction from Flink's error strings and the typed error hierarchy."""

from __future__ import annotations

import pytest

from flink_operator.flink.rest.errors import (
    FlinkRestError,
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
    error = FlinkRestError.from_response(status=502, body="Bad Gateway", method="GET", url="http://h/overview")
    assert error.messages == ["Bad Gateway"]
    assert error.root_cause == "Bad Gateway"
