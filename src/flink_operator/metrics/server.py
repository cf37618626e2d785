"""The Prometheus endpoint: `GET /metrics` over aiohttp, in the Prometheus text format (or OpenMetrics when
the scraper asks for it in `Accept`).

Collection runs on the event loop, between reconciles, because the collectors read the runtime's caches and
queues, which belong to the loop. Ports are tried in order (a configured range); the first free one is used
and `port` tells which (0 picks any free port). Not served: push gateways, TLS, authentication (put the
endpoint behind a NetworkPolicy or a proxy when that matters).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

_log = logging.getLogger(__name__)


class MetricsServer:
    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        host: str = "0.0.0.0",  # noqa: S104 - scraped from outside the pod
        ports: Sequence[int] = (9249,),
    ) -> None:
        if not ports:
            raise ValueError("MetricsServer needs at least one port to try")
        self.registry = registry
        self.host = host
        self.ports = tuple(ports)
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/", self._index)
        return app

    async def _metrics(self, request: web.Request) -> web.Response:
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encode(self.registry)
        response = web.Response(body=body)
        # aiohttp would split a content type carrying parameters; set the header as the encoder gives it.
        response.headers["Content-Type"] = content_type
        return response

    async def _index(self, _request: web.Request) -> web.Response:
        return web.Response(text="Flink operator metrics: /metrics\n")

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the metrics server is already started")
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        errors: list[str] = []
        for port in self.ports:
            site = web.TCPSite(runner, self.host, port)
            try:
                await site.start()
            except OSError as error:
                errors.append(f"{port}: {error.strerror or error}")
                continue
            sockets = getattr(site._server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1] if sockets else port
            self._runner = runner
            _log.info("Serving metrics on http://%s:%d/metrics", self.host, self.port)
            return
        await runner.cleanup()
        raise OSError(f"cannot serve metrics on {self.host}, no port was free ({'; '.join(errors)})")

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self.port = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104 - a local address
        return f"http://{host}:{self.port}/metrics"
