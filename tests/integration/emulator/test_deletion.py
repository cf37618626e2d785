"""Deletion over real HTTP: finalizers, preconditions, garbage collection, namespace and CRD termination."""

from __future__ import annotations

import pytest
from tests.support.emulator_http import CONFIGMAPS, WIDGETS, Http, configmap, eventually, widget

pytestmark = pytest.mark.integration


def owned_by(owner: dict, block: bool = True) -> dict:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }


async def gone(http: Http, path: str) -> bool:
    return (await http.get(path))[0] == 404


async def test_delete_without_finalizers_removes_the_object(http: Http) -> None:
    _, created = await http.post(CONFIGMAPS, configmap("c"))
    status, body = await http.delete(f"{CONFIGMAPS}/c")
    assert status == 200 and body["kind"] == "Status" and body["status"] == "Success"
    assert body["details"] == {"name": "c", "kind": "configmaps", "uid": created["metadata"]["uid"]}
    assert await gone(http, f"{CONFIGMAPS}/c")


async def test_finalizers_keep_the_object_with_a_deletion_timestamp(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("w", metadata={"finalizers": ["example.com/cleanup"]}))
    status, body = await crd_http.delete(f"{WIDGETS}/w")
    assert status == 200 and body["metadata"]["deletionTimestamp"]
    assert body["metadata"]["generation"] == 2
    status, body = await crd_http.patch(
        f"{WIDGETS}/w", {"metadata": {"finalizers": ["example.com/cleanup", "x/y"]}}
    )
    assert (
        status == 422 and "no new finalizers can be added if the object is being deleted" in body["message"]
    )
    status, body = await crd_http.patch(f"{WIDGETS}/w", {"metadata": {"finalizers": None}})
    assert status == 200
    assert await gone(crd_http, f"{WIDGETS}/w")


async def test_delete_preconditions_are_checked(http: Http) -> None:
    _, created = await http.post(CONFIGMAPS, configmap("c"))
    status, body = await http.delete(f"{CONFIGMAPS}/c", {"preconditions": {"resourceVersion": "1"}})
    assert status == 409 and "Precondition failed: ResourceVersion in precondition: 1" in body["message"]
    status, _ = await http.delete(f"{CONFIGMAPS}/c", {"preconditions": {"uid": "other"}})
    assert status == 409
    status, _ = await http.delete(f"{CONFIGMAPS}/c", {"preconditions": {"uid": created["metadata"]["uid"]}})
    assert status == 200


async def test_garbage_collection_deletes_dependents_in_the_background(crd_http: Http) -> None:
    _, owner = await crd_http.post(WIDGETS, widget("owner"))
    await crd_http.post(CONFIGMAPS, configmap("child", ownerReferences=[owned_by(owner)]))
    await crd_http.delete(f"{WIDGETS}/owner")
    await eventually(lambda: gone(crd_http, f"{CONFIGMAPS}/child"))


async def test_garbage_collection_keeps_dependents_with_a_live_owner(crd_http: Http) -> None:
    _, first = await crd_http.post(WIDGETS, widget("first"))
    _, second = await crd_http.post(WIDGETS, widget("second"))
    refs = [owned_by(first), {**owned_by(second), "controller": False}]
    await crd_http.post(CONFIGMAPS, configmap("child", ownerReferences=refs))
    await crd_http.delete(f"{WIDGETS}/first")
    await eventually(lambda: gone(crd_http, f"{WIDGETS}/first"))
    await crd_http.delete(f"{WIDGETS}/second")
    await eventually(lambda: gone(crd_http, f"{CONFIGMAPS}/child"))


async def test_foreground_deletion_waits_for_blocking_dependents(crd_http: Http) -> None:
    _, owner = await crd_http.post(WIDGETS, widget("owner"))
    child = configmap("child", ownerReferences=[owned_by(owner)], finalizers=["example.com/hold"])
    await crd_http.post(CONFIGMAPS, child)
    status, body = await crd_http.delete(f"{WIDGETS}/owner", propagationPolicy="Foreground")
    assert status == 200 and "foregroundDeletion" in body["metadata"]["finalizers"]

    async def child_terminating() -> bool:
        _, current = await crd_http.get(f"{CONFIGMAPS}/child")
        return bool(current["metadata"].get("deletionTimestamp"))

    await eventually(child_terminating)
    assert (await crd_http.get(f"{WIDGETS}/owner"))[0] == 200
    await crd_http.patch(f"{CONFIGMAPS}/child", {"metadata": {"finalizers": None}})
    await eventually(lambda: gone(crd_http, f"{WIDGETS}/owner"))


async def test_orphan_deletion_strips_owner_references(crd_http: Http) -> None:
    _, owner = await crd_http.post(WIDGETS, widget("owner"))
    await crd_http.post(CONFIGMAPS, configmap("child", ownerReferences=[owned_by(owner)]))
    await crd_http.delete(f"{WIDGETS}/owner", propagationPolicy="Orphan")
    await eventually(lambda: gone(crd_http, f"{WIDGETS}/owner"))
    _, child = await crd_http.get(f"{CONFIGMAPS}/child")
    assert "ownerReferences" not in child["metadata"]


async def test_namespace_deletion_terminates_then_removes_its_contents(http: Http) -> None:
    await http.post("/api/v1/namespaces", {"metadata": {"name": "team"}})
    await http.post("/api/v1/namespaces/team/configmaps", configmap("c", finalizers=["example.com/hold"]))
    status, body = await http.delete("/api/v1/namespaces/team")
    assert status == 200 and body["status"]["phase"] == "Terminating"
    status, body = await http.post("/api/v1/namespaces/team/configmaps", configmap("new"))
    assert status == 403 and "because it is being terminated" in body["message"]

    async def held() -> bool:
        _, cm = await http.get("/api/v1/namespaces/team/configmaps/c")
        return bool(cm["metadata"].get("deletionTimestamp"))

    await eventually(held)
    assert (await http.get("/api/v1/namespaces/team"))[0] == 200
    await http.patch("/api/v1/namespaces/team/configmaps/c", {"metadata": {"finalizers": None}})
    await eventually(lambda: gone(http, "/api/v1/namespaces/team"))


async def test_create_in_missing_namespace_is_404(http: Http) -> None:
    status, body = await http.post("/api/v1/namespaces/nope/configmaps", configmap("c"))
    assert (status, body["message"]) == (404, 'namespaces "nope" not found')


async def test_crd_deletion_removes_instances_and_the_api(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("w"))
    status, body = await crd_http.delete(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
    )
    assert status == 200
    await eventually(lambda: gone(crd_http, "/apis/example.com/v1"))
    status, body = await crd_http.get(WIDGETS)
    assert status == 404 and body["message"] == "the server could not find the requested resource"


async def test_delete_collection_honours_selectors(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("a", labels={"x": "1"}))
    await http.post(CONFIGMAPS, configmap("b"))
    status, _ = await http.delete(CONFIGMAPS, labelSelector="x=1")
    assert status == 200
    _, body = await http.get(CONFIGMAPS)
    assert [i["metadata"]["name"] for i in body["items"]] == ["b"]
