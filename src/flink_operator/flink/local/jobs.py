"""Building the example Java job (``examples/jobs/counter``) with ``javac`` against a Flink distribution.

The tests, the benchmarks and the demo call :func:`build_counter_job`; the jar is rebuilt only when the
source is newer. Needs a JDK (``javac`` and ``jar``); a JRE alone can run Flink but not build the job.
The example sources ship with the repository, not with the installed package.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[4]
COUNTER_JOB_SOURCES = REPOSITORY_ROOT / "examples" / "jobs" / "counter" / "src"
COUNTER_JOB_CLASS = "demo.CounterJob"
PYTHON_COUNTER_JOB = REPOSITORY_ROOT / "examples" / "jobs" / "python" / "counter_job.py"


class JobBuildError(RuntimeError):
    """The example job could not be compiled or packaged; the message carries the compiler output."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise JobBuildError(
            f"{name!r} not found on PATH: building the example job needs a JDK (e.g. openjdk-17-jdk)"
        )
    return path


def build_counter_job(flink_home: Path, out_dir: Path, *, sources: Path = COUNTER_JOB_SOURCES) -> Path:
    """Compile the counter job against ``flink_home``'s jars into ``out_dir/counter-job.jar``; return it."""
    java_files = sorted(sources.rglob("*.java"))
    if not java_files:
        raise JobBuildError(f"no Java sources under {sources}")
    out_dir.mkdir(parents=True, exist_ok=True)
    jar = out_dir / "counter-job.jar"
    newest_source = max(f.stat().st_mtime for f in java_files)
    if jar.is_file() and jar.stat().st_mtime >= newest_source:
        return jar
    classpath = ":".join(str(p) for p in sorted((flink_home / "lib").glob("*.jar")))
    with tempfile.TemporaryDirectory(prefix="counter-job-", dir=out_dir) as scratch:
        classes = Path(scratch) / "classes"
        classes.mkdir()
        _run([_tool("javac"), "--release", "11", "-cp", classpath, "-d", str(classes), *map(str, java_files)])
        packed = Path(scratch) / jar.name
        _run(
            [
                _tool("jar"),
                "--create",
                "--file",
                str(packed),
                "--main-class",
                COUNTER_JOB_CLASS,
                "-C",
                str(classes),
                ".",
            ]
        )
        packed.replace(jar)
    return jar


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    if result.returncode != 0:
        raise JobBuildError(f"{Path(argv[0]).name} failed ({result.returncode}):\n{result.stderr[-2000:]}")
