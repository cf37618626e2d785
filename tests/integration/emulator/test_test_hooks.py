"""The test hooks: fault injection, latency, request log, seeding, status helpers, thread runner."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from tests.support.emulator_http import CONFIGMAPS, Http, configmap

from kube_emulator import EmbeddedApiServer, ThreadedApiServer

pytestmark = pytest.mark.integration


async def test_fail_next_fails_matching_requests_n_times(http: Http, api_server: EmbeddedApiServer) -> None:
    await http.post(CONFIGMAPS, configmap("c"))
    api_server.hooks.faults.fail_next("PATCH", r"/configmaps/c$", 409, times=2, reason="Conflict")
    results = [(await http.patch(f"{CONFIGMAPS}/c", {"data": {"x": "1"}}))[0] for _ in range(3)]
    assert results == [409, 409, 200]
    assert (await http.get(f"{CONFIGMAPS}/c"))[0] == 200
    assert api_server.hooks.faults.active() == []


async def test_injected_failures_have_status_bodies(http: Http, api_server: EmbeddedApiServer) -> None:
    api_server.hooks.faults.fail_next(
        "*", r"/api/v1/namespaces/default/configmaps", 500, message="etcd is down"
    )
    status, body = await http.get(CONFIGMAPS)
    assert status == 500
    assert (body["kind"], body["reason"], body["message"]) == ("Status", "InternalError", "etcd is down")


async def test_added_latency_delays_matching_requests(http: Http, api_server: EmbeddedApiServer) -> None:
    api_server.hooks.faults.add_latency(0.3, "GET", r"/configmaps$", times=1)
    started = time.monotonic()
    await http.get(CONFIGMAPS)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await http.get(CONFIGMAPS)
    assert time.monotonic() - started < 0.3


async def test_dropped_connections(http: Http, api_server: EmbeddedApiServer) -> None:
    rule = api_server.hooks.faults.drop_next("GET", r"/configmaps$", times=10)
    with pytest.raises(aiohttp.ClientError):  # the client may retry once on its own: both are dropped
        await http.get(CONFIGMAPS)
    assert rule.hits >= 1
    api_server.hooks.faults.remove(rule)
    assert (await http.get(CONFIGMAPS))[0] == 200
    assert -1 in [r.status for r in api_server.hooks.requests("GET", "/configmaps$")]


async def test_request_log_records_method_path_query_status_and_body(
    http: Http, api_server: EmbeddedApiServer
) -> None:
    api_server.hooks.clear_requests()
    await http.post(CONFIGMAPS, configmap("c"), fieldManager="me")
    await http.get(f"{CONFIGMAPS}/missing")
    posts = api_server.hooks.requests("POST", "/configmaps$")
    assert len(posts) == 1 and posts[0].status == 201 and posts[0].query == {"fieldManager": "me"}
    assert posts[0].json()["metadata"]["name"] == "c"
    assert [r.status for r in api_server.hooks.requests("GET")] == [404]


async def test_seed_and_mark_deployment_available(api_server: EmbeddedApiServer, http: Http) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "jm", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "flink"}]},
            },
        },
    }
    await api_server.hooks.seed([deployment, configmap("seeded", namespace="default")])
    assert (await http.get(f"{CONFIGMAPS}/seeded"))[0] == 200
    await api_server.hooks.mark_deployment_available("jm")
    _, body = await http.get("/apis/apps/v1/namespaces/default/deployments/jm")
    assert body["status"]["availableReplicas"] == 2 and body["status"]["observedGeneration"] == 1
    assert {c["type"]: c["status"] for c in body["status"]["conditions"]} == {
        "Available": "True",
        "Progressing": "True",
    }


async def test_set_status_merges_into_the_status_subresource(api_server: EmbeddedApiServer) -> None:
    await api_server.hooks.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
        }
    )
    await api_server.hooks.set_status("v1", "Pod", "p", {"phase": "Running"}, namespace="default")
    pod = api_server.hooks.get("v1", "Pod", "p", "default")
    assert pod is not None and pod["status"]["phase"] == "Running"


def test_threaded_server_serves_synchronous_callers(tmp_path: Path) -> None:
    with ThreadedApiServer() as server:
        server.create(configmap("c", namespace="default"))
        with urllib.request.urlopen(
            f"{server.url}/api/v1/namespaces/default/configmaps/c", timeout=5
        ) as reply:
            assert json.loads(reply.read())["metadata"]["name"] == "c"
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        assert server.url in kubeconfig.read_text()
        server.compact()
        assert server.cut_watches() == 0


async def test_embedded_servers_are_independent() -> None:
    async with EmbeddedApiServer() as one, EmbeddedApiServer() as two:
        assert one.port != two.port
        await one.hooks.create(configmap("only-in-one", namespace="default"))
        assert two.hooks.get("v1", "ConfigMap", "only-in-one", "default") is None


async def test_gc_delay_makes_collection_asynchronous(tmp_path: Path) -> None:
    async with EmbeddedApiServer(gc_delay=0.2) as server:
        owner = await server.hooks.create(configmap("owner", namespace="default"))
        ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
        await server.hooks.create(configmap("child", namespace="default", ownerReferences=[ref]))
        await server.hooks.delete("v1", "ConfigMap", "owner", "default")
        assert server.hooks.get("v1", "ConfigMap", "child", "default") is not None
        deadline = time.monotonic() + 5
        while server.hooks.get("v1", "ConfigMap", "child", "default") is not None:
            assert time.monotonic() < deadline, "the dependent was never collected"
            await asyncio.sleep(0.02)
