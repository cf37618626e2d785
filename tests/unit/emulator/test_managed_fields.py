"""Field ownership and server-side apply semantics (pure functions)."""

from __future__ import annotations

import pytest

from kube_emulator.errors import ApiError
from kube_emulator.managed import Shape, apply, decode_fields, encode_fields, fields_of, record_update

pytestmark = pytest.mark.unit
BUILTIN = Shape(None)


def cm(data: dict[str, str], **metadata: object) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", **metadata}, "data": data}


def test_fields_use_keys_for_merge_key_lists_and_values_for_sets() -> None:
    obj = {
        "metadata": {"name": "x", "labels": {"a": "b"}, "finalizers": ["f"]},
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "i"}]}}, "tolerations": [1]},
    }
    found = fields_of(obj, BUILTIN, "all")
    assert ("f:metadata", "f:labels", "f:a") in found and ("f:metadata", "f:finalizers", 'v:"f"') in found
    container = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"main"}')
    assert (*container, ".") in found and (*container, "f:image") in found
    assert ("f:spec", "f:tolerations") in found  # atomic list
    assert all(path[:2] != ("f:metadata", "f:name") for path in found)


def test_fields_v1_encoding_round_trips() -> None:
    paths = {("f:data", "f:a"), ("f:spec", 'k:{"name":"x"}', "."), ("f:spec", 'k:{"name":"x"}', "f:image")}
    tree = encode_fields(paths)
    assert tree == {"f:data": {"f:a": {}}, "f:spec": {'k:{"name":"x"}': {".": {}, "f:image": {}}}}
    assert decode_fields(tree) == paths


def test_apply_conflicts_name_the_other_manager_and_the_field() -> None:
    current = apply(None, cm({"a": "1"}), "one", False, "v1", BUILTIN, "all")
    with pytest.raises(ApiError) as error:
        apply(current, cm({"a": "2"}), "two", False, "v1", BUILTIN, "all")
    assert error.value.code == 409
    assert error.value.message == 'Apply failed with 1 conflict: conflict with "one" using v1: .data.a'
    forced = apply(current, cm({"a": "2"}), "two", True, "v1", BUILTIN, "all")
    assert forced["data"] == {"a": "2"}
    assert [e["manager"] for e in forced["metadata"]["managedFields"]] == ["two"]


def test_apply_drops_fields_no_longer_applied_unless_someone_else_owns_them() -> None:
    first = apply(None, cm({"a": "1", "b": "2"}), "tool", False, "v1", BUILTIN, "all")
    shared = apply(first, cm({"b": "2"}), "other", False, "v1", BUILTIN, "all")
    result = apply(shared, cm({}), "tool", False, "v1", BUILTIN, "all")
    assert result["data"] == {"b": "2"}


def test_update_takes_ownership_of_changed_fields() -> None:
    applied = apply(None, cm({"a": "1", "b": "1"}), "tool", False, "v1", BUILTIN, "all")
    changed = cm({"a": "9", "b": "1"}, managedFields=applied["metadata"]["managedFields"])
    entries = record_update(applied, changed, "editor", "v1", BUILTIN, "all")
    owners = {e["manager"]: e["fieldsV1"] for e in entries}
    assert owners == {"tool": {"f:data": {"f:b": {}}}, "editor": {"f:data": {"f:a": {}}}}


def test_custom_resource_list_types_follow_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "ports": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["port"],
                        "items": {"type": "object"},
                    },
                    "args": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
    }
    shape = Shape(schema)
    base = {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "x"}}
    one = apply(
        None, {**base, "spec": {"ports": [{"port": 1}], "args": ["a"]}}, "one", False, "x/v1", shape, "all"
    )
    two = apply(one, {**base, "spec": {"ports": [{"port": 2}]}}, "two", False, "x/v1", shape, "all")
    assert two["spec"]["ports"] == [{"port": 1}, {"port": 2}] and two["spec"]["args"] == ["a"]
