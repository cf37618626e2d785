"""Structural schemas of custom resources: pruning, defaulting, validation messages."""

from __future__ import annotations

import pytest

from kube_emulator.schema import apply_defaults, prune, validate

pytestmark = pytest.mark.unit

SCHEMA = {
    "type": "object",
    "properties": {
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"type": "string", "minLength": 1},
                "replicas": {"type": "integer", "minimum": 0, "maximum": 5, "default": 1},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "ratio": {"type": "number", "exclusiveMaximum": True, "maximum": 1},
                "port": {"x-kubernetes-int-or-string": True},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "items": {
                    "type": "array",
                    "maxItems": 2,
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string", "default": "unnamed"}},
                    },
                },
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "pod": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object"}},
                },
                "nullable": {"type": "string", "nullable": True},
            },
        },
    },
}


def test_prune_removes_undeclared_fields_and_reports_their_paths() -> None:
    obj = {
        "apiVersion": "x/v1",
        "kind": "X",
        "metadata": {"name": "n", "labels": {"a": "b"}},
        "spec": {
            "image": "i",
            "typo": 1,
            "items": [{"name": "a", "junk": 2}],
            "free": {"any": {"thing": 1}},
            "labels": {"k": "v"},
            "pod": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}, "extra": 1},
        },
        "status": {"x": 1},
    }
    pruned, unknown = prune(obj, SCHEMA)
    assert sorted(unknown) == ["spec.items[0].junk", "spec.pod.extra", "spec.typo", "status"]
    assert pruned["metadata"] == {"name": "n", "labels": {"a": "b"}}
    assert pruned["spec"]["free"] == {"any": {"thing": 1}} and pruned["spec"]["labels"] == {"k": "v"}
    assert pruned["spec"]["pod"]["metadata"] == {"name": "p"}


def test_defaults_fill_missing_fields_at_every_level() -> None:
    defaulted = apply_defaults({"spec": {"image": "i", "items": [{}]}}, SCHEMA)
    assert defaulted["spec"]["replicas"] == 1 and defaulted["spec"]["items"] == [{"name": "unnamed"}]


def causes(spec: dict) -> dict[str, str]:
    return {c.field: c.message for c in validate({"spec": spec}, SCHEMA)}


def test_validation_messages_match_the_real_server() -> None:
    found = causes({"image": "", "replicas": 7, "mode": "c", "ratio": 1, "items": [{}, {}, {}], "port": 1.5})
    assert found["spec.image"] == 'Invalid value: "": spec.image in body should be at least 1 chars long'
    assert (
        found["spec.replicas"] == "Invalid value: 7: spec.replicas in body should be less than or equal to 5"
    )
    assert found["spec.mode"] == 'Unsupported value: "c": supported values: "a", "b"'
    assert found["spec.ratio"] == "Invalid value: 1: spec.ratio in body should be less than 1"
    assert found["spec.items"] == "Too many: 3: must have at most 2 items"
    assert found["spec.port"] == (
        'Invalid value: "number": spec.port in body must be of type integer,string: "number"'
    )


def test_required_null_and_types() -> None:
    assert causes({}) == {"spec.image": "Required value"}
    assert causes({"image": "i", "nullable": None}) == {}
    assert causes({"image": None}) == {
        "spec.image": 'Invalid value: "null": spec.image in body must be of type string: "null"'
    }
    assert causes({"image": "i", "replicas": True})["spec.replicas"].endswith(
        'must be of type integer: "boolean"'
    )
    assert causes({"image": "i", "labels": {"k": 1}})["spec.labels.k"].endswith(
        'must be of type string: "integer"'
    )
