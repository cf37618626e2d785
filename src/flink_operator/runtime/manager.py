"""The manager: runs the registered controllers while this replica leads, and the health endpoint always.

    manager = Manager(lightkube.AsyncClient(), reloader)    # or a DefaultConfiguration
    manager.add(ControllerSpec(...))
    await manager.run()              # until SIGTERM/SIGINT; or: async with manager: ...

Lifecycle: with leader election (on by default, `kubernetes.operator.leader-election.*`), the manager
waits as a standby until it holds the Lease, then starts a *term*: shared informers for every watched kind
(one per kind and label selector, per watched namespace or cluster-wide), and per controller a work queue,
rate limiter, status writer, event recorder and reconciler. Reconciles start once the controller's caches
have listed. All writes of a term go through an API client gated on leadership. The Lease is acquired,
renewed and released on a thread of its own (`ThreadedLeaderElector`), so a busy event loop cannot delay
the renewals past the renew deadline. If the lease is lost, the
term is torn down at once (running reconciles are cancelled) and the manager becomes a standby again.
On `stop()` the term drains for up to `kubernetes.operator.termination.timeout`, then the lease is
released so a standby takes over within one retry period. When a term's caches have first listed, the
objects alive then are frozen out of the garbage collector, once per process (`freeze_gc_once`).

Watched namespaces come from `kubernetes.operator.watched.namespaces` (or `WATCH_NAMESPACES`) and, with
`kubernetes.operator.dynamic.namespaces.enabled`, follow live configuration reloads: informers are added
and removed without a restart.

Health: `/healthz` fails when the control loop died or an informer has been failing for longer than
`informer_unhealthy_grace`; `/readyz` is OK for a standby that reached the API server and for a leader
whose caches are synced.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from lightkube import AsyncClient

from flink_operator.config import ConfigChange, ConfigReloader, DefaultConfiguration
from flink_operator.config.operator_options import (
    DYNAMIC_NAMESPACES_ENABLED,
    HEALTH_PROBE_ENABLED,
    HEALTH_PROBE_PORT,
    LABEL_SELECTOR,
    LEADER_ELECTION_ENABLED,
    RECONCILE_PARALLELISM,
    TERMINATION_TIMEOUT,
    watched_namespaces,
)
from flink_operator.runtime.backoff import RetryPolicy
from flink_operator.runtime.cache import Indexer, Store
from flink_operator.runtime.controller import ControllerContext, ControllerSpec, Reconciler
from flink_operator.runtime.events import EventRecorder
from flink_operator.runtime.finalizers import Finalizers
from flink_operator.runtime.health import HealthServer
from flink_operator.runtime.informer import SharedInformer
from flink_operator.runtime.kinds import Kind
from flink_operator.runtime.kube_api import KubeApi
from flink_operator.runtime.leader import LeaderElectionConfig, default_identity
from flink_operator.runtime.leader_thread import ThreadedLeaderElector
from flink_operator.runtime.rate_limit import RateLimiter
from flink_operator.runtime.runner import ControllerRunner
from flink_operator.runtime.slots import WorkerSlots
from flink_operator.runtime.status import StatusWriter

_log = logging.getLogger(__name__)

_SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def operator_namespace(default: str = "default") -> str:
    """The namespace the operator runs in (for its Lease): env `OPERATOR_NAMESPACE` or `POD_NAMESPACE`,
    else the service account's namespace, else `default`."""
    for variable in ("OPERATOR_NAMESPACE", "POD_NAMESPACE"):
        if os.environ.get(variable):
            return os.environ[variable]
    with contextlib.suppress(OSError):
        text = _SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
        if text:
            return text
    return default


def combine_selectors(*selectors: str | None) -> str | None:
    """AND of label selectors (comma-joined), None when there is none."""
    parts = [s.strip() for s in selectors if s and s.strip()]
    return ",".join(parts) or None


_gc_frozen = False


def freeze_gc_once() -> bool:
    """Once per process, after the first initial list: collect, then move every object alive now (the
    caches, the controllers, imported code) into the collector's permanent generation, so that later
    collections no longer traverse them: at 10,000 resources this cuts the long collections that stall the
    event loop. Frozen objects are still freed when their last reference goes. Returns whether it froze."""
    global _gc_frozen
    if _gc_frozen:
        return False
    _gc_frozen = True
    gc.collect()
    gc.freeze()
    return True


def reconcile_parallelism(configuration: DefaultConfiguration) -> int:
    """`kubernetes.operator.reconcile.parallelism`, checked: a positive bound, or -1 for none."""
    parallelism = configuration.configuration.get(RECONCILE_PARALLELISM)
    if parallelism == 0 or parallelism < -1:
        raise ValueError(
            f"{RECONCILE_PARALLELISM.key} must be a positive number or -1 (unbounded), got {parallelism}"
        )
    return parallelism


class _Term:
    """The controllers' machinery for one leadership term."""

    def __init__(self, manager: Manager, api: KubeApi) -> None:
        self.manager = manager
        self.api = api
        self.informers: dict[tuple[Kind, str | None], SharedInformer] = {}
        self.runners: list[ControllerRunner] = []
        self._starters: list[asyncio.Task[None]] = []
        parallelism = reconcile_parallelism(manager.configuration)
        self.slots = WorkerSlots(parallelism) if parallelism > 0 else None

    def _informer(self, kind: Kind, selector: str | None, indexers: dict[str, Indexer]) -> SharedInformer:
        key = (kind, selector)
        informer = self.informers.get(key)
        if informer is None:
            informer = SharedInformer(
                self.api, kind, label_selector=selector, watch_timeout=self.manager.watch_timeout
            )
            self.informers[key] = informer
        for name, indexer in indexers.items():
            informer.store.add_indexer(name, indexer)
        return informer

    def start(self, namespaces: frozenset[str] | None) -> None:
        manager = self.manager
        configuration = manager.configuration.configuration
        operator_selector = configuration.get(LABEL_SELECTOR)
        retry = RetryPolicy.from_configuration(configuration)
        for spec in manager.specs:
            selector = combine_selectors(
                operator_selector if spec.use_operator_label_selector else None, spec.label_selector
            )
            primary = self._informer(spec.kind, selector, dict(spec.indexers))
            status = StatusWriter(self.api, spec.kind, hooks=spec.status_hooks)
            events = EventRecorder(
                self.api, hooks=spec.event_hooks, redact=manager.redact, reporting_instance=manager.identity,
            )
            runner = ControllerRunner(
                spec, primary.store, status, retry=retry,
                rate_limiter=RateLimiter.from_configuration(configuration), slots=self.slots, events=events,
            )
            primary.add_handler(runner.on_primary)
            watched = [primary]
            secondary: dict[Kind, Store] = {}
            for watch in spec.watches:
                informer = self._informer(watch.kind, watch.label_selector, dict(watch.indexers))
                informer.add_handler(runner.secondary_handler(watch.mapper))
                secondary[watch.kind] = informer.store
                watched.append(informer)
            context = ControllerContext(
                spec=spec,
                api=self.api,
                store=primary.store,
                secondary_stores=secondary,
                status=status,
                events=events,
                finalizers=Finalizers(self.api, spec.kind, spec.finalizer) if spec.finalizer else None,
                enqueue=runner.enqueue,
                configuration=lambda: manager.configuration,
                is_leader=manager.is_leading,
            )
            reconciler = spec.reconciler(context)
            self.runners.append(runner)
            starter = self._start_when_synced(runner, reconciler, watched)
            self._starters.append(asyncio.create_task(starter, name=f"start-{spec.name}"))
        self._starters.append(asyncio.create_task(self._freeze_gc_when_synced(), name="freeze-gc"))
        self.set_namespaces(namespaces)

    async def _start_when_synced(
        self, runner: ControllerRunner, reconciler: Reconciler, informers: list[SharedInformer]
    ) -> None:
        # Events arriving meanwhile are queued (and deduplicated), so nothing is lost by waiting.
        await asyncio.gather(*(informer.wait_synced() for informer in informers))
        _log.info("Controller %s: caches synced, reconciling", runner.spec.name)
        runner.start(reconciler)

    def set_namespaces(self, namespaces: frozenset[str] | None) -> None:
        for informer in self.informers.values():
            informer.set_namespaces(namespaces)

    async def _freeze_gc_when_synced(self) -> None:
        await asyncio.gather(*(informer.wait_synced() for informer in self.informers.values()))
        if freeze_gc_once():
            _log.info("Caches synced: %d long-lived objects moved out of the garbage collector's generations",
                      gc.get_freeze_count())

    @property
    def synced(self) -> bool:
        return all(informer.synced for informer in self.informers.values())

    async def stop(self, grace: float) -> None:
        for starter in self._starters:
            starter.cancel()
        await asyncio.gather(*(runner.stop(grace) for runner in self.runners))
        await asyncio.gather(*(informer.stop() for informer in self.informers.values()))


class Manager:
    def __init__(
        self,
        client: AsyncClient,
        configuration: ConfigReloader | DefaultConfiguration | None = None,
        *,
        namespace: str | None = None,
        identity: str | None = None,
        leader_election: LeaderElectionConfig | bool | None = None,
        health_host: str = "0.0.0.0",  # noqa: S104 - a probe endpoint inside the pod
        health_port: int | None = None,
        watch_timeout: int = 300,
        informer_unhealthy_grace: float = 60.0,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        """`leader_election`: None follows `kubernetes.operator.leader-election.enabled`, False disables
        it, a `LeaderElectionConfig` sets it explicitly. `health_port`: None follows
        `kubernetes.operator.health.probe.*`, 0 picks a free port, a negative number disables it."""
        self._reloader = configuration if isinstance(configuration, ConfigReloader) else None
        self._static = (
            configuration if isinstance(configuration, DefaultConfiguration) else DefaultConfiguration({})
        )
        self.identity = identity or default_identity()
        self.namespace = namespace or operator_namespace()
        self.watch_timeout = watch_timeout
        self.informer_unhealthy_grace = informer_unhealthy_grace
        self.redact = redact
        self.specs: list[ControllerSpec] = []
        self.api = KubeApi(client, user_agent=f"flink-operator/{self.identity}")

        config = self.configuration.configuration
        self.elector: ThreadedLeaderElector | None = None
        if isinstance(leader_election, LeaderElectionConfig):
            election: LeaderElectionConfig | None = leader_election
        elif (leader_election is None and config.get(LEADER_ELECTION_ENABLED)) or leader_election is True:
            election = LeaderElectionConfig.from_configuration(config, self.namespace, self.identity)
        else:
            election = None
        if election is not None:
            # Its own thread, loop and client (same configuration), so the Lease traffic is neither delayed
            # by the controllers' work on this loop nor counted with their requests.
            self.elector = ThreadedLeaderElector(client, election, user_agent=self.api.user_agent)
            self.identity = election.identity

        if health_port is None:
            health_port = config.get(HEALTH_PROBE_PORT) if config.get(HEALTH_PROBE_ENABLED) else -1
        self.health_server = (
            HealthServer(self, host=health_host, port=health_port) if health_port >= 0 else None
        )

        self._namespaces = watched_namespaces(config)
        self._term: _Term | None = None
        self._lifecycle: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._unsubscribe: Callable[[], None] | None = None
        self._started = False
        self._stopped = asyncio.Event()
        self.terms = 0

    # --- configuration ---------------------------------------------------------------------------------

    @property
    def configuration(self) -> DefaultConfiguration:
        return self._reloader.current if self._reloader is not None else self._static

    @property
    def namespaces(self) -> frozenset[str] | None:
        """The watched namespaces (None: all)."""
        return self._namespaces

    def set_namespaces(self, namespaces: frozenset[str] | None) -> None:
        """Watch other namespaces from now on (what a live reload does when dynamic namespaces are on)."""
        if namespaces == self._namespaces:
            return
        _log.info("Watched namespaces: %s", "all" if namespaces is None else ", ".join(sorted(namespaces)))
        self._namespaces = namespaces
        if self._term is not None:
            self._term.set_namespaces(namespaces)

    def _on_config_change(self, change: ConfigChange) -> None:
        configuration = change.current.configuration
        if configuration.get(DYNAMIC_NAMESPACES_ENABLED):
            self.set_namespaces(watched_namespaces(configuration))

    # --- registration ---------------------------------------------------------------------------------

    def add(self, spec: ControllerSpec) -> None:
        if self._started:
            raise RuntimeError("controllers must be added before the manager starts")
        if any(existing.name == spec.name for existing in self.specs):
            raise ValueError(f"a controller named {spec.name!r} is already registered")
        self.specs.append(spec)

    # --- state ----------------------------------------------------------------------------------------

    def is_leading(self) -> bool:
        return self.elector.is_leader if self.elector is not None else self._term is not None

    @property
    def runners(self) -> list[ControllerRunner]:
        return list(self._term.runners) if self._term is not None else []

    @property
    def informers(self) -> list[SharedInformer]:
        return list(self._term.informers.values()) if self._term is not None else []

    def runner(self, name: str) -> ControllerRunner:
        for runner in self.runners:
            if runner.spec.name == name:
                return runner
        raise KeyError(f"no running controller named {name!r}")

    def health(self) -> tuple[bool, str]:
        if not self._started or self._lifecycle is None:
            return False, "not started"
        if self._lifecycle.done() and not self._stopping.is_set():
            return False, "the control loop ended"
        term = self._term
        if term is not None:
            for informer in term.informers.values():
                failing = informer.unhealthy_for()
                if failing > self.informer_unhealthy_grace:
                    errors = "; ".join(
                        i.last_error or "not listed yet" for i in informer.informers if not i.healthy
                    )
                    return False, f"{informer} unhealthy for {failing:.0f} s: {errors}"
        return True, ""

    def readiness(self) -> tuple[bool, str]:
        if not self._started or self._stopping.is_set():
            return False, "not running"
        if self._term is not None:
            return (True, "leader") if self._term.synced else (False, "leader, caches are syncing")
        if self.elector is not None and not self.elector.is_leader:
            return (True, "standby") if self.elector.contacted else (False, "standby, API server not reached")
        return False, "starting"

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            raise RuntimeError("the manager was already started")
        reconcile_parallelism(self.configuration)  # fail start-up, not each term, on a bad value
        self._started = True
        if self.health_server is not None:
            await self.health_server.start()
        if self._reloader is not None:
            self._unsubscribe = self._reloader.subscribe(self._on_config_change)
        self._lifecycle = asyncio.create_task(self._run_terms(), name="manager")

    async def _run_terms(self) -> None:
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                elector = self.elector
                if elector is not None:
                    acquiring = asyncio.ensure_future(elector.acquire())
                    await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    if not acquiring.done():
                        acquiring.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await acquiring
                        return
                    acquiring.result()
                await self._one_term(stopping)
        finally:
            stopping.cancel()
            if self.elector is not None:
                await self.elector.close()
            self._stopped.set()

    async def _one_term(self, stopping: asyncio.Future[Any]) -> None:
        elector = self.elector
        api = self.api.with_gate(elector.check if elector is not None else None)
        try:
            term = _Term(self, api)
            self._term = term
            self.terms += 1
            term.start(self._namespaces)
        except Exception:
            _log.exception("Starting the controllers failed")
            if self._term is not None:
                await self._term.stop(0)
            self._term = None
            if elector is not None:
                await elector.release()
            await asyncio.sleep(1.0)
            return
        renewing = asyncio.ensure_future(elector.keep_renewing()) if elector is not None else None
        lost = asyncio.ensure_future(elector.lost.wait()) if elector is not None else None
        try:
            waits: set[asyncio.Future[Any]] = {stopping} | ({lost} if lost is not None else set())
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if lost is not None and lost.done() and not self._stopping.is_set():
                _log.warning("Leadership lost: stopping all controllers now")
                await term.stop(0)
                self._term = None
                return
            # Graceful shutdown: keep renewing while reconciles drain, then hand the lease over.
            grace = self.configuration.configuration.get(TERMINATION_TIMEOUT).total_seconds()
            await term.stop(grace)
            self._term = None
        finally:
            for task in (renewing, lost):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        if elector is not None:
            await elector.release()

    async def stop(self) -> None:
        """Graceful shutdown: drain reconciles (bounded), stop informers, release the lease, stop health."""
        self._stopping.set()
        if self._lifecycle is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._lifecycle
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.health_server is not None:
            await self.health_server.stop()

    async def kill(self) -> None:
        """Stop everything at once and release nothing, as if the process died (for failure drills and
        tests): the Lease stays held until it expires."""
        self._stopping.set()
        if self.elector is not None:
            self.elector.step_down()
        if self._lifecycle is not None:
            self._lifecycle.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lifecycle
        term, self._term = self._term, None
        if term is not None:
            await term.stop(0)
        if self.health_server is not None:
            await self.health_server.stop()

    async def run(self) -> None:
        """Start, run until SIGTERM or SIGINT (or `stop()`), then shut down gracefully."""
        await self.start()
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._stopping.set)
                installed.append(sig)
        try:
            await self._stopping.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            await self.stop()

    @property
    def leading_and_synced(self) -> bool:
        """Whether this manager runs a term whose caches have all listed."""
        return self._term is not None and self._term.synced and self.is_leading()

    async def __aenter__(self) -> Manager:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
