"""Removing files the local runtime no longer needs (old deployment directories, a cluster's HA data), and
remembering where HA data lives once a cluster's record is gone.

Checkpoints, savepoints and JobResultStore entries are never removed here.
"""

from __future__ import annotations

import shutil

from flink_operator.flink.local.layout import ClusterLayout
from flink_operator.flink.local.records import write_atomically
from flink_operator.flink.local.snapshots import local_dir


def prune_deployments(layout: ClusterLayout, current: str, keep: int) -> None:
    """Keep the newest ``keep`` deployment directories (their logs help debugging), current included."""
    if not layout.deployments.is_dir():
        return
    others = sorted(
        (d for d in layout.deployments.iterdir() if d.is_dir() and d.name != current),
        key=lambda d: d.stat().st_mtime,
    )
    for old in others[: max(0, len(others) - (keep - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def remember_ha_storage(layout: ClusterLayout, ha_storage: str) -> None:
    """Note where the cluster keeps its HA data: the record goes with the cluster, but HA data kept for a
    last-state restore must still be found (and finally removed) where the resource put it."""
    write_atomically(layout.ha_location, ha_storage + "\n")


def delete_ha_data(layout: ClusterLayout, ha_storage: str | None) -> None:
    """The cluster's ZooKeeper data and its directory in the HA storage (job graphs, checkpoint pointers)."""
    shutil.rmtree(layout.zookeeper, ignore_errors=True)
    storage = local_dir(ha_storage or f"file://{layout.ha_storage}")
    if storage is not None:
        shutil.rmtree(storage / layout.root.name, ignore_errors=True)
    layout.ha_location.unlink(missing_ok=True)
