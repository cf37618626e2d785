"""Processes by PID + start time + marker, stopping with SIGTERM/SIGKILL, and adopting or reaping clusters
left by an earlier operator run. Uses small stand-in processes (sleeping Pythons), not Flink."""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from flink_operator.flink.local import processes, records
from flink_operator.flink.local.layout import ClusterLayout
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.records import ClusterRecord
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.service import ClusterMode, ClusterRef, JobManagerStatus

pytestmark = pytest.mark.unit

SLEEPER = "import pathlib, signal, sys, time; {handler}pathlib.Path(sys.argv[2]).touch(); time.sleep(99)"


def start(tmp_path: Path, role: str, marker: str, *, ignore_term: bool = False) -> processes.ProcessRecord:
    handler = "signal.signal(signal.SIGTERM, signal.SIG_IGN); " if ignore_term else ""
    ready = tmp_path / f"{role}-{time.monotonic_ns()}.ready"
    argv = [sys.executable, "-c", SLEEPER.format(handler=handler), marker, str(ready)]
    proc = processes.launch(
        role,
        argv,
        env=dict(os.environ),
        cwd=tmp_path,
        marker=marker,
        log_file=tmp_path / f"{role}.log",
        out_file=tmp_path / f"{role}.out",
    )
    deadline = time.monotonic() + 10
    while not ready.exists():  # the stand-in has installed its signal handler
        assert time.monotonic() < deadline, f"{role} stand-in did not start"
        time.sleep(0.01)
    return proc


async def test_a_process_is_ours_only_with_its_start_time_and_marker(tmp_path: Path) -> None:
    proc = start(tmp_path, "jobmanager", str(tmp_path / "conf"))
    try:
        assert processes.is_running(proc)
        assert not processes.is_ours(replace(proc, start_ticks=proc.start_ticks - 1)), "a recycled PID"
        assert not processes.is_ours(replace(proc, marker="/elsewhere/conf"))
        assert [p.pid for p in processes.find_by_marker(str(tmp_path / "conf"))] == [proc.pid]
    finally:
        stopped = await processes.stop([proc], grace=5)
    assert stopped[0].exit_code == -signal.SIGTERM
    assert processes.describe_exit(stopped[0].exit_code) == "was killed by SIGTERM"


async def test_a_process_ignoring_sigterm_gets_sigkill_after_the_grace_period(tmp_path: Path) -> None:
    proc = start(tmp_path, "taskmanager-0", str(tmp_path / "conf"), ignore_term=True)
    (stopped,) = await processes.stop([proc], grace=0.5)
    assert stopped.exit_code == -signal.SIGKILL
    assert not processes.is_running(proc)


def _record(layout: ClusterLayout, procs: tuple[processes.ProcessRecord, ...]) -> ClusterRecord:
    return ClusterRecord(
        ref=ClusterRef("ns", layout.root.name),
        mode=ClusterMode.SESSION,
        generation=1,
        deployment_id="1-x",
        flink_version="2.3.0",
        flink_home="/flink",
        conf_dir=str(layout.root / "deployments" / "1-x" / "conf"),
        rest_port=1,
        rpc_port=2,
        processes=procs,
    )


async def test_recovery_adopts_live_clusters_and_reaps_dead_ones_and_unrecorded_processes(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    service = LocalFlinkService(LocalFlinkSettings(state_dir=state, stop_timeout=2))
    alive = ClusterLayout.of(state.resolve(), ClusterRef("ns", "alive"))
    dead = ClusterLayout.of(state.resolve(), ClusterRef("ns", "dead"))
    marker_alive = str(alive.root / "deployments" / "1-x" / "conf")
    marker_dead = str(dead.root / "deployments" / "1-x" / "conf")
    alive_procs = (
        start(tmp_path, "jobmanager", marker_alive),
        start(tmp_path, "taskmanager-0", marker_alive),
    )
    dead_jm = start(tmp_path, "jobmanager", marker_dead)
    dead_tm = start(tmp_path, "taskmanager-0", marker_dead)
    unrecorded = start(tmp_path, "taskmanager-1", marker_dead)
    records.save(alive.record, _record(alive, alive_procs))
    records.save(dead.record, _record(dead, (dead_jm, dead_tm)))
    os.kill(dead_jm.pid, signal.SIGKILL)
    await processes.wait_exited([dead_jm], 5)
    try:
        report = await service.recover()
        assert report.adopted == (ClusterRef("ns", "alive"),)
        assert report.reaped == (ClusterRef("ns", "dead"),)
        assert report.orphans_stopped == (unrecorded.pid,)
        assert not processes.is_running(dead_tm) and not processes.is_running(unrecorded)
        assert all(processes.is_running(p) for p in alive_procs)
        observed = await service.observe_jobmanager(ClusterRef("ns", "dead"))
        assert observed.status is JobManagerStatus.MISSING and "was killed by SIGKILL" in observed.reason

        again = await LocalFlinkService(LocalFlinkSettings(state_dir=state)).recover()
        assert again.adopted == (ClusterRef("ns", "alive"),) and again.orphans_stopped == ()
    finally:
        await service.stop_all()
    assert not any(processes.is_running(p) for p in alive_procs)
    assert service.list_clusters() == []
