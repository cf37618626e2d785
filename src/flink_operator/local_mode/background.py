"""`local up --detach` and `local down`: a `local up` running in the background, and stopping it.

Detaching starts the same foreground command as a process of its own session (output in
``<state>/logs/up.log``) and returns once it reports "running" (or fails with the end of its log).
`stop_background` asks the running `local up` to stop (SIGTERM, the same as Ctrl-C), waits for it to
release the state directory, and SIGKILLs it only if it does not within the bound; then it stops whatever
is still left (an emulator or Flink clusters of an earlier crash or of `--keep-clusters`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from flink_operator.flink.local import processes
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.local_mode import emulator_process, instance
from flink_operator.local_mode.layout import LocalPaths

_LAUNCHER = "from flink_operator.cli.main import main; main()"


class BackgroundError(RuntimeError):
    pass


def start_detached(paths: LocalPaths, up_arguments: list[str], *, within: float) -> instance.InstanceRecord:
    """Start `flink-operator local up <up_arguments>` in the background; wait until it runs."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    log = paths.background_log
    with open(log, "ab") as out:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments, no shell
            [sys.executable, "-c", _LAUNCHER, "local", "up", *up_arguments],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + within
    while True:
        record = instance.read(paths)
        if record is not None and record.pid == child.pid and record.phase == "running":
            return record
        code = child.poll()
        if code is not None:
            raise BackgroundError(
                f"`local up` exited with code {code} while starting; last lines of {log}:\n"
                + processes.tail(log, 25)
            )
        if time.monotonic() > deadline:
            child.send_signal(signal.SIGTERM)
            raise BackgroundError(f"`local up` did not start within {within:.0f} s; see {log}")
        time.sleep(0.1)


def _wait_exited(record: instance.InstanceRecord, within: float) -> None:
    deadline = time.monotonic() + within
    while record.alive() and time.monotonic() < deadline:
        time.sleep(0.05)


@dataclass
class DownReport:
    stopped_instance: int | None = None
    killed: bool = False
    stopped_emulator: bool = False
    stopped_clusters: list[str] = field(default_factory=list)
    kept_clusters: list[str] = field(default_factory=list)


async def stop_background(paths: LocalPaths, *, keep_clusters: bool, within: float = 90.0) -> DownReport:
    report = DownReport()
    holder = instance.holder(paths)
    if holder is not None:
        report.stopped_instance = holder.pid
        os.kill(holder.pid, signal.SIGTERM)
        released = await asyncio.to_thread(instance.wait_released, paths, within=within)
        if not released and holder.alive():
            os.kill(holder.pid, signal.SIGKILL)
            report.killed = True
            await asyncio.to_thread(instance.wait_released, paths, within=10.0)
        # The lock goes at the end of its shutdown; the interpreter still has to exit.
        await asyncio.to_thread(_wait_exited, holder, 10.0)
    emulator = await asyncio.to_thread(emulator_process.running, paths)
    if emulator is not None:
        await emulator_process.stop(paths, emulator)
        report.stopped_emulator = True
    service = LocalFlinkService(LocalFlinkSettings(state_dir=paths.flink))
    try:
        for record in service.list_clusters():
            jm = record.process("jobmanager")
            if jm is None or not processes.is_running(jm):
                continue
            if keep_clusters:
                report.kept_clusters.append(str(record.ref))
            else:
                await service.delete_cluster(record.ref, delete_ha_data=False)
                report.stopped_clusters.append(str(record.ref))
    finally:
        await service.close()
    return report
