"""Driving local mode as a user does: `flink-operator local ...` as subprocesses, kubectl against its
kubeconfig (HOME in a temp dir), and Flink's REST API for what only Flink knows (jobs, the counter job's
gauges). Every wait is bounded; nothing here sleeps to synchronise except between polls of a condition."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "flink-operator"
_CLEARED = ("FLINK_CONF_DIR", "CONF_OVERRIDE_DIR", "FLINK_PLUGINS_DIR", "OPERATOR_LIB", "KUBECONFIG")

T = TypeVar("T")


def environment(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment without what would change the operator's configuration, HOME private."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED and not k.startswith("FLINK_OPERATOR_")}
    env["HOME"] = str(home)
    env.update(extra or {})
    return env


def poll(probe: Callable[[], T | None], *, within: float, what: str, interval: float = 0.25) -> T:
    """Call `probe` until it returns something other than None; fail naming `what` after `within` s."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not reached within {within:.0f} s")
        time.sleep(interval)


def cli(
    *args: str, home: Path, timeout: float = 120.0, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(COMMAND), *args],
        capture_output=True,
        text=True,
        env=environment(home),
        cwd=REPOSITORY_ROOT,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"flink-operator {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


@dataclass
class Kubectl:
    kubeconfig: Path
    home: Path
    binary: str = field(default_factory=lambda: shutil.which("kubectl") or "kubectl")

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=environment(self.home),
            cwd=REPOSITORY_ROOT,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def apply(self, document: Mapping[str, Any]) -> None:
        self.run("apply", "-f", "-", stdin=yaml.safe_dump(dict(document)))

    def get(self, kind: str, name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.run("get", kind, name, "-o", "json").stdout)
        return loaded

    def merge_patch(self, kind: str, name: str, patch: Mapping[str, Any]) -> None:
        self.run("patch", kind, name, "--type", "merge", "-p", json.dumps(patch))

    def events(self, name: str) -> list[dict[str, Any]]:
        out = self.run("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json")
        items: list[dict[str, Any]] = json.loads(out.stdout)["items"]
        return items


class LocalUp:
    """`flink-operator local up` in the foreground, as a subprocess of the test."""

    def __init__(self, state_dir: Path, home: Path, *args: str) -> None:
        self.state_dir = state_dir
        self.home = home
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def output_file(self) -> Path:
        return self.state_dir.parent / f"{self.state_dir.name}-up-{self.runs}.out"

    def output(self) -> str:
        try:
            return self.output_file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, *, within: float = 180.0) -> None:
        self.runs += 1
        with open(self.output_file, "wb") as out:
            self.process = subprocess.Popen(
                [str(COMMAND), "local", "up", "--state-dir", str(self.state_dir), "--port", "0", *self.args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=environment(self.home, {"COLUMNS": "200"}),
                cwd=REPOSITORY_ROOT,
            )
        process = self.process

        def running() -> bool | None:
            if process.poll() is not None:
                raise AssertionError(f"local up exited with {process.returncode}:\n{self.output()}")
            record = self.instance()
            return (
                True if record and record.get("pid") == process.pid and record["phase"] == "running" else None
            )

        poll(running, within=within, what="local up running")

    def instance(self) -> dict[str, Any] | None:
        try:
            loaded: dict[str, Any] = json.loads((self.state_dir / "instance.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return loaded

    def wait_output(self, text: str, *, within: float = 30.0) -> str:
        return poll(lambda: self.output() if text in self.output() else None, within=within, what=repr(text))

    def stop(self, *, within: float = 120.0) -> int:
        """SIGTERM (what Ctrl-C does) and wait for the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"local up did not stop within {within:.0f} s:\n{self.output()}") from None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def status(self) -> dict[str, Any]:
        out = cli("local", "status", "--state-dir", str(self.state_dir), "--json", home=self.home).stdout
        loaded: dict[str, Any] = json.loads(out)
        return loaded


# ------------------------------------------------------------------------------------------ Flink REST


def running_jobs(rest_url: str) -> list[str]:
    response = httpx.get(f"{rest_url}/jobs/overview", timeout=5.0, trust_env=False)
    response.raise_for_status()
    return [job["jid"] for job in response.json()["jobs"] if job["state"] == "RUNNING"]


@dataclass(frozen=True)
class Counter:
    job_id: str
    first: int
    highest: int


def read_counter(rest_url: str, job_id: str) -> Counter | None:
    """The counter job's gauges (max over subtasks), or None until every subtask reported them."""
    details = httpx.get(f"{rest_url}/jobs/{job_id}", timeout=5.0, trust_env=False).json()
    vertex = next(v["id"] for v in details["vertices"] if v["name"].startswith("counter"))
    response = httpx.get(
        f"{rest_url}/jobs/{job_id}/vertices/{vertex}/subtasks/metrics",
        params={"get": "counter.firstCount,counter.maxCount", "agg": "max"},
        timeout=5.0,
        trust_env=False,
    )
    values = {m["id"]: m.get("max") for m in response.json()}
    first, highest = values.get("counter.firstCount"), values.get("counter.maxCount")
    if first is None or highest is None or float(first) < 1:
        return None
    return Counter(job_id, int(float(first)), int(float(highest)))


def wait_counting(rest_url: str, job_id: str, at_least: int, *, within: float = 60.0) -> Counter:
    def probe() -> Counter | None:
        reading = read_counter(rest_url, job_id)
        return reading if reading is not None and reading.highest >= at_least else None

    return poll(probe, within=within, what=f"job {job_id} counting to {at_least}", interval=0.5)


# ------------------------------------------------------------------------------------------ processes


def processes_with(marker: str) -> list[tuple[int, str]]:
    """Running processes (pid, command line) whose command line contains `marker` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append((int(entry.name), cmdline))
    return found


def kill_all(found: Sequence[tuple[int, str]]) -> None:
    for pid, _ in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
