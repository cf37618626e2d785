"""The REST routes of a fake Flink cluster: match a path, check parameters and bodies, call the cluster.

Routes, parameter checks and body checks mirror Flink's (e.g. a job id that is not 32 hex characters is a
400 "could not parse parameters"; a body field of the wrong type is a 400 "Request did not match expected
format ..."; unknown body fields are ignored, as Flink's JSON mapper ignores them).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flink_operator.testing import fake_flink_metrics as metrics
from flink_operator.testing import fake_flink_render as render
from flink_operator.testing.fake_flink_cluster import FakeCluster
from flink_operator.testing.fake_flink_errors import FakeRestError

__all__ = ["Request", "dispatch"]

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_CLAIM_MODES = ("CLAIM", "NO_CLAIM", "LEGACY")
_AGGREGATIONS = ("min", "max", "avg", "sum", "skew")


@dataclass
class Request:
    """What a route needs from an HTTP request (decoupled from aiohttp for testability)."""

    method: str
    path: str  # relative to the cluster
    query: Mapping[str, str]
    json: Callable[[], Awaitable[Any]]
    upload: Callable[[], Awaitable[list[tuple[str, bytes]]]]
    address: str


Handler = Callable[[FakeCluster, Request, dict[str, str]], Awaitable[tuple[int, Any]]]
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    pattern = re.compile("^" + re.sub(r":(\w+)", r"(?P<\1>[^/]+)", template) + "/?$")

    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, pattern, handler))
        return handler

    return register


def _check_params(params: dict[str, str]) -> None:
    for name in ("jobid", "vertexid", "triggerid"):
        if name in params and not _HEX32.match(params[name]):
            raise FakeRestError.bad_path_parameter(name, params[name])
        if name in params:
            params[name] = params[name].lower()
    if "checkpointid" in params and not params["checkpointid"].lstrip("-").isdigit():
        raise FakeRestError.bad_path_parameter("checkpointid", params["checkpointid"])


async def dispatch(cluster: FakeCluster, request: Request) -> tuple[int, Any]:
    """Answer one request: (HTTP status, JSON body). Errors are answered as Flink answers them."""
    allowed_elsewhere = False
    for method, pattern, handler in _ROUTES:
        match = pattern.match(request.path)
        if match is None:
            continue
        if method != request.method:
            allowed_elsewhere = True
            continue
        params = dict(match.groupdict())
        try:
            _check_params(params)
            return await handler(cluster, request, params)
        except FakeRestError as error:
            return error.status, error.body()
    if allowed_elsewhere:
        return 405, {"errors": [f"Not allowed: {request.method} {request.path}"]}
    unknown = FakeRestError.unknown_route(request.path)
    return unknown.status, unknown.body()


# ---------------------------------------------------------------- body checks


def _body_object(raw: Any, body_class: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FakeRestError.bad_format(body_class, f"expected a JSON object, got {type(raw).__name__}")
    return raw


def _field(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...], body_class: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is int)
    if not ok:
        raise FakeRestError.bad_format(body_class, f"field {name!r} has the wrong type")
    return value


def _enum(body: Mapping[str, Any], name: str, allowed: tuple[str, ...], body_class: str) -> str | None:
    value = _field(body, name, str, body_class)
    if value is not None and value not in allowed:
        raise FakeRestError.bad_format(
            body_class, f'Cannot deserialize value from String "{value}": not one of [{", ".join(allowed)}]'
        )
    return value  # type: ignore[no-any-return]


async def _json(request: Request, body_class: str) -> dict[str, Any]:
    try:
        raw = await request.json()
    except ValueError as error:
        raise FakeRestError.bad_format(body_class, f"malformed JSON: {error}") from error
    return _body_object(raw, body_class)


# ---------------------------------------------------------------- cluster


@route("GET", "/overview")
async def _overview(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, render.overview(cluster)


@route("GET", "/config")
async def _config(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, render.config(cluster)


@route("GET", "/taskmanagers")
async def _taskmanagers(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, render.taskmanagers(cluster)


@route("DELETE", "/cluster")
async def _shutdown(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    # Answered first; the JobManager then goes down (the server applies it after responding).
    cluster.shutdown_requested = True
    return 200, {}


# ---------------------------------------------------------------- jars


@route("POST", "/jars/upload")
async def _upload(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    files = await request.upload()
    if len(files) != 1:
        raise FakeRestError.handler(400, f"Exactly 1 file must be sent, received {len(files)}.")
    filename, content = files[0]
    jar = cluster.upload_jar(filename, content)
    return 200, {"filename": f"{cluster.upload_dir}/{jar.id}", "status": "success"}


@route("GET", "/jars")
async def _jars(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, render.jars_list(cluster, request.address)


@route("DELETE", "/jars/:jarid")
async def _delete_jar(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    cluster.delete_jar(params["jarid"])
    return 200, {}


@route("POST", "/jars/:jarid/run")
async def _run(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    name = "JarRunRequestBody"
    body = await _json(request, name)
    _field(body, "entryClass", str, name)
    _field(body, "programArgs", str, name)
    listed = _field(body, "programArgsList", list, name)
    if listed is not None and not all(isinstance(a, str) for a in listed):
        raise FakeRestError.bad_format(name, "programArgsList must hold strings")
    _field(body, "parallelism", int, name)
    job_id = _field(body, "jobId", str, name)
    if job_id is not None and not _HEX32.match(job_id):
        raise FakeRestError.bad_format(name, f"Cannot deserialize JobID from {job_id!r}")
    _field(body, "allowNonRestoredState", bool, name)
    _field(body, "savepointPath", str, name)
    _enum(body, "claimMode", _CLAIM_MODES, name)
    _enum(body, "restoreMode", _CLAIM_MODES, name)
    configuration = _field(body, "flinkConfiguration", dict, name)
    if configuration is not None and not all(isinstance(v, str) for v in configuration.values()):
        raise FakeRestError.bad_format(name, "flinkConfiguration values must be strings")
    args = cluster.effective_program_args(body)
    job = cluster.run_jar(params["jarid"], body, args)
    answer: dict[str, Any] = {"jobid": job.jid}
    if cluster.is_2x:
        answer["applicationId"] = job.jid
    return 200, answer


# ---------------------------------------------------------------- jobs


def _job(cluster: FakeCluster, job_id: str) -> Any:
    job = cluster.job(job_id)
    if job is None:
        raise FakeRestError.job_not_found(job_id)
    return job


@route("GET", "/jobs")
async def _jobs(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, render.jobs_list(cluster)


@route("GET", "/jobs/overview")
async def _jobs_overview(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, render.jobs_overview(cluster)


@route("GET", "/jobs/:jobid")
async def _job_details(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    job = _job(cluster, params["jobid"])
    ttl = cluster.refresh_interval
    return 200, cluster.cached("details", job.jid, ttl, lambda: render.job_details(cluster, job))


@route("GET", "/jobs/:jobid/status")
async def _job_status(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    job = cluster.job(params["jobid"])
    if job is None:
        raise FakeRestError.job_not_found_internal(params["jobid"])
    return 200, {"status": job.state.value}


@route("PATCH", "/jobs/:jobid")
async def _cancel(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    mode = request.query.get("mode", "cancel")
    if mode != "cancel":
        raise FakeRestError.handler(400, f"Bad request, could not parse parameters: invalid mode {mode!r}")
    cluster.cancel(params["jobid"])
    return 202, {}


@route("GET", "/jobs/:jobid/execution-result")
async def _execution_result(
    cluster: FakeCluster, request: Request, params: dict[str, str]
) -> tuple[int, Any]:
    job = cluster.job(params["jobid"])
    if job is None:
        missing = f"Could not find Flink job ({params['jobid']})"
        inner = f"org.apache.flink.runtime.messages.FlinkJobNotFoundException: {missing}"
        raise FakeRestError.handler(404, inner, cause=inner)
    return 200, render.execution_result(cluster, job)


@route("GET", "/jobs/:jobid/exceptions")
async def _exceptions(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    raw = request.query.get("maxExceptions")
    limit = int(raw) if raw and raw.isdigit() else None
    job = _job(cluster, params["jobid"])
    ttl = cluster.refresh_interval
    body = cluster.cached(f"exceptions/{limit}", job.jid, ttl, lambda: render.exceptions(cluster, job, limit))
    return 200, body


# ---------------------------------------------------------------- checkpoints and savepoints


def _no_operation(kind: str, params: dict[str, str]) -> FakeRestError:
    trigger, job = params["triggerid"], params["jobid"]
    return FakeRestError.handler(404, f"There is no {kind} operation with triggerId={trigger} for job {job}.")


def _checkpoint_stats(cluster: FakeCluster, job: Any) -> Any:
    ttl = cluster.checkpoint_stats_timeout
    return cluster.cached("checkpoints", job.jid, ttl, lambda: render.checkpoint_stats(job))


@route("GET", "/jobs/:jobid/checkpoints")
async def _checkpoints(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    job = _job(cluster, params["jobid"])
    return 200, _checkpoint_stats(cluster, job)


@route("GET", "/jobs/:jobid/checkpoints/config")
async def _checkpoint_config(
    cluster: FakeCluster, request: Request, params: dict[str, str]
) -> tuple[int, Any]:
    return 200, render.checkpoint_config(_job(cluster, params["jobid"]))


@route("GET", "/jobs/:jobid/checkpoints/details/:checkpointid")
async def _checkpoint_details(
    cluster: FakeCluster, request: Request, params: dict[str, str]
) -> tuple[int, Any]:
    job = _job(cluster, params["jobid"])
    wanted = int(params["checkpointid"])
    # Served from the same cached statistics as /checkpoints: a just-completed checkpoint may be missing.
    for entry in _checkpoint_stats(cluster, job)["history"]:
        if entry["id"] == wanted:
            return 200, entry
    raise FakeRestError.handler(404, f"Could not find checkpointing statistics for checkpoint {wanted}.")


@route("POST", "/jobs/:jobid/checkpoints")
async def _trigger_checkpoint(
    cluster: FakeCluster, request: Request, params: dict[str, str]
) -> tuple[int, Any]:
    name = "CheckpointTriggerRequestBody"
    body = await _json(request, name)
    kind = _enum(body, "checkpointType", ("FULL", "INCREMENTAL", "CONFIGURED"), name) or "CONFIGURED"
    return 202, {"request-id": cluster.trigger_checkpoint(params["jobid"], kind)}


@route("GET", "/jobs/:jobid/checkpoints/:triggerid")
async def _checkpoint_status(
    cluster: FakeCluster, request: Request, params: dict[str, str]
) -> tuple[int, Any]:
    operation = cluster.operation("job", params["triggerid"])
    if operation is None or operation.kind != "checkpoint" or operation.job_id != params["jobid"]:
        raise _no_operation("checkpoint", params)
    return 200, render.operation_status(operation)


@route("POST", "/jobs/:jobid/savepoints")
async def _trigger_savepoint(
    cluster: FakeCluster, request: Request, params: dict[str, str]
) -> tuple[int, Any]:
    name = "SavepointTriggerRequestBody"
    body = await _json(request, name)
    target = _field(body, "target-directory", str, name)
    _field(body, "cancel-job", bool, name)
    format_type = _enum(body, "formatType", ("CANONICAL", "NATIVE"), name)
    cancel_job = bool(body.get("cancel-job"))
    trigger_id = cluster.trigger_savepoint(
        params["jobid"], target, format_type, stop=False, cancel_job=cancel_job
    )
    return 202, {"request-id": trigger_id}


@route("POST", "/jobs/:jobid/stop")
async def _stop(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    name = "StopWithSavepointRequestBody"
    body = await _json(request, name)
    target = _field(body, "targetDirectory", str, name)
    drain = bool(_field(body, "drain", bool, name))
    format_type = _enum(body, "formatType", ("CANONICAL", "NATIVE"), name)
    return 202, {
        "request-id": cluster.trigger_savepoint(params["jobid"], target, format_type, stop=True, drain=drain)
    }


@route("GET", "/jobs/:jobid/savepoints/:triggerid")
async def _savepoint_status(
    cluster: FakeCluster, request: Request, params: dict[str, str]
) -> tuple[int, Any]:
    operation = cluster.operation("job", params["triggerid"])
    if operation is None or operation.kind != "savepoint" or operation.job_id != params["jobid"]:
        raise _no_operation("savepoint", params)
    return 200, render.operation_status(operation)


@route("POST", "/savepoint-disposal")
async def _dispose(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    name = "SavepointDisposalRequest"
    body = await _json(request, name)
    path = _field(body, "savepoint-path", str, name)
    if not path:
        raise FakeRestError.bad_format(name, "field 'savepoint-path' is required")
    return 200, {"request-id": cluster.dispose(path)}


@route("GET", "/savepoint-disposal/:triggerid")
async def _disposal_status(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    operation = cluster.operation("disposal", params["triggerid"])
    if operation is None:
        raise FakeRestError(
            404,
            [
                "org.apache.flink.runtime.rest.NotFoundException: Operation not found under key: "
                "org.apache.flink.runtime.rest.handler.async.OperationKey@0\n"
                "\tat org.apache.flink.fake(Fake.java:1)"
            ],
        )
    return 200, render.operation_status(operation)


# ---------------------------------------------------------------- rescale


@route("GET", "/jobs/:jobid/resource-requirements")
async def _requirements(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    job = cluster.job(params["jobid"])
    if job is None:
        raise FakeRestError.job_not_found_internal(params["jobid"])
    return 200, render.resource_requirements(job)


@route("PUT", "/jobs/:jobid/resource-requirements")
async def _set_requirements(
    cluster: FakeCluster, request: Request, params: dict[str, str]
) -> tuple[int, Any]:
    name = "JobResourceRequirementsBody"
    body = await _json(request, name)
    wanted: dict[str, tuple[int, int]] = {}
    for vertex_id, requirement in body.items():
        bounds = requirement.get("parallelism") if isinstance(requirement, dict) else None
        if not _HEX32.match(vertex_id) or not isinstance(bounds, dict):
            raise FakeRestError.bad_format(name)
        lower, upper = bounds.get("lowerBound"), bounds.get("upperBound")
        if not isinstance(lower, int) or not isinstance(upper, int):
            raise FakeRestError.bad_format(name)
        wanted[vertex_id.lower()] = (lower, upper)
    cluster.set_requirements(params["jobid"], wanted)
    return 200, {}


# ---------------------------------------------------------------- metrics


def _names(request: Request) -> list[str] | None:
    raw = request.query.get("get")
    return [n for n in raw.split(",") if n] if raw is not None else None


def _aggs(request: Request, cluster: FakeCluster) -> list[str]:
    raw = request.query.get("agg")
    if raw is None:
        return ["min", "max", "avg", "sum"] + (["skew"] if cluster.is_2x else [])
    aggs = [a for a in raw.split(",") if a]
    bad = [a for a in aggs if a not in _AGGREGATIONS]
    if bad:
        raise FakeRestError.handler(
            400, f"Bad request, could not parse parameters: invalid aggregation {bad[0]!r}"
        )
    return aggs


def _store(cluster: FakeCluster) -> metrics.MetricSnapshot:
    return cluster.metrics.read(lambda: metrics.compute_metrics(cluster))


@route("GET", "/jobs/:jobid/metrics")
async def _job_metrics(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, metrics.plain_metrics(_store(cluster).get(("job", params["jobid"])), _names(request))


@route("GET", "/jobs/:jobid/vertices/:vertexid/subtasks/metrics")
async def _vertex_metrics(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    aggs = _aggs(request, cluster)
    series = _store(cluster).get(("vertex", params["jobid"], params["vertexid"]), {})
    return 200, metrics.aggregated_metrics(series, _names(request), aggs)


@route("GET", "/jobmanager/metrics")
async def _jm_metrics(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, metrics.plain_metrics(_store(cluster).get(("jm",)), _names(request))


@route("GET", "/taskmanagers/metrics")
async def _tms_metrics(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    aggs = _aggs(request, cluster)
    series: dict[str, list[float]] = {}
    for key, values in _store(cluster).items():
        if key[0] == "tm":
            for name, value in values.items():
                series.setdefault(name, []).append(float(value))
    return 200, metrics.aggregated_metrics(series, _names(request), aggs)


@route("GET", "/taskmanagers/:tmid/metrics")
async def _tm_metrics(cluster: FakeCluster, request: Request, params: dict[str, str]) -> tuple[int, Any]:
    return 200, metrics.plain_metrics(_store(cluster).get(("tm", params["tmid"])), _names(request))
