"""What the operator wiring and the job controllers need to take part in snapshots: whether the
FlinkStateSnapshot CRD is installed, and the watch that maps snapshot changes to the job they reference.

    installed = await snapshot_crd_installed(api)               # at start-up (upstream does the same)
    ControllerSpec(..., watches=[..., snapshot_watch(JobKind.FLINK_DEPLOYMENT)])

The watch has no label selector: the job controllers see every snapshot of their jobs (the in-flight guard
needs manual ones too), and share the informer with the FlinkStateSnapshot controller. A change reconciles
the job only when it changes what the job's snapshot decisions read (`SnapshotSummary`: appearing,
disappearing, deletion starting, leaving or entering flight, final state, path, failures, trigger type);
the snapshot controller's other writes (TRIGGER_PENDING to IN_PROGRESS, trigger ids, timestamps, its labels,
finalizers) do not. Each of a snapshot's five or so writes
reconciled the job before, so a short periodic schedule used up the job's reconcile rate limit and the job
was observed (Flink REST calls included) several times per snapshot for nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from flink_operator.api import FlinkStateSnapshotState, JobKind
from flink_operator.controllers.snapshot.controller import FLINK_STATE_SNAPSHOT
from flink_operator.controllers.snapshot.summary import SnapshotSummary
from flink_operator.runtime import Change, KubeApi, ObjectKey, Store, Watch, status_code

_log = logging.getLogger(__name__)

JSON = dict[str, Any]


async def snapshot_crd_installed(api: KubeApi) -> bool:
    """Whether the API server serves FlinkStateSnapshots (404 on a list means the CRD is missing). Any other
    failure counts as installed: the informer then reports the problem loudly instead of the operator
    silently falling back to the legacy status fields."""
    try:
        await api.request_raw("GET", FLINK_STATE_SNAPSHOT.collection_path(None), params={"limit": "1"})
    except Exception as error:
        if status_code(error) == 404:
            _log.warning(
                "The FlinkStateSnapshot CRD is not installed: snapshots are tracked in the job status "
                "(status.jobStatus.savepointInfo / checkpointInfo) instead"
            )
            return False
        _log.info("Could not check for the FlinkStateSnapshot CRD (%s); assuming it is installed", error)
    return True


def _relevant(document: JSON) -> SnapshotSummary | None:
    """What the job's decisions read of a snapshot: its summary, with both in-flight states as one."""
    summary = SnapshotSummary.from_document(document)
    if summary is not None and summary.in_flight:
        summary = replace(summary, state=FlinkStateSnapshotState.TRIGGER_PENDING)
    return summary


def snapshot_watch(job_kind: JobKind) -> Watch:
    """A watch of FlinkStateSnapshots that reconciles the job (of `job_kind`) each one references."""

    def mapper(change: Change, _primary: Store) -> list[ObjectKey]:
        keys: list[ObjectKey] = []
        versions = [(v.namespace, v.decode()) for v in (change.old, change.new) if v is not None]
        if len(versions) == 2 and _relevant(versions[0][1]) == _relevant(versions[1][1]):
            return keys
        for namespace, document in versions:
            reference = (document.get("spec") or {}).get("jobReference") or {}
            name = reference.get("name") if isinstance(reference, dict) else None
            if reference.get("kind") == job_kind.value and isinstance(name, str) and name:
                key = ObjectKey(namespace, name)
                if key not in keys:
                    keys.append(key)
        return keys

    return Watch(FLINK_STATE_SNAPSHOT, mapper)
