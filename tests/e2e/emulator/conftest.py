"""kubectl against the emulator: a runner bound to a kubeconfig and a private HOME (discovery cache)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kube_emulator import ThreadedApiServer

REPO = Path(__file__).resolve().parents[3]


@dataclass
class Kubectl:
    binary: str
    kubeconfig: Path
    home: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "HOME": str(self.home), "KUBECONFIG": str(self.kubeconfig)}

    def command(self, *args: str) -> list[str]:
        return [self.binary, "--kubeconfig", str(self.kubeconfig), *args]

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args),
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=timeout,
            cwd=REPO,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    @functools.cached_property
    def minor(self) -> int:
        """The client's minor version (features such as `patch --subresource` need recent clients)."""
        out = self.run("version", "--client", "-o", "json").stdout
        return int("".join(ch for ch in json.loads(out)["clientVersion"]["minor"] if ch.isdigit()))

    def require(self, minor: int, feature: str) -> None:
        if self.minor < minor:
            pytest.skip(f"{feature} needs kubectl 1.{minor} or later; this kubectl is 1.{self.minor}")

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env(),
            cwd=REPO,
        )


def kubectl_binary() -> str:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.fail("kubectl is not installed: scripts/setup.sh installs Debian's kubernetes-client")
    return binary


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ThreadedApiServer]:
    with ThreadedApiServer() as server:
        yield server


@pytest.fixture
def kubectl(cluster: ThreadedApiServer, tmp_path: Path) -> Kubectl:
    home = tmp_path / "home"
    home.mkdir()
    return Kubectl(kubectl_binary(), cluster.write_kubeconfig(tmp_path / "kubeconfig"), home)
