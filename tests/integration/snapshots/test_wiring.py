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
