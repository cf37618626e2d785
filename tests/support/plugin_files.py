"""Builders for plugin test fixtures: plugin sub-directories with modules, and pure-Python wheels written by
hand (a zip with a `.dist-info` holding METADATA, WHEEL, entry_points.txt and RECORD), so tests need neither
a build backend nor a network."""

from __future__ import annotations

import base64
import hashlib
import textwrap
import zipfile
from collections.abc import Mapping
from pathlib import Path


def write_files(directory: Path, files: Mapping[str, str]) -> Path:
    """Write `files` (relative path -> source, dedented) under `directory`; returns `directory`."""
    for relative, text in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return directory


def entry_points_text(entry_points: Mapping[str, Mapping[str, str]]) -> str:
    """`{"flink_operator.listeners": {"name": "module:Class"}}` in the standard entry_points.txt format."""
    sections = []
    for group, entries in entry_points.items():
        lines = [f"[{group}]", *(f"{name} = {target}" for name, target in entries.items())]
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


def build_wheel(
    directory: Path,
    distribution: str,
    files: Mapping[str, str],
    entry_points: Mapping[str, Mapping[str, str]],
    version: str = "1.0.0",
) -> Path:
    """Write a py3-none-any wheel of `files` declaring `entry_points` into `directory`; returns its path."""
    stem = distribution.replace("-", "_")
    dist_info = f"{stem}-{version}.dist-info"
    contents: dict[str, bytes] = {name: textwrap.dedent(text).encode() for name, text in files.items()}
    contents[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n".encode()
    )
    contents[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    contents[f"{dist_info}/entry_points.txt"] = entry_points_text(entry_points).encode()
    record_lines = []
    for name, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record_lines.append(f"{name},sha256={digest},{len(data)}")
    record_lines.append(f"{dist_info}/RECORD,,")
    contents[f"{dist_info}/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path
