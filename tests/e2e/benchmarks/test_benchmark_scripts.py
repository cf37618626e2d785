"""Every benchmark script runs to the end in a tiny configuration and prints its figures, so the scripts do
not rot while the code they measure changes. The figures themselves are not checked here (benchmarks print,
they do not assert); what is checked is that each run completes and reports what its documentation says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.flink_local import flink_home_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


def run_benchmark(script: str, *args: str, timeout: float = 300) -> str:
    """Run `benchmarks/<script>` with the test interpreter; its output, or a failure showing it."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLINK_OPERATOR_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=environ, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{script} exited with {done.returncode}:\n{output[-4000:]}"
    return done.stdout


def needs_flink() -> None:
    if flink_home_for("v2_3") is None:
        pytest.skip("no Flink 2.x distribution installed")


def test_operator_scale_reports_every_figure_against_its_goal() -> None:
    out = run_benchmark("operator_scale.py", "--count", "20", "--quick")
    for figure in ("change -> reconcile start p99", "operator RSS", "operator CPU, steady state",
                   "Kubernetes writes per resource, steady"):
        assert re.search(rf"^\s+{re.escape(figure)}\s", out, re.MULTILINE), out
    assert re.search(r"p99\s+<= 100 ms\s+[\d.]+ ms \(max [\d.]+ ms, 10 samples, 0 missing\)", out), out


def test_operator_latency_prints_both_ratios() -> None:
    needs_flink()
    out = run_benchmark("operator_latency.py", "--quick", timeout=600)
    assert re.search(r"apply -> RUNNING ratio \(medians\)\s+<= 1\.05\s+\d+\.\d+", out), out
    assert re.search(r"downtime ratio \(medians\)\s+<= 1\.10\s+\d+\.\d+", out), out
    assert "change -> stop-with-savepoint call" in out, out


def test_runtime_scale() -> None:
    out = run_benchmark("runtime_scale.py", "--scales", "30", "--changes", "10", "--rate", "20",
                        "--steady", "2", "--resync", "1")
    assert re.search(r"change->reconcile start: p50 [\d.]+ ms, p99 [\d.]+ ms", out), out


def test_emulator_scale() -> None:
    out = run_benchmark("emulator_scale.py", "--objects", "50", "--watchers", "3", "--updates", "5")
    assert "write throughput" in out and "full list of 50" in out and "watch fan-out to 3" in out, out


def test_fake_flink_scale() -> None:
    out = run_benchmark("fake_flink_scale.py", "--clusters", "5", "--rounds", "1")
    assert "status round 1" in out and "fake server RSS with 5 clusters" in out, out


def test_plugin_delivery() -> None:
    out = run_benchmark("plugin_delivery.py")
    assert re.search(r"ratio crowded / audit only: \d+\.\d+", out), out


def test_metrics_scrape() -> None:
    out = run_benchmark("metrics_scrape.py", "--scales", "100", "--repeat", "1")
    assert re.search(r"100 resources: first scrape\s+[\d.]+ ms \| steady", out), out


def test_flink_local_lifecycle() -> None:
    needs_flink()
    out = run_benchmark("flink_local_lifecycle.py", "--rounds", "1", timeout=900)
    assert re.search(r"submit -> RUNNING\s+\d+\.\d+", out), out
