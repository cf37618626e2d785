"""Watches over real HTTP: resume from a resourceVersion, selectors, bookmarks, timeouts, 410 Gone, cuts."""

from __future__ import annotations

import asyncio

import pytest
from tests.support.emulator_http import CONFIGMAPS, Http, configmap

from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration


def names(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["type"], e["object"]["metadata"].get("name", "")) for e in events]


async def test_watch_without_resource_version_starts_with_synthetic_added(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("a"))
    await http.post(CONFIGMAPS, configmap("b"))
    events, _ = await http.watch(CONFIGMAPS, {}, lambda ev: len(ev) >= 2)
    assert names(events) == [("ADDED", "a"), ("ADDED", "b")]


async def test_watch_from_resource_version_replays_only_later_changes(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("a"))
    _, listed = await http.get(CONFIGMAPS)
    await http.post(CONFIGMAPS, configmap("b"))
    await http.patch(f"{CONFIGMAPS}/a", {"data": {"x": "1"}})
    await http.delete(f"{CONFIGMAPS}/b")
    events, _ = await http.watch(
        CONFIGMAPS, {"resourceVersion": listed["metadata"]["resourceVersion"]}, lambda ev: len(ev) >= 3
    )
    assert names(events) == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and len(set(versions)) == 3


async def test_watch_delivers_live_changes_in_order(http: Http) -> None:
    _, listed = await http.get(CONFIGMAPS)

    async def writes() -> None:
        await asyncio.sleep(0.05)
        for i in range(5):
            await http.post(CONFIGMAPS, configmap(f"c{i}"))

    events, _ = await http.watch(
        CONFIGMAPS,
        {"resourceVersion": listed["metadata"]["resourceVersion"]},
        lambda ev: len(ev) >= 5,
        during=writes,
    )
    assert names(events) == [("ADDED", f"c{i}") for i in range(5)]


async def test_watch_label_selector_reports_selector_transitions(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("a", labels={"app": "x"}))
    _, listed = await http.get(CONFIGMAPS)

    async def writes() -> None:
        await asyncio.sleep(0.05)
        await http.patch(f"{CONFIGMAPS}/a", {"metadata": {"labels": {"app": "y"}}})
        await http.post(CONFIGMAPS, configmap("other", labels={"app": "z"}))
        await http.patch(f"{CONFIGMAPS}/a", {"metadata": {"labels": {"app": "x"}}})

    events, _ = await http.watch(
        CONFIGMAPS,
        {"resourceVersion": listed["metadata"]["resourceVersion"], "labelSelector": "app=x"},
        lambda ev: len(ev) >= 2,
        during=writes,
    )
    assert names(events) == [("DELETED", "a"), ("ADDED", "a")]


async def test_watch_single_object_by_field_selector(http: Http) -> None:
    async def writes() -> None:
        await asyncio.sleep(0.05)
        await http.post(CONFIGMAPS, configmap("other"))
        await http.post(CONFIGMAPS, configmap("mine"))

    events, _ = await http.watch(
        CONFIGMAPS, {"fieldSelector": "metadata.name=mine"}, lambda ev: len(ev) >= 1, during=writes
    )
    assert names(events) == [("ADDED", "mine")]


@pytest.mark.kube_emulator(history_size=3)
async def test_watch_from_compacted_resource_version_is_410_gone(http: Http) -> None:
    _, first = await http.post(CONFIGMAPS, configmap("a"))
    for i in range(5):
        await http.patch(f"{CONFIGMAPS}/a", {"data": {"i": str(i)}})
    events, _ = await http.watch(
        CONFIGMAPS, {"resourceVersion": first["metadata"]["resourceVersion"]}, lambda ev: len(ev) >= 1
    )
    assert events[0]["type"] == "ERROR"
    assert (events[0]["object"]["code"], events[0]["object"]["reason"]) == (410, "Expired")
    assert events[0]["object"]["message"].startswith("too old resource version")


async def test_compact_hook_forces_410_on_resume(http: Http, api_server: EmbeddedApiServer) -> None:
    _, created = await http.post(CONFIGMAPS, configmap("a"))
    await http.patch(f"{CONFIGMAPS}/a", {"data": {"x": "1"}})
    api_server.hooks.compact()
    events, _ = await http.watch(
        CONFIGMAPS, {"resourceVersion": created["metadata"]["resourceVersion"]}, lambda ev: len(ev) >= 1
    )
    assert events[0]["object"]["code"] == 410


async def test_watch_timeout_seconds_ends_the_stream(http: Http) -> None:
    events, ended = await http.watch(CONFIGMAPS, {"timeoutSeconds": "1"}, lambda ev: False, deadline_s=5)
    assert ended and events == []


@pytest.mark.kube_emulator(bookmark_interval=0.1)
async def test_watch_bookmarks_carry_the_current_resource_version(http: Http) -> None:
    _, created = await http.post(CONFIGMAPS, configmap("a"))
    rv = created["metadata"]["resourceVersion"]
    events, _ = await http.watch(
        CONFIGMAPS,
        {"resourceVersion": rv, "allowWatchBookmarks": "true"},
        lambda ev: any(e["type"] == "BOOKMARK" for e in ev),
    )
    bookmark = next(e for e in events if e["type"] == "BOOKMARK")
    assert (
        bookmark["object"]["kind"] == "ConfigMap" and bookmark["object"]["metadata"]["resourceVersion"] == rv
    )


async def test_watch_send_initial_events_ends_with_initial_events_end_bookmark(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("a"))
    params = {
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": "true",
    }
    events, _ = await http.watch(CONFIGMAPS, params, lambda ev: len(ev) >= 2)
    assert names(events)[0] == ("ADDED", "a")
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


async def test_cut_watches_hook_closes_open_streams(http: Http, api_server: EmbeddedApiServer) -> None:
    async def cut() -> None:
        for _ in range(200):
            if api_server.hooks.open_watches():
                break
            await asyncio.sleep(0.01)
        assert api_server.hooks.cut_watches() == 1

    _, ended = await http.watch(CONFIGMAPS, {"resourceVersion": "0"}, lambda ev: False, during=cut)
    assert ended


async def test_watch_of_namespace_only_sees_that_namespace(http: Http) -> None:
    await http.post("/api/v1/namespaces", {"metadata": {"name": "other"}})

    async def writes() -> None:
        await asyncio.sleep(0.05)
        await http.post("/api/v1/namespaces/other/configmaps", configmap("x"))
        await http.post(CONFIGMAPS, configmap("y"))

    events, _ = await http.watch(CONFIGMAPS, {"resourceVersion": "0"}, lambda ev: len(ev) >= 1, during=writes)
    assert names(events) == [("ADDED", "y")]


async def test_watch_through_a_view_resource_converts_events(http: Http) -> None:
    async def writes() -> None:
        await asyncio.sleep(0.05)
        await http.post(
            "/api/v1/namespaces/default/events",
            {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"}, "message": "m"},
        )

    events, _ = await http.watch(
        "/apis/events.k8s.io/v1/namespaces/default/events",
        {"resourceVersion": "0", "fieldSelector": "regarding.name=p"},
        lambda ev: len(ev) >= 1,
        during=writes,
    )
    assert events[0]["type"] == "ADDED"
    assert events[0]["object"]["apiVersion"] == "events.k8s.io/v1" and events[0]["object"]["note"] == "m"
