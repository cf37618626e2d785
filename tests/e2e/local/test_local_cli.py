"""`flink-operator local up|status|down` as users run them: subprocesses, kubectl against the kubeconfig the
command writes, signals to stop. These tests start no Flink cluster (see test_local_flink for those)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from tests.support.local_mode import Kubectl, LocalUp, cli, processes_with

pytestmark = pytest.mark.e2e

CRDS = {
    "flinkdeployments.flink.apache.org",
    "flinksessionjobs.flink.apache.org",
    "flinkstatesnapshots.flink.apache.org",
}


def test_up_serves_the_api_with_crds_and_a_lease_and_stops_on_ctrl_c(
    tmp_path: Path, home: Path, usrlib: Path
) -> None:
    state = tmp_path / "state"
    copy = tmp_path / "out" / "kubeconfig"
    up = LocalUp(
        state, home, "--kubeconfig-out", str(copy), "-D", f"kubernetes.operator.local.usrlib-dir={usrlib}"
    )
    up.start()
    try:
        kubectl = Kubectl(copy, home)
        crds = set(
            kubectl.run("get", "crd", "-o", "name")
            .stdout.replace("customresourcedefinition.apiextensions.k8s.io/", "")
            .split()
        )
        assert crds >= CRDS
        holder = kubectl.run(
            "get", "lease", "flink-operator-local", "-n", "default", "-o", "jsonpath={.spec.holderIdentity}"
        ).stdout
        assert holder.startswith("local-"), holder
        kubectl.run("create", "configmap", "kept", "--from-literal=answer=42")

        status = up.status()
        assert status["running"] is True and status["pid"] == up.process.pid  # type: ignore[union-attr]
        assert status["apiServer"].startswith("http://127.0.0.1:")
        assert status["kubeconfig"] == str(state / "kubeconfig")
        assert status["resources"] == [] and status["flinkClusters"] == []

        second = cli("local", "up", "--state-dir", str(state), "--port", "0", home=home, check=False)
        assert second.returncode == 2
        assert "already running" in second.stdout + second.stderr

        assert up.process is not None
        up.process.send_signal(signal.SIGINT)
        assert up.process.wait(60) == 0
    finally:
        if up.alive():
            up.stop()
    assert processes_with(str(state)) == []
    assert up.status()["running"] is False
    assert "stopped" in up.output()

    # Objects persist in the state directory; a second run serves them again on the same kubeconfig.
    up.start()
    try:
        kubectl = Kubectl(state / "kubeconfig", home)
        answer = kubectl.run("get", "configmap", "kept", "-o", "jsonpath={.data.answer}").stdout
        assert answer == "42"
        assert (
            set(
                kubectl.run("get", "crd", "-o", "name")
                .stdout.replace("customresourcedefinition.apiextensions.k8s.io/", "")
                .split()
            )
            >= CRDS
        )
    finally:
        assert up.stop() == 0


def test_detach_runs_in_the_background_until_down(tmp_path: Path, home: Path, usrlib: Path) -> None:
    state = tmp_path / "state"
    started = cli(
        "local",
        "up",
        "--detach",
        "--state-dir",
        str(state),
        "--port",
        "0",
        "-D",
        f"kubernetes.operator.local.usrlib-dir={usrlib}",
        home=home,
    )
    assert "runs in the background" in started.stdout
    assert f"kubeconfig: {state / 'kubeconfig'}" in started.stdout
    status = json.loads(cli("local", "status", "--state-dir", str(state), "--json", home=home).stdout)
    assert status["running"] is True and status["phase"] == "running"
    assert processes_with(str(state))

    down = cli("local", "down", "--state-dir", str(state), home=home)
    assert f"local up (pid {status['pid']}) stopped" in down.stdout
    assert processes_with(str(state)) == []
    again = cli("local", "down", "--state-dir", str(state), home=home)
    assert "nothing was running" in again.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-D", "no-equals-sign"], "'no-equals-sign': expected KEY=VALUE"),
        (["--config", "missing/config.yaml"], "missing/config.yaml' does not exist"),
        (["-D", "kubernetes.operator.reconcile.interval=soon"], "kubernetes.operator.reconcile.interval"),
        (["--port", "70000"], "70000 is not a TCP port"),
    ],
)
def test_bad_options_are_named(arguments: list[str], message: str, tmp_path: Path, home: Path) -> None:
    result = cli("local", "up", "--state-dir", str(tmp_path / "state"), *arguments, home=home, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join((result.stdout + result.stderr).split()), result.stdout + result.stderr
    assert processes_with(str(tmp_path)) == []
