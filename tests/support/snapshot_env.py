"""The FlinkStateSnapshot controller alone on the Kubernetes API emulator, with the fake Flink runtime.

    env = SnapshotEnv(api_server, tmp_path, flink, config={...})
    await env.start()                                   # CRDs, plugins, a manager running the controller
    job = await env.running_deployment("demo")          # a fake cluster runs a job; its CR says RUNNING
    await env.create(snapshot_document("sp", job="demo"))
    done = await env.wait_for("sp", lambda d: state(d) == "COMPLETED")
    await env.close()

The FlinkDeployment's status is written by the test (as its controller would), so these tests exercise the
snapshot controller and nothing else. Everything talks over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lightkube import AsyncClient, KubeConfig
from tests.support.deployment_driver import deployment_document

from flink_operator.api import crd_manifests, write_spec_with_meta
from flink_operator.config import DefaultConfiguration, load_declared_options
from flink_operator.controllers.snapshot import (
    FLINK_STATE_SNAPSHOT,
    SnapshotControllerDeps,
    SnapshotListenerBridge,
    snapshot_controller_spec,
)
from flink_operator.controllers.snapshot.controller import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from flink_operator.flink.service import (
    ClusterRef,
    ClusterRequest,
    JobSpec,
    SessionJobRequest,
)
from flink_operator.plugins._host import PluginHost
from flink_operator.runtime import EVENT, KubeApi, Manager, status_code
from flink_operator.testing.fake_flink_jobs import FakeJob
from flink_operator.testing.fake_runtime import FakeFlinkService, wait_until_running
from flink_operator.validation import DefaultValidator
from kube_emulator import EmbeddedApiServer

JSON = dict[str, Any]

FAST: dict[str, str] = {
    "kubernetes.operator.reconcile.interval": "2 s",
    "kubernetes.operator.observer.progress-check.interval": "100 ms",
    "kubernetes.operator.rate-limiter.limit": "0",
    "kubernetes.operator.retry.initial.interval": "200 ms",
    "kubernetes.operator.plugins.listener-call-timeout": "1 s",
    "kubernetes.operator.plugins.shutdown-timeout": "1 s",
}


def state(document: Mapping[str, Any] | None) -> str | None:
    return ((document or {}).get("status") or {}).get("state")


class SnapshotEnv:
    def __init__(
        self,
        api_server: EmbeddedApiServer,
        directory: Path,
        flink: FakeFlinkService,
        config: Mapping[str, str] | None = None,
        *,
        retry_base_s: float | None = None,
    ) -> None:
        self.api_server = api_server
        self.retry_base_s = retry_base_s
        self.directory = directory
        self.flink = flink
        self.config = {**FAST, **(config or {})}
        self.kubeconfig = directory / "kubeconfig"
        self.savepoint_dir = f"file:{directory}/savepoints"
        self.manager: Manager | None = None
        self.plugins: PluginHost | None = None
        self._clients: list[AsyncClient] = []
        self.api: KubeApi | None = None

    def _client(self) -> AsyncClient:
        client = AsyncClient(config=KubeConfig.from_file(str(self.kubeconfig)), namespace="default")
        self._clients.append(client)
        return client

    async def start(self) -> None:
        load_declared_options()
        self.api_server.write_kubeconfig(self.kubeconfig)
        await self.api_server.hooks.seed(list(crd_manifests()))
        self.api = KubeApi(self._client(), user_agent="test-user")
        defaults = DefaultConfiguration(self.config)
        operator_client = self._client()
        self.plugins = PluginHost.load(
            self.config,
            default_validator=DefaultValidator(defaults),
            kubernetes_client=operator_client,
            environ={},
            entry_points=[],
        )
        bridge = SnapshotListenerBridge(self.plugins.listeners)
        self.manager = Manager(
            operator_client,
            defaults,
            namespace="default",
            identity="snapshot-test",
            leader_election=False,
            health_port=-1,
        )
        deps = SnapshotControllerDeps(self.flink, self.plugins, bridge, retry_base_s=self.retry_base_s)
        self.manager.add(snapshot_controller_spec(deps))
        await self.manager.start()

    async def close(self) -> None:
        if self.manager is not None:
            manager, self.manager = self.manager, None
            await manager.stop()
        if self.plugins is not None:
            plugins, self.plugins = self.plugins, None
            await plugins.aclose()
        for client in self._clients:
            await client.close()
        self._clients.clear()

    @property
    def kube(self) -> KubeApi:
        assert self.api is not None, "call start() first"
        return self.api

    def listener(self, name: str) -> Any:
        assert self.plugins is not None
        return next(p.instance for p in self.plugins.plugins.listeners if p.name == name)

    # ------------------------------------------------------------------ jobs

    async def running_deployment(
        self, name: str = "demo", spec: dict[str, Any] | None = None, **config: str
    ) -> FakeJob:
        """A fake application cluster running a job, and a FlinkDeployment whose status says so (its spec
        recorded as reconciled); `spec` adds fields to the FlinkDeployment's spec."""
        spec = spec or {}
        ref = ClusterRef("default", name)
        job_id = f"{abs(hash(name)) % 16**8:08x}" + "0" * 24
        flink_config = {"execution.checkpointing.savepoint-dir": self.savepoint_dir, **config}
        await self.flink.deploy_application_cluster(
            ClusterRequest(
                ref=ref,
                flink_version="v2_3",
                configuration=flink_config,
                generation=1,
                job=JobSpec(jar_uri="local:///job.jar", entry_class="demo.CounterJob"),
                job_id=job_id,
            )
        )
        job = await wait_until_running(self.flink, ref)
        document = deployment_document(name, config=flink_config, **spec)
        created = await self.kube.create(FLINK_DEPLOYMENT, _for_creation(document), "default")
        reconciled = write_spec_with_meta(created["spec"], "flink.apache.org/v1beta1", False)
        created["status"] = {"reconciliationStatus": {"lastReconciledSpec": reconciled, "state": "DEPLOYED"}}
        await self.set_job_state(name, "RUNNING", job_id=job_id, resource=created)
        return job

    async def running_session_job(self, name: str = "job", *, session: str = "session") -> str:
        """A fake session cluster running a submitted job, its session FlinkDeployment and a FlinkSessionJob
        whose status says the job runs; returns the job id."""
        ref = ClusterRef("default", session)
        flink_config = {"execution.checkpointing.savepoint-dir": self.savepoint_dir}
        await self.flink.deploy_session_cluster(
            ClusterRequest(ref=ref, flink_version="v2_3", configuration=flink_config, generation=1)
        )
        job_id = "5e55" + "0" * 28
        deadline = time.monotonic() + 10
        while True:
            try:
                await self.flink.submit_job(
                    SessionJobRequest(
                        cluster=ref,
                        job_name=name,
                        job=JobSpec(jar_uri="local:///job.jar", entry_class="demo.CounterJob"),
                        job_id=job_id,
                    )
                )
                break
            except Exception:  # the JobManager is still starting
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
        while (summary := await self.flink.job_status(ref, job_id)) is None or summary.state != "RUNNING":
            if time.monotonic() > deadline:
                raise AssertionError(f"session job {job_id} is not running: {summary}")
            await asyncio.sleep(0.05)
        session_document = deployment_document(session, config=flink_config)
        del session_document["spec"]["job"]
        await self.kube.create(FLINK_DEPLOYMENT, _for_creation(session_document), "default")
        job_document = {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkSessionJob",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "deploymentName": session,
                "job": {"jarURI": "https://example.com/job.jar", "upgradeMode": "stateless"},
            },
        }
        created = await self.kube.create(FLINK_SESSION_JOB, job_document, "default")
        status = {"jobStatus": {"jobId": job_id, "state": "RUNNING"}}
        await self.kube.replace(FLINK_SESSION_JOB, {**created, "status": status}, subresource="status")
        return job_id

    async def set_job_state(
        self, name: str, job_state: str, *, job_id: str | None = None, resource: JSON | None = None
    ) -> None:
        """Write the FlinkDeployment's job status, as its controller would."""
        current = resource or await self.kube.get(FLINK_DEPLOYMENT, name, "default")
        status = dict(current.get("status") or {})
        job_status = dict(status.get("jobStatus") or {})
        job_status["state"] = job_state
        if job_id is not None:
            job_status["jobId"] = job_id
        status["jobStatus"] = job_status
        status["jobManagerDeploymentStatus"] = "READY"
        await self.kube.replace(FLINK_DEPLOYMENT, {**current, "status": status}, subresource="status")

    # ------------------------------------------------------------------ snapshots

    async def create(self, document: Mapping[str, Any]) -> JSON:
        return await self.kube.create(FLINK_STATE_SNAPSHOT, _for_creation(document), "default")

    async def get(self, name: str) -> JSON | None:
        try:
            return await self.kube.get(FLINK_STATE_SNAPSHOT, name, "default")
        except Exception as error:
            if status_code(error) == 404:
                return None
            raise

    async def delete(self, name: str) -> None:
        await self.kube.delete(FLINK_STATE_SNAPSHOT, name, "default")

    async def wait_for(
        self, name: str, predicate: Callable[[JSON | None], object], *, within: float = 10.0, what: str = ""
    ) -> JSON | None:
        deadline = time.monotonic() + within
        while True:
            document = await self.get(name)
            if predicate(document):
                return document
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{name}: {what or 'condition'} not reached within {within:g} s; "
                    f"status {(document or {}).get('status')}"
                )
            await asyncio.sleep(0.05)

    async def wait_state(self, name: str, wanted: str, *, within: float = 10.0) -> JSON:
        found = await self.wait_for(name, lambda d: state(d) == wanted, within=within, what=f"state {wanted}")
        assert found is not None
        return found

    async def events(self, name: str) -> list[JSON]:
        _, raw = await self.kube.list_raw(EVENT, "default")
        items = [json.loads(item) for item in raw]
        return [e for e in items if (e.get("involvedObject") or {}).get("name") == name]

    async def reasons(self, name: str) -> list[str]:
        return [str(e.get("reason")) for e in await self.events(name)]


def _for_creation(document: Mapping[str, Any]) -> JSON:
    metadata = document["metadata"]
    kept = {k: v for k, v in metadata.items() if k in ("name", "namespace", "labels", "annotations")}
    return {**{k: v for k, v in document.items() if k not in ("metadata", "status")}, "metadata": kept}
