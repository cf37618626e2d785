"""Bad requests get the status codes and `Status` bodies a real API server returns."""

from __future__ import annotations

import pytest
from tests.support.emulator_http import CONFIGMAPS, WIDGETS, Http, configmap, widget

pytestmark = pytest.mark.integration


def assert_status_body(body: dict, code: int, reason: str) -> None:
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["metadata"] == {}
    assert body["status"] == "Failure" and body["code"] == code and body["reason"] == reason
    assert body["message"]


async def test_malformed_json_is_400_bad_request(http: Http) -> None:
    status, body = await http.request("POST", CONFIGMAPS, '{"metadata": {"name": ')
    assert status == 400
    assert_status_body(body, 400, "BadRequest")
    assert body["message"].startswith("couldn't get version/kind; json parse error")


async def test_wrong_kind_for_a_builtin_is_400(http: Http) -> None:
    status, body = await http.post(
        CONFIGMAPS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    )
    assert status == 400
    assert_status_body(body, 400, "BadRequest")
    assert body["message"].startswith('Secret in version "v1" cannot be handled as a ConfigMap')


async def test_wrong_kind_for_a_custom_resource_is_422(crd_http: Http) -> None:
    status, body = await crd_http.post(WIDGETS, {**widget("w"), "kind": "Gadget"})
    assert status == 422
    assert_status_body(body, 422, "Invalid")
    assert (
        body["message"] == 'Widget.example.com "w" is invalid: kind: Invalid value: "Gadget": must be Widget'
    )


async def test_wrong_api_version_is_400(crd_http: Http) -> None:
    status, body = await crd_http.post(WIDGETS, {**widget("w"), "apiVersion": "other.com/v1"})
    assert status == 400
    assert body["message"] == (
        "the API version in the data (other.com/v1) does not match the expected API version (example.com/v1)"
    )


async def test_invalid_name_is_422_with_the_dns_subdomain_message(http: Http) -> None:
    status, body = await http.post(CONFIGMAPS, configmap("Bad_Name"))
    assert status == 422
    assert_status_body(body, 422, "Invalid")
    assert body["message"].startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        "a lowercase RFC 1123 subdomain must consist of"
    )
    assert body["details"]["causes"][0]["field"] == "metadata.name"


async def test_invalid_label_value_is_422(http: Http) -> None:
    status, body = await http.post(CONFIGMAPS, configmap("c", labels={"app": "not valid!"}))
    assert status == 422 and body["details"]["causes"][0]["field"] == "metadata.labels"


async def test_unknown_resource_is_404_with_a_status_body(http: Http) -> None:
    for path in (
        "/apis/nope.example.com/v1/namespaces/default/things",
        "/api/v1/namespaces/default/things",
        "/apis/apps/v9/deployments",
    ):
        status, body = await http.get(path)
        assert status == 404, path
        assert_status_body(body, 404, "NotFound")
        assert body["message"] == "the server could not find the requested resource"


async def test_missing_object_is_404_naming_the_resource(crd_http: Http) -> None:
    status, body = await crd_http.get(f"{WIDGETS}/nope")
    assert status == 404
    assert_status_body(body, 404, "NotFound")
    assert body["message"] == 'widgets.example.com "nope" not found'
    assert body["details"] == {"name": "nope", "group": "example.com", "kind": "widgets"}


async def test_unsupported_media_type_is_415(http: Http) -> None:
    status, body = await http.request("POST", CONFIGMAPS, b"\x00\x01", "application/octet-stream")
    assert status == 415
    assert_status_body(body, 415, "UnsupportedMediaType")
    status, body = await http.request("PATCH", f"{CONFIGMAPS}/x", "{}", "application/json")
    assert status == 415


async def test_unacceptable_accept_header_is_406(http: Http) -> None:
    status, body = await http.request(
        "GET", CONFIGMAPS, headers={"Accept": "application/vnd.kubernetes.protobuf"}
    )
    assert status == 406
    assert_status_body(body, 406, "NotAcceptable")


async def test_name_in_body_must_match_the_url(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("c"))
    status, body = await http.put(f"{CONFIGMAPS}/c", configmap("d"))
    assert status == 400
    assert body["message"] == "the name of the object (d) does not match the name on the URL (c)"


async def test_namespace_in_body_must_match_the_url(http: Http) -> None:
    status, body = await http.post(CONFIGMAPS, configmap("c", namespace="other"))
    assert status == 400
    assert body["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


async def test_invalid_dry_run_and_field_validation_values_are_400(http: Http) -> None:
    assert (await http.post(CONFIGMAPS, configmap("c"), dryRun="Yes"))[0] == 400
    assert (await http.post(CONFIGMAPS, configmap("c"), fieldValidation="Loud"))[0] == 400


async def test_create_on_an_object_path_is_405(http: Http) -> None:
    status, body = await http.post(f"{CONFIGMAPS}/c", configmap("c"))
    assert status == 405
    assert_status_body(body, 405, "MethodNotAllowed")


async def test_builtin_objects_lose_unknown_fields_as_typed_decoding_does(http: Http) -> None:
    body = {**configmap("c", {"a": "1"}), "dat": {"typo": "x"}}
    body["metadata"]["labelz"] = {"x": "y"}
    status, stored = await http.post(CONFIGMAPS, body)
    assert status == 201 and "dat" not in stored and "labelz" not in stored["metadata"]
    status, error = await http.post(CONFIGMAPS, {**configmap("d"), "dat": {}}, fieldValidation="Strict")
    assert status == 400
    assert error["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
        'error: unknown field "dat"'
    )


async def test_builtin_field_of_the_wrong_type_is_400(http: Http) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": "80"}]}]},
    }
    status, body = await http.post("/api/v1/namespaces/default/pods", pod)
    assert status == 400
    assert_status_body(body, 400, "BadRequest")
    assert body["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into '
        "Go struct field Pod.spec.containers.ports.containerPort of type int32"
    )


async def test_builtin_required_fields_are_422(http: Http) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}},
    }
    status, body = await http.post("/apis/apps/v1/namespaces/default/deployments", deployment)
    assert status == 422
    assert {c["field"] for c in body["details"]["causes"]} == {
        "spec.selector",
        "spec.template.spec.containers[0].name",
    }
