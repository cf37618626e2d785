"""Server-side apply over real HTTP: create on apply, managed fields, conflicts, force, field removal."""

from __future__ import annotations

import pytest
from tests.support.emulator_http import CONFIGMAPS, WIDGETS, Http

pytestmark = pytest.mark.integration
APPLY = "application/apply-patch+yaml"


def applied(data: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n{data}"


async def test_apply_creates_the_object_with_managed_fields(http: Http) -> None:
    status, body = await http.patch(f"{CONFIGMAPS}/c", applied("  a: '1'\n"), APPLY, fieldManager="tool")
    assert status == 201
    entry = body["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["fieldsType"]) == ("tool", "Apply", "FieldsV1")
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}}}


async def test_apply_requires_a_field_manager(http: Http) -> None:
    status, body = await http.patch(f"{CONFIGMAPS}/c", applied("  a: '1'\n"), APPLY)
    assert status == 400 and "fieldManager" in body["message"]


async def test_apply_conflicts_with_another_manager_unless_forced(http: Http) -> None:
    await http.patch(f"{CONFIGMAPS}/c", applied("  a: '1'\n"), APPLY, fieldManager="one")
    status, body = await http.patch(f"{CONFIGMAPS}/c", applied("  a: '2'\n"), APPLY, fieldManager="two")
    assert status == 409 and body["reason"] == "Conflict"
    assert body["message"] == 'Apply failed with 1 conflict: conflict with "one" using v1: .data.a'
    status, body = await http.patch(
        f"{CONFIGMAPS}/c", applied("  a: '2'\n"), APPLY, fieldManager="two", force="true"
    )
    assert status == 200 and body["data"] == {"a": "2"}
    managers = {e["manager"]: e["fieldsV1"] for e in body["metadata"]["managedFields"]}
    assert managers == {"two": {"f:data": {"f:a": {}}}}


async def test_apply_with_the_same_value_shares_ownership(http: Http) -> None:
    await http.patch(f"{CONFIGMAPS}/c", applied("  a: '1'\n"), APPLY, fieldManager="one")
    status, body = await http.patch(
        f"{CONFIGMAPS}/c", applied("  a: '1'\n  b: '2'\n"), APPLY, fieldManager="two"
    )
    assert status == 200 and body["data"] == {"a": "1", "b": "2"}


async def test_apply_removes_fields_the_manager_stopped_applying(http: Http) -> None:
    await http.patch(f"{CONFIGMAPS}/c", applied("  a: '1'\n  b: '2'\n"), APPLY, fieldManager="tool")
    status, body = await http.patch(f"{CONFIGMAPS}/c", applied("  a: '1'\n"), APPLY, fieldManager="tool")
    assert status == 200 and body["data"] == {"a": "1"}


async def test_update_moves_field_ownership_to_the_updater(http: Http) -> None:
    await http.patch(f"{CONFIGMAPS}/c", applied("  a: '1'\n"), APPLY, fieldManager="tool")
    _, body = await http.patch(f"{CONFIGMAPS}/c", {"data": {"a": "9"}}, fieldManager="editor")
    managers = {(e["manager"], e["operation"]) for e in body["metadata"]["managedFields"]}
    assert managers == {("editor", "Update")}
    status, _ = await http.patch(f"{CONFIGMAPS}/c", applied("  a: '1'\n"), APPLY, fieldManager="tool")
    assert status == 409


async def test_apply_merges_map_lists_by_key_on_custom_resources(crd_http: Http) -> None:
    def doc(manager_containers: str) -> str:
        return (
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 1\n"
            f"  containers:\n{manager_containers}"
        )

    await crd_http.patch(f"{WIDGETS}/w", doc("  - {name: a, image: x}\n"), APPLY, fieldManager="one")
    status, body = await crd_http.patch(
        f"{WIDGETS}/w", doc("  - {name: b, image: y}\n"), APPLY, fieldManager="two"
    )
    assert status == 200
    assert [c["name"] for c in body["spec"]["containers"]] == ["a", "b"]


async def test_apply_to_the_status_subresource(crd_http: Http) -> None:
    base = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    await crd_http.patch(f"{WIDGETS}/w", base + "spec:\n  size: 2\n", APPLY, fieldManager="user")
    status, body = await crd_http.patch(
        f"{WIDGETS}/w/status", base + "status:\n  state: up\n", APPLY, fieldManager="controller"
    )
    assert status == 200 and body["status"] == {"state": "up"} and body["spec"]["size"] == 2
    entry = next(e for e in body["metadata"]["managedFields"] if e["manager"] == "controller")
    assert entry["subresource"] == "status"
