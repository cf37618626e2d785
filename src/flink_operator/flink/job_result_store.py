"""JobResultStore directories of HA deployments: which ones may go, and removing them.

Every HA deployment gets a fresh JobResultStore path `<ha storage>/job-result-store/<cluster-id>/<id>`
(upstream's workaround for FLINK-27569: a finished job id recorded by an earlier deployment must not stop
the next one). Upstream leaves one such directory per launch behind for people to delete. Runtimes call
`prune_after_deploy(configuration)` once a deployment was started; it removes the stale ones.

The rules (`stale_stores`, pure):

* only the directory layout the operator writes is touched: the deployment's path must be
  `.../job-result-store/<cluster-id>/<id>`, and only sibling directories whose name is an id the operator
  makes (32 hex digits, a UUID, or the local runtime's `<generation>-<12 hex digits>`) are candidates;
* the current deployment's directory is kept, and so is the newest other one (the JobManager of the
  previous deployment may still be shutting down and write its last job result);
* everything older goes.

Only storage the operator can reach as files is pruned: a `file:` URI or a plain path that exists where the
operator runs (the local runtime's storage; on Kubernetes, a volume mounted into the operator at the same
path). For other schemes (`s3://`, `hdfs://`, ...) nothing is removed and this is logged once per scheme.
`kubernetes.operator.job-result-store.cleanup.enabled: false` (per resource) turns pruning off.

Not guaranteed: a JobManager of an even older deployment that is somehow still running (the runtimes stop
the previous cluster before deploying) could lose its job results.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from flink_operator.config.resource_options import JOB_RESULT_STORE_CLEANUP_ENABLED

__all__ = [
    "CLEANUP_ENABLED_KEY",
    "STORAGE_PATH_KEY",
    "StoreDir",
    "cleanup_enabled",
    "is_operator_store",
    "local_directory",
    "prune_after_deploy",
    "prune_directory",
    "stale_stores",
]

_log = logging.getLogger(__name__)

CLEANUP_ENABLED_KEY = JOB_RESULT_STORE_CLEANUP_ENABLED.key
STORAGE_PATH_KEY = "job-result-store.storage-path"
_STORES_DIR = "job-result-store"
_KEEP_PREVIOUS = 1
_OPERATOR_IDS = re.compile(
    r"^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+-[0-9a-f]{12})$"
)
_unreachable_logged: set[str] = set()


@dataclass(frozen=True)
class StoreDir:
    """A directory under `<ha storage>/job-result-store/<cluster-id>/`: its name and modification time."""

    name: str
    modified: float


def is_operator_store(name: str) -> bool:
    """Whether `name` is an id the operator gives a JobResultStore directory."""
    return _OPERATOR_IDS.match(name) is not None


def stale_stores(
    entries: Sequence[StoreDir], current: str, *, keep_previous: int = _KEEP_PREVIOUS
) -> list[str]:
    """The names to remove: operator-made ones other than `current`, except the `keep_previous` newest."""
    candidates = [e for e in entries if e.name != current and is_operator_store(e.name)]
    candidates.sort(key=lambda e: (e.modified, e.name), reverse=True)
    return sorted(e.name for e in candidates[max(keep_previous, 0) :])


def cleanup_enabled(configuration: Mapping[str, str]) -> bool:
    return configuration.get(CLEANUP_ENABLED_KEY, "true").strip().lower() != "false"


def local_directory(location: str) -> Path | None:
    """The local path of a `file:` URI or a plain absolute path; None for any other scheme."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and location.startswith("/"):
        return Path(location)
    return None


def prune_directory(base: Path, current: str, *, keep_previous: int = _KEEP_PREVIOUS) -> list[Path]:
    """Remove the stale stores under `base` (blocking file I/O); returns what was removed."""
    try:
        entries = [StoreDir(p.name, p.stat().st_mtime) for p in base.iterdir() if p.is_dir()]
    except OSError:
        return []
    removed: list[Path] = []
    for name in stale_stores(entries, current, keep_previous=keep_previous):
        path = base / name
        try:
            shutil.rmtree(path)
        except FileNotFoundError:
            continue
        except OSError as error:
            _log.warning("Could not remove the old JobResultStore directory %s: %s", path, error)
            continue
        removed.append(path)
    return removed


def prune_after_deploy(configuration: Mapping[str, str]) -> list[Path]:
    """Prune the stale JobResultStore directories of the cluster whose deployment configuration this is
    (blocking file I/O: run it in a thread). A no-op without an operator-made JobResultStore path, when
    turned off, or when the storage is not reachable as files."""
    location = configuration.get(STORAGE_PATH_KEY)
    if not location or not cleanup_enabled(configuration):
        return []
    current = local_directory(location.rstrip("/"))
    if current is None:
        scheme = urlparse(location).scheme or location
        if scheme not in _unreachable_logged:
            _unreachable_logged.add(scheme)
            _log.info(
                "Old JobResultStore directories on %s storage are not pruned by the operator (only file "
                "storage it can reach is); remove them by hand or with a storage lifecycle rule",
                scheme,
            )
        return []
    base = current.parent
    if base.parent.name != _STORES_DIR or not is_operator_store(current.name):
        return []
    if not base.is_dir():
        if "file" not in _unreachable_logged:
            _unreachable_logged.add("file")
            _log.info(
                "JobResultStore directory %s is not reachable from the operator; old directories there are "
                "not pruned (mount the HA storage into the operator at the same path to prune them)",
                base,
            )
        return []
    removed = prune_directory(base, current.name)
    if removed:
        _log.info(
            "Removed %d old JobResultStore director%s of %s",
            len(removed),
            "y" if len(removed) == 1 else "ies",
            base.name,
        )
    return removed
