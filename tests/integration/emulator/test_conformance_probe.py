"""The shared Kubernetes API contract probe, run against the emulator over HTTP: every check must pass."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

PROBE = Path(__file__).resolve().parents[3] / ".." / "shared" / "conformance" / "k8s_api_probe.py"


async def test_conformance_probe_passes_every_check(api_server: EmbeddedApiServer) -> None:
    if not PROBE.is_file():
        pytest.fail(
            f"the Kubernetes API contract probe is missing: expected it at {PROBE.resolve()} "
            "(../shared/conformance/k8s_api_probe.py relative to the repository root)"
        )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROBE),
        api_server.url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    text = output.decode(errors="replace")
    failures = [line for line in text.splitlines() if line.startswith("FAIL |")]
    summary = [line for line in text.splitlines() if line.startswith("SUMMARY:")]
    assert summary, f"the probe printed no SUMMARY line:\n{text[-3000:]}"
    assert not failures, "\n".join(failures)
    assert process.returncode == 0, text[-3000:]
    words = summary[-1].split()  # "SUMMARY: N PASS / M FAIL"
    assert int(words[1]) > 0 and int(words[4]) == 0, summary[-1]
