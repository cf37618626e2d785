"""The Kubernetes API emulator of local mode, as a process of its own: start it, find it again, stop it.

It runs apart from the operator on purpose: as on a real cluster, the API server outlives an operator
that crashes (even with SIGKILL), keeps every acknowledged write, and a restarted `local up` adopts it.
Its objects persist in ``<state>/cluster`` across its own restarts too. The process is identified by PID,
start time and its state directory in the command line (see `flink.local.processes`), recorded in
``<state>/emulator.json``.

Not guaranteed: that the port is still free when the process binds it (a clash fails the start with the
emulator's own message).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from flink_operator.flink.local import processes
from flink_operator.flink.local.processes import ProcessRecord
from flink_operator.flink.local.records import write_atomically
from flink_operator.local_mode.layout import LocalPaths

_LISTENING = re.compile(r"kube-emulator listening on (http://[^\s]+)")
_LAUNCHER = "from flink_operator.cli.main import main; main()"


class EmulatorError(RuntimeError):
    """The emulator could not be started; the message carries the end of its log."""


@dataclass(frozen=True)
class EmulatorHandle:
    url: str
    kubeconfig: Path
    process: ProcessRecord
    adopted: bool = False

    def to_json(self) -> dict[str, object]:
        return {"url": self.url, "kubeconfig": str(self.kubeconfig), "process": self.process.to_json()}

    @staticmethod
    def from_json(data: dict[str, object]) -> EmulatorHandle:
        process = data["process"]
        if not isinstance(process, dict):
            raise ValueError("process must be an object")
        return EmulatorHandle(
            str(data["url"]), Path(str(data["kubeconfig"])), ProcessRecord.from_json(process)
        )


def command(paths: LocalPaths, port: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        _LAUNCHER,
        "emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--state-dir",
        str(paths.cluster),
        "--kubeconfig",
        str(paths.kubeconfig),
    ]


def read_record(paths: LocalPaths) -> EmulatorHandle | None:
    try:
        return EmulatorHandle.from_json(json.loads(paths.emulator_record.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return None


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(f"{url}/version", timeout=timeout, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def running(paths: LocalPaths) -> EmulatorHandle | None:
    """The recorded emulator if its process still runs and answers."""
    handle = read_record(paths)
    if handle is None or not processes.is_running(handle.process) or not answers(handle.url):
        return None
    return handle


def start(paths: LocalPaths, port: int, *, within: float = 60.0) -> EmulatorHandle:
    """Start the emulator and wait until it listens (its log names the URL; port 0 picks a free one)."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.cluster.mkdir(parents=True, exist_ok=True)
    log = paths.emulator_log
    offset = log.stat().st_size if log.exists() else 0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    record = processes.launch(
        "emulator",
        command(paths, port),
        env=env,
        cwd=paths.root,
        marker=str(paths.cluster),
        log_file=log,
        out_file=log,
    )
    deadline = time.monotonic() + within
    while True:
        url = _listening_url(log, offset)
        if url is not None and paths.kubeconfig.is_file():
            handle = EmulatorHandle(url, paths.kubeconfig, record)
            write_atomically(paths.emulator_record, json.dumps(handle.to_json(), indent=2) + "\n")
            return handle
        if not processes.is_running(record):
            code = processes.exit_code(record)
            raise EmulatorError(
                f"the Kubernetes API emulator {processes.describe_exit(code)}; last lines of {log}:\n"
                + _new_text(log, offset)[-2000:]
            )
        if time.monotonic() > deadline:
            _kill(record)
            raise EmulatorError(
                f"the Kubernetes API emulator did not listen within {within:.0f} s; see {log}"
            )
        time.sleep(0.05)


def _new_text(log: Path, offset: int) -> str:
    try:
        with open(log, "rb") as file:
            file.seek(offset)
            return file.read().decode(errors="replace")
    except OSError:
        return ""


def _listening_url(log: Path, offset: int) -> str | None:
    match = _LISTENING.search(_new_text(log, offset))
    return match.group(1) if match else None


def _kill(record: ProcessRecord) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(record.pid, signal.SIGKILL)


async def stop(paths: LocalPaths, handle: EmulatorHandle, *, grace: float = 10.0) -> None:
    """SIGTERM (the emulator writes its state a last time), SIGKILL after ``grace``; forget the record."""
    await processes.stop([handle.process], grace=grace)
    with contextlib.suppress(FileNotFoundError):
        paths.emulator_record.unlink()
