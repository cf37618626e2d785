"""The health endpoint: `/healthz` (liveness) and `/readyz` (readiness) over aiohttp.

Each answers `200 OK` or `500` with a one-line reason. Any other path answers like `/healthz`, as the
upstream operator's health probe does (it serves every path), so existing probe configurations keep working.
What "healthy" and "ready" mean is the probe owner's business (the manager's); this module only serves it.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web


class Probes(Protocol):
    def health(self) -> tuple[bool, str]: ...

    def readiness(self) -> tuple[bool, str]: ...


class HealthServer:
    def __init__(self, probes: Probes, *, host: str = "0.0.0.0", port: int = 8085) -> None:  # noqa: S104
        self.probes = probes
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/readyz", self._ready)
        app.router.add_get("/{tail:.*}", self._healthy)
        return app

    async def _healthy(self, _request: web.Request) -> web.Response:
        return _answer(*self.probes.health())

    async def _ready(self, _request: web.Request) -> web.Response:
        return _answer(*self.probes.readiness())

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _answer(ok: bool, reason: str) -> web.Response:
    body = "OK" if ok else f"ERROR: {reason}" if reason else "ERROR"
    return web.Response(status=200 if ok else 500, text=body + "\n")
