"""The cluster record: what a later operator run needs to find a local cluster again, stored atomically.

One JSON file per cluster (``<cluster dir>/cluster.json``), written to a temporary file in the same
directory, flushed and renamed over the old one, so a crash leaves either the old or the new record, never a
torn one. The record is written *before* processes start (with no processes) and again after each start,
so a crash in between leaves at worst processes that carry the record's marker; ``reap_unrecorded`` finds
those by their command line.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flink_operator.flink.local.layout import RECORD_FILE
from flink_operator.flink.local.processes import ProcessRecord
from flink_operator.flink.service import ClusterMode, ClusterRef

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ClusterRecord:
    ref: ClusterRef
    mode: ClusterMode
    generation: int
    deployment_id: str
    flink_version: str
    flink_home: str
    conf_dir: str
    rest_port: int
    rpc_port: int
    zookeeper_port: int | None = None
    ha_enabled: bool = False
    job_id: str | None = None
    job_result_store: str | None = None
    ha_storage: str | None = None
    checkpoint_dir: str | None = None
    total_cpu: float = 0.0
    total_memory_bytes: int = 0
    processes: tuple[ProcessRecord, ...] = field(default_factory=tuple)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def process(self, role: str) -> ProcessRecord | None:
        return next((p for p in self.processes if p.role == role), None)

    def with_processes(self, processes: tuple[ProcessRecord, ...]) -> ClusterRecord:
        return replace(self, processes=processes)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "namespace": self.ref.namespace,
            "name": self.ref.name,
            "mode": self.mode.value,
            "generation": self.generation,
            "deployment_id": self.deployment_id,
            "flink_version": self.flink_version,
            "flink_home": self.flink_home,
            "conf_dir": self.conf_dir,
            "rest_port": self.rest_port,
            "rpc_port": self.rpc_port,
            "zookeeper_port": self.zookeeper_port,
            "ha_enabled": self.ha_enabled,
            "job_id": self.job_id,
            "job_result_store": self.job_result_store,
            "ha_storage": self.ha_storage,
            "checkpoint_dir": self.checkpoint_dir,
            "total_cpu": self.total_cpu,
            "total_memory_bytes": self.total_memory_bytes,
            "processes": [p.to_json() for p in self.processes],
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> ClusterRecord:
        if data.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported cluster record format {data.get('format')!r}")
        return ClusterRecord(
            ref=ClusterRef(str(data["namespace"]), str(data["name"])),
            mode=ClusterMode(data["mode"]),
            generation=int(data["generation"]),
            deployment_id=str(data["deployment_id"]),
            flink_version=str(data["flink_version"]),
            flink_home=str(data["flink_home"]),
            conf_dir=str(data["conf_dir"]),
            rest_port=int(data["rest_port"]),
            rpc_port=int(data["rpc_port"]),
            zookeeper_port=None if data.get("zookeeper_port") is None else int(data["zookeeper_port"]),
            ha_enabled=bool(data.get("ha_enabled", False)),
            job_id=data.get("job_id"),
            job_result_store=data.get("job_result_store"),
            ha_storage=data.get("ha_storage"),
            checkpoint_dir=data.get("checkpoint_dir"),
            total_cpu=float(data.get("total_cpu", 0.0)),
            total_memory_bytes=int(data.get("total_memory_bytes", 0)),
            processes=tuple(ProcessRecord.from_json(p) for p in data.get("processes", [])),
        )


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def save(path: Path, record: ClusterRecord) -> None:
    write_atomically(path, json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n")


def load(path: Path) -> ClusterRecord | None:
    """The record at ``path``, or None. A corrupt record raises ValueError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return ClusterRecord.from_json(json.loads(text))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"cluster record {path} is unreadable: {error}") from error


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def record_paths(state_dir: Path) -> Iterator[Path]:
    """Every cluster record under the state directory."""
    clusters = state_dir / "clusters"
    if clusters.is_dir():
        yield from sorted(clusters.glob(f"*/*/{RECORD_FILE}"))
