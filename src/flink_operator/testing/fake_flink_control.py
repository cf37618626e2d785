"""The ``/_fake/...`` HTTP control API of the fake Flink server, for callers in another process.

Everything here is also available as Python methods (``FakeFlinkServer``/``FakeCluster``); this API exists
so a benchmark or the operator under test can drive a fake server that runs as its own process.

Routes (bodies are JSON objects):

* ``GET /_fake/clusters``: ``{"clusters": [{"name", "url", "up", "flink_version"}]}``
* ``POST /_fake/clusters``: create one from ``{"name", "flink_version", "taskmanagers",
  "slots_per_taskmanager", "config", "records_per_second", "metrics_update_interval", "timing": {...},
  "dedicated_port": bool|int}``; answers ``{"name", "url"}``
* ``GET``/``DELETE /_fake/clusters/:name``: describe / remove
* ``POST /_fake/clusters/:name/jobmanager``: ``{"up": bool, "graceful": bool}``
* ``POST /_fake/clusters/:name/faults``: add a ``FaultRule`` (its fields); ``DELETE`` clears them
* ``POST /_fake/clusters/:name/savepoint-failures`` (and ``checkpoint-failures``): ``{"count", "reason"}``
* ``POST /_fake/clusters/:name/taskmanagers``: ``{"count"}``
* ``POST /_fake/clusters/:name/jobs/:jid/fail``: ``{"message", "exception_class", "recoverable"}``
* ``PUT /_fake/clusters/:name/jobs/:jid/vertices/:vertex/metrics``: ``{metric: value or [per subtask]}``
* ``GET /_fake/clusters/:name/submissions``: what each jar run asked for

Errors are ``{"error": "..."}`` with status 400 (bad input) or 404 (unknown cluster/job).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from flink_operator.testing.fake_flink_cluster import FakeCluster, FaultRule
from flink_operator.testing.fake_flink_jobs import FakeTiming

if TYPE_CHECKING:
    from flink_operator.testing.fake_flink import FakeFlinkServer

__all__ = ["handle_control"]

_CLUSTER = re.compile(r"^/_fake/clusters/(?P<name>[^/]+)(?P<rest>/.*)?$")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    text = await request.text()
    if not text.strip():
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("the request body must be a JSON object")
    return value


def _describe(cluster: FakeCluster) -> dict[str, Any]:
    return {
        "name": cluster.name,
        "url": cluster.base_url,
        "up": cluster.up,
        "flink_version": cluster.settings.flink_version,
    }


async def handle_control(server: FakeFlinkServer, request: web.Request) -> web.Response:
    try:
        body = await _body(request) if request.method in ("POST", "PUT") else {}
        return await _route(server, request, body)
    except (ValueError, TypeError) as error:
        return _error(400, str(error))
    except KeyError as error:
        return _error(404, str(error.args[0]) if error.args else "not found")


async def _route(server: FakeFlinkServer, request: web.Request, body: dict[str, Any]) -> web.Response:
    method, path = request.method, request.path
    if path.rstrip("/") == "/_fake/clusters":
        if method == "GET":
            return web.json_response({"clusters": [_describe(c) for c in server.clusters.values()]})
        if method == "POST":
            settings = dict(body)
            name = settings.pop("name", None)
            dedicated = settings.pop("dedicated_port", False)
            if "timing" in settings:
                settings["timing"] = FakeTiming(**settings["timing"])
            cluster = await server.add_cluster(name, dedicated_port=dedicated, **settings)
            return web.json_response({"name": cluster.name, "url": cluster.base_url}, status=201)
        return _error(405, f"{method} not allowed on {path}")
    match = _CLUSTER.match(path)
    if match is None:
        return _error(404, f"no control route {path}")
    name, rest = match["name"], (match["rest"] or "").rstrip("/")
    cluster = server.cluster(name)
    if rest == "" and method == "DELETE":
        await server.remove_cluster(name)
        return web.json_response({})
    if rest == "" and method == "GET":
        return web.json_response(_describe(cluster))
    if rest == "/jobmanager" and method == "POST":
        if body.get("up", True):
            await server.jobmanager_up(name)
        else:
            await server.jobmanager_down(name, graceful=bool(body.get("graceful", False)))
        return web.json_response(_describe(cluster))
    if rest == "/faults":
        if method == "DELETE":
            cluster.clear_faults()
            return web.json_response({})
        if method == "POST":
            rule = cluster.inject(FaultRule(**body))
            return web.json_response(dataclasses.asdict(rule), status=201)
    if rest == "/savepoint-failures" and method == "POST":
        cluster.fail_next_savepoints(
            int(body.get("count", 1)), str(body.get("reason", "injected savepoint failure"))
        )
        return web.json_response({})
    if rest == "/checkpoint-failures" and method == "POST":
        cluster.fail_next_checkpoints(
            int(body.get("count", 1)), str(body.get("reason", "injected checkpoint failure"))
        )
        return web.json_response({})
    if rest == "/taskmanagers" and method == "POST":
        cluster.set_taskmanagers(int(body["count"]))
        return web.json_response({})
    if rest == "/submissions" and method == "GET":
        return web.json_response({"submissions": [dataclasses.asdict(s) for s in cluster.submissions]})
    job_match = re.match(r"^/jobs/(?P<jid>[0-9a-fA-F]{32})(?P<tail>/.*)$", rest)
    if job_match is not None:
        jid, tail = job_match["jid"].lower(), job_match["tail"]
        if tail == "/fail" and method == "POST":
            cluster.fail_job(
                jid,
                str(body.get("message", "injected failure")),
                exception_class=str(body.get("exception_class", "java.lang.RuntimeException")),
                recoverable=body.get("recoverable"),
            )
            return web.json_response({})
        metrics = re.match(r"^/vertices/(?P<vertex>[^/]+)/metrics$", tail)
        if metrics is not None and method == "PUT":
            vertex: int | str = int(metrics["vertex"]) if metrics["vertex"].isdigit() else metrics["vertex"]
            cluster.set_vertex_metrics(jid, vertex, body)
            return web.json_response({})
    return _error(404, f"no control route {method} {path}")
