"""The Dockerfile (no Docker engine here): every file it copies exists and is not excluded by .dockerignore,
the image runs as the non-root user the chart expects, and its entry point is the installed command."""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = (REPO / "Dockerfile").read_text()
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        if line.strip().startswith("#") and not current:
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            logical.append(current.strip())
        current = ""
    result = []
    for entry in logical:
        keyword, _, arguments = entry.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def ignored(path: str) -> bool:
    patterns = [
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        regex = fnmatch.translate(pattern).replace(r".*.*/", "(.*/)?")
        if re.match(regex, path) or any(re.match(regex, parent) for parent in _parents(path)):
            excluded = not negate
    return excluded


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def test_every_copied_file_exists_in_the_build_context() -> None:
    copies = [args for keyword, args in instructions() if keyword == "COPY" and "--from=" not in args]
    assert copies, "the Dockerfile copies nothing from the build context"
    for arguments in copies:
        *sources, _destination = shlex.split(arguments)
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
            assert not ignored(source), f"COPY {source}: excluded by .dockerignore"
    # The project build needs what pyproject.toml points at (the readme) and the package sources.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    copied = {source for arguments in copies for source in shlex.split(arguments)[:-1]}
    assert project["readme"] in copied and "src" in copied and "pyproject.toml" in copied


def test_dockerignore_keeps_the_image_small_but_complete() -> None:
    for path in (".venv", ".git", "tests", "benchmarks", "src/flink_operator/__pycache__"):
        assert ignored(path), path
    for path in ("src/flink_operator/webhook/server.py", "pyproject.toml", "README.md"):
        assert not ignored(path), path


def test_base_user_and_entry_point() -> None:
    steps = instructions()
    bases = [args for keyword, args in steps if keyword == "FROM"]
    assert all(base.split()[0] == "python:3.11-slim" for base in bases)
    user = [args for keyword, args in steps if keyword == "USER"][-1]
    uid, _, gid = user.partition(":")
    values = yaml.safe_load((REPO / "deploy/helm/flink-operator/values.yaml").read_text())
    assert int(uid) == values["podSecurityContext"]["runAsUser"] != 0
    assert int(gid) == values["podSecurityContext"]["runAsGroup"]
    entry = [args for keyword, args in steps if keyword == "ENTRYPOINT"][-1]
    command = [args for keyword, args in steps if keyword == "CMD"][-1]
    assert yaml.safe_load(entry) == ["flink-operator"] and yaml.safe_load(command) == ["run"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "flink-operator" in scripts
    # The directories the chart mounts exist in the image with the configuration directory on FLINK_CONF_DIR.
    text = (REPO / "Dockerfile").read_text()
    for directory in ("conf", "plugins", "artifacts", "operator-lib"):
        directory = f"/opt/flink/{directory}"
        assert directory in text
    assert "FLINK_CONF_DIR=/opt/flink/conf" in text
