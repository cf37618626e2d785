"""Label and field selector parsing and matching."""

from __future__ import annotations

import pytest

from kube_emulator.errors import ApiError
from kube_emulator.selectors import (
    from_label_selector_object,
    match_fields,
    match_labels,
    parse_field_selector,
    parse_label_selector,
)

pytestmark = pytest.mark.unit

LABELS = {"app": "flink", "tier": "jm", "version": "3"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=flink", True),
        ("app==flink", True),
        ("app!=flink", False),
        ("app=other", False),
        ("app in (flink, spark)", True),
        ("app notin (flink)", False),
        ("tier", True),
        ("!tier", False),
        ("missing!=x", True),
        ("!missing", True),
        ("app=flink,tier=tm", False),
        ("version>2", True),
        ("version<3", False),
        ("", True),
    ],
)
def test_label_selector_forms(selector: str, expected: bool) -> None:
    assert match_labels(parse_label_selector(selector), LABELS) is expected


def test_label_selector_with_invalid_key_or_value_is_a_bad_request() -> None:
    for bad in ("bad key=1", "app=not valid!", "-app=x"):
        with pytest.raises(ApiError) as error:
            parse_label_selector(bad)
        assert error.value.code == 400


def test_label_selector_object_matches_match_labels_and_expressions() -> None:
    selector = from_label_selector_object(
        {
            "matchLabels": {"app": "flink"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["jm", "tm"]},
                {"key": "gone", "operator": "DoesNotExist"},
            ],
        }
    )
    assert match_labels(selector, LABELS)
    assert not match_labels(selector, {"app": "flink", "tier": "client"})
    assert from_label_selector_object({}) == ()


def test_field_selector_supported_fields_and_operators() -> None:
    supported = frozenset({"metadata.name", "metadata.namespace", "involvedObject.name"})
    selector = parse_field_selector("metadata.name!=a,involvedObject.name==w", supported, custom=False)
    assert match_fields(selector, {"metadata": {"name": "b"}, "involvedObject": {"name": "w"}})
    assert not match_fields(selector, {"metadata": {"name": "a"}, "involvedObject": {"name": "w"}})


def test_field_selector_on_an_unsupported_field_names_the_allowed_ones() -> None:
    with pytest.raises(ApiError) as custom:
        parse_field_selector("spec.x=1", frozenset({"metadata.name"}), custom=True)
    assert (
        custom.value.message
        == '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )
    with pytest.raises(ApiError) as builtin:
        parse_field_selector("spec.x=1", frozenset({"metadata.name"}), custom=False)
    assert builtin.value.message == "field label not supported: spec.x"
