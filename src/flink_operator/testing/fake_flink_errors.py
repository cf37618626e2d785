"""Error answers of the fake Flink server, worded and shaped as real Flink words and shapes them.

Real Flink answers ``{"errors": [...]}``: either one Java stack trace (handler errors, 4xx), or
``"Internal server error."`` plus a ``<Exception on server side: ...>`` trace (5xx). The texts below are the
ones observed from Flink 2.3 and 1.20 (see tests/unit/flink_rest/data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "FakeRestError",
    "checkpoint_failure_trace",
    "disposal_failure_trace",
    "java_trace",
    "missing_job_trace",
    "savepoint_directory_failure_trace",
]

_FRAME = "\tat org.apache.flink.runtime.rest.handler.AbstractHandler.respondAsLeader(AbstractHandler.java:1)"


def _trace(exception_class: str, message: str, cause: str | Sequence[str] | None = None) -> str:
    """A Java stack trace: the exception, then each cause (outermost first) as a "Caused by:" section."""
    text = f"{exception_class}: {message}\n{_FRAME}"
    causes = [cause] if isinstance(cause, str) else list(cause or ())
    for each in causes:
        text += f"\nCaused by: {each}\n{_FRAME}"
    return text


def java_trace(exception_class: str, message: str, causes: Sequence[str] = ()) -> str:
    return _trace(exception_class, message, causes)


class FakeRestError(Exception):
    """An error answer: HTTP ``status`` and Flink's ``errors`` list."""

    def __init__(self, status: int, errors: list[str]) -> None:
        super().__init__(f"HTTP {status}: {errors[-1][:200] if errors else ''}")
        self.status = status
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors}

    @classmethod
    def handler(cls, status: int, message: str, cause: str | Sequence[str] | None = None) -> FakeRestError:
        """A ``RestHandlerException`` raised by a handler (its message, optionally a cause trace)."""
        return cls(
            status, [_trace("org.apache.flink.runtime.rest.handler.RestHandlerException", message, cause)]
        )

    @classmethod
    def internal(
        cls, exception_class: str, message: str, cause: str | Sequence[str] | None = None
    ) -> FakeRestError:
        trace = _trace(exception_class, message, cause)
        return cls(
            500,
            [
                "Internal server error.",
                f"<Exception on server side:\n{trace}\n\nEnd of exception on server side>",
            ],
        )

    @classmethod
    def job_not_found(cls, job_id: str) -> FakeRestError:
        """``/jobs/:id``, ``/checkpoints``, ``/exceptions`` and friends: 404 NotFoundException."""
        return cls(
            404, [_trace("org.apache.flink.runtime.rest.NotFoundException", f"Job {job_id} not found")]
        )

    @classmethod
    def job_not_found_internal(cls, job_id: str) -> FakeRestError:
        """``/jobs/:id/status`` and ``/resource-requirements`` report an unknown job as a 500."""
        return cls.internal(
            "org.apache.flink.runtime.messages.FlinkJobNotFoundException",
            f"Could not find Flink job ({job_id})",
        )

    @classmethod
    def bad_format(cls, body_class: str, detail: str | None = None) -> FakeRestError:
        cause = f"com.fasterxml.jackson.databind.exc.MismatchedInputException: {detail}" if detail else None
        return cls.handler(400, f"Request did not match expected format {body_class}.", cause)

    @classmethod
    def bad_path_parameter(cls, name: str, value: str) -> FakeRestError:
        detail = f'Cannot resolve path parameter ({name}) from value "{value}".'
        return cls.handler(400, f"Bad request, could not parse parameters: {detail}")

    @classmethod
    def unknown_route(cls, path: str) -> FakeRestError:
        return cls(404, [f"Unable to load requested file {path}."])


def missing_job_trace(job_id: str) -> str:
    """The failure cause of an operation on a job the dispatcher no longer (or never) had."""
    inner = (
        f"org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job ({job_id})"
    )
    frame = "\tat org.apache.flink.runtime.dispatcher.Dispatcher.getJobMasterGateway(Dispatcher.java:1)"
    return f"java.util.concurrent.CompletionException: {inner}\n{_FRAME}\nCaused by: {inner}\n{frame}"


def checkpoint_failure_trace(reason: str) -> str:
    inner = f"org.apache.flink.runtime.checkpoint.CheckpointException: {reason}"
    frame = (
        "\tat org.apache.flink.runtime.checkpoint.CheckpointCoordinator.abort(CheckpointCoordinator.java:1)"
    )
    return f"java.util.concurrent.CompletionException: {inner}\n{_FRAME}\nCaused by: {inner}\n{frame}"


def disposal_failure_trace(path: str) -> str:
    missing = f"Cannot find checkpoint or savepoint file/directory '{path}' on file system 'file'."
    frame = (
        "\tat org.apache.flink.runtime.state.filesystem.AbstractFsCheckpointStorageAccess.resolve(Fs.java:1)"
    )
    return (
        f"org.apache.flink.util.FlinkException: Could not dispose savepoint {path}.\n{_FRAME}\n"
        f"Caused by: java.io.FileNotFoundException: {missing}\n{frame}"
    )


def savepoint_directory_failure_trace(directory: str) -> str:
    io_problem = "An Exception occurred while triggering the checkpoint. IO-problem detected."
    inner = f"org.apache.flink.runtime.checkpoint.CheckpointException: {io_problem}"
    return java_trace(
        "java.util.concurrent.CompletionException",
        inner,
        [inner, f"java.io.IOException: Failed to create savepoint directory at {directory}"],
    )
