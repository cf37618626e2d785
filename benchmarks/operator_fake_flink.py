"""The fake Flink side of the operator scale benchmark, in a process of its own.

The operator talks to Flink in two ways: it starts and removes clusters (through its runtime: processes,
Kubernetes objects), and it calls each cluster's REST API (observation, stop-with-savepoint, snapshots).
To measure the operator's own CPU and memory, this module splits the fake along that line:

- `serve_flink(...)` (the Flink process) runs the honest fake Flink REST server with a `FakeFlinkService`
  over it, and answers the cluster-lifecycle calls (`deploy_*`, `delete_cluster`, HA metadata) over a small
  RPC endpoint on 127.0.0.1 (pickled arguments, a per-run token; the two processes are ours);
- `SplitFakeFlinkService` (in the operator process) is the FlinkService handed to the operator: lifecycle
  calls go to the Flink process over that RPC, while every REST call goes from the operator process
  straight to the fake's virtual clusters with the production REST code (`RestJobs`, `FlinkRestClient`,
  one shared connection pool), as the Kubernetes runtimes do. So the operator process pays for its REST
  clients and JSON parsing, and the fake server's work is counted in its own process.

Not guaranteed: the readiness of a new JobManager is predicted from the fake's `ready_delay` (a REST call
made a moment too early sees a JobManager that is not ready yet, and the next observation sees it ready).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pickle
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from flink_operator.flink import artifacts  # noqa: E402
from flink_operator.flink.kubernetes.jobs import JobTimeouts, RestJobs  # noqa: E402
from flink_operator.flink.rest import FlinkRestClient, FlinkRestError, RetryPolicy  # noqa: E402
from flink_operator.flink.service import (  # noqa: E402
    ClusterInfo,
    ClusterNotFoundError,
    ClusterRef,
    ClusterRequest,
    DeployResult,
    JobManagerObservation,
    JobManagerStatus,
)

LIFECYCLE_CALLS = frozenset({
    "deploy_application_cluster",
    "deploy_session_cluster",
    "delete_cluster",
    "ha_metadata_available",
    "ha_has_checkpoint",
})


# ---------------------------------------------------------------------------------------------------------
# The Flink process
# ---------------------------------------------------------------------------------------------------------


async def serve_flink(ready_delay: float) -> None:
    """Run the fake Flink server and its lifecycle RPC until SIGTERM; prints one JSON line with both URLs."""
    from aiohttp import web

    from flink_operator.testing.fake_flink import FakeFlinkServer
    from flink_operator.testing.fake_runtime import FakeFlinkService, FakeRuntimeSettings

    token = secrets.token_hex(16)
    async with FakeFlinkServer() as server:
        flink = FakeFlinkService(server, FakeRuntimeSettings(ready_delay=ready_delay))
        calls = {"count": 0}

        async def call(request: web.Request) -> web.Response:
            if request.headers.get("X-Token") != token:
                return web.Response(status=403)
            name = request.match_info["name"]
            if name not in LIFECYCLE_CALLS:
                return web.Response(status=404, text=f"unknown call {name}")
            args, kwargs = pickle.loads(await request.read())  # our own processes, behind a per-run token
            calls["count"] += 1
            try:
                result: Any = ("ok", await getattr(flink, name)(*args, **kwargs))
            except Exception as error:
                result = ("error", error)
            return web.Response(body=pickle.dumps(result), content_type="application/octet-stream")

        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/call/{name}", call)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(json.dumps({"rpc": f"http://127.0.0.1:{port}", "token": token, "rest": server.url}), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()
        await runner.cleanup()
        await flink.aclose()


# ---------------------------------------------------------------------------------------------------------
# The operator process
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cluster:
    url: str
    generation: int | None
    ready_at: float
    flink_version: str | None


class SplitFakeFlinkService(RestJobs):
    """A FlinkService whose clusters live in the Flink process (see the module docstring)."""

    def __init__(self, rpc_url: str, token: str, *, ready_delay: float, rest_timeout: float = 10.0) -> None:
        self._http = httpx.AsyncClient(timeout=rest_timeout, trust_env=False)
        self._rpc = httpx.AsyncClient(
            base_url=rpc_url, timeout=60.0, trust_env=False, headers={"X-Token": token}
        )
        self._clusters: dict[ClusterRef, _Cluster] = {}
        self._rest_clients: dict[ClusterRef, FlinkRestClient] = {}
        self._ready_delay = ready_delay
        self._rest_timeout = rest_timeout
        self._scratch = tempfile.TemporaryDirectory(prefix="bench-artifacts-")
        super().__init__(
            self._client_for,
            timeouts=JobTimeouts(),
            artifacts_dir=Path(self._scratch.name),
            artifact_settings=artifacts.ArtifactSettings(),
        )
        self.rpc_calls = 0

    def _client_for(self, ref: ClusterRef) -> FlinkRestClient:
        client = self._rest_clients.get(ref)
        if client is None:
            cluster = self._clusters.get(ref)
            if cluster is None:
                raise ClusterNotFoundError(f"no fake Flink cluster {ref}")
            client = FlinkRestClient(
                cluster.url, timeout=self._rest_timeout, flink_version=cluster.flink_version, http=self._http
            )
            self._rest_clients[ref] = client
        return client

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.rpc_calls += 1
        answer = await self._rpc.post(f"/call/{name}", content=pickle.dumps((args, kwargs)))
        answer.raise_for_status()
        outcome, value = pickle.loads(answer.content)  # our own processes, behind a per-run token
        if outcome == "error":
            raise value
        return value

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._rpc.aclose()
        self._scratch.cleanup()

    # --- clusters: in the Flink process ----------------------------------------------------------------

    async def deploy_application_cluster(self, request: ClusterRequest) -> DeployResult:
        return self._note(request, await self._call("deploy_application_cluster", request))

    async def deploy_session_cluster(self, request: ClusterRequest) -> DeployResult:
        return self._note(request, await self._call("deploy_session_cluster", request))

    def _note(self, request: ClusterRequest, result: DeployResult) -> DeployResult:
        known = self._clusters.get(request.ref)
        if result.started or known is None:
            self._rest_clients.pop(request.ref, None)
            self._clusters[request.ref] = _Cluster(
                result.rest_url or "", request.generation, time.monotonic() + self._ready_delay, None
            )
        return result

    async def delete_cluster(self, ref: ClusterRef, *, delete_ha_data: bool) -> None:
        await self._call("delete_cluster", ref, delete_ha_data=delete_ha_data)
        self._clusters.pop(ref, None)
        self._rest_clients.pop(ref, None)

    async def ha_metadata_available(self, ref: ClusterRef) -> bool:
        return bool(await self._call("ha_metadata_available", ref))

    async def ha_has_checkpoint(self, ref: ClusterRef) -> bool:
        return bool(await self._call("ha_has_checkpoint", ref))

    def rest_url(self, ref: ClusterRef) -> str | None:
        cluster = self._clusters.get(ref)
        return cluster.url if cluster is not None else None

    # --- observation: REST from this process -----------------------------------------------------------

    async def observe_jobmanager(self, ref: ClusterRef) -> JobManagerObservation:
        cluster = self._clusters.get(ref)
        if cluster is None:
            return JobManagerObservation(JobManagerStatus.MISSING, reason="no JobManager for this cluster")
        if time.monotonic() < cluster.ready_at:
            return JobManagerObservation(
                JobManagerStatus.DEPLOYING, reason="JobManager is starting", generation=cluster.generation
            )
        probe = FlinkRestClient(
            cluster.url, timeout=self._rest_timeout, retry=RetryPolicy.none(), http=self._http
        )
        try:
            overview = await probe.overview()
        except FlinkRestError as error:
            return JobManagerObservation(
                JobManagerStatus.DEPLOYED_NOT_READY,
                reason=f"REST does not answer: {error}",
                generation=cluster.generation,
                rest_url=cluster.url,
            )
        return JobManagerObservation(
            JobManagerStatus.READY,
            reason="JobManager is running and ready to receive REST API calls",
            generation=cluster.generation,
            rest_url=cluster.url,
            taskmanagers=overview.taskmanagers,
        )

    async def cluster_info(self, ref: ClusterRef) -> ClusterInfo:
        config = await self._client_for(ref).config()
        # One JobManager and one TaskManager of 1 CPU and 1 GiB each: what the benchmark's resources ask for.
        return ClusterInfo(config.flink_version, config.flink_revision, 2.0, 2 * 1024**3)


# ---------------------------------------------------------------------------------------------------------
# Starting the Flink process from the driver
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlinkProcess:
    process: asyncio.subprocess.Process
    rpc_url: str
    token: str
    rest_url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def operator_args(self) -> list[str]:
        return ["--flink-rpc", self.rpc_url, "--flink-token", self.token]

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start_flink_process(ready_delay: float, env: Mapping[str, str] | None = None) -> FlinkProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--ready-delay", str(ready_delay),
        stdout=asyncio.subprocess.PIPE, cwd=REPO, env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        found = json.loads(line)
    except (TimeoutError, ValueError) as error:
        process.kill()
        raise SystemExit(f"the fake Flink process did not start: {error}") from error
    return FlinkProcess(process, found["rpc"], found["token"], found["rest"])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="the fake Flink process of the operator scale benchmark")
    parser.add_argument("--ready-delay", type=float, default=0.1)
    options = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_flink(options.ready_delay))
