"""Session clusters and FlinkSessionJobs on the API emulator with the fake Flink runtime.

    env = SessionJobEnv(api_server, tmp_path, flink)          # flink: FakeFlinkService
    await env.setup()
    await env.start_operator()                                # the operator with its controllers
    await env.create_session("session")                       # a session FlinkDeployment, deployed
    await env.create_job(session_job("job", "session"))
    await env.wait_job("job", lambda d: job_state(d) == "RUNNING")
    await env.close()

`start_operator()` runs the FlinkSessionJob controller on a runtime manager (plugins with the default
validator, listener bridge, snapshot support). Session clusters are deployed by `create_session` straight
into the fake runtime, and their FlinkDeployment status is written as the FlinkDeployment controller would
(JobManager READY, STABLE): these tests are about the session jobs. Timing options are shortened (see
`FAST` and `SESSION_FAST`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from lightkube import AsyncClient, KubeConfig
from tests.support.operator_env import OperatorEnv, for_creation

from flink_operator.api import FlinkSessionJob
from flink_operator.config import DefaultConfiguration, load_declared_options
from flink_operator.controllers.common.listener_bridge import ListenerBridge
from flink_operator.controllers.sessionjob import (
    FLINK_DEPLOYMENT,
    FLINK_SESSION_JOB,
    SessionJobControllerDeps,
    session_job_controller_spec,
)
from flink_operator.controllers.snapshot.job_hooks import JobSnapshots
from flink_operator.flink.service import ClusterRef, ClusterRequest, JobManagerStatus
from flink_operator.plugins._host import PluginHost
from flink_operator.runtime import EVENT, Manager, status_code
from flink_operator.testing.fake_flink_jobs import FakeJob
from flink_operator.testing.fake_runtime import FakeFlinkService
from flink_operator.validation import DefaultValidator
from kube_emulator import EmbeddedApiServer

JSON = dict[str, Any]
ENTRY = "demo.CounterJob"
JAR = "local:///opt/flink/usrlib/counter-job.jar"

SESSION_FAST: dict[str, str] = {
    "kubernetes.operator.user.artifacts.allowed-schemes": "https;local;file",
    "kubernetes.operator.session.deletion.job-cancel.timeout": "3 s",
    "kubernetes.operator.session.deletion.unmanaged-jobs.timeout": "3 s",
}


def session_document(
    name: str, *, namespace: str = "default", config: Mapping[str, str] | None = None
) -> JSON:
    """A session cluster: a FlinkDeployment without `spec.job`."""
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "image": "flink:2.3",
            "flinkVersion": "v2_3",
            "serviceAccount": "flink",
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": "4",
                "execution.checkpointing.interval": "200 ms",
                "execution.checkpointing.dir": "file:///tmp/fake/checkpoints",
                "execution.checkpointing.savepoint-dir": "file:///tmp/fake/savepoints",
                # Flink's REST caches (checkpoint statistics) expire faster than the 3 s default.
                "web.refresh-interval": "500 ms",
                **(config or {}),
            },
            "jobManager": {"resource": {"memory": "1024m", "cpu": 1}},
            "taskManager": {"resource": {"memory": "1024m", "cpu": 1}},
        },
    }


def session_job(
    name: str,
    session: str,
    *,
    namespace: str = "default",
    upgrade_mode: str = "stateless",
    parallelism: int = 1,
    state: str = "running",
    args: tuple[str, ...] = (),
) -> JSON:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "deploymentName": session,
            "job": {
                "jarURI": JAR,
                "entryClass": ENTRY,
                "args": list(args),
                "parallelism": parallelism,
                "upgradeMode": upgrade_mode,
                "state": state,
            },
        },
    }


def status_of(document: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (document or {}).get("status") or {}


def job_state(document: Mapping[str, Any] | None) -> str | None:
    return (status_of(document).get("jobStatus") or {}).get("state")


def job_id(document: Mapping[str, Any] | None) -> str | None:
    return (status_of(document).get("jobStatus") or {}).get("jobId")


def lifecycle(document: Mapping[str, Any] | None) -> str | None:
    return status_of(document).get("lifecycleState")


def error_text(document: Mapping[str, Any] | None) -> str:
    return str(status_of(document).get("error") or "")


class SessionJobEnv(OperatorEnv):
    def __init__(
        self,
        api_server: EmbeddedApiServer,
        directory: Path,
        flink: FakeFlinkService,
        config: Mapping[str, str] | None = None,
        *,
        service: Any = None,
    ) -> None:
        """`service`: what the operator calls (e.g. a `PausingFlink` around `flink`); default `flink`."""
        super().__init__(api_server, directory, flink, {**SESSION_FAST, **(config or {})})
        self.fake = flink
        self.service = service if service is not None else flink
        self.handles: list[_ControllerHandle] = []

    async def start_operator(self, identity: str = "operator-1") -> Any:
        """The FlinkSessionJob controller on its own manager; returns a handle with `stop()` / `kill()`."""
        load_declared_options()
        configuration = DefaultConfiguration(values=dict(self.config))
        plugins = PluginHost.load(self.config, default_validator=DefaultValidator(configuration), environ={})
        client = AsyncClient(
            config=KubeConfig.from_file(str(self.kubeconfig)), field_manager="flink-operator"
        )
        manager = Manager(
            client,
            configuration,
            namespace="default",
            identity=identity,
            leader_election=False,
            health_port=-1,
        )
        deps = SessionJobControllerDeps(
            flink=self.service,
            plugins=plugins,
            bridge=ListenerBridge(plugins.listeners, FlinkSessionJob),
            snapshots=JobSnapshots(self.service),
        )
        manager.add(session_job_controller_spec(deps))
        await manager.start()
        handle = _ControllerHandle(manager, plugins, client)
        self.handles.append(handle)
        return handle

    async def close(self) -> None:
        handles, self.handles = self.handles, []
        for handle in handles:
            await handle.stop()
        await super().close()

    # ------------------------------------------------------------------ session clusters

    async def create_session(
        self,
        name: str,
        *,
        namespace: str = "default",
        config: Mapping[str, str] | None = None,
        ready: bool = True,
    ) -> JSON:
        document = session_document(name, namespace=namespace, config=config)
        created = await self.kube.create(_deployment_kind(), for_creation(document), namespace)
        ref = ClusterRef(namespace, name)
        await self.fake.deploy_session_cluster(
            ClusterRequest(
                ref=ref,
                flink_version="v2_3",
                configuration=dict(document["spec"]["flinkConfiguration"]),
                generation=int(created["metadata"].get("generation") or 1),
            )
        )
        await self.write_session_status(name, "DEPLOYING", namespace=namespace)
        if ready:
            await self.mark_session_ready(name, namespace=namespace)
        return created

    async def mark_session_ready(
        self, name: str, *, namespace: str = "default", within: float = 10.0
    ) -> None:
        """Wait until the fake JobManager answers, then record READY (as the FlinkDeployment controller)."""
        ref = ClusterRef(namespace, name)
        deadline = time.monotonic() + within
        while (await self.fake.observe_jobmanager(ref)).status is not JobManagerStatus.READY:
            if time.monotonic() >= deadline:
                raise AssertionError(f"session {ref} not READY within {within:g} s")
            await asyncio.sleep(0.02)
        await self.write_session_status(name, "READY", namespace=namespace)

    async def write_session_status(self, name: str, jm_status: str, *, namespace: str = "default") -> None:
        current = await self.kube.get(_deployment_kind(), name, namespace)
        spec = json.dumps(
            {
                "spec": current["spec"],
                "resource_metadata": {"apiVersion": "flink.apache.org/v1beta1", "firstDeployment": False},
            }
        )
        status = {
            "jobManagerDeploymentStatus": jm_status,
            "lifecycleState": "STABLE" if jm_status == "READY" else "DEPLOYED",
            "observedGeneration": current["metadata"].get("generation"),
            "reconciliationStatus": {
                "state": "DEPLOYED",
                "lastReconciledSpec": spec,
                **({"lastStableSpec": spec} if jm_status == "READY" else {}),
            },
            "jobStatus": {},
        }
        await self.kube.replace(_deployment_kind(), {**current, "status": status}, subresource="status")

    async def kill_session_jobmanager(self, name: str, *, namespace: str = "default") -> None:
        """The session JobManager dies; its FlinkDeployment shows it (as the observer would)."""
        self.fake.kill_jobmanager(ClusterRef(namespace, name))
        await self.write_session_status(name, "MISSING", namespace=namespace)

    async def get_session(self, name: str, *, namespace: str = "default") -> JSON | None:
        return await self._get(_deployment_kind(), name, namespace)

    async def delete_session(self, name: str, *, namespace: str = "default") -> None:
        """Delete the session FlinkDeployment (no finalizer here) and its cluster."""
        await self.kube.delete(_deployment_kind(), name, namespace)
        await self.fake.delete_cluster(ClusterRef(namespace, name), delete_ha_data=True)

    # ------------------------------------------------------------------ session jobs

    async def create_job(self, document: Mapping[str, Any]) -> JSON:
        namespace = document["metadata"].get("namespace", "default")
        return await self.kube.create(FLINK_SESSION_JOB, for_creation(document), namespace)

    async def get_job(self, name: str, *, namespace: str = "default") -> JSON | None:
        return await self._get(FLINK_SESSION_JOB, name, namespace)

    async def patch_job_spec(self, name: str, job: Mapping[str, Any], *, namespace: str = "default") -> JSON:
        return await self.kube.patch(FLINK_SESSION_JOB, name, namespace, {"spec": {"job": dict(job)}})

    async def annotate_job(
        self, name: str, annotations: Mapping[str, str], *, namespace: str = "default"
    ) -> JSON:
        return await self.kube.patch(
            FLINK_SESSION_JOB, name, namespace, {"metadata": {"annotations": dict(annotations)}}
        )

    async def delete_job(self, name: str, *, namespace: str = "default") -> None:
        await self.kube.delete(FLINK_SESSION_JOB, name, namespace)

    async def wait_job(
        self,
        name: str,
        predicate: Callable[[JSON | None], object],
        *,
        namespace: str = "default",
        within: float = 10.0,
        what: str = "",
    ) -> JSON | None:
        return await self._wait(FLINK_SESSION_JOB, name, namespace, predicate, within, what)

    async def wait_running(
        self, name: str, *, generation: int | None = None, namespace: str = "default", within: float = 10.0
    ) -> JSON:
        def running(document: JSON | None) -> bool:
            status = status_of(document)
            if generation is not None and status.get("observedGeneration") != generation:
                return False
            return lifecycle(document) == "STABLE" and job_state(document) == "RUNNING"

        found = await self.wait_job(
            name,
            running,
            namespace=namespace,
            within=within,
            what=f"STABLE and RUNNING (generation {generation})",
        )
        assert found is not None
        return found

    async def wait_gone(
        self, kind: str, name: str, *, namespace: str = "default", within: float = 15.0
    ) -> None:
        target = FLINK_SESSION_JOB if kind == "job" else _deployment_kind()
        await self._wait(target, name, namespace, lambda d: d is None, within, "deleted")

    async def job_events(self, name: str, *, namespace: str = "default") -> list[JSON]:
        _, raw = await self.kube.list_raw(EVENT, namespace)
        items = [json.loads(item) for item in raw]
        return [
            e
            for e in items
            if (e.get("involvedObject") or {}).get("name") == name
            and (e.get("involvedObject") or {}).get("kind") == "FlinkSessionJob"
        ]

    def live_jobs(self, session: str, *, namespace: str = "default") -> list[tuple[str, str]]:
        """(job id, state) of the jobs of a session cluster that are not terminal."""
        return [(jid, state) for _, jid, state in self.fake.running_jobs(ClusterRef(namespace, session))]

    def all_jobs(self, session: str, *, namespace: str = "default") -> dict[str, str]:
        """Every job the session cluster knows (id -> state), terminal ones included."""
        try:
            cluster = self.fake.cluster(ClusterRef(namespace, session))
        except KeyError:
            return {}
        return {jid: job.state.value for jid, job in cluster.jobs.items()}

    def fake_job(self, session: str, jid: str | None, *, namespace: str = "default") -> FakeJob:
        """The fake's job `jid` on the session cluster (KeyError when it does not know it)."""
        return self.fake.cluster(ClusterRef(namespace, session)).jobs[jid or ""]

    job_kind = FLINK_SESSION_JOB

    # ------------------------------------------------------------------ plumbing

    async def _get(self, kind: Any, name: str, namespace: str) -> JSON | None:
        try:
            return await self.kube.get(kind, name, namespace)
        except Exception as error:
            if status_code(error) == 404:
                return None
            raise

    async def _wait(
        self,
        kind: Any,
        name: str,
        namespace: str,
        predicate: Callable[[JSON | None], object],
        within: float,
        what: str,
    ) -> JSON | None:
        deadline = time.monotonic() + within
        while True:
            document = await self._get(kind, name, namespace)
            if predicate(document):
                return document
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{namespace}/{name}: {what or 'condition'} not reached within {within:g} s; "
                    f"status {status_of(document)}"
                )
            await asyncio.sleep(0.05)


def _deployment_kind() -> Any:
    return FLINK_DEPLOYMENT


class _ControllerHandle:
    def __init__(self, manager: Manager, plugins: PluginHost, client: AsyncClient) -> None:
        self.manager = manager
        self.plugins = plugins
        self.client = client
        self._stopped = False

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        await self.manager.stop()
        await self.plugins.aclose()
        await self.client.close()

    async def kill(self) -> None:
        """As if the process died: reconciles are cancelled where they are."""
        if self._stopped:
            return
        self._stopped = True
        await self.manager.kill()
        await self.plugins.listeners.aclose(0.0)
        await self.client.close()
