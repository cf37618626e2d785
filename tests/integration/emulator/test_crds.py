"""Custom resource definitions over real HTTP: registration, discovery, validation, defaulting, pruning."""

from __future__ import annotations

import pytest
from tests.support.emulator_http import WIDGETS, Http, widget

pytestmark = pytest.mark.integration


async def test_crd_registration_makes_the_group_discoverable(crd_http: Http) -> None:
    status, body = await crd_http.get("/apis/example.com/v1")
    assert status == 200
    assert [r["name"] for r in body["resources"]] == ["widgets", "widgets/status"]
    assert body["resources"][0]["shortNames"] == ["wd"] and body["resources"][0]["namespaced"] is True
    _, groups = await crd_http.get("/apis")
    assert "example.com" in [g["name"] for g in groups["groups"]]
    _, crd = await crd_http.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}


async def test_crd_schema_validation_rejects_invalid_values(crd_http: Http) -> None:
    status, body = await crd_http.post(WIDGETS, widget("w", 0, name="ABC", mode="other"))
    assert status == 422 and body["reason"] == "Invalid"
    messages = {c["field"]: c["message"] for c in body["details"]["causes"]}
    assert messages["spec.size"] == "Invalid value: 0: spec.size in body should be greater than or equal to 1"
    assert messages["spec.name"] == "Invalid value: \"ABC\": spec.name in body should match '^[a-z]+$'"
    assert messages["spec.mode"] == 'Unsupported value: "other": supported values: "fast", "slow"'
    assert body["message"].startswith('Widget.example.com "w" is invalid: [')


async def test_crd_schema_validation_checks_types_and_required_fields(crd_http: Http) -> None:
    status, body = await crd_http.post(WIDGETS, {**widget("w"), "spec": {"size": "big"}})
    assert status == 422
    assert body["details"]["causes"][0]["message"] == (
        'Invalid value: "string": spec.size in body must be of type integer: "string"'
    )
    status, body = await crd_http.post(WIDGETS, {**widget("w"), "spec": {}})
    assert status == 422 and body["details"]["causes"][0] == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "spec.size",
    }


async def test_crd_int_or_string_accepts_both(crd_http: Http) -> None:
    assert (await crd_http.post(WIDGETS, widget("a", port=8080)))[0] == 201
    assert (await crd_http.post(WIDGETS, widget("b", port="http")))[0] == 201
    assert (await crd_http.post(WIDGETS, widget("c", port=[1])))[0] == 422


async def test_crd_defaults_are_applied(crd_http: Http) -> None:
    _, body = await crd_http.post(WIDGETS, widget("w"))
    assert body["spec"]["mode"] == "fast"


async def test_crd_pruning_drops_unknown_fields_but_keeps_preserved_ones(crd_http: Http) -> None:
    status, body = await crd_http.post(WIDGETS, widget("w", unknown=1, extra={"free": {"form": True}}))
    assert status == 201
    assert "unknown" not in body["spec"] and body["spec"]["extra"] == {"free": {"form": True}}


async def test_field_validation_strict_rejects_unknown_fields(crd_http: Http) -> None:
    status, body = await crd_http.post(WIDGETS, widget("w", unknown=1), fieldValidation="Strict")
    assert status == 400
    assert body["message"] == (
        'Widget in version "v1" cannot be handled as a Widget: strict decoding error: '
        'unknown field "spec.unknown"'
    )


async def test_field_validation_warn_returns_a_warning_header(crd_http: Http) -> None:
    async with crd_http.session.post(
        crd_http.base + WIDGETS, json=widget("w", unknown=1), params={"fieldValidation": "Warn"}
    ) as response:
        assert response.status == 201
        assert response.headers.getall("Warning") == ['299 - "unknown field \\"spec.unknown\\""']


async def test_invalid_crd_is_rejected(http: Http) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "wrong.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "things", "kind": "Thing"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
            ],
        },
    }
    status, body = await http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    assert status == 422
    assert (
        'metadata.name: Invalid value: "wrong.example.com": must be spec.names.plural+"."+spec.group'
        in body["message"]
    )


async def test_cluster_scoped_custom_resources(http: Http) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"plural": "gadgets", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }
    assert (await http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd))[0] == 201
    status, body = await http.post(
        "/apis/example.com/v1/gadgets",
        {
            "apiVersion": "example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "g"},
            "anything": {"goes": 1},
        },
    )
    assert status == 201 and "namespace" not in body["metadata"] and body["anything"] == {"goes": 1}
    assert (await http.get("/apis/example.com/v1/namespaces/default/gadgets/g"))[0] == 404


async def test_multiple_served_versions_share_objects(http: Http) -> None:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "tools.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "tools", "kind": "Tool"},
            "versions": [
                {"name": "v1beta1", "served": True, "storage": False, "schema": schema},
                {"name": "v1", "served": True, "storage": True, "schema": schema},
            ],
        },
    }
    assert (await http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd))[0] == 201
    await http.post(
        "/apis/example.com/v1beta1/namespaces/default/tools",
        {"apiVersion": "example.com/v1beta1", "kind": "Tool", "metadata": {"name": "t"}},
    )
    _, body = await http.get("/apis/example.com/v1/namespaces/default/tools/t")
    assert body["apiVersion"] == "example.com/v1"
    _, body = await http.get("/apis/example.com/v1beta1/namespaces/default/tools/t")
    assert body["apiVersion"] == "example.com/v1beta1"
    _, group = await http.get("/apis/example.com")
    assert group["preferredVersion"]["version"] == "v1"
