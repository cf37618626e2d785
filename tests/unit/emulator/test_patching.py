"""JSON merge patch, JSON patch and strategic merge patch."""

from __future__ import annotations

import pytest

from kube_emulator.patching import PatchError, json_patch, merge_patch, strategic_merge_patch

pytestmark = pytest.mark.unit


def test_merge_patch_merges_maps_replaces_lists_and_deletes_nulls() -> None:
    target = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert merge_patch(target, {"a": {"c": [3], "e": 2}, "d": None}) == {"a": {"b": 1, "c": [3], "e": 2}}
    assert target == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # inputs are never mutated


def test_json_patch_operations() -> None:
    doc = {"spec": {"list": [1, 2], "a~b": {"c/d": 1}}}
    ops = [
        {"op": "add", "path": "/spec/list/1", "value": 9},
        {"op": "add", "path": "/spec/list/-", "value": 3},
        {"op": "remove", "path": "/spec/a~0b/c~1d"},
        {"op": "copy", "from": "/spec/list", "path": "/spec/copy"},
        {"op": "move", "from": "/spec/copy", "path": "/spec/moved"},
        {"op": "replace", "path": "/spec/list/0", "value": 0},
        {"op": "test", "path": "/spec/moved", "value": [1, 9, 2, 3]},
    ]
    assert json_patch(doc, ops) == {"spec": {"list": [0, 9, 2, 3], "a~b": {}, "moved": [1, 9, 2, 3]}}
    assert doc == {"spec": {"list": [1, 2], "a~b": {"c/d": 1}}}


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ([{"op": "test", "path": "/a", "value": 2}], "testing value /a failed: test failed"),
        ([{"op": "remove", "path": "/missing"}], "Unable to remove nonexistent key: missing: missing value"),
        (
            [{"op": "replace", "path": "/missing", "value": 1}],
            "replace operation does not apply: doc is missing key: /missing: missing value",
        ),
        (
            [{"op": "add", "path": "/list/5", "value": 1}],
            "Unable to access invalid index: 5: invalid index referenced",
        ),
    ],
)
def test_json_patch_failures_name_the_operation(ops: list[dict], message: str) -> None:
    with pytest.raises(PatchError) as error:
        json_patch({"a": 1, "list": []}, ops)
    assert str(error.value) == message and not error.value.bad_request


def test_json_patch_that_is_not_a_list_is_a_bad_request() -> None:
    with pytest.raises(PatchError) as error:
        json_patch({}, {"op": "add"})
    assert error.value.bad_request


POD_SPEC = {
    "spec": {
        "containers": [
            {
                "name": "main",
                "image": "a",
                "ports": [{"containerPort": 80}],
                "env": [{"name": "X", "value": "1"}],
            }
        ],
        "volumes": [{"name": "v", "emptyDir": {}}],
        "tolerations": [{"key": "k"}],
    },
    "metadata": {"finalizers": ["a"]},
}


def test_strategic_merge_patch_merges_lists_by_merge_key() -> None:
    patch = {
        "spec": {
            "containers": [
                {"name": "main", "ports": [{"containerPort": 81}], "env": [{"name": "Y", "value": "2"}]},
                {"name": "side", "image": "b"},
            ],
            "tolerations": [{"key": "other"}],
        },
        "metadata": {"finalizers": ["b", "a"]},
    }
    result = strategic_merge_patch(POD_SPEC, patch)
    main, side = result["spec"]["containers"]
    assert main["image"] == "a" and [p["containerPort"] for p in main["ports"]] == [80, 81]
    assert [e["name"] for e in main["env"]] == ["X", "Y"] and side == {"name": "side", "image": "b"}
    assert result["spec"]["tolerations"] == [{"key": "other"}]  # no patch strategy: replaced
    assert result["metadata"]["finalizers"] == ["a", "b"]  # merged as a set


def test_strategic_merge_patch_directives() -> None:
    delete_container = {"spec": {"containers": [{"name": "main", "$patch": "delete"}]}}
    assert strategic_merge_patch(POD_SPEC, delete_container)["spec"]["containers"] == []
    replace_map = {"spec": {"$patch": "replace", "containers": []}}
    assert strategic_merge_patch(POD_SPEC, replace_map)["spec"] == {"containers": []}
    remove_value = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    assert strategic_merge_patch(POD_SPEC, remove_value)["metadata"]["finalizers"] == []
    retain = {"spec": {"$retainKeys": ["volumes"], "volumes": [{"name": "v", "emptyDir": {}}]}}
    assert list(strategic_merge_patch(POD_SPEC, retain)["spec"]) == ["volumes"]
    order = {
        "spec": {
            "$setElementOrder/containers": [{"name": "side"}, {"name": "main"}],
            "containers": [{"name": "side", "image": "b"}],
        }
    }
    assert [c["name"] for c in strategic_merge_patch(POD_SPEC, order)["spec"]["containers"]] == [
        "side",
        "main",
    ]


def test_service_ports_merge_by_port() -> None:
    service = {"spec": {"ports": [{"port": 80, "name": "http"}]}}
    patched = strategic_merge_patch(
        service, {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    )
    assert patched["spec"]["ports"] == [{"port": 80, "name": "http", "targetPort": 8080}, {"port": 443}]
