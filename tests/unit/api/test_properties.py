"""Property tests: random valid documents round-trip; random broken ones yield problems naming the field."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.flink_documents import JSON_VALUES, add_unknown_field, corrupt, valid_documents

from flink_operator.api import KINDS, Problem, format_path, parse_resource

pytestmark = pytest.mark.unit

PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True)


@PROPERTY_SETTINGS
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_valid_documents_round_trip(kind: str, data: st.DataObject) -> None:
    document = data.draw(valid_documents(kind))
    resource = parse_resource(document)
    assert not isinstance(resource, list), resource
    assert canonical(resource.to_dict()) == canonical(document)


@PROPERTY_SETTINGS
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_a_wrongly_typed_field_is_named(kind: str, data: st.DataObject) -> None:
    broken, path = corrupt(data.draw(valid_documents(kind)), data)
    problems = parse_resource(broken)
    assert isinstance(problems, list)
    assert format_path(path) in {problem.path for problem in problems}, problems


@PROPERTY_SETTINGS
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_an_unknown_spec_field_is_named(kind: str, data: st.DataObject) -> None:
    outcome = add_unknown_field(data.draw(valid_documents(kind)), data)
    if outcome is None:
        return
    broken, path = outcome
    problems = parse_resource(broken)
    assert isinstance(problems, list)
    assert Problem(format_path(path), "unknown field") in problems


@PROPERTY_SETTINGS
@given(
    kind=st.sampled_from([*KINDS, "Pod", None]),
    body=st.dictionaries(st.sampled_from(["metadata", "spec", "status", "extra"]), JSON_VALUES, max_size=4),
)
def test_arbitrary_json_never_raises(kind: str | None, body: dict[str, Any]) -> None:
    document = {"apiVersion": "flink.apache.org/v1beta1", **body}
    if kind is not None:
        document["kind"] = kind
    result = parse_resource(document)
    if isinstance(result, list):
        assert result and all(problem.path and problem.message for problem in result)
