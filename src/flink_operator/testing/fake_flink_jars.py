"""Jars on the fake Flink server: reading an upload, choosing the entry class, the program arguments a
version really passes to the job, and the submission errors Flink reports (texts as observed on 2.3/1.20).

An uploaded jar is opened as a zip: its manifest's ``Main-Class`` is the default entry class and its class
entries are what ``entryClass`` may name, as on real Flink. Nothing is executed.
"""

from __future__ import annotations

import io
import shlex
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flink_operator.testing.fake_flink_errors import FakeRestError

__all__ = [
    "JarRecord",
    "Submission",
    "duplicate_submission",
    "effective_program_args",
    "entry_class",
    "job_name",
    "missing_jar",
    "read_jar",
]

_COMPLETION = "java.util.concurrent.CompletionException"
_PROGRAM = "org.apache.flink.client.program.ProgramInvocationException"


@dataclass
class JarRecord:
    id: str
    name: str
    uploaded_ms: int
    main_class: str | None
    classes: frozenset[str]
    valid: bool


@dataclass(frozen=True)
class Submission:
    """What a jar run asked for, as the fake understood it (e.g. ``program_args`` after version rules)."""

    jar_id: str
    job_id: str
    entry_class: str
    program_args: tuple[str, ...]
    parallelism: int | None
    savepoint_path: str | None
    allow_non_restored_state: bool
    claim_mode: str | None
    flink_configuration: Mapping[str, str]
    body: Mapping[str, Any]


def read_jar(filename: str, content: bytes, now_ms: int) -> JarRecord:
    """Accept an upload as Flink does: any file ending in ``.jar`` (an unreadable one fails at run time)."""
    if not filename.endswith(".jar"):
        raise FakeRestError.handler(400, "Only Jar files are allowed.")
    main_class: str | None = None
    classes: set[str] = set()
    valid = True
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as jar:
            names = jar.namelist()
            classes = {n[: -len(".class")].replace("/", ".") for n in names if n.endswith(".class")}
            if "META-INF/MANIFEST.MF" in names:
                for line in jar.read("META-INF/MANIFEST.MF").decode("utf-8", "replace").splitlines():
                    if line.startswith("Main-Class:"):
                        main_class = line.split(":", 1)[1].strip()
    except zipfile.BadZipFile:
        valid = False
    return JarRecord(f"{uuid.uuid4()}_{filename}", filename, now_ms, main_class, frozenset(classes), valid)


def missing_jar(path: str) -> FakeRestError:
    detail = f"org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file {path} does not exist"
    return FakeRestError.internal(_COMPLETION, detail, cause=detail)


def entry_class(jar: JarRecord, requested: Any) -> str:
    """The class to run: ``entryClass`` if given, else the manifest's; it must be in the jar."""
    entry = requested or jar.main_class
    if not entry:
        message = "Neither a 'Main-Class', nor a 'program-class' entry was found in the jar file."
        raise FakeRestError.internal(_COMPLETION, f"{_PROGRAM}: {message}", cause=f"{_PROGRAM}: {message}")
    if entry not in jar.classes:
        message = f"The program's entry point class '{entry}' was not found in the jar file."
        raise FakeRestError.internal(
            _COMPLETION,
            f"{_PROGRAM}: {message}",
            cause=[f"{_PROGRAM}: {message}", f"java.lang.ClassNotFoundException: {entry}"],
        )
    return str(entry)


def effective_program_args(body: Mapping[str, Any], *, is_2x: bool) -> list[str]:
    """Flink 2.x reads only ``programArgsList``; 1.20 also the ``programArgs`` string (not both)."""
    listed = body.get("programArgsList")
    text = body.get("programArgs")
    if is_2x:
        return [str(a) for a in listed or []]
    if listed and text:
        raise FakeRestError.handler(
            400,
            "Confusing request: programArgs and programArgsList are specified, "
            "please, use only programArgsList",
        )
    if listed:
        return [str(a) for a in listed]
    return shlex.split(str(text)) if text else []


def job_name(entry: str) -> str:
    """The name the example jobs give themselves: ``demo.CounterJob`` runs as "counter-job"."""
    simple = entry.rsplit(".", 1)[-1]
    return "".join(("-" + ch.lower()) if ch.isupper() and i else ch.lower() for i, ch in enumerate(simple))


def duplicate_submission(entry: str, *, is_2x: bool) -> FakeRestError:
    """2.x refuses a known job id as an application, 1.20 as a job; both as a 400 with this chain."""
    if is_2x:
        duplicate = "org.apache.flink.runtime.client.DuplicateApplicationSubmissionException: "
        duplicate += "Application has already been submitted."
    else:
        duplicate = (
            "org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted."
        )
    failed = f"Failed to execute job '{job_name(entry)}'."
    could_not = "Could not execute application."
    return FakeRestError.handler(
        400,
        could_not,
        cause=[
            f"{_COMPLETION}: org.apache.flink.util.FlinkRuntimeException: {could_not}",
            f"org.apache.flink.util.FlinkRuntimeException: {could_not}",
            f"{_PROGRAM}: The main method caused an error: {failed}",
            f"org.apache.flink.util.FlinkException: {failed}",
            duplicate,
        ],
    )
