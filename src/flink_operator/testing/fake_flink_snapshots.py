"""Savepoints and checkpoints of the fake Flink server, shared by all its virtual clusters.

A snapshot records what a real one would let a restored job continue from: the counter state of the job
and the checkpoint id. Paths look like Flink's (``file:/<dir>/savepoint-<6 hex>-<12 hex>``,
``file:/<dir>/<job id>/chk-<n>``). With ``write_files`` each snapshot is also a directory on disk holding a
``_metadata`` file (JSON of ours, not Flink's format), so code that scans ``chk-*/_metadata`` finds them,
disposal deletes them, and a snapshot survives the fake process.

Not guaranteed: snapshots written by real Flink are recognised as existing (restores succeed) but carry
no counter state of ours (the count restarts at 0).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Snapshot", "SnapshotStore", "normalise_path", "to_local_path"]

_METADATA = "_metadata"
_MARKER = "fake-flink-snapshot"


def to_local_path(path: str) -> Path | None:
    """The local filesystem path of a ``file:`` URI or absolute path (None for other schemes)."""
    if path.startswith("file://"):
        rest = path[len("file://") :]
        return Path("/" + rest.lstrip("/")) if rest.startswith("/") or rest == "" else None
    if path.startswith("file:"):
        return Path("/" + path[len("file:") :].lstrip("/"))
    if path.startswith("/"):
        return Path(path)
    return None


def normalise_path(path: str) -> str:
    """Flink's rendering of a location: ``file:/abs/path`` without a trailing slash."""
    local = to_local_path(path.strip())
    if local is None:
        return path.strip().rstrip("/")
    text = str(local).rstrip("/") or "/"
    return f"file:{text}"


@dataclass(frozen=True)
class Snapshot:
    path: str
    job_id: str
    checkpoint_id: int
    is_savepoint: bool
    count: int
    timestamp_ms: int
    size: int = 4096
    format_type: str | None = None


class SnapshotStore:
    """All snapshots the fake knows, by normalised path."""

    def __init__(self, *, write_files: bool = False) -> None:
        self.write_files = write_files
        self._by_path: dict[str, Snapshot] = {}

    def record(self, snapshot: Snapshot) -> Snapshot:
        key = normalise_path(snapshot.path)
        stored = Snapshot(**{**asdict(snapshot), "path": key})
        self._by_path[key] = stored
        if self.write_files:
            local = to_local_path(key)
            if local is not None:
                local.mkdir(parents=True, exist_ok=True)
                payload = {_MARKER: 1, **asdict(stored)}
                (local / _METADATA).write_text(json.dumps(payload))
        return stored

    def lookup(self, path: str) -> Snapshot | None:
        """The snapshot at ``path`` (or the directory holding ``_metadata``), if it exists."""
        key = normalise_path(path)
        if key.endswith("/" + _METADATA):
            key = key[: -len(_METADATA) - 1]
        known = self._by_path.get(key)
        if known is not None:
            if not self.write_files:
                return known
            local = to_local_path(key)
            return known if local is None or (local / _METADATA).exists() else None
        return self._from_disk(key)

    def _from_disk(self, key: str) -> Snapshot | None:
        local = to_local_path(key)
        if local is None:
            return None
        metadata = local / _METADATA if local.is_dir() else local
        if not metadata.is_file():
            return None
        try:
            payload = json.loads(metadata.read_text())
        except (ValueError, UnicodeDecodeError, OSError):
            payload = None
        if isinstance(payload, dict) and payload.get(_MARKER) == 1:
            fields = {k: payload[k] for k in Snapshot.__dataclass_fields__ if k in payload}
            fields["path"] = key
            return Snapshot(**fields)
        # A snapshot written by real Flink: it exists, but holds no state of ours.
        return Snapshot(path=key, job_id="", checkpoint_id=0, is_savepoint=True, count=0, timestamp_ms=0)

    def exists(self, path: str) -> bool:
        return self.lookup(path) is not None

    def discard(self, path: str) -> bool:
        """Delete a snapshot (and its files); False if it did not exist."""
        key = normalise_path(path)
        existed = self.lookup(key) is not None
        self._by_path.pop(key, None)
        if self.write_files:
            local = to_local_path(key)
            if local is not None and local.exists():
                if local.is_dir():
                    shutil.rmtree(local, ignore_errors=True)
                else:
                    local.unlink(missing_ok=True)
        return existed

    def __len__(self) -> int:
        return len(self._by_path)
