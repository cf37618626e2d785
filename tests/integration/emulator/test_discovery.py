"""Discovery, OpenAPI and server-side tables over real HTTP (what kubectl relies on)."""

from __future__ import annotations

import pytest
from tests.support.emulator_http import WIDGETS, Http, widget

pytestmark = pytest.mark.integration

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"


async def test_version_endpoint(http: Http) -> None:
    for path in ("/version", "/version/"):
        status, body = await http.get(path)
        assert status == 200 and body["major"] == "1" and body["gitVersion"].startswith("v1.")


async def test_legacy_discovery_lists_core_and_groups(http: Http) -> None:
    _, api = await http.get("/api")
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    _, core = await http.get("/api/v1")
    assert core["groupVersion"] == "v1"
    resources = {r["name"]: r for r in core["resources"]}
    assert resources["namespaces"]["namespaced"] is False and resources["configmaps"]["shortNames"] == ["cm"]
    assert resources["pods/status"]["verbs"] == ["get", "patch", "update"]
    _, groups = await http.get("/apis")
    names = [g["name"] for g in groups["groups"]]
    for group in (
        "apps",
        "coordination.k8s.io",
        "events.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
    ):
        assert group in names
    _, apps = await http.get("/apis/apps/v1")
    assert {"deployments", "deployments/status", "deployments/scale"} <= {
        r["name"] for r in apps["resources"]
    }


async def test_aggregated_discovery_when_asked_for(crd_http: Http) -> None:
    async with crd_http.session.get(crd_http.base + "/apis", headers={"Accept": AGGREGATED}) as response:
        assert response.headers["Content-Type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
        body = await response.json(content_type=None)
    assert body["kind"] == "APIGroupDiscoveryList"
    groups = {item["metadata"]["name"]: item for item in body["items"]}
    widgets = groups["example.com"]["versions"][0]["resources"][0]
    assert widgets["resource"] == "widgets" and widgets["scope"] == "Namespaced"
    assert widgets["subresources"][0]["subresource"] == "status"


async def test_openapi_v3_advertises_server_side_field_validation(crd_http: Http) -> None:
    _, index = await crd_http.get("/openapi/v3")
    url = index["paths"]["apis/example.com/v1"]["serverRelativeURL"]
    status, doc = await crd_http.get(url.split("?")[0])
    assert status == 200
    patch = next(p["patch"] for p in doc["paths"].values() if "patch" in p)
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "example.com",
        "version": "v1",
        "kind": "Widget",
    }
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    schema = doc["components"]["schemas"]["com.example.v1.Widget"]
    assert schema["properties"]["spec"]["properties"]["size"]["type"] == "integer"


async def test_table_printing_uses_the_crd_printer_columns(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("w", 3))
    await crd_http.patch(f"{WIDGETS}/w/status", {"status": {"state": "Ready"}})
    status, table = await crd_http.request("GET", WIDGETS, headers={"Accept": TABLE})
    assert status == 200 and table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Size", "State"]
    assert table["rows"][0]["cells"] == ["w", 3, "Ready"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


async def test_table_printing_of_builtins_and_single_objects(http: Http) -> None:
    status, table = await http.request("GET", "/api/v1/namespaces/default", headers={"Accept": TABLE})
    assert status == 200
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert table["rows"][0]["cells"][:2] == ["default", "Active"]


async def test_health_endpoints(http: Http) -> None:
    for path in ("/healthz", "/livez", "/readyz"):
        assert await http.get(path) == (200, "ok")
