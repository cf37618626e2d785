"""Informers against the emulator over real HTTP: list + watch, resumed watches, 410 relists, bookmarks,
namespaces."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from tests.support.conditions import until
from tests.support.runtime_kit import (
    CONFIG_MAP,
    COUNTER,
    COUNTER_CRD,
    COUNTER_LABEL,
    api_for,
    config_map,
    counter,
)

from flink_operator.runtime import ChangeType, KubeApi, ObjectKey, SharedInformer
from flink_operator.runtime.kinds import NAMESPACE
from kube_emulator import EmbeddedApiServer, FaultRule

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def api(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[KubeApi]:
    await api_server.hooks.seed([COUNTER_CRD])
    kube = api_for(api_kubeconfig)
    yield kube
    await kube.client.close()


@pytest_asyncio.fixture
async def informer(api: KubeApi) -> AsyncIterator[SharedInformer]:
    shared = SharedInformer(api, CONFIG_MAP, label_selector=COUNTER_LABEL)
    yield shared
    await shared.stop()


def names(shared: SharedInformer) -> set[str]:
    return {key.name for key in shared.store.keys(None)}


async def test_lists_then_watches_and_a_cut_watch_resumes_without_missing_or_repeating_events(
    api_server: EmbeddedApiServer, api: KubeApi, informer: SharedInformer
) -> None:
    await api.create(CONFIG_MAP, config_map("a", "c"))
    changes: list[tuple[ChangeType, str]] = []
    informer.add_handler(lambda change: changes.append((change.type, change.obj.name)))
    informer.set_namespaces(None)
    await asyncio.wait_for(informer.wait_synced(), 5)
    assert changes == [(ChangeType.ADDED, "a")]

    await api.create(CONFIG_MAP, config_map("b", "c"))
    await until(lambda: "b" in names(informer), what="b seen through the watch")
    assert api_server.hooks.cut_watches() >= 1
    await api.create(CONFIG_MAP, config_map("c", "c"))
    await api.delete(CONFIG_MAP, "a", "default")
    await api.patch(CONFIG_MAP, "b", "default", {"data": {"k": "changed"}})
    await until(lambda: names(informer) == {"b", "c"} and len(changes) == 5, what="changes after the cut")

    assert changes == [
        (ChangeType.ADDED, "a"),
        (ChangeType.ADDED, "b"),
        (ChangeType.ADDED, "c"),
        (ChangeType.DELETED, "a"),
        (ChangeType.MODIFIED, "b"),
    ]
    single = informer.informers[0]
    assert single.lists == 1 and single.watches >= 2 and single.expired == 0
    assert informer.store.get(ObjectKey("default", "b"))["data"] == {"k": "changed"}  # type: ignore[index]


async def test_410_after_a_gap_relists_and_reports_deletions_made_during_the_gap(
    api_server: EmbeddedApiServer, api: KubeApi, informer: SharedInformer
) -> None:
    for name in ("keep", "gone", "changed"):
        await api.create(CONFIG_MAP, config_map(name, "c"))
    changes: list[tuple[ChangeType, str]] = []
    informer.add_handler(lambda change: changes.append((change.type, change.obj.name)))
    informer.set_namespaces(None)
    await asyncio.wait_for(informer.wait_synced(), 5)
    changes.clear()

    outage = api_server.hooks.faults.add(FaultRule("GET", r"/configmaps$", status=503, times=None))
    api_server.hooks.cut_watches()
    await until(lambda: not informer.healthy, what="the informer notices the outage")
    await api.delete(CONFIG_MAP, "gone", "default")
    await api.patch(CONFIG_MAP, "changed", "default", {"data": {"k": "new"}})
    await api.create(CONFIG_MAP, config_map("new", "c"))
    api_server.hooks.compact()
    api_server.hooks.faults.remove(outage)

    await until(lambda: names(informer) == {"keep", "changed", "new"}, within=10, what="relist after 410")
    await until(lambda: informer.healthy, what="healthy again")
    assert set(changes) == {
        (ChangeType.DELETED, "gone"), (ChangeType.MODIFIED, "changed"), (ChangeType.ADDED, "new"),
    }
    assert len(changes) == 3
    single = informer.informers[0]
    assert single.expired == 1 and single.lists == 2


@pytest.mark.kube_emulator(bookmark_interval=0.1)
async def test_bookmarks_keep_the_resume_point_fresh_so_compaction_does_not_force_a_relist(
    api_server: EmbeddedApiServer, api: KubeApi, informer: SharedInformer
) -> None:
    informer.set_namespaces(None)
    await asyncio.wait_for(informer.wait_synced(), 5)
    single = informer.informers[0]
    start = int(single.resource_version or 0)
    for i in range(5):
        await api.create(COUNTER, counter(f"unrelated-{i}"))  # other kinds move the global resourceVersion
    latest = api_server.hooks.resource_version
    await until(lambda: int(single.resource_version or 0) >= latest, what="a bookmark with the latest rv")
    assert latest > start
    api_server.hooks.compact()
    api_server.hooks.cut_watches()
    await api.create(CONFIG_MAP, config_map("after", "c"))
    await until(lambda: "after" in names(informer), what="resumed watch delivers the new object")
    assert single.expired == 0 and single.lists == 1


async def test_namespaces_can_be_added_and_removed_at_runtime(api: KubeApi, informer: SharedInformer) -> None:
    for namespace in ("team-a", "team-b"):
        await api.create(NAMESPACE, {"metadata": {"name": namespace}})
        await api.create(CONFIG_MAP, config_map("cm", "c", namespace))
    changes: list[tuple[ChangeType, ObjectKey]] = []
    informer.add_handler(lambda change: changes.append((change.type, change.obj.key)))
    informer.set_namespaces(frozenset({"team-a"}))
    await asyncio.wait_for(informer.wait_synced(), 5)
    assert informer.store.keys() == [ObjectKey("team-a", "cm")]

    informer.set_namespaces(frozenset({"team-b"}))
    await asyncio.wait_for(informer.wait_synced(), 5)
    assert informer.store.keys() == [ObjectKey("team-b", "cm")]
    assert (ChangeType.FORGOTTEN, ObjectKey("team-a", "cm")) in changes

    informer.set_namespaces(None)
    await asyncio.wait_for(informer.wait_synced(), 5)
    assert sorted(informer.store.keys()) == [ObjectKey("team-a", "cm"), ObjectKey("team-b", "cm")]
    assert len(informer.informers) == 1 and informer.informers[0].namespace is None

