"""Flattening of spec.flinkConfiguration (contract §1.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_operator.config.flatten import flatten_flink_configuration

pytestmark = pytest.mark.unit


def test_none_and_empty_give_empty() -> None:
    assert flatten_flink_configuration(None) == {}
    assert flatten_flink_configuration({}) == {}


def test_nested_objects_join_with_dots() -> None:
    node = {"high-availability": {"type": "kubernetes", "storageDir": "s3://b/ha"}}
    assert flatten_flink_configuration(node) == {
        "high-availability.type": "kubernetes",
        "high-availability.storageDir": "s3://b/ha",
    }


def test_flat_and_nested_forms_are_equivalent() -> None:
    flat = {"taskmanager.numberOfTaskSlots": "2", "state.savepoints.dir": "file:///sp"}
    nested = {"taskmanager": {"numberOfTaskSlots": 2}, "state": {"savepoints": {"dir": "file:///sp"}}}
    assert flatten_flink_configuration(flat) == flatten_flink_configuration(nested) == flat


def test_mixed_depths() -> None:
    assert flatten_flink_configuration({"kubernetes.operator": {"periodic.savepoint.interval": "1 h"}}) == {
        "kubernetes.operator.periodic.savepoint.interval": "1 h"
    }


def test_scalars_take_their_text_form() -> None:
    assert flatten_flink_configuration({"a": True, "b": False, "c": 2, "d": 0.7, "e": 1.0, "f": "x"}) == {
        "a": "true",
        "b": "false",
        "c": "2",
        "d": "0.7",
        "e": "1.0",
        "f": "x",
    }


def test_arrays_become_semicolon_separated() -> None:
    assert flatten_flink_configuration({"pipeline": {"jars": ["a.jar", "b.jar"]}, "n": [1, True]}) == {
        "pipeline.jars": "a.jar;b.jar",
        "n": "1;true",
    }


def test_null_values_are_dropped() -> None:
    assert flatten_flink_configuration({"a": None, "b": {"c": None, "d": "x"}}) == {"b.d": "x"}


def test_input_is_not_modified() -> None:
    node = {"a": {"b": "c"}}
    flatten_flink_configuration(node)
    assert node == {"a": {"b": "c"}}


_segments = st.text(alphabet="abcxyz-", min_size=1, max_size=4)
_leaves = st.one_of(st.text(max_size=5), st.integers(), st.booleans())
_trees = st.recursive(
    st.dictionaries(_segments, _leaves, max_size=3),
    lambda children: st.dictionaries(_segments, st.one_of(_leaves, children), max_size=3),
    max_leaves=10,
)


def _dotted(tree: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_dotted(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@given(_trees)
def test_nested_form_equals_its_dotted_form(tree: dict[str, object]) -> None:
    flat = flatten_flink_configuration(tree)
    assert flat == flatten_flink_configuration(_dotted(tree))
    assert all(isinstance(v, str) for v in flat.values())
