"""The store's resourceVersions and history, and watch event translation."""

from __future__ import annotations

import pytest

from kube_emulator.selectors import object_matcher, parse_label_selector
from kube_emulator.store import Store
from kube_emulator.watch import Watcher, WatchHub

pytestmark = pytest.mark.unit
CM = ("", "configmaps")


def cm(name: str, namespace: str = "default", **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
    }


def test_every_commit_gets_the_next_resource_version_and_a_cached_encoding() -> None:
    store = Store()
    first = store.put(CM, cm("a"))
    second = store.put(CM, cm("b"))
    deleted = store.delete(CM, "default", "a")
    assert (first.rv, second.rv) == (1, 2) and deleted is not None and deleted.rv == 3
    assert deleted.obj["metadata"]["resourceVersion"] == "3" and b'"resourceVersion":"2"' in second.raw
    assert [c.type for c in store.history] == ["ADDED", "ADDED", "DELETED"]


def test_items_are_ordered_by_namespace_then_name() -> None:
    store = Store()
    for namespace, name in (("b", "x"), ("a", "z"), ("a", "y")):
        store.put(CM, cm(name, namespace))
    assert [(s.namespace, s.name) for s in store.items(CM)] == [("a", "y"), ("a", "z"), ("b", "x")]
    assert [s.name for s in store.items(CM, "a")] == ["y", "z"]


def test_history_is_bounded_and_older_versions_are_gone() -> None:
    store = Store(history_size=2)
    for i in range(4):
        store.put(CM, cm(f"c{i}"))
    assert store.changes_since(0) is None and store.changes_since(1) is None
    changes = store.changes_since(2)
    assert changes is not None and [c.rv for c in changes] == [3, 4]
    store.compact()
    assert store.changes_since(3) is None and store.changes_since(4) == []


def test_watcher_reports_selector_transitions() -> None:
    store = Store()
    hub = WatchHub()
    store.subscribe(hub.on_change)
    watcher = Watcher(CM, "default", object_matcher(parse_label_selector("app=x"), ()))
    hub.register(watcher)
    store.put(CM, cm("a", app="x"))
    store.put(CM, cm("a", app="y"))
    store.put(CM, cm("a", app="x"))
    store.put(CM, cm("b", "other", app="x"))
    store.delete(CM, "default", "a")
    events = []
    while not watcher.queue.empty():
        item = watcher.queue.get_nowait()
        assert item is not None
        events.append(item.type)
    assert events == ["ADDED", "DELETED", "ADDED", "DELETED"]


def test_slow_watchers_are_closed() -> None:
    store = Store()
    hub = WatchHub()
    store.subscribe(hub.on_change)
    watcher = Watcher(CM, None, None, max_backlog=2)
    hub.register(watcher)
    for i in range(4):
        store.put(CM, cm(f"c{i}"))
    assert watcher.closed
