"""FlinkStateSnapshot documents and decision contexts for snapshot tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flink_operator.api import FlinkJobState, FlinkStateSnapshot, FlinkVersion, JobKind
from flink_operator.controllers.snapshot.settings import SnapshotSettings
from flink_operator.controllers.snapshot.steps import Poll, SnapshotContext
from flink_operator.controllers.snapshot.target import Target
from flink_operator.controllers.snapshot.timestamps import to_k8s_time
from flink_operator.flink.service import ClusterRef

NOW_MS = 1_717_243_200_000  # 2024-06-01T12:00:00Z
JOB_ID = "a" * 32


def snapshot_document(
    name: str = "snap",
    *,
    checkpoint: bool = False,
    job: str | None = "demo",
    job_kind: str = "FlinkDeployment",
    path: str | None = None,
    already_exists: bool = False,
    dispose_on_delete: bool | None = None,
    format_type: str | None = None,
    backoff_limit: int | None = None,
    status: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    created_ms: int = NOW_MS,
    deleted_ms: int | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if job is not None:
        spec["jobReference"] = {"kind": job_kind, "name": job}
    if checkpoint:
        spec["checkpoint"] = {}
    else:
        savepoint: dict[str, Any] = {}
        if path is not None:
            savepoint["path"] = path
        if already_exists:
            savepoint["alreadyExists"] = True
        if dispose_on_delete is not None:
            savepoint["disposeOnDelete"] = dispose_on_delete
        if format_type is not None:
            savepoint["formatType"] = format_type
        spec["savepoint"] = savepoint
    if backoff_limit is not None:
        spec["backoffLimit"] = backoff_limit
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "creationTimestamp": to_k8s_time(created_ms),
    }
    if labels:
        metadata["labels"] = labels
    if deleted_ms is not None:
        metadata["deletionTimestamp"] = to_k8s_time(deleted_ms)
    document: dict[str, Any] = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
        "metadata": metadata,
        "spec": spec,
    }
    if status is not None:
        document["status"] = status
    return document


def running_target(**changes: Any) -> Target:
    base = Target(
        JobKind.FLINK_DEPLOYMENT,
        "demo",
        "default",
        found=True,
        cluster=ClusterRef("default", "demo"),
        job_id=JOB_ID,
        job_state=FlinkJobState.RUNNING,
        desired_running=True,
        flink_version=FlinkVersion.v2_3,
        savepoint_dir="file:/savepoints",
        settings=SnapshotSettings(progress_check_interval=5.0),
    )
    return replace(base, **changes)


def context(
    document: dict[str, Any],
    *,
    target: Target | None = None,
    poll: Poll | None = None,
    now_ms: int = NOW_MS,
    validation_error: str | None = None,
    dispose_attempts: int = 0,
    settings: SnapshotSettings | None = None,
    path_lookups: int = 0,
) -> SnapshotContext:
    snapshot = FlinkStateSnapshot.from_dict(document)
    target = running_target() if target is None and snapshot.spec.job_reference is not None else target
    return SnapshotContext(
        snapshot=snapshot,
        target=target,
        settings=settings or (target.settings if target is not None else SnapshotSettings()),
        now_ms=now_ms,
        poll=poll,
        validation_error=validation_error,
        dispose_attempts=dispose_attempts,
        path_lookups=path_lookups,
    )
