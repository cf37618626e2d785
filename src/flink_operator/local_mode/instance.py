"""The running `local up`: one per state directory, found again by `local status` and `local down`.

`claim(paths)` takes an exclusive ``flock`` on ``<state>/up.lock`` for the life of the process (the kernel
drops it when the process dies, even by SIGKILL, so a crash never leaves a stale lock) and raises
`AlreadyRunning` naming the holder otherwise. The record ``<state>/instance.json`` says which process runs
and how far it got (starting, running, stopping); it is informative only, the lock is the truth.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import asdict, dataclass
from typing import IO

from flink_operator.flink.local import processes
from flink_operator.flink.local.processes import ProcessRecord
from flink_operator.flink.local.records import write_atomically
from flink_operator.local_mode.layout import LocalPaths


class AlreadyRunning(RuntimeError):
    def __init__(self, paths: LocalPaths, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"local mode is already running for {paths.root} ({who}); "
            f"see `flink-operator local status`, or stop it with `flink-operator local down`"
        )
        self.pid = pid


@dataclass(frozen=True)
class InstanceRecord:
    pid: int
    start_ticks: int
    phase: str
    started_at: float
    api_url: str | None = None
    kubeconfig: str | None = None
    detached: bool = False

    def process(self) -> ProcessRecord:
        # The marker is empty: any command line matches; PID + start time identify the process.
        return ProcessRecord("local-up", self.pid, self.start_ticks, "", "", "")

    def alive(self) -> bool:
        return processes.is_running(self.process())


class Claim:
    """The held lock plus the record of this process; `update` rewrites the record, `release` drops both."""

    def __init__(self, paths: LocalPaths, handle: IO[str], record: InstanceRecord) -> None:
        self.paths = paths
        self._handle = handle
        self.record = record

    def update(self, **changes: object) -> None:
        self.record = InstanceRecord(**{**asdict(self.record), **changes})
        write_atomically(self.paths.instance_record, json.dumps(asdict(self.record), indent=2) + "\n")

    def release(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.paths.instance_record.unlink()
        with contextlib.suppress(OSError):
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()


def read(paths: LocalPaths) -> InstanceRecord | None:
    try:
        data = json.loads(paths.instance_record.read_text(encoding="utf-8"))
        return InstanceRecord(**data)
    except (FileNotFoundError, ValueError, TypeError):
        return None


def holder(paths: LocalPaths) -> InstanceRecord | None:
    """The record of the `local up` that holds the state directory now, or None when none does."""
    record = read(paths)
    if record is None or not record.alive():
        return None
    return record if is_locked(paths) else None


def is_locked(paths: LocalPaths) -> bool:
    if not paths.lock.exists():
        return False
    with open(paths.lock, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def claim(paths: LocalPaths, *, detached: bool = False) -> Claim:
    paths.root.mkdir(parents=True, exist_ok=True)
    handle = open(paths.lock, "a+", encoding="utf-8")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        record = read(paths)
        raise AlreadyRunning(paths, record.pid if record else None) from None
    ticks = processes.start_ticks(os.getpid()) or 0
    claimed = Claim(
        paths, handle, InstanceRecord(os.getpid(), ticks, "starting", time.time(), detached=detached)
    )
    claimed.update()
    return claimed


def wait_released(paths: LocalPaths, *, within: float) -> bool:
    """Wait until no process holds the state directory; False after `within` seconds."""
    deadline = time.monotonic() + within
    while is_locked(paths):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True
