"""An honest fake of Flink's REST API: many virtual Flink session clusters served by one aiohttp server.

Usage in a test::

    async with FakeFlinkServer() as server:
        cluster = await server.add_cluster("orders", flink_version="2.3.0", config={...})
        async with FlinkRestClient(cluster.base_url) as flink:
            ...
        cluster.fail_job(job_id, "boom")            # test controls live on the cluster
        await server.jobmanager_down("orders")      # REST stops answering

Addressing: every cluster is reachable under the shared port at ``<server.url>/clusters/<name>``; a cluster
added with ``dedicated_port=True`` (or a port number) is also served at the root of its own port, which is
what a taken-down JobManager needs to *refuse* connections (on the shared port a down cluster drops the
connection without an answer instead). One server holds thousands of clusters: they cost no tasks or
sockets of their own (see ``fake_flink_clock``).

Out of process (e.g. for benchmarks): ``python -m flink_operator.testing.fake_flink [--port N]`` prints
``{"url": ...}`` and serves until terminated; ``fake_flink_control`` describes its ``/_fake/...`` API.

Flink's defaults apply unless a cluster's ``config`` says otherwise, including the slow ones: job details
are cached for ``web.refresh-interval`` (3 s), checkpoint statistics for
``rest.cache.checkpoint-statistics.timeout``, metrics are fetched lazily every
``metrics.fetcher.update-interval`` (10 s), and the adaptive scheduler waits 30 s between rescales. Tests
usually set these low (e.g. ``web.refresh-interval: 100``); ``FakeTiming`` sets the fake's own delays.

Not guaranteed: behaviour beyond what the REST client and the operator use; see ``fake_flink_cluster`` and
``fake_flink_jobs`` for the model and its limits. Binds to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import re
import signal
import socket
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from aiohttp import BodyPartReader, web

from flink_operator.testing.fake_flink_clock import Clock, SystemClock, Timers
from flink_operator.testing.fake_flink_cluster import FakeCluster, FakeClusterSettings, FaultRule
from flink_operator.testing.fake_flink_errors import FakeRestError
from flink_operator.testing.fake_flink_jars import Submission
from flink_operator.testing.fake_flink_jobs import FakeTiming
from flink_operator.testing.fake_flink_routes import Request, dispatch
from flink_operator.testing.fake_flink_snapshots import SnapshotStore
from flink_operator.testing.fake_flink_topology import VertexSpec

__all__ = [
    "FakeCluster",
    "FakeClusterSettings",
    "FakeFlinkServer",
    "FakeTiming",
    "FaultRule",
    "Submission",
    "VertexSpec",
]

_CLUSTER_PATH = re.compile(r"^/clusters/(?P<name>[^/]+)(?P<rest>/.*)?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")


class FakeFlinkServer:
    """Serves virtual Flink clusters on 127.0.0.1 (shared port ``port``, 0 = any free port)."""

    def __init__(
        self,
        *,
        port: int = 0,
        write_snapshot_files: bool = False,
        clock: Clock | None = None,
        defaults: FakeClusterSettings | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self._port = port
        self.defaults = defaults or FakeClusterSettings()
        self.timers = Timers(clock or SystemClock())
        self.snapshots = SnapshotStore(write_files=write_snapshot_files)
        self._clusters: dict[str, FakeCluster] = {}
        self._dedicated: dict[int, str] = {}  # port -> cluster name
        self._sites: dict[str, web.BaseSite] = {}
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._next_wake: float | None = None
        self.url = ""

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> FakeFlinkServer:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        _, self._port = await self._open_site(self._port)
        self.url = f"http://{self.host}:{self._port}"
        self.timers.on_schedule = self._scheduled
        self._ticker = asyncio.create_task(self._tick(), name="fake-flink-timers")
        return self

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeFlinkServer:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        return self._port

    def _scheduled(self, due: float) -> None:
        if self._next_wake is None or due < self._next_wake:
            self._wake.set()

    async def _tick(self) -> None:
        clock = self.timers.clock
        while True:
            self.timers.run_due()
            due = self.timers.next_due()
            self._next_wake = due
            self._wake.clear()
            timeout = None if due is None else max(0.0, due - clock.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    # ---------------------------------------------------------------- clusters

    async def add_cluster(
        self,
        name: str | None = None,
        settings: FakeClusterSettings | None = None,
        *,
        dedicated_port: bool | int = False,
        **overrides: Any,
    ) -> FakeCluster:
        """Create a virtual cluster; ``overrides`` replace fields of ``settings`` (or the server defaults).

        Raises ValueError for a bad or duplicate name or an unknown setting.
        """
        if self._runner is None:
            raise RuntimeError("FakeFlinkServer.add_cluster: start the server first")
        name = name or f"cluster-{len(self._clusters) + 1}"
        if not _NAME.match(name):
            raise ValueError(
                f"cluster name {name!r} must be 1-253 characters of letters, digits, '.', '_', '-'"
            )
        if name in self._clusters:
            raise ValueError(f"a fake cluster named {name!r} already exists")
        base = settings or self.defaults
        unknown = set(overrides) - {f.name for f in dataclasses.fields(FakeClusterSettings)}
        if unknown:
            raise ValueError(f"unknown fake cluster settings: {sorted(unknown)}")
        cluster = FakeCluster(name, dataclasses.replace(base, **overrides), self.timers, self.snapshots)
        cluster.base_url = f"{self.url}/clusters/{name}"
        self._clusters[name] = cluster
        if dedicated_port is not False:
            port = 0 if dedicated_port is True else int(dedicated_port)
            site, port = await self._open_site(port)
            self._dedicated[port] = name
            self._sites[name] = site
            cluster.base_url = f"http://{self.host}:{port}"
        return cluster

    async def _open_site(self, port: int) -> tuple[web.BaseSite, int]:
        """Listen on 127.0.0.1:``port`` (0 = any free port); returns the site and its port."""
        assert self._runner is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        site = web.SockSite(self._runner, sock)
        await site.start()
        return site, int(sock.getsockname()[1])

    def cluster(self, name: str) -> FakeCluster:
        try:
            return self._clusters[name]
        except KeyError:
            raise KeyError(f"no fake cluster named {name!r}") from None

    @property
    def clusters(self) -> Mapping[str, FakeCluster]:
        return self._clusters

    async def remove_cluster(self, name: str) -> None:
        cluster = self.cluster(name)
        cluster.jobmanager_down()
        del self._clusters[name]
        site = self._sites.pop(name, None)
        if site is not None:
            await site.stop()
            self._dedicated = {p: n for p, n in self._dedicated.items() if n != name}

    async def jobmanager_down(self, name: str, *, graceful: bool = False) -> None:
        """Take the cluster's JobManager down: its REST API stops answering (see the module docstring)."""
        cluster = self.cluster(name)
        cluster.jobmanager_down(graceful=graceful)
        site = self._sites.get(name)
        if site is not None:
            await site.stop()

    async def jobmanager_up(self, name: str) -> None:
        cluster = self.cluster(name)
        site = self._sites.get(name)
        if site is not None and not cluster.up:
            port = next(p for p, n in self._dedicated.items() if n == name)
            self._sites[name], _ = await self._open_site(port)
        cluster.jobmanager_up()

    # ---------------------------------------------------------------- requests

    def _resolve(self, request: web.Request) -> tuple[FakeCluster | None, str]:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = sockname[1] if sockname else None
        if port in self._dedicated:
            return self._clusters.get(self._dedicated[port]), request.path
        match = _CLUSTER_PATH.match(request.path)
        if match is None:
            return None, request.path
        return self._clusters.get(match["name"]), match["rest"] or "/"

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=503)  # never reaches the client: the connection is gone

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.timers.run_due()
        if request.path.startswith("/_fake/"):
            from flink_operator.testing.fake_flink_control import handle_control

            answer: web.StreamResponse = await handle_control(self, request)
            return answer
        cluster, path = self._resolve(request)
        if cluster is None:
            if request.path.startswith("/clusters/"):
                return self._drop(request)  # like a host nobody listens on
            error = FakeRestError.unknown_route(request.path)
            return web.json_response(error.body(), status=error.status)
        if not cluster.up:
            return self._drop(request)
        cluster.requests += 1
        fault = cluster.take_fault(request.method, path)
        if fault is not None:
            if fault.delay > 0:
                await asyncio.sleep(fault.delay)
                self.timers.run_due()
            if fault.drop_connection:
                return self._drop(request)
            if fault.status is not None:
                body = FakeRestError.internal("java.lang.RuntimeException", fault.message).body()
                if fault.status < 500:
                    body = FakeRestError.handler(fault.status, fault.message).body()
                return web.json_response(body, status=fault.status)
        status, body = await dispatch(cluster, _request(request, path))
        response = web.json_response(body, status=status, dumps=_dumps)
        if cluster.shutdown_requested:
            cluster.shutdown_requested = False
            await response.prepare(request)
            await response.write_eof()
            await self.jobmanager_down(cluster.name, graceful=True)
        return response


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _request(request: web.Request, path: str) -> Request:
    async def read_json() -> Any:
        text = await request.text()
        return json.loads(text) if text.strip() else None

    async def read_upload() -> list[tuple[str, bytes]]:
        files: list[tuple[str, bytes]] = []
        if not request.content_type.startswith("multipart/"):
            return files
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                return files
            if isinstance(part, BodyPartReader) and part.filename:
                files.append((part.filename, bytes(await part.read())))

    host = request.host or "127.0.0.1"
    return Request(
        method=request.method,
        path=path,
        query=dict(request.query),
        json=read_json,
        upload=read_upload,
        address=f"http://{host}",
    )


async def _serve(port: int, write_snapshot_files: bool) -> None:
    server = await FakeFlinkServer(port=port, write_snapshot_files=write_snapshot_files).start()
    print(json.dumps({"url": server.url}), flush=True)  # the caller reads this line
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve virtual Flink clusters (an honest fake REST API).")
    parser.add_argument(
        "--port", type=int, default=0, help="shared port on 127.0.0.1 (default: any free port)"
    )
    parser.add_argument("--snapshot-files", action="store_true", help="write _metadata files for snapshots")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port, args.snapshot_files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
