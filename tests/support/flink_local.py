"""Helpers for tests and benchmarks that run real local Flink: distributions, waits, counter-job readings,
and the check that no process we started is left behind."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from tests.support.local_mode import kill_all as kill_all  # re-exported for the Flink tests
from tests.support.local_mode import processes_with

from flink_operator.flink.local.distribution import installed_flink_home
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.rest import FlinkRestClient, read_fresh_vertex_metrics, wait_for_job_running
from flink_operator.flink.service import ClusterRef, JobManagerObservation, JobManagerStatus

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

T = TypeVar("T")

FAST_TEST_CONFIG = {
    "web.refresh-interval": "500",
    "metrics.fetcher.update-interval": "500",
    "rest.cache.checkpoint-statistics.timeout": "500",
    "execution.checkpointing.interval": "1s",
    "jobmanager.scheduler": "adaptive",
    "jobmanager.adaptive-scheduler.scaling-interval.min": "1s",
    "taskmanager.numberOfTaskSlots": "2",
}
"""Cluster options that make tests quick: fresh REST caches and metrics, frequent checkpoints, and an
adaptive scheduler that may rescale one second after the last change."""


def flink120_home() -> Path | None:
    """FLINK_HOME of the Flink 1.20 test distribution (``.venv-flink120``), if installed."""
    found = sorted((REPOSITORY_ROOT / ".venv-flink120" / "lib").glob("python3*/site-packages/pyflink"))
    return found[0] if found and (found[0] / "lib").is_dir() else None


def flink_home_for(version: str) -> Path | None:
    return flink120_home() if version == "v1_20" else installed_flink_home()


async def wait_until(
    probe: Callable[[], Awaitable[T | None]], *, within: float, what: str, interval: float = 0.2
) -> T:
    """Call ``probe`` until it returns something other than None; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    last: object = None
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not reached within {within:.0f} s (last: {last!r})")
        last = value
        await asyncio.sleep(interval)


async def wait_ready(
    service: LocalFlinkService, ref: ClusterRef, *, taskmanagers: int = 1, within: float = 90.0
) -> JobManagerObservation:
    """Until the JobManager answers REST and the TaskManagers registered; fails fast on a dead JobManager."""

    async def probe() -> JobManagerObservation | None:
        observed = await service.observe_jobmanager(ref)
        if observed.status in (JobManagerStatus.ERROR, JobManagerStatus.MISSING):
            raise AssertionError(f"{ref} did not start: {observed.status}: {observed.reason}")
        ready = observed.status is JobManagerStatus.READY and (observed.taskmanagers or 0) >= taskmanagers
        return observed if ready else None

    return await wait_until(probe, within=within, what=f"{ref} ready with {taskmanagers} TaskManager(s)")


async def wait_job_running(
    service: LocalFlinkService, ref: ClusterRef, job_id: str, *, within: float = 90.0
) -> None:
    """Until the job is known to the cluster (an application submits its job a moment after REST is up)
    and all its tasks run."""
    await wait_until(lambda: service.job_status(ref, job_id), within=within, what=f"job {job_id} submitted")
    await wait_for_job_running(service._rest(ref), job_id, within=within)


async def counter_vertex(client: FlinkRestClient, job_id: str) -> str:
    details = await client.job_details(job_id)
    return next(v.id for v in details.vertices if v.name.startswith("counter"))


async def counter_gauges(client: FlinkRestClient, job_id: str, *, within: float = 30.0) -> tuple[int, int]:
    """(firstCount, maxCount) of the counter job, each the highest over subtasks (some may own no key)."""
    vertex = await counter_vertex(client, job_id)
    names = ["counter.firstCount", "counter.maxCount"]

    async def probe() -> tuple[int, int] | None:
        values = await read_fresh_vertex_metrics(client, job_id, vertex, names, ["max"], within=within)
        first, highest = values["counter.firstCount"].max, values["counter.maxCount"].max
        if first is None or highest is None or first < 1:
            return None  # the counter has not processed a record yet
        return int(first), int(highest)

    return await wait_until(probe, within=within, what=f"counter gauges of job {job_id}")


async def wait_count_at_least(
    client: FlinkRestClient, job_id: str, count: int, *, within: float = 60.0
) -> int:
    async def probe() -> int | None:
        _, highest = await counter_gauges(client, job_id, within=within)
        return highest if highest >= count else None

    return await wait_until(probe, within=within, what=f"job {job_id} counting to {count}", interval=0.5)


processes_with_marker = processes_with
"""Running processes (pid, command line) whose command line contains a marker (see `local_mode`)."""


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    except OSError:
        pass
    return inodes


def _decode_address(hex_address: str) -> tuple[str, int]:
    host_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(host_hex)
    if len(raw) == 4:
        host = ".".join(str(b) for b in reversed(raw))
    else:
        words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
        packed = b"".join(words)
        host = str(ipaddress.IPv6Address(packed))
        mapped = ipaddress.IPv6Address(packed).ipv4_mapped
        host = str(mapped) if mapped is not None else host
    return host, int(port_hex, 16)


def listening_addresses(pids: list[int]) -> list[tuple[str, int]]:
    """(host, port) of each listening TCP socket of ``pids`` (IPv4-mapped addresses shown as IPv4)."""
    inodes: set[str] = set()
    for pid in pids:
        inodes |= _socket_inodes(pid)
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:
                    found.append(_decode_address(fields[1]))
    return sorted(found)
