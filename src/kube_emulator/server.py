"""Running the emulator: in the caller's event loop, in a background thread, or as a foreground server.

`EmbeddedApiServer` is an async context manager for tests on the same loop; `ThreadedApiServer`
runs one on its own loop in a thread for synchronous callers (blocking wrappers for the hooks);
`serve()` is the foreground entry point the `flink-operator emulator` command uses. All listen on
127.0.0.1 by default; port 0 picks a free port.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import yaml
from aiohttp import web

from . import persistence
from .admission import ServiceKey, WebhookAdmission
from .errors import ApiError
from .gc import GarbageCollector
from .hooks import ClusterHooks
from .http_api import HttpApi
from .kubeconfig import write_kubeconfig
from .state import ClusterState, Options

JSON = dict[str, Any]
T = TypeVar("T")
log = logging.getLogger("kube_emulator")


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    state_dir: Path | None = None
    kubeconfig: Path | None = None
    crd_files: list[Path] = field(default_factory=list)
    history_size: int = 10_000
    bookmark_interval: float = 60.0
    gc_delay: float = 0.0
    persist_interval: float = 0.2
    service_addresses: dict[ServiceKey, str] = field(default_factory=dict)
    # Move long-lived objects out of the cyclic garbage collector's reach after changes: with 10,000s
    # of stored objects, full collections otherwise stall the loop for ~100 ms (watch latency tails).
    # Process-wide, so only the standalone server turns it on by default.
    freeze_gc: bool = False


def load_manifests(paths: Iterable[Path]) -> list[JSON]:
    """Every object in the given YAML/JSON files (multi-document files and `List` kinds expanded)."""
    objects: list[JSON] = []
    for path in paths:
        try:
            documents = list(yaml.safe_load_all(Path(path).read_text()))
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read manifest {path}: {exc}") from exc
        for document in documents:
            if document is None:
                continue
            if not isinstance(document, dict) or "kind" not in document:
                raise ValueError(f"{path}: every document must be a Kubernetes object with a kind")
            if document["kind"].endswith("List") and isinstance(document.get("items"), list):
                objects += document["items"]
            else:
                objects.append(document)
    return objects


class EmbeddedApiServer:
    """The emulator on the current event loop: `async with EmbeddedApiServer() as api: ... api.url`."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        self.config = config or EmulatorConfig()
        for key, value in overrides.items():
            if not hasattr(self.config, key):
                raise TypeError(f"unknown emulator option {key!r}")
            setattr(self.config, key, value)
        self.state: ClusterState | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._gc: GarbageCollector | None = None
        self._admission: WebhookAdmission | None = None
        self._persister: persistence.Persister | None = None
        self._hooks: ClusterHooks | None = None
        self._http: HttpApi | None = None
        self._gc_freezer: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def hooks(self) -> ClusterHooks:
        if self._hooks is None:
            raise RuntimeError("the emulator is not running")
        return self._hooks

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        return write_kubeconfig(path, self.url, namespace)

    async def start(self) -> None:
        config = self.config
        state = ClusterState(
            Options(
                history_size=config.history_size,
                bookmark_interval=config.bookmark_interval,
                gc_delay=config.gc_delay,
            )
        )
        loaded = persistence.load(config.state_dir) if config.state_dir else None
        if loaded is not None:
            state.restore(*loaded)
        else:
            state.bootstrap()
        self.state = state
        self._gc = GarbageCollector(state)
        self._admission = WebhookAdmission(state, dict(config.service_addresses))
        state.admission = self._admission
        self._http = HttpApi(state)
        self._hooks = ClusterHooks(state, self._http, self._admission)
        if config.crd_files:
            await self._hooks.seed(load_manifests(config.crd_files))
        self._runner = web.AppRunner(
            self._http.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, config.host, config.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else config.port
        self._http.address = f"{config.host}:{self.port}"
        self._gc.start()
        if config.state_dir is not None:
            self._persister = persistence.Persister(state, config.state_dir, config.persist_interval)
            self._persister.start()
        if config.kubeconfig is not None:
            self.write_kubeconfig(config.kubeconfig)
        if config.freeze_gc:
            self._gc_freezer = asyncio.get_running_loop().create_task(self._freeze_gc(state))

    @staticmethod
    async def _freeze_gc(state: ClusterState, interval: float = 2.0) -> None:
        import gc

        frozen_at = -1
        while True:
            if state.store.rv != frozen_at:
                frozen_at = state.store.rv
                gc.collect()
                gc.freeze()
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        if self._gc_freezer is not None:
            self._gc_freezer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gc_freezer
            self._gc_freezer = None
        if self.state is not None:
            self.state.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._gc is not None:
            await self._gc.stop()
        if self._admission is not None:
            await self._admission.close()
        if self._persister is not None:
            await self._persister.stop()
            self._persister = None

    async def __aenter__(self) -> EmbeddedApiServer:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class ThreadedApiServer:
    """The emulator on its own loop in a daemon thread, for synchronous callers (`with` or start/stop)."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        self.server = EmbeddedApiServer(config, **overrides)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def hooks(self) -> ClusterHooks:
        """Only for reads and thread-safe parts (faults); use `call`/the wrappers for the rest."""
        return self.server.hooks

    def start(self, timeout: float = 30.0) -> None:
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def main() -> None:
                self._stopped = asyncio.Event()
                try:
                    await self.server.start()
                except BaseException as exc:
                    ready.set_exception(exc)
                    await self.server.stop()
                    return
                ready.set_result(None)
                await self._stopped.wait()
                await self.server.stop()

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=run, name="kube-emulator", daemon=True)
        self._thread.start()
        ready.result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._stopped is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(timeout)
        self._thread = None

    def call(self, fn: Callable[[], Coroutine[Any, Any, T]], timeout: float = 30.0) -> T:
        """Run `fn()` (a coroutine function) on the server's loop and wait for its result."""
        if self._loop is None:
            raise RuntimeError("the emulator is not running")
        return asyncio.run_coroutine_threadsafe(fn(), self._loop).result(timeout)

    def call_sync(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        """Run a plain function on the server's loop (for hooks that touch the state)."""

        async def wrapper() -> T:
            return fn()

        return self.call(wrapper, timeout)

    # Blocking wrappers for the hooks tests use most.
    def create(self, obj: JSON) -> JSON:
        return self.call(lambda: self.server.hooks.create(obj))

    def seed(self, objects: list[JSON]) -> list[JSON]:
        return self.call(lambda: self.server.hooks.seed(objects))

    def set_status(self, api_version: str, kind: str, name: str, status: JSON, namespace: str = "") -> JSON:
        return self.call(lambda: self.server.hooks.set_status(api_version, kind, name, status, namespace))

    def mark_deployment_available(self, name: str, namespace: str = "default") -> JSON:
        return self.call(lambda: self.server.hooks.mark_deployment_available(name, namespace))

    def compact(self) -> None:
        self.call_sync(self.server.hooks.compact)

    def cut_watches(self) -> int:
        return self.call_sync(self.server.hooks.cut_watches)

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        return self.server.write_kubeconfig(path, namespace)

    def __enter__(self) -> ThreadedApiServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


async def serve(
    config: EmulatorConfig,
    until: Awaitable[Any] | None = None,
    on_ready: Callable[[EmbeddedApiServer], None] | None = None,
) -> None:
    """Run the emulator in the foreground until `until` completes (or forever / until cancelled)."""
    async with EmbeddedApiServer(config) as server:
        if on_ready is not None:
            on_ready(server)
        if until is None:
            await asyncio.Event().wait()
        else:
            with contextlib.suppress(asyncio.CancelledError):
                await until


__all__ = ["ApiError", "EmbeddedApiServer", "EmulatorConfig", "ThreadedApiServer", "load_manifests", "serve"]
