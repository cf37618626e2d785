"""Session clusters and FlinkSessionJobs on the API emulator with the fake Flink runtime.

    env = SessionJobEnv(api_server, tmp_path, flink)          # flink: FakeFlinkService
    await env.setup()
    await env.start_operator()                                # the operator with its controllers
    await env.create_session("session")                       # a session FlinkDeployment, deployed
    await env.create_job(session_job("job", "session"))
    await env.wait_job("job", lambda d: job_state(d) == "RUNNING")
    await env.close()

`start_operator()` runs the real operator wiring (`flink_operator.app`): the FlinkDeployment controller
deploys, redeploys and deletes the session clusters, the FlinkSessionJob controller handles the jobs. Timing
options are shortened (see `FAST` and `SESSION_FAST`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.support.operator_env import OperatorEnv, for_creation

from flink_operator.controllers.sessionjob import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from flink_operator.flink.service import ClusterRef
from flink_operator.runtime import EVENT, status_code
from flink_operator.testing.fake_flink_jobs import FakeJob
from flink_operator.testing.fake_runtime import FakeFlinkService
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
        super().__init__(
            api_server,
            directory,
            service if service is not None else flink,
            {**SESSION_FAST, **(config or {})},
        )
        self.fake = flink

    # ------------------------------------------------------------------ session clusters

    async def create_session(
        self,
        name: str,
        *,
        namespace: str = "default",
        config: Mapping[str, str] | None = None,
        ready: bool = True,
        within: float = 10.0,
    ) -> JSON:
        """Create a session FlinkDeployment; with `ready`, wait until the operator has it READY and STABLE."""
        document = session_document(name, namespace=namespace, config=config)
        created = await self.kube.create(_deployment_kind(), for_creation(document), namespace)
        if ready:
            return await self.wait_session(name, namespace=namespace, within=within)
        return created

    async def wait_session(
        self, name: str, *, namespace: str = "default", generation: int | None = None, within: float = 10.0
    ) -> JSON:
        def ready(document: JSON | None) -> bool:
            status = status_of(document)
            if generation is not None and status.get("observedGeneration") != generation:
                return False
            return (
                status.get("jobManagerDeploymentStatus") == "READY"
                and status.get("lifecycleState") == "STABLE"
            )

        found = await self._wait(
            _deployment_kind(), name, namespace, ready, within, "session READY and STABLE"
        )
        assert found is not None
        return found

    def kill_session_jobmanager(self, name: str, *, namespace: str = "default") -> None:
        """The session JobManager process dies (the operator observes it)."""
        self.fake.kill_jobmanager(ClusterRef(namespace, name))

    async def patch_session(self, name: str, spec: Mapping[str, Any], *, namespace: str = "default") -> JSON:
        return await self.kube.patch(_deployment_kind(), name, namespace, {"spec": dict(spec)})

    async def annotate_session(
        self, name: str, annotations: Mapping[str, str], *, namespace: str = "default"
    ) -> JSON:
        return await self.kube.patch(
            _deployment_kind(), name, namespace, {"metadata": {"annotations": dict(annotations)}}
        )

    async def get_session(self, name: str, *, namespace: str = "default") -> JSON | None:
        return await self._get(_deployment_kind(), name, namespace)

    async def delete_session(self, name: str, *, namespace: str = "default") -> None:
        await self.kube.delete(_deployment_kind(), name, namespace)

    async def session_events(self, name: str, *, namespace: str = "default") -> list[JSON]:
        return await self._events(name, "FlinkDeployment", namespace)

    async def wait_session_events(
        self,
        name: str,
        reason: str,
        *,
        text: str = "",
        namespace: str = "default",
        within: float = 10.0,
    ) -> list[JSON]:
        """The session's events with `reason` (and `text` in the message), once there is one: the status
        is written before the events of the same step, so a test that saw the status waits for them."""
        deadline = time.monotonic() + within
        while True:
            found = [
                e
                for e in await self.session_events(name, namespace=namespace)
                if e.get("reason") == reason and text in (e.get("message") or "")
            ]
            if found:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{namespace}/{name}: no {reason} event with {text!r} within {within:g} s"
                )
            await asyncio.sleep(0.05)

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
        return await self._events(name, "FlinkSessionJob", namespace)

    async def _events(self, name: str, kind: str, namespace: str) -> list[JSON]:
        _, raw = await self.kube.list_raw(EVENT, namespace)
        items = [json.loads(item) for item in raw]
        return [
            e
            for e in items
            if (e.get("involvedObject") or {}).get("name") == name
            and (e.get("involvedObject") or {}).get("kind") == kind
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
