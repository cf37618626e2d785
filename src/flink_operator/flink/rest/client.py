"""The asynchronous Flink REST client: one instance per Flink cluster (base URL), typed answers, typed errors.

Usage::

    async with FlinkRestClient("http://127.0.0.1:8081") as flink:
        jar = await flink.upload_jar(Path("job.jar"))
        job_id = (await flink.run_jar(jar, JarRunRequest(program_args=["--sleepMs", "10"]))).jobid
        state = await flink.job_status(job_id)

Many clients may share one ``httpx.AsyncClient`` (pass ``http=``) so thousands of clusters do not each hold
a connection pool; keep the number of calls in flight at or below the pool's ``max_connections``, since
httpcore's pool slows down sharply when many requests queue for a connection.

Every call has a timeout (default 10 s, like ``kubernetes.operator.flink.client.timeout``)
and follows :class:`RetryPolicy`: idempotent calls are retried on connection errors and 5xx; non-idempotent
POSTs (jar run, triggers) only when the connection could not even be opened.

Not guaranteed: answers served by Flink from its caches (``/jobs/:id`` and checkpoint statistics, 3 s;
metrics, fetched lazily) may be stale; see :mod:`flink_operator.flink.rest.waiting` for helpers that cope.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from flink_operator.flink.rest.errors import (
    ClusterUnreachable,
    FlinkRestError,
    JobNotFound,
    ResponseFormatError,
    error_for_response,
)
from flink_operator.flink.rest.models.cluster import (
    ClusterConfig,
    ClusterOverview,
    TaskManagerInfo,
    TaskManagerList,
)
from flink_operator.flink.rest.models.jars import JarFileInfo, JarList, JarRunResult, JarUploadResult
from flink_operator.flink.rest.models.jobs import (
    ExecutionResult,
    JobDetails,
    JobExceptions,
    JobOverview,
    JobsOverview,
    JobState,
    JobStatusInfo,
)
from flink_operator.flink.rest.models.metrics import AggregatedMetric, MetricValue
from flink_operator.flink.rest.models.rescale import ResourceRequirements, VertexResourceRequirements
from flink_operator.flink.rest.models.snapshots import (
    CheckpointConfig,
    CheckpointDetails,
    CheckpointStats,
    CheckpointTriggerStatus,
    DisposalStatus,
    SavepointStatus,
    TriggerId,
)
from flink_operator.flink.rest.requests import (
    CheckpointType,
    JarRunRequest,
    SavepointFormat,
    checkpoint_trigger_body,
    jar_run_body,
    resource_requirements_body,
    savepoint_trigger_body,
    stop_body,
)
from flink_operator.flink.rest.retry import FailureKind, RetryPolicy
from flink_operator.flink.rest.versions import FlinkVersion

__all__ = ["DEFAULT_AGGREGATIONS", "DEFAULT_TIMEOUT", "FlinkRestClient"]

DEFAULT_TIMEOUT = 10.0
DEFAULT_AGGREGATIONS = ("min", "max", "avg", "sum")

M = TypeVar("M", bound=BaseModel)

_METRIC_LIST = TypeAdapter(list[MetricValue])
_AGGREGATED_LIST = TypeAdapter(list[AggregatedMetric])
_RESOURCE_REQUIREMENTS = TypeAdapter(ResourceRequirements)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _csv(names: Iterable[str]) -> str:
    return ",".join(names)


class FlinkRestClient:
    """Typed access to one Flink cluster's REST API at ``base_url`` (e.g. ``http://127.0.0.1:8081``).

    ``flink_version`` avoids one ``/config`` round trip when the caller already knows the version; it
    is otherwise read from the cluster on first need and cached.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        flink_version: FlinkVersion | str | None = None,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"Flink REST base URL must start with http:// or https://, got {base_url!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry if retry is not None else RetryPolicy()
        self._version = FlinkVersion.parse(flink_version) if isinstance(flink_version, str) else flink_version
        self._owns_http = http is None
        # trust_env=False: a proxy from the environment must never sit between us and a cluster on loopback.
        self._http = http or httpx.AsyncClient(timeout=timeout, transport=transport, trust_env=False)
        self._rng = random.Random()  # noqa: S311 - backoff jitter only

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> FlinkRestClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"FlinkRestClient({self.base_url!r})"

    # ------------------------------------------------------------------ transport

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        idempotent: bool | None = None,
        request_timeout: float | None = None,
        job_id: str | None = None,
    ) -> Any:
        """Send one call (with retries per policy) and return the decoded JSON body (None if empty).

        Raises :class:`ClusterUnreachable`, :class:`JobNotFound` (404 of a job-scoped call whose
        answer names the job), :class:`NotFound` or :class:`FlinkRestError`.
        """
        url = self.base_url + path
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    files=files,
                    timeout=request_timeout if request_timeout is not None else self.timeout,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                delay = self.retry.next_delay(
                    attempt, FailureKind.CONNECT, idempotent=idempotent, rng=self._rng
                )
                if delay is None:
                    raise ClusterUnreachable(
                        f"{method} {url}: cannot connect to Flink REST ({type(exc).__name__}: {exc})"
                        f" after {attempt} attempt(s)",
                        method=method,
                        url=url,
                    ) from exc
                await asyncio.sleep(delay)
                continue
            except httpx.TransportError as exc:
                delay = self.retry.next_delay(
                    attempt, FailureKind.TRANSPORT, idempotent=idempotent, rng=self._rng
                )
                if delay is None:
                    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
                    raise ClusterUnreachable(
                        f"{method} {url}: {kind} ({type(exc).__name__}: {exc or 'no detail'})"
                        f" after {attempt} attempt(s)",
                        method=method,
                        url=url,
                    ) from exc
                await asyncio.sleep(delay)
                continue
            if response.status_code < 400:
                return self._decode(response, method, url)
            error = self._error(response, method, url, job_id)
            delay = None
            if not isinstance(error, JobNotFound):  # a missing job stays missing
                delay = self.retry.next_delay(
                    attempt,
                    FailureKind.STATUS,
                    idempotent=idempotent,
                    status=response.status_code,
                    rng=self._rng,
                )
            if delay is None:
                raise error
            await asyncio.sleep(delay)

    @staticmethod
    def _decode(response: httpx.Response, method: str, url: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ResponseFormatError(
                f"{method} {url}: HTTP {response.status_code} with a body that is not JSON: "
                f"{response.text[:200]!r}",
                status=response.status_code,
                method=method,
                url=url,
            ) from exc

    @staticmethod
    def _error(response: httpx.Response, method: str, url: str, job_id: str | None) -> FlinkRestError:
        try:
            body: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = response.text
        return error_for_response(response.status_code, body, method=method, url=url, job_id=job_id)

    async def _get_model(self, model: type[M], path: str, *, job_id: str | None = None, **kw: Any) -> M:
        body = await self.request("GET", path, job_id=job_id, **kw)
        return self._parse(model, body, "GET", path)

    def _parse(self, model: type[M], body: Any, method: str, path: str) -> M:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            raise ResponseFormatError(
                f"{method} {self.base_url}{path}: unexpected response shape for {model.__name__}: "
                f"{exc.errors(include_url=False)[:3]}",
                method=method,
                url=self.base_url + path,
            ) from exc

    def _parse_adapter(self, adapter: TypeAdapter[Any], body: Any, path: str) -> Any:
        try:
            return adapter.validate_python(body if body is not None else [])
        except ValidationError as exc:
            raise ResponseFormatError(
                f"GET {self.base_url}{path}: unexpected response shape: {exc.errors(include_url=False)[:3]}",
                method="GET",
                url=self.base_url + path,
            ) from exc

    # ------------------------------------------------------------------ cluster

    async def overview(self) -> ClusterOverview:
        """``GET /overview``: TaskManagers, slots and job counts (the readiness probe)."""
        return await self._get_model(ClusterOverview, "/overview")

    async def config(self) -> ClusterConfig:
        """``GET /config``: ``flink_version`` and ``flink_revision``."""
        config = await self._get_model(ClusterConfig, "/config")
        if self._version is None:
            self._version = FlinkVersion.parse(config.flink_version)
        return config

    async def flink_version(self) -> FlinkVersion:
        """The cluster's version (read once from ``/config``, then cached)."""
        if self._version is None:
            await self.config()
        assert self._version is not None
        return self._version

    async def taskmanagers(self) -> list[TaskManagerInfo]:
        return (await self._get_model(TaskManagerList, "/taskmanagers")).taskmanagers

    async def shutdown_cluster(self) -> None:
        """``DELETE /cluster``: the whole cluster shuts down (session or application)."""
        await self.request("DELETE", "/cluster")

    # ------------------------------------------------------------------ jobs

    async def jobs_overview(self) -> list[JobOverview]:
        return (await self._get_model(JobsOverview, "/jobs/overview")).jobs

    async def job_status(self, job_id: str) -> JobState:
        """``GET /jobs/:id/status``: the job state, not cached (prefer it over :meth:`job_details`)."""
        path = f"/jobs/{_segment(job_id)}/status"
        return (await self._get_model(JobStatusInfo, path, job_id=job_id)).status

    async def job_details(self, job_id: str) -> JobDetails:
        """``GET /jobs/:id``: vertices (status, parallelism) and plan; cached by Flink for up to 3 s."""
        return await self._get_model(JobDetails, f"/jobs/{_segment(job_id)}", job_id=job_id)

    async def execution_result(self, job_id: str) -> ExecutionResult:
        """``GET /jobs/:id/execution-result``: IN_PROGRESS, or the final status and failure cause."""
        path = f"/jobs/{_segment(job_id)}/execution-result"
        return await self._get_model(ExecutionResult, path, job_id=job_id)

    async def exceptions(self, job_id: str, max_exceptions: int | None = None) -> JobExceptions:
        """``GET /jobs/:id/exceptions`` (newest first; both the 1.20 and the 2.x shape)."""
        params = {"maxExceptions": str(max_exceptions)} if max_exceptions else None
        path = f"/jobs/{_segment(job_id)}/exceptions"
        return await self._get_model(JobExceptions, path, job_id=job_id, params=params)

    async def cancel_job(self, job_id: str, *, request_timeout: float | None = None) -> None:
        """``PATCH /jobs/:id?mode=cancel``: returns once accepted (202); CANCELED follows shortly after.

        Cancelling is idempotent (Flink accepts it again for a cancelled job), so it is retried like a GET.
        """
        await self.request(
            "PATCH",
            f"/jobs/{_segment(job_id)}",
            params={"mode": "cancel"},
            idempotent=True,
            request_timeout=request_timeout,
            job_id=job_id,
        )

    # ------------------------------------------------------------------ checkpoints and savepoints

    async def checkpoint_stats(self, job_id: str) -> CheckpointStats:
        path = f"/jobs/{_segment(job_id)}/checkpoints"
        return await self._get_model(CheckpointStats, path, job_id=job_id)

    async def checkpoint_details(self, job_id: str, checkpoint_id: int) -> CheckpointDetails:
        path = f"/jobs/{_segment(job_id)}/checkpoints/details/{int(checkpoint_id)}"
        return await self._get_model(CheckpointDetails, path, job_id=job_id)

    async def checkpoint_config(self, job_id: str) -> CheckpointConfig:
        """``GET /jobs/:id/checkpoints/config`` (:class:`NotFound` when checkpointing is disabled)."""
        path = f"/jobs/{_segment(job_id)}/checkpoints/config"
        return await self._get_model(CheckpointConfig, path, job_id=job_id)

    async def _trigger(
        self, path: str, body: dict[str, Any], job_id: str | None, request_timeout: float | None
    ) -> str:
        answer = await self.request(
            "POST", path, json_body=body, job_id=job_id, request_timeout=request_timeout
        )
        return self._parse(TriggerId, answer, "POST", path).request_id

    async def trigger_savepoint(
        self,
        job_id: str,
        target_directory: str | None = None,
        *,
        format_type: SavepointFormat | None = None,
        request_timeout: float | None = None,
    ) -> str:
        """``POST /jobs/:id/savepoints`` (never cancels the job); returns the trigger id to poll."""
        body = savepoint_trigger_body(target_directory, format_type, cancel_job=False)
        return await self._trigger(f"/jobs/{_segment(job_id)}/savepoints", body, job_id, request_timeout)

    async def savepoint_status(self, job_id: str, trigger_id: str) -> SavepointStatus:
        """Poll a savepoint or stop-with-savepoint trigger."""
        path = f"/jobs/{_segment(job_id)}/savepoints/{_segment(trigger_id)}"
        return await self._get_model(SavepointStatus, path, job_id=job_id)

    async def stop_with_savepoint(
        self,
        job_id: str,
        target_directory: str | None = None,
        *,
        drain: bool = False,
        format_type: SavepointFormat | None = None,
        request_timeout: float | None = None,
    ) -> str:
        """``POST /jobs/:id/stop``: the job ends FINISHED after the savepoint.

        Poll with :meth:`savepoint_status`.
        """
        body = stop_body(target_directory, drain, format_type)
        return await self._trigger(f"/jobs/{_segment(job_id)}/stop", body, job_id, request_timeout)

    async def trigger_checkpoint(
        self,
        job_id: str,
        checkpoint_type: CheckpointType = CheckpointType.FULL,
        *,
        request_timeout: float | None = None,
    ) -> str:
        """``POST /jobs/:id/checkpoints`` (Flink 1.17+); returns the trigger id to poll."""
        body = checkpoint_trigger_body(checkpoint_type)
        return await self._trigger(f"/jobs/{_segment(job_id)}/checkpoints", body, job_id, request_timeout)

    async def checkpoint_trigger_status(self, job_id: str, trigger_id: str) -> CheckpointTriggerStatus:
        path = f"/jobs/{_segment(job_id)}/checkpoints/{_segment(trigger_id)}"
        return await self._get_model(CheckpointTriggerStatus, path, job_id=job_id)

    async def dispose_savepoint(self, savepoint_path: str, *, request_timeout: float | None = None) -> str:
        """``POST /savepoint-disposal``: delete a savepoint's files; returns the trigger id to poll."""
        return await self._trigger(
            "/savepoint-disposal", {"savepoint-path": savepoint_path}, None, request_timeout
        )

    async def disposal_status(self, trigger_id: str) -> DisposalStatus:
        return await self._get_model(DisposalStatus, f"/savepoint-disposal/{_segment(trigger_id)}")

    # ------------------------------------------------------------------ jars

    async def upload_jar(
        self, jar: Path | str | bytes, *, filename: str | None = None, request_timeout: float | None = None
    ) -> str:
        """``POST /jars/upload`` (multipart field ``jarfile``); returns the jar id.

        ``jar`` is a path, or the jar's bytes together with ``filename`` (which must end in ``.jar``).
        """
        if isinstance(jar, bytes):
            if not filename:
                raise ValueError("upload_jar: pass filename= when uploading bytes")
            content = jar
        else:
            path = Path(jar)
            filename = filename or path.name
            content = await asyncio.to_thread(path.read_bytes)
        if not filename.endswith(".jar"):
            raise ValueError(f"upload_jar: Flink only accepts files ending in '.jar', got {filename!r}")
        answer = await self.request(
            "POST",
            "/jars/upload",
            files={"jarfile": (filename, content, "application/x-java-archive")},
            request_timeout=request_timeout,
        )
        return self._parse(JarUploadResult, answer, "POST", "/jars/upload").jar_id

    async def run_jar(
        self, jar_id: str, request: JarRunRequest | None = None, *, request_timeout: float | None = None
    ) -> JarRunResult:
        """``POST /jars/:jarid/run``. Never retried once sent: a repeat could start the job twice."""
        body = jar_run_body(request or JarRunRequest(), await self.flink_version())
        path = f"/jars/{_segment(jar_id)}/run"
        answer = await self.request("POST", path, json_body=body, request_timeout=request_timeout)
        return self._parse(JarRunResult, answer, "POST", path)

    async def list_jars(self) -> list[JarFileInfo]:
        return (await self._get_model(JarList, "/jars")).files

    async def delete_jar(self, jar_id: str) -> None:
        await self.request("DELETE", f"/jars/{_segment(jar_id)}")

    # ------------------------------------------------------------------ metrics

    async def _metric_values(
        self, path: str, names: Iterable[str], job_id: str | None = None
    ) -> dict[str, str | None]:
        wanted = list(names)
        params = {"get": _csv(wanted)} if wanted else None
        body = await self.request("GET", path, params=params, job_id=job_id)
        values: list[MetricValue] = self._parse_adapter(_METRIC_LIST, body, path)
        return {m.id: m.value for m in values}

    async def job_metrics(self, job_id: str, names: Iterable[str]) -> dict[str, str | None]:
        """``GET /jobs/:id/metrics?get=...``: raw string values by name (absent names are missing)."""
        return await self._metric_values(f"/jobs/{_segment(job_id)}/metrics", names, job_id)

    async def jobmanager_metrics(self, names: Iterable[str]) -> dict[str, str | None]:
        return await self._metric_values("/jobmanager/metrics", names)

    async def taskmanager_metrics(self, taskmanager_id: str, names: Iterable[str]) -> dict[str, str | None]:
        return await self._metric_values(f"/taskmanagers/{_segment(taskmanager_id)}/metrics", names)

    async def _aggregated(
        self, path: str, names: Iterable[str], aggregations: Iterable[str], job_id: str | None = None
    ) -> dict[str, AggregatedMetric]:
        params = {"get": _csv(names), "agg": _csv(aggregations)}
        body = await self.request("GET", path, params=params, job_id=job_id)
        values: list[AggregatedMetric] = self._parse_adapter(_AGGREGATED_LIST, body, path)
        return {m.id: m for m in values}

    async def vertex_subtask_metrics(
        self,
        job_id: str,
        vertex_id: str,
        names: Iterable[str],
        aggregations: Iterable[str] = DEFAULT_AGGREGATIONS,
    ) -> dict[str, AggregatedMetric]:
        """``GET /jobs/:id/vertices/:vid/subtasks/metrics?get=...&agg=...``, aggregated over subtasks.

        Flink fetches metrics lazily: this single read may be stale or empty; see
        :func:`flink_operator.flink.rest.waiting.read_fresh_vertex_metrics`.
        """
        path = f"/jobs/{_segment(job_id)}/vertices/{_segment(vertex_id)}/subtasks/metrics"
        return await self._aggregated(path, names, aggregations, job_id)

    async def taskmanagers_aggregated_metrics(
        self, names: Iterable[str], aggregations: Iterable[str] = DEFAULT_AGGREGATIONS
    ) -> dict[str, AggregatedMetric]:
        """``GET /taskmanagers/metrics?get=...&agg=...``, aggregated over all TaskManagers."""
        return await self._aggregated("/taskmanagers/metrics", names, aggregations)

    # ------------------------------------------------------------------ rescale

    async def resource_requirements(self, job_id: str) -> dict[str, VertexResourceRequirements]:
        path = f"/jobs/{_segment(job_id)}/resource-requirements"
        body = await self.request("GET", path, job_id=job_id)
        result: dict[str, VertexResourceRequirements] = self._parse_adapter(
            _RESOURCE_REQUIREMENTS, body or {}, path
        )
        return result

    async def set_resource_requirements(
        self, job_id: str, parallelism: Mapping[str, int | tuple[int, int]]
    ) -> None:
        """``PUT /jobs/:id/resource-requirements`` with ``{vertex: upper}`` or ``{vertex: (lower, upper)}``.

        Flink's 200 only means "accepted": the adaptive scheduler applies it after its cooldown (and, on 2.x,
        at the next checkpoint). Wait for the vertices' parallelism to change.
        """
        path = f"/jobs/{_segment(job_id)}/resource-requirements"
        await self.request("PUT", path, json_body=resource_requirements_body(parallelism), job_id=job_id)
