"""JSON patches between documents: minimal operations, escaping, empty for equal documents, and `apply`
reproducing the target."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_operator.webhook.json_patch import PatchError, apply, diff, escape

pytestmark = pytest.mark.unit


def test_equal_documents_give_no_operations() -> None:
    doc = {"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"list": [1, 2]}}
    assert diff(doc, {**doc}) == []


def test_added_label_is_one_add_under_existing_labels() -> None:
    old = {"metadata": {"labels": {"a": "1"}}}
    new = {"metadata": {"labels": {"a": "1", "target.session": "s"}}}
    assert diff(old, new) == [{"op": "add", "path": "/metadata/labels/target.session", "value": "s"}]


def test_missing_labels_map_is_added_whole() -> None:
    old: dict[str, Any] = {"metadata": {"name": "a"}}
    new = {"metadata": {"name": "a", "labels": {"k": "v"}}}
    assert diff(old, new) == [{"op": "add", "path": "/metadata/labels", "value": {"k": "v"}}]


def test_keys_with_slash_and_tilde_are_escaped() -> None:
    old: dict[str, Any] = {"metadata": {"annotations": {}}}
    new = {"metadata": {"annotations": {"example.com/team~x": "t"}}}
    (operation,) = diff(old, new)
    assert operation["path"] == "/metadata/annotations/example.com~1team~0x"
    assert apply(old, [operation]) == new
    assert escape("a/b~c") == "a~1b~0c"


def test_changed_list_is_replaced_whole_and_removed_keys_removed() -> None:
    old = {"spec": {"args": ["a", "b"], "gone": 1}}
    new = {"spec": {"args": ["b"]}}
    assert diff(old, new) == [
        {"op": "remove", "path": "/spec/gone"},
        {"op": "replace", "path": "/spec/args", "value": ["b"]},
    ]


def test_bool_and_int_are_different_values() -> None:
    assert diff({"a": 1}, {"a": True}) == [{"op": "replace", "path": "/a", "value": True}]


def test_apply_names_the_operation_that_does_not_apply() -> None:
    with pytest.raises(PatchError, match="/metadata/labels"):
        apply({"metadata": {}}, [{"op": "replace", "path": "/metadata/labels/x", "value": "1"}])
    with pytest.raises(PatchError, match="test failed"):
        apply({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=4),
       st.dictionaries(st.text(max_size=4), json_values, max_size=4))
def test_applying_the_diff_gives_the_new_document(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert apply(old, diff(old, new)) == new
