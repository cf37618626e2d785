"""The local stack: emulator, CRDs, kubeconfig, the counter job jar, local Flink, the operator, progress.

`LocalStack.start()` brings everything up in that order, each step timed on the display, adopting what an
earlier run left running (the emulator process, Flink clusters). `LocalStack.shutdown()` takes it down in
reverse order and copes with a start that failed half-way: the operator first (so it does not react to
clusters going away), then the Flink clusters (unless `keep_clusters`), then the emulator. Shutting down
is idempotent. The kubeconfig stays valid across restarts (same port, same file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from pathlib import Path

from lightkube import AsyncClient, KubeConfig

from flink_operator.app.operator import Operator
from flink_operator.config import DefaultConfiguration
from flink_operator.flink.local import LocalFlinkService, build_counter_job, processes
from flink_operator.flink.local.distribution import installed_flink_home
from flink_operator.flink.local.jobs import COUNTER_JOB_SOURCES, JobBuildError
from flink_operator.local_mode import emulator_process, instance
from flink_operator.local_mode.crds import install_crds
from flink_operator.local_mode.display import Display
from flink_operator.local_mode.distributions import discovered_flink_homes
from flink_operator.local_mode.emulator_process import EmulatorHandle
from flink_operator.local_mode.operator_host import identity_for, start_local_operator
from flink_operator.local_mode.settings import LocalOptions, operator_configuration, usrlib_dir
from flink_operator.local_mode.watcher import ProgressWatcher
from flink_operator.runtime import KubeApi

_log = logging.getLogger(__name__)

LEASE_NAME_KEY = "kubernetes.operator.leader-election.lease-name"


class StackError(RuntimeError):
    """A part of the stack could not be started; the message says which and why."""


class LocalStack:
    def __init__(
        self,
        options: LocalOptions,
        display: Display,
        *,
        detached: bool = False,
        require_counter_job: bool = False,
    ) -> None:
        self.options = options
        self.display = display
        self.paths = options.paths
        self.detached = detached
        self.require_counter_job = require_counter_job
        self.configuration: DefaultConfiguration | None = None
        self.claim: instance.Claim | None = None
        self.emulator: EmulatorHandle | None = None
        self.client: AsyncClient | None = None
        self.api: KubeApi | None = None
        self.flink: LocalFlinkService | None = None
        self.watcher: ProgressWatcher | None = None
        self.operator: Operator | None = None
        self.identity = identity_for(self.paths.root)
        self.counter_jar: Path | None = None
        self._stopped = False

    # ------------------------------------------------------------------------------------------ start

    async def start(self) -> None:
        discovered = discovered_flink_homes(Path.cwd())
        self.configuration = operator_configuration(self.options, discovered=discovered)
        for key, home in discovered.items():
            if self.configuration.values.get(key) == home:
                self.display.note(f"Flink {key.rsplit('.', 1)[1]} found", home)
        self.claim = instance.claim(self.paths, detached=self.detached)
        await self._start_emulator()
        assert self.emulator is not None
        self.client = AsyncClient(
            KubeConfig.from_file(self.emulator.kubeconfig), field_manager="flink-operator"
        )
        self.api = KubeApi(self.client, user_agent="flink-operator-local")
        with self.display.phase("CRDs installed") as phase:
            names = await install_crds(self.api)
            phase["detail"] = ", ".join(n.split(".")[0] for n in names)
        self._copy_kubeconfig()
        self.display.note("kubeconfig", str(self.kubeconfig))
        await self._build_counter_job(self.configuration)
        with self.display.phase("local Flink runtime") as phase:
            self.flink = LocalFlinkService.from_configuration(self.configuration.configuration)
            report = await self.flink.recover()
            adopted = ", ".join(str(ref) for ref in report.adopted)
            phase["detail"] = f"adopted running clusters: {adopted}" if adopted else "no running clusters"
        self.watcher = ProgressWatcher(
            KubeApi(self.client, user_agent="flink-operator-local-progress"), self.display.progress
        )
        await self.watcher.start()
        with self.display.phase("operator running") as phase:
            self.operator = await start_local_operator(
                self.configuration,
                self.client,
                self.flink,
                namespace=self.options.namespace,
                identity=self.identity,
            )
            await self._wait_for_leadership()
            phase["detail"] = f"leader ({self.operator.manager.identity})"
        self.claim.update(phase="running", api_url=self.emulator.url, kubeconfig=str(self.kubeconfig))

    @property
    def kubeconfig(self) -> Path:
        return (
            self.options.kubeconfig_out.absolute() if self.options.kubeconfig_out else self.paths.kubeconfig
        )

    async def _start_emulator(self) -> None:
        with self.display.phase("Kubernetes API emulator") as phase:
            adopted = await asyncio.to_thread(emulator_process.running, self.paths)
            if adopted is not None:
                self.emulator = adopted
                phase["detail"] = f"adopted, {adopted.url}"
                return
            starting = asyncio.ensure_future(
                asyncio.to_thread(emulator_process.start, self.paths, self.options.port)
            )
            try:
                self.emulator = await asyncio.shield(starting)
            except asyncio.CancelledError:
                # Interrupted while the process starts: let the start finish (it is bounded) so that
                # shutdown stops the emulator instead of leaving it behind.
                with contextlib.suppress(Exception):
                    self.emulator = await starting
                raise
            except emulator_process.EmulatorError as error:
                raise StackError(str(error)) from error
            phase["detail"] = self.emulator.url

    def _copy_kubeconfig(self) -> None:
        target = self.options.kubeconfig_out
        if target is None:
            return
        target = target.absolute()
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(self.paths.kubeconfig, temp)
        temp.replace(target)

    async def _build_counter_job(self, configuration: DefaultConfiguration) -> None:
        usrlib = usrlib_dir(configuration)
        if not COUNTER_JOB_SOURCES.is_dir():
            message = f"the counter job's sources ({COUNTER_JOB_SOURCES}) are not here: run from a checkout"
            if self.require_counter_job:
                raise StackError(message)
            self.display.warn(message)
            return
        with self.display.phase("counter job jar") as phase:
            try:
                home = installed_flink_home()
                if home is None:
                    raise JobBuildError("no Flink distribution is installed (pip install apache-flink)")
                jar = await asyncio.to_thread(build_counter_job, home, usrlib)
            except JobBuildError as error:
                if self.require_counter_job:
                    raise StackError(f"building the counter job failed: {error}") from error
                self.display.warn(f"building the counter job failed (examples will not start): {error}")
                phase["detail"] = "failed"
                return
            self.counter_jar = jar
            phase["detail"] = f"{jar} (local:///opt/flink/usrlib/{jar.name})"

    async def _wait_for_leadership(self, within: float = 60.0) -> None:
        """Until the operator holds the Lease and its caches are synced (it reconciles from then on)."""
        assert self.operator is not None and self.configuration is not None
        manager = self.operator.manager
        deadline = time.monotonic() + within
        while manager.readiness() != (True, "leader"):
            if time.monotonic() > deadline:
                lease = self.configuration.values.get(LEASE_NAME_KEY)
                raise StackError(
                    f"the operator is not leading within {within:.0f} s ({manager.readiness()[1]}; Lease "
                    f"{self.options.namespace}/{lease}); see {self.paths.operator_log}"
                )
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------------------------------------ checks

    def emulator_alive(self) -> bool:
        return self.emulator is not None and processes.is_running(self.emulator.process)

    # ------------------------------------------------------------------------------------------ stop

    async def shutdown(self, *, keep_clusters: bool | None = None) -> None:
        if self._stopped:
            return
        self._stopped = True
        keep = self.options.keep_clusters if keep_clusters is None else keep_clusters
        if self.claim is not None:
            with contextlib.suppress(OSError):
                self.claim.update(phase="stopping")
        started = time.monotonic()
        if self.operator is not None:
            try:
                await asyncio.wait_for(self.operator.stop(), 60.0)
            except Exception as error:
                self.display.warn(f"stopping the operator: {error}")
        if self.watcher is not None:
            await self.watcher.stop()
        if self.flink is not None:
            clusters = [record.ref for record in self.flink.list_clusters()]
            if keep:
                if clusters:
                    names = ", ".join(map(str, clusters))
                    self.display.info(f"Flink clusters left running for the next `local up`: {names}")
            else:
                try:
                    await self.flink.stop_all()
                except OSError as error:
                    self.display.warn(f"stopping Flink clusters: {error}")
            await self.flink.close()
        if self.client is not None:
            await self.client.close()
        if self.emulator is not None:
            await emulator_process.stop(self.paths, self.emulator)
        if self.claim is not None:
            self.claim.release()
        self.display.done("stopped", time.monotonic() - started, "clusters kept" if keep else "")
