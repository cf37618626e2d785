"""JVM memory arguments for JobManager and TaskManager processes, computed by Flink's own BashJavaUtils.

The bin scripts run ``BashJavaUtils GET_JM_RESOURCE_PARAMS|GET_TM_RESOURCE_PARAMS`` to turn the memory
options into ``-Xmx``/``-Xms``/... flags and ``-D`` properties; the TaskManager cannot start without the
latter. We do the same, but each call costs a JVM start (~0.5 s), so results are cached per distribution and
per memory-relevant options: the call only sees those options (written to a scratch conf dir), which makes
the cache key exact. A bad memory configuration fails here with Flink's own explanation.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flink_operator.flink.local.configuration import config_file_name, render_config_file
from flink_operator.flink.local.distribution import FlinkDistribution
from flink_operator.flink.service import DeploymentError

_RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:"
_RELEVANT_PREFIXES = (
    "jobmanager.memory.",
    "taskmanager.memory.",
    "taskmanager.cpu.",
    "taskmanager.numberOfTaskSlots",
    "jobmanager.heap.size",
    "taskmanager.heap.size",
    "external-resource",
)
_TIMEOUT_SECONDS = 60.0

ROLES = {"jobmanager": "GET_JM_RESOURCE_PARAMS", "taskmanager": "GET_TM_RESOURCE_PARAMS"}


@dataclass(frozen=True)
class ProcessMemory:
    """JVM flags (``-Xmx…``) and dynamic properties (``-D``, ``key=value`` pairs) for one process role."""

    jvm_args: tuple[str, ...]
    dynamic_properties: tuple[str, ...]

    def dynamic_args(self) -> list[str]:
        args: list[str] = []
        for prop in self.dynamic_properties:
            args += ["-D", prop]
        return args


_cache: dict[tuple[str, str, tuple[tuple[str, str], ...]], ProcessMemory] = {}


def memory_options(conf: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The options that decide process memory, sorted (the cache key)."""
    return tuple(sorted((k, v) for k, v in conf.items() if k.startswith(_RELEVANT_PREFIXES)))


def parse_bash_java_utils_output(output: str) -> ProcessMemory:
    """Two result lines: first the JVM args, then ``-D key=value`` properties."""
    results = [line[len(_RESULT_PREFIX) :] for line in output.splitlines() if line.startswith(_RESULT_PREFIX)]
    if len(results) < 2:
        raise ValueError(f"expected two {_RESULT_PREFIX} lines, got {len(results)}")
    jvm_args = tuple(results[-2].split())
    tokens = results[-1].split()
    props = tuple(part for part in tokens if part != "-D")
    return ProcessMemory(jvm_args=jvm_args, dynamic_properties=props)


async def process_memory(
    distribution: FlinkDistribution, role: str, conf: Mapping[str, str], *, java: str = "java"
) -> ProcessMemory:
    """The memory flags for ``role`` ("jobmanager" or "taskmanager") under ``conf``; cached."""
    command = ROLES[role]
    options = memory_options(conf)
    key = (str(distribution.home), role, options)
    cached = _cache.get(key)
    if cached is None:
        # Two concurrent misses compute the same value twice; harmless, and no lock outlives an event loop.
        cached = _cache[key] = await _run(distribution, command, dict(options), java)
    return cached


async def _run(
    distribution: FlinkDistribution, command: str, options: dict[str, str], java: str
) -> ProcessMemory:
    with tempfile.TemporaryDirectory(prefix="flink-memory-") as scratch:
        conf_dir = Path(scratch)
        (conf_dir / config_file_name(distribution.version)).write_text(
            render_config_file(options), encoding="utf-8"
        )
        classpath = f"{distribution.bash_java_utils_jar}:{distribution.classpath()}"
        argv = [java, "-Xmx64m", "-cp", classpath, "org.apache.flink.runtime.util.bash.BashJavaUtils"]
        argv += [command, "--configDir", str(conf_dir)]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
        except OSError as error:
            raise DeploymentError(f"cannot run {java!r} to compute Flink memory settings: {error}") from error
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), _TIMEOUT_SECONDS)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise DeploymentError(
                f"computing Flink memory settings took longer than {_TIMEOUT_SECONDS:.0f} s"
            ) from None
    out = stdout.decode(errors="replace")
    if proc.returncode != 0:
        raise DeploymentError(
            f"invalid Flink memory configuration: {_explain(stderr.decode(errors='replace'))}"
        )
    try:
        return parse_bash_java_utils_output(out)
    except ValueError as error:
        raise DeploymentError(f"unexpected output of Flink's BashJavaUtils ({error}): {out[-500:]}") from None


_JAVA_EXCEPTION = re.compile(r'^(?:Exception in thread "[^"]*" |Caused by: )[\w.$]+: (.*)$')


def _explain(stderr: str) -> str:
    """The root cause's message from a Java stack trace (the last 'Caused by'), else the stderr tail."""
    messages = [m.group(1) for m in map(_JAVA_EXCEPTION.match, stderr.splitlines()) if m is not None]
    return messages[-1] if messages else (stderr.strip()[-500:] or "no error output")
