"""Loading the REST answers captured from real Flink (tests/unit/flink_rest/data/flink-<version>/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
VERSIONS = sorted(p.name for p in DATA.iterdir() if p.is_dir())


def shape(version: str, name: str) -> tuple[int, Any]:
    """(HTTP status, JSON body) of the captured answer ``name`` from Flink ``version``."""
    captured = json.loads((DATA / version / f"{name}.json").read_text())
    return int(captured["status"]), captured["body"]


def body(version: str, name: str) -> Any:
    return shape(version, name)[1]
