"""Objects over real HTTP: creation, metadata, concurrency, generation, status, patches, selectors, lists."""

from __future__ import annotations

import pytest
from tests.support.emulator_http import CONFIGMAPS, WIDGETS, Http, configmap, widget

pytestmark = pytest.mark.integration

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


def deployment(name: str, image: str = "flink:1.20") -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": "main", "image": image, "env": [{"name": "A", "value": "1"}]}]
                },
            },
        },
    }


async def test_create_returns_201_with_server_populated_metadata(crd_http: Http) -> None:
    status, body = await crd_http.post(WIDGETS, widget("w1"))
    assert status == 201
    metadata = body["metadata"]
    assert metadata["uid"] and metadata["creationTimestamp"].endswith("Z")
    assert metadata["resourceVersion"].isdigit() and metadata["generation"] == 1
    assert metadata["namespace"] == "default"


async def test_resource_version_is_global_and_monotonic(crd_http: Http) -> None:
    _, a = await crd_http.post(WIDGETS, widget("a"))
    _, cm = await crd_http.post(CONFIGMAPS, configmap("c"))
    _, b = await crd_http.patch(f"{WIDGETS}/a", {"spec": {"size": 2}})
    versions = [int(x["metadata"]["resourceVersion"]) for x in (a, cm, b)]
    assert versions == sorted(versions) and len(set(versions)) == 3


async def test_generate_name_appends_five_random_characters(http: Http) -> None:
    status, body = await http.post(CONFIGMAPS, {"metadata": {"generateName": "job-"}, "data": {}})
    assert status == 201
    name = body["metadata"]["name"]
    assert name.startswith("job-") and len(name) == len("job-") + 5


async def test_create_without_name_or_generate_name_is_invalid(http: Http) -> None:
    status, body = await http.post(CONFIGMAPS, {"metadata": {}, "data": {}})
    assert status == 422
    assert body["message"] == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )


async def test_duplicate_create_is_409_already_exists(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("dup"))
    status, body = await http.post(CONFIGMAPS, configmap("dup"))
    assert (status, body["reason"], body["message"]) == (
        409,
        "AlreadyExists",
        'configmaps "dup" already exists',
    )
    assert body["details"] == {"name": "dup", "kind": "configmaps"}


async def test_create_with_resource_version_is_rejected(http: Http) -> None:
    status, body = await http.post(CONFIGMAPS, configmap("rv", resourceVersion="5"))
    assert status == 500
    assert body["message"] == "resourceVersion should not be set on objects to be created"


async def test_dry_run_create_does_not_persist(http: Http) -> None:
    status, body = await http.post(CONFIGMAPS, configmap("dry"), dryRun="All")
    assert status == 201 and body["metadata"]["name"] == "dry"
    status, _ = await http.get(f"{CONFIGMAPS}/dry")
    assert status == 404


async def test_dry_run_update_and_delete_do_not_persist(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("d", {"a": "1"}))
    status, body = await http.patch(f"{CONFIGMAPS}/d", {"data": {"a": "2"}}, dryRun="All")
    assert status == 200 and body["data"] == {"a": "2"}
    status, _ = await http.delete(f"{CONFIGMAPS}/d", dryRun="All")
    assert status == 200
    _, current = await http.get(f"{CONFIGMAPS}/d")
    assert current["data"] == {"a": "1"}


async def test_put_with_stale_resource_version_is_409_conflict(http: Http) -> None:
    _, created = await http.post(CONFIGMAPS, configmap("c", {"a": "1"}))
    await http.patch(f"{CONFIGMAPS}/c", {"data": {"a": "2"}})
    created["data"] = {"a": "3"}
    status, body = await http.put(f"{CONFIGMAPS}/c", created)
    assert (status, body["reason"]) == (409, "Conflict")
    assert "the object has been modified" in body["message"]


async def test_put_without_resource_version_is_unconditional_for_builtins(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("c", {"a": "1"}))
    status, body = await http.put(f"{CONFIGMAPS}/c", configmap("c", {"a": "9"}))
    assert status == 200 and body["data"] == {"a": "9"}


async def test_put_without_resource_version_is_invalid_for_custom_resources(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("w"))
    status, body = await crd_http.put(f"{WIDGETS}/w", widget("w", 3))
    assert status == 422
    assert "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update" in body["message"]


async def test_patch_with_stale_resource_version_is_409(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("c"))
    status, _ = await http.patch(
        f"{CONFIGMAPS}/c", {"metadata": {"resourceVersion": "1"}, "data": {"x": "1"}}
    )
    assert status == 409


async def test_no_op_update_keeps_the_resource_version(http: Http) -> None:
    _, created = await http.post(CONFIGMAPS, configmap("c", {"a": "1"}))
    status, body = await http.patch(f"{CONFIGMAPS}/c", {"data": {"a": "1"}})
    assert status == 200
    assert body["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_generation_bumps_on_spec_changes_only(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("w"))
    _, body = await crd_http.patch(f"{WIDGETS}/w", {"metadata": {"labels": {"a": "b"}}})
    assert body["metadata"]["generation"] == 1
    _, body = await crd_http.patch(f"{WIDGETS}/w/status", {"status": {"state": "ok"}})
    assert body["metadata"]["generation"] == 1
    _, body = await crd_http.patch(f"{WIDGETS}/w", {"spec": {"size": 5}})
    assert body["metadata"]["generation"] == 2


async def test_status_subresource_splits_status_from_the_main_resource(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, {**widget("w"), "status": {"state": "ignored-on-create"}})
    _, body = await crd_http.get(f"{WIDGETS}/w")
    assert "status" not in body
    _, body = await crd_http.patch(f"{WIDGETS}/w/status", {"status": {"state": "up"}, "spec": {"size": 9}})
    assert body["status"] == {"state": "up"} and body["spec"]["size"] == 1
    _, body = await crd_http.patch(f"{WIDGETS}/w", {"status": {"state": "down"}, "spec": {"size": 2}})
    assert body["status"] == {"state": "up"} and body["spec"]["size"] == 2
    body["status"] = {"state": "replaced"}
    status, body = await crd_http.put(f"{WIDGETS}/w/status", body)
    assert status == 200 and body["status"] == {"state": "replaced"}


async def test_merge_patch_deep_merges_and_null_deletes(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("w", 1, name="abc", extra={"a": {"b": 1, "c": 2}}))
    _, body = await crd_http.patch(f"{WIDGETS}/w", {"spec": {"extra": {"a": {"c": None, "d": 3}}}})
    assert body["spec"]["extra"] == {"a": {"b": 1, "d": 3}} and body["spec"]["name"] == "abc"


async def test_json_patch_applies_operations_and_fails_a_test_with_422(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("w", 1, tags=["a"]))
    ops = [
        {"op": "add", "path": "/spec/tags/-", "value": "b"},
        {"op": "replace", "path": "/spec/size", "value": 4},
    ]
    status, body = await crd_http.patch(f"{WIDGETS}/w", ops, "application/json-patch+json")
    assert status == 200 and body["spec"]["tags"] == ["a", "b"] and body["spec"]["size"] == 4
    failing = [{"op": "test", "path": "/spec/size", "value": 1}, {"op": "remove", "path": "/spec/tags"}]
    status, body = await crd_http.patch(f"{WIDGETS}/w", failing, "application/json-patch+json")
    assert (status, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["message"] == "testing value /spec/size failed: test failed"


async def test_strategic_merge_patch_merges_lists_by_key_on_builtins(http: Http) -> None:
    await http.post(DEPLOYMENTS, deployment("d"))
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "main", "image": "flink:2.0", "env": [{"name": "B", "value": "2"}]},
                        {"name": "sidecar", "image": "busybox"},
                    ]
                }
            }
        }
    }
    status, body = await http.patch(f"{DEPLOYMENTS}/d", patch, "application/strategic-merge-patch+json")
    assert status == 200
    containers = body["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["main", "sidecar"]
    assert containers[0]["image"] == "flink:2.0"
    assert [e["name"] for e in containers[0]["env"]] == ["A", "B"]
    assert body["metadata"]["generation"] == 2


async def test_strategic_merge_patch_on_a_custom_resource_is_415(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("w"))
    status, body = await crd_http.patch(
        f"{WIDGETS}/w", {"spec": {"size": 2}}, "application/strategic-merge-patch+json"
    )
    assert (status, body["reason"]) == (415, "UnsupportedMediaType")


async def test_builtin_defaults_are_applied(http: Http) -> None:
    _, body = await http.post(DEPLOYMENTS, deployment("d", "flink:latest"))
    assert body["spec"]["replicas"] == 1 and body["spec"]["strategy"]["type"] == "RollingUpdate"
    container = body["spec"]["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "Always" and container["terminationMessagePolicy"] == "File"
    status, svc = await http.post(
        "/api/v1/namespaces/default/services",
        {"metadata": {"name": "rest"}, "spec": {"ports": [{"port": 8081}], "selector": {"app": "x"}}},
    )
    assert (
        status == 201 and svc["spec"]["type"] == "ClusterIP" and svc["spec"]["clusterIP"].startswith("10.96.")
    )
    assert svc["spec"]["ports"][0] == {"port": 8081, "protocol": "TCP", "targetPort": 8081}
    _, secret = await http.post(
        "/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}, "stringData": {"k": "v"}}
    )
    assert secret["type"] == "Opaque" and secret["data"] == {"k": "dg=="} and "stringData" not in secret


async def test_list_has_kind_resource_version_and_builtin_items_without_type_meta(http: Http) -> None:
    await http.post(CONFIGMAPS, configmap("a"))
    status, body = await http.get(CONFIGMAPS)
    assert status == 200 and body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1"
    assert body["metadata"]["resourceVersion"].isdigit()
    assert "kind" not in body["items"][0] and body["items"][0]["metadata"]["name"] == "a"


async def test_label_selectors_filter_lists(http: Http) -> None:
    for name, labels in (("a", {"app": "x", "tier": "1"}), ("b", {"app": "y"}), ("c", {})):
        await http.post(CONFIGMAPS, configmap(name, labels=labels))
    cases = {
        "app=x": ["a"],
        "app!=x": ["b", "c"],
        "app in (x,y)": ["a", "b"],
        "app notin (x)": ["b", "c"],
        "tier": ["a"],
        "!tier": ["b", "c"],
        "app,app==y": ["b"],
    }
    for selector, expected in cases.items():
        _, body = await http.get(CONFIGMAPS, labelSelector=selector)
        assert [i["metadata"]["name"] for i in body["items"]] == expected, selector


async def test_invalid_label_selector_is_400(http: Http) -> None:
    status, body = await http.get(CONFIGMAPS, labelSelector="app in x y")
    assert (status, body["reason"]) == (400, "BadRequest")


async def test_field_selectors_filter_lists_and_unknown_fields_are_400(crd_http: Http) -> None:
    await crd_http.post(WIDGETS, widget("a"))
    await crd_http.post(WIDGETS, widget("b"))
    _, body = await crd_http.get(WIDGETS, fieldSelector="metadata.name!=a")
    assert [i["metadata"]["name"] for i in body["items"]] == ["b"]
    status, body = await crd_http.get(WIDGETS, fieldSelector="spec.size=1")
    assert status == 400
    assert (
        body["message"]
        == '"spec.size" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


async def test_list_pagination_with_limit_and_continue(http: Http) -> None:
    for i in range(5):
        await http.post(CONFIGMAPS, configmap(f"cm-{i}"))
    names, token, pages = [], "", 0
    while True:
        params = {"limit": "2", **({"continue": token} if token else {})}
        _, body = await http.get(CONFIGMAPS, **params)
        names += [i["metadata"]["name"] for i in body["items"]]
        pages += 1
        token = body["metadata"].get("continue", "")
        if not token:
            break
        assert body["metadata"]["remainingItemCount"] == 5 - len(names)
    assert names == [f"cm-{i}" for i in range(5)] and pages == 3


async def test_cluster_wide_list_spans_namespaces(http: Http) -> None:
    await http.post("/api/v1/namespaces", {"metadata": {"name": "other"}})
    await http.post(CONFIGMAPS, configmap("here"))
    await http.post("/api/v1/namespaces/other/configmaps", configmap("there"))
    _, body = await http.get("/api/v1/configmaps")
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]] == [
        ("default", "here"),
        ("other", "there"),
    ]


async def test_events_core_and_events_k8s_io_are_two_views_of_the_same_objects(http: Http) -> None:
    core = "/api/v1/namespaces/default/events"
    new = "/apis/events.k8s.io/v1/namespaces/default/events"
    event = {
        "metadata": {"generateName": "w."},
        "involvedObject": {"kind": "Widget", "name": "w1"},
        "reason": "Created",
        "message": "hello",
        "type": "Normal",
        "count": 1,
    }
    status, created = await http.post(core, event)
    assert status == 201
    _, body = await http.get(core, fieldSelector="involvedObject.name=w1,reason=Created")
    assert len(body["items"]) == 1
    status, seen = await http.get(f"{new}/{created['metadata']['name']}")
    assert status == 200 and seen["apiVersion"] == "events.k8s.io/v1"
    assert (seen["regarding"], seen["note"], seen["deprecatedCount"]) == (event["involvedObject"], "hello", 1)
    new_event = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e1"},
        "eventTime": "2024-01-01T00:00:00.000000Z",
        "reportingController": "c",
        "reportingInstance": "i",
        "action": "Act",
        "reason": "R",
        "type": "Warning",
        "regarding": {"kind": "Widget", "name": "w2"},
        "note": "from the new API",
    }
    assert (await http.post(new, new_event))[0] == 201
    _, listed = await http.get(new, fieldSelector="regarding.name=w2")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["e1"]
    _, as_core = await http.get(f"{core}/e1")
    assert (as_core["involvedObject"]["name"], as_core["message"], as_core["reportingComponent"]) == (
        "w2",
        "from the new API",
        "c",
    )
    status, patched = await http.patch(f"{new}/e1", {"note": "patched"})
    assert status == 200 and patched["note"] == "patched" and "message" not in patched
    assert (await http.get(f"{core}/e1"))[1]["message"] == "patched"


async def test_lease_compare_and_swap(http: Http) -> None:
    leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "lock"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15},
    }
    _, created = await http.post(leases, lease)
    assert (await http.post(leases, lease))[0] == 409
    created["spec"]["holderIdentity"] = "b"
    assert (await http.put(f"{leases}/lock", created))[0] == 200
    created["spec"]["holderIdentity"] = "c"
    assert (await http.put(f"{leases}/lock", created))[0] == 409
    del created["metadata"]["resourceVersion"]
    status, body = await http.put(f"{leases}/lock", created)
    assert status == 422 and "must be specified for an update" in body["message"]


async def test_scale_subresource_reads_and_writes_replicas(http: Http) -> None:
    await http.post(DEPLOYMENTS, deployment("d"))
    status, scale = await http.get(f"{DEPLOYMENTS}/d/scale")
    assert status == 200 and scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    status, scale = await http.patch(f"{DEPLOYMENTS}/d/scale", {"spec": {"replicas": 3}})
    assert status == 200 and scale["spec"]["replicas"] == 3
    _, body = await http.get(f"{DEPLOYMENTS}/d")
    assert body["spec"]["replicas"] == 3


async def test_yaml_request_bodies_and_responses(http: Http) -> None:
    status, _ = await http.request(
        "POST", CONFIGMAPS, "metadata: {name: y}\ndata: {a: '1'}\n", "application/yaml"
    )
    assert status == 201
    status, text = await http.request("GET", f"{CONFIGMAPS}/y", headers={"Accept": "application/yaml"})
    assert status == 200 and "name: y" in text
