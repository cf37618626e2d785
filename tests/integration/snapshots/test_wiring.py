"""Start-up detection of the FlinkStateSnapshot CRD, and the watch that maps snapshots to their jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from lightkube import AsyncClient, KubeConfig
from tests.support.snapshot_documents import snapshot_document

from flink_operator.api import JobKind, crd_manifests
from flink_operator.controllers.snapshot.wiring import snapshot_crd_installed, snapshot_watch
from flink_operator.runtime import CachedObject, Change, ChangeType, KubeApi, ObjectKey, Store
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration


async def test_the_crd_is_detected_only_once_installed(api_server: EmbeddedApiServer, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    api_server.write_kubeconfig(kubeconfig)
    client = AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), namespace="default")
    try:
        api = KubeApi(client)
        assert not await snapshot_crd_installed(api)
        await api_server.hooks.seed(list(crd_manifests()))
        assert await snapshot_crd_installed(api)
    finally:
        await client.close()


def test_snapshot_changes_map_to_the_referenced_job_of_the_watched_kind() -> None:
    watch = snapshot_watch(JobKind.FLINK_DEPLOYMENT)
    old = CachedObject.from_dict(snapshot_document("s", job="before"))
    new = CachedObject.from_dict(snapshot_document("s", job="after"))
    store = Store(watch.kind)
    assert watch.mapper(Change(ChangeType.MODIFIED, old, new), store) == [
        ObjectKey("default", "before"),
        ObjectKey("default", "after"),
    ]
    session = CachedObject.from_dict(snapshot_document("s", job="job", job_kind="FlinkSessionJob"))
    assert watch.mapper(Change(ChangeType.ADDED, None, session), store) == []
    existing = CachedObject.from_dict(snapshot_document("s", job=None, already_exists=True, path="p"))
    assert watch.mapper(Change(ChangeType.DELETED, existing, None), store) == []


def test_only_changes_the_jobs_decisions_read_reconcile_the_job() -> None:
    watch = snapshot_watch(JobKind.FLINK_DEPLOYMENT)
    store = Store(watch.kind)
    job = [ObjectKey("default", "demo")]

    def mapped(before: dict[str, object], after: dict[str, object]) -> list[ObjectKey]:
        old, new = CachedObject.from_dict(before), CachedObject.from_dict(after)
        return watch.mapper(Change(ChangeType.MODIFIED, old, new), store)

    pending = snapshot_document("s", job="demo", status={"state": "TRIGGER_PENDING"})
    triggered = snapshot_document(
        "s", job="demo", status={"state": "TRIGGER_PENDING", "triggerId": "t-1", "triggerTimestamp": "x"}
    )
    labelled = {**triggered, "metadata": {**triggered["metadata"], "labels": {"snapshot.state": "X"}}}
    finalized = {**labelled, "metadata": {**labelled["metadata"], "finalizers": ["f"]}}
    assert mapped(pending, triggered) == [], "a trigger id and time change nothing the job reads"
    assert mapped(triggered, labelled) == [], "the snapshot controller's own labels neither"
    assert mapped(labelled, finalized) == [], "nor its finalizer"
    running = snapshot_document("s", job="demo", status={"state": "IN_PROGRESS", "triggerId": "t-1"})
    done = snapshot_document("s", job="demo", status={"state": "COMPLETED", "path": "file:/sp/1"})
    failed_once = snapshot_document("s", job="demo", status={"state": "TRIGGER_PENDING", "failures": 1})
    deleting = {**done, "metadata": {**done["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    periodic = {**done, "metadata": {**done["metadata"], "labels": {"snapshot.trigger-type": "PERIODIC"}}}
    assert mapped(triggered, running) == [], "both in flight: the in-flight guard reads the same"
    assert mapped(running, done) == job
    assert mapped(running, failed_once) == job
    assert mapped(done, deleting) == job
    assert mapped(done, periodic) == job, "the trigger type decides retention"
    added = watch.mapper(Change(ChangeType.ADDED, None, CachedObject.from_dict(pending)), store)
    gone = watch.mapper(Change(ChangeType.DELETED, CachedObject.from_dict(done), None), store)
    assert added == job and gone == job
