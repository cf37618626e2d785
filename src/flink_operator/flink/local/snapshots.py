"""Checkpoints, savepoints and HA metadata as files on this machine (``file:`` URIs only).

Used when a cluster cannot be asked: the latest complete checkpoint of a job is the ``chk-<n>`` directory
with the highest n that has a ``_metadata`` file; a savepoint is removed by deleting its directory; HA
metadata exists when the HA storage holds a job graph (``submittedJobGraph*`` in 1.x,
``submittedExecutionPlan*`` in 2.x) or a checkpoint pointer (``completedCheckpoint*``), which Flink writes
next to the ZooKeeper nodes that reference them and deletes with them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flink_operator.flink.service import CheckpointInfo

_CHK = re.compile(r"^chk-(\d+)$")
_HA_PREFIXES = {
    "job graph": ("submittedJobGraph", "submittedExecutionPlan"),
    "checkpoint": ("completedCheckpoint",),
}


def local_dir(uri: str) -> Path | None:
    """The directory a ``file:`` URI or absolute path names; None for other file systems."""
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    if uri.startswith("file:"):
        return Path(uri[len("file:") :])
    if uri.startswith("/"):
        return Path(uri)
    return None


def latest_checkpoint_on_disk(checkpoint_dir: str, job_id: str) -> CheckpointInfo | None:
    base = local_dir(checkpoint_dir)
    if base is None or not (base / job_id).is_dir():
        return None
    complete = [
        (int(m.group(1)), d)
        for d in (base / job_id).iterdir()
        if (m := _CHK.match(d.name)) is not None and (d / "_metadata").is_file()
    ]
    if not complete:
        return None
    number, directory = max(complete)
    return CheckpointInfo(
        checkpoint_id=number,
        external_path=f"file:{directory}",
        timestamp_ms=int((directory / "_metadata").stat().st_mtime * 1000),
    )


def checkpoint_exists(uri: str) -> bool:
    """A local checkpoint is complete when its ``_metadata`` exists; non-local ones are taken on trust."""
    path = local_dir(uri)
    return path is None or (path / "_metadata").is_file() or (path.name == "_metadata" and path.is_file())


def remove_savepoint_files(uri: str) -> bool:
    """Delete a savepoint directory (or a ``_metadata`` path's directory); False if there was nothing."""
    path = local_dir(uri)
    if path is None:
        return False
    if path.name == "_metadata":
        path = path.parent
    if not path.exists():
        return False
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    return True


def storage_has(ha_storage: str, cluster_id: str, kind: str) -> bool:
    directory = local_dir(ha_storage)
    if directory is None:
        return False
    directory = directory / cluster_id
    prefixes = _HA_PREFIXES[kind]
    return directory.is_dir() and any(p.name.startswith(prefixes) for p in directory.iterdir())
