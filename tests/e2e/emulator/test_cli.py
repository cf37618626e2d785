"""`flink-operator emulator` as a process: kubeconfig, --crd preloading, persistence across a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO, Kubectl, kubectl_binary

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-c", "from flink_operator.cli.main import main; main()"]


def start(state_dir: Path, *extra: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*CLI, "emulator", "--port", "0", "--state-dir", str(state_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "listening on" in line:
            return process
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"the emulator did not start: {process.stdout.read()}")


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def test_cli_emulator_preloads_crds_and_keeps_state_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    home = tmp_path / "home"
    home.mkdir()
    crd = REPO / "deploy" / "crds" / "flinkdeployments.flink.apache.org.yaml"
    process = start(state, "--crd", str(crd))
    try:
        kubectl = Kubectl(kubectl_binary(), state / "kubeconfig", home)
        assert "flinkdeployments" in kubectl.run("api-resources", "--api-group=flink.apache.org").stdout
        kubectl.run("create", "configmap", "kept", "--from-literal=a=1")
    finally:
        assert "kube-emulator stopped" in stop(process)
    process = start(state)
    try:
        assert kubectl.run("get", "configmap", "kept", "-o", "jsonpath={.data.a}").stdout == "1"
        assert kubectl.run("get", "crd", "flinkdeployments.flink.apache.org", "-o", "name").stdout.strip()
    finally:
        stop(process)


def test_cli_emulator_rejects_a_bad_service_address(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "emulator", "--service-address", "nonsense", "--lifetime", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "'nonsense': expected" in result.stderr and "NAMESPACE/SERVICE:PORT=HOST:PORT" in result.stderr


def test_cli_emulator_reports_a_taken_port_cleanly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "emulator", "--port", str(port), "--lifetime", "5"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert "error:" in result.stderr and str(port) in result.stderr
    assert "never awaited" not in result.stderr + result.stdout
