"""Operating-system processes of local clusters: start one, tell whether it still runs, stop it by PID.

A process is identified by its PID *and* its start time (``/proc/<pid>/stat``, field 22) *and* a marker
string that must appear in its command line (the private conf dir), so a recycled PID is never mistaken
for ours, in this operator run or after a restart. Processes are started in their own session (they
outlive the operator, which adopts them on restart) with stdin closed and stdout/stderr in a file; never
through a shell. Exit codes are known only for processes this Python process started (it is their parent).

Linux only (``/proc``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

_POLL_SECONDS = 0.05
_children: dict[int, subprocess.Popen[bytes]] = {}
_exit_codes: dict[int, int] = {}


@dataclass(frozen=True)
class ProcessRecord:
    """One started process: enough to find it again, verify it, read its logs and stop it."""

    role: str
    pid: int
    start_ticks: int
    marker: str
    log_file: str
    out_file: str
    exit_code: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "role": self.role,
            "pid": self.pid,
            "start_ticks": self.start_ticks,
            "marker": self.marker,
            "log_file": self.log_file,
            "out_file": self.out_file,
            "exit_code": self.exit_code,
        }

    @staticmethod
    def from_json(data: Mapping[str, object]) -> ProcessRecord:
        exit_code = data.get("exit_code")
        return ProcessRecord(
            role=str(data["role"]),
            pid=int(str(data["pid"])),
            start_ticks=int(str(data["start_ticks"])),
            marker=str(data["marker"]),
            log_file=str(data["log_file"]),
            out_file=str(data["out_file"]),
            exit_code=None if exit_code is None else int(str(exit_code)),
        )


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may contain spaces or ')': split after the last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot, or None if there is no such process."""
    fields = _stat_fields(pid)
    # After the command name, field 3 (state) is index 0, so field 22 (starttime) is index 19.
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def is_ours(record: ProcessRecord) -> bool:
    """The PID still belongs to the process we started (same start time, marker in the command line)."""
    return start_ticks(record.pid) == record.start_ticks and record.marker in _cmdline(record.pid)


def is_running(record: ProcessRecord) -> bool:
    """Ours and not exited (a zombie counts as exited). For our own children the kernel's answer to
    waitpid decides (and reaps them); others are checked through /proc."""
    child = _children.get(record.pid)
    if (
        child is not None
        and child.pid == record.pid
        and start_ticks(record.pid) in (record.start_ticks, None)
    ):
        code = child.poll()
        if code is None:
            return True
        _exit_codes[record.pid] = code
        del _children[record.pid]
        return False
    if not is_ours(record):
        return False
    fields = _stat_fields(record.pid)
    return fields is not None and fields[0] != "Z"


def exit_code(record: ProcessRecord) -> int | None:
    """The exit code (negative: killed by that signal) if we are its parent and it has exited."""
    if record.exit_code is not None:
        return record.exit_code
    is_running(record)
    return _exit_codes.get(record.pid)


def launch(
    role: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    marker: str,
    log_file: Path,
    out_file: Path,
) -> ProcessRecord:
    """Start ``argv`` in its own session; stdout and stderr go to ``out_file``."""
    if marker not in " ".join(argv):
        raise ValueError(f"marker {marker!r} must appear in the command line of {role}")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with open(out_file, "ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - argv is built by us, never through a shell
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
        )
    _children[proc.pid] = proc
    ticks = start_ticks(proc.pid)
    if ticks is None:
        code = proc.wait()
        raise OSError(f"{role} exited at once with code {code}; see {out_file}")
    return ProcessRecord(
        role=role,
        pid=proc.pid,
        start_ticks=ticks,
        marker=marker,
        log_file=str(log_file),
        out_file=str(out_file),
    )


def _signal(record: ProcessRecord, sig: signal.Signals) -> None:
    if not is_running(record):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # Our processes lead their own process group; signalling the group also reaches helpers they spawned.
        if os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, sig)
        else:
            os.kill(record.pid, sig)


async def wait_exited(records: Iterable[ProcessRecord], within: float) -> list[ProcessRecord]:
    """Wait until every process has exited or ``within`` seconds passed; return those still running."""
    pending = list(records)
    deadline = time.monotonic() + within
    while True:
        pending = [r for r in pending if is_running(r)]
        if not pending or time.monotonic() >= deadline:
            return pending
        await asyncio.sleep(_POLL_SECONDS)


async def stop(records: Iterable[ProcessRecord], *, grace: float) -> list[ProcessRecord]:
    """SIGTERM all, SIGKILL what is left after ``grace`` seconds; return the records (with exit codes).

    Raises OSError if a process survives SIGKILL for 10 s (it is then unkillable by us, e.g. in D state).
    """
    targets = list(records)
    for record in targets:
        _signal(record, signal.SIGTERM)
    left = await wait_exited(targets, grace)
    for record in left:
        _signal(record, signal.SIGKILL)
    left = await wait_exited(left, 10.0)
    if left:
        raise OSError(f"processes did not exit after SIGKILL: {[r.pid for r in left]}")
    return [replace(r, exit_code=exit_code(r)) for r in targets]


def describe_exit(code: int | None) -> str:
    if code is None:
        return "exited (exit code unknown: it was started by an earlier operator run)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


def tail(path: str | Path, lines: int = 20, max_bytes: int = 64 * 1024) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - max_bytes))
            data = file.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def find_by_marker(marker: str) -> list[ProcessRecord]:
    """Every running process whose command line contains ``marker`` (for reaping unrecorded ones)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == os.getpid() or marker not in _cmdline(pid):
            continue
        ticks = start_ticks(pid)
        if ticks is not None:
            found.append(ProcessRecord("unrecorded", pid, ticks, marker, "", ""))
    return found
