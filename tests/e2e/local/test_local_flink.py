"""`flink-operator local up` and `local demo` with real Flink: an example applied with kubectl unchanged runs
(its jar found through the usrlib mapping), Ctrl-C with --keep-clusters leaves the cluster for the next run
to adopt without redeploying, a plain stop leaves nothing, and the demo runs from start to clean exit."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from tests.support.local_mode import Kubectl, LocalUp, cli, processes_with, running_jobs
from tests.support.local_stack import job_id, rest_url, wait_reconciled

pytestmark = [pytest.mark.e2e, pytest.mark.flink]

EXAMPLE = "examples/basic-flink2.yaml"
NAME = "basic-flink2-example"


def test_an_example_runs_unchanged_and_kept_clusters_are_adopted(
    tmp_path: Path, home: Path, usrlib: Path
) -> None:
    state = tmp_path / "state"
    usrlib_option = ("-D", f"kubernetes.operator.local.usrlib-dir={usrlib}")
    up = LocalUp(state, home, "--keep-clusters", *usrlib_option)
    up.start()
    kubectl = Kubectl(state / "kubeconfig", home)
    try:
        kubectl.run("apply", "-f", EXAMPLE)
        deployed = wait_reconciled(kubectl, NAME, generation=1)
        url, job = rest_url(deployed), job_id(deployed)
        assert running_jobs(url) == [job]
        assert up.process is not None
        up.process.send_signal(signal.SIGINT)
        assert up.process.wait(120) == 0
    finally:
        if up.alive():
            up.stop()
    assert f"Flink clusters left running for the next `local up`: default/{NAME}" in up.output()
    kept = up.status()
    assert kept["running"] is False
    assert [(c["name"], c["running"], c["restUrl"]) for c in kept["flinkClusters"]] == [(NAME, True, url)]
    assert running_jobs(url) == [job]

    adopting = LocalUp(state, home, *usrlib_option)
    adopting.start()
    try:
        assert f"adopted running clusters: default/{NAME}" in adopting.output()
        again = wait_reconciled(kubectl, NAME, generation=1)
        assert (rest_url(again), job_id(again)) == (url, job), "an adopted cluster is not redeployed"
        assert running_jobs(url) == [job]
    finally:
        assert adopting.stop() == 0
    assert processes_with(str(state)) == []
    assert [c["running"] for c in adopting.status()["flinkClusters"]] == []


def test_the_demo_runs_to_a_clean_exit(tmp_path: Path, home: Path) -> None:
    state = tmp_path / "demo"
    result = cli("local", "demo", "--state-dir", str(state), "--timeout", "240", home=home, timeout=600)
    out = result.stdout
    for expected in (
        "applied examples/basic-flink2.yaml",
        f"flinkdeployment/{NAME}  lifecycle DEPLOYED → STABLE",
        f"flinkdeployment/{NAME}  Flink Web UI / REST: http://127.0.0.1:",
        "counter.maxCount = ",
        f"flinkdeployment/{NAME}  deleted",
        "demo phases",
        "demo finished: everything it started has stopped",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert processes_with(str(state)) == []


def test_a_failing_demo_exits_non_zero_naming_the_problem(tmp_path: Path, home: Path) -> None:
    example = tmp_path / "missing-jar.yaml"
    text = (Path(__file__).resolve().parents[3] / EXAMPLE).read_text()
    example.write_text(text.replace("counter-job.jar", "missing.jar"))
    state = tmp_path / "demo"
    result = cli(
        "local",
        "demo",
        "--state-dir",
        str(state),
        "--example",
        str(example),
        "--timeout",
        "10",
        home=home,
        check=False,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert f"error: {NAME} did not become STABLE within 10 s" in out
    assert f"{state}/usrlib/missing.jar does not exist" in out
    assert "demo phases (failed)" in out
    assert processes_with(str(state)) == []
