"""Kubernetes-runtime test world: the API emulator, the fake Flink REST server and a JobManager stand-in.

No kubelet runs in the emulator, so `KubeFlinkWorld.start_jobmanager(ref)` plays the part of the pods: it
marks the JobManager Deployment (and a standalone TaskManager Deployment) available and brings up a
virtual Flink cluster at the REST address the runtime was told to use
(`kubernetes.operator.flink.rest.url-template` -> `<fake server>/clusters/<namespace>.<name>`). The
virtual cluster is configured from the cluster's own ConfigMap, i.e. from what the operator wrote into
Kubernetes; for an application cluster it runs the job the way an application JobManager would: with
the configured job id, entry class, arguments and restore path.

Usage (async tests)::

    async with KubeFlinkWorld.start(api_server) as world:
        service = world.native_service()
        ...
        await world.start_jobmanager(ref)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from lightkube import AsyncClient, KubeConfig
from tests.support.conditions import until

from flink_operator.api import crd_manifests
from flink_operator.flink.kubernetes.settings import KubernetesSettings
from flink_operator.flink.native import NativeFlinkService
from flink_operator.flink.service import ClusterRef
from flink_operator.flink.standalone import StandaloneFlinkService
from flink_operator.kube import names
from flink_operator.kube.cluster_config import FlinkVersion
from flink_operator.kube.config_file import parse_rendered, split_list
from flink_operator.runtime.kube_api import KubeApi
from flink_operator.testing.fake_flink import FakeCluster, FakeFlinkServer
from flink_operator.testing.fake_runtime import job_jar
from kube_emulator import EmbeddedApiServer

JSON = dict[str, Any]
NAMESPACE = "flink"


def _kubernetes_ha(configuration: dict[str, str]) -> bool:
    return (configuration.get("high-availability.type") or configuration.get("high-availability") or "") == (
        "kubernetes"
    )


DEFAULT_ENTRY = "demo.CounterJob"


@dataclass
class KubeFlinkWorld:
    api_server: EmbeddedApiServer
    kube: KubeApi
    flink: FakeFlinkServer
    client: AsyncClient

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, api_server: EmbeddedApiServer, kubeconfig: Any) -> AsyncIterator[KubeFlinkWorld]:
        await api_server.hooks.seed(
            [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, *crd_manifests()]
        )
        client = AsyncClient(KubeConfig.from_file(kubeconfig))
        async with FakeFlinkServer() as flink:
            world = cls(api_server, KubeApi(client), flink, client)
            try:
                yield world
            finally:
                await client.close()

    # ------------------------------------------------------------------ runtimes

    @property
    def rest_url_template(self) -> str:
        return f"{self.flink.url}/clusters/{{namespace}}.{{name}}"

    def settings(self, **overrides: Any) -> KubernetesSettings:
        base = KubernetesSettings(
            rest_url_template=self.rest_url_template,
            rest_timeout=5.0,
            cancel_timeout=10.0,
            savepoint_timeout=10.0,
            cleanup_timeout=10.0,
            poll_interval=0.02,
        )
        return replace(base, **overrides)

    def native_service(self, **overrides: Any) -> NativeFlinkService:
        return NativeFlinkService(self.kube, self.settings(**overrides))

    def standalone_service(self, **overrides: Any) -> StandaloneFlinkService:
        return StandaloneFlinkService(self.kube, self.settings(**overrides))

    # ------------------------------------------------------------------ the emulated cluster

    def get(self, api_version: str, kind: str, name: str, namespace: str = NAMESPACE) -> JSON | None:
        return self.api_server.hooks.get(api_version, kind, name, namespace)

    def objects_of(self, ref: ClusterRef) -> dict[str, JSON]:
        """The cluster's objects by `Kind/name` (Deployments, Services, ConfigMaps labelled app=<name>)."""
        found = {}
        for api_version, kind in (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ConfigMap")):
            rt = self.api_server.hooks.resource_type(api_version, kind)
            for _, stored in self.api_server.hooks.state.store.snapshot():
                obj = stored.obj
                labels = obj["metadata"].get("labels") or {}
                if (
                    obj.get("kind") == rt.kind
                    and obj["metadata"].get("namespace") == ref.namespace
                    and labels.get("app") == ref.name
                ):
                    found[f"{kind}/{obj['metadata']['name']}"] = obj
        return found

    async def create_deployment_resource(self, name: str) -> JSON:
        """A FlinkDeployment object to own a cluster (for garbage-collection checks)."""
        return await self.api_server.hooks.create(
            {
                "apiVersion": "flink.apache.org/v1beta1",
                "kind": "FlinkDeployment",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": {},
            }
        )

    def cluster_configuration(self, ref: ClusterRef) -> dict[str, str]:
        """The Flink configuration the cluster's ConfigMap gives its pods (flat)."""
        config_map = self.get("v1", "ConfigMap", names.config_map_name(ref.name), ref.namespace)
        assert config_map is not None, f"no ConfigMap for {ref}"
        data = config_map["data"]
        if "config.yaml" in data:
            return parse_rendered(data["config.yaml"], FlinkVersion(2, 0))
        return parse_rendered(data["flink-conf.yaml"], FlinkVersion(1, 0))

    def fake_name(self, ref: ClusterRef) -> str:
        return f"{ref.namespace}.{ref.name}"

    def fake_cluster(self, ref: ClusterRef) -> FakeCluster:
        return self.flink.cluster(self.fake_name(ref))

    async def start_jobmanager(self, ref: ClusterRef, *, flink_version: str = "2.3.0") -> FakeCluster:
        """The JobManager's pods came up: Deployments available, REST answering, an application's job runs.

        With Kubernetes HA it behaves like Flink's HA services: the job resumes from the latest checkpoint
        recorded in the HA ConfigMaps (which wins over a configured restore path), and the job graph and
        leader entries are (re)written."""
        hooks = self.api_server.hooks
        await hooks.mark_deployment_available(names.jobmanager_deployment_name(ref.name), ref.namespace)
        if self.get("apps/v1", "Deployment", names.taskmanager_deployment_name(ref.name), ref.namespace):
            await hooks.mark_deployment_available(names.taskmanager_deployment_name(ref.name), ref.namespace)
        configuration = self.cluster_configuration(ref)
        name = self.fake_name(ref)
        if name in self.flink.clusters:
            await self.record_ha(ref)
            await self.flink.remove_cluster(name)
        cluster = await self.flink.add_cluster(name, flink_version=flink_version, config=configuration)
        application = configuration.get("execution.target") == "kubernetes-application" or bool(
            configuration.get("$internal.application.main")
            and configuration.get("execution.target") == "remote"
        )
        if application:
            job_id = configuration.get("$internal.pipeline.job-id")
            ha = _kubernetes_ha(configuration)
            from_ha = self.ha_checkpoint(ref, job_id) if ha and job_id else None
            self._run_application(cluster, configuration, from_ha)
            if ha and job_id:
                await self._publish_ha(ref, job_id, flink_version)
        return cluster

    @staticmethod
    def _run_application(cluster: FakeCluster, configuration: dict[str, str], from_ha: str | None) -> None:
        entry = configuration.get("$internal.application.main") or DEFAULT_ENTRY
        jar = cluster.upload_jar(f"{entry.rsplit('.', 1)[-1]}.jar", job_jar(entry))
        body: dict[str, object] = {"entryClass": entry, "flinkConfiguration": dict(configuration)}
        job_id = configuration.get("$internal.pipeline.job-id")
        if job_id:
            body["jobId"] = job_id
        restore = (
            from_ha
            or configuration.get("execution.state-recovery.path")
            or configuration.get("execution.savepoint.path")
        )
        if restore and restore != "KUBERNETES_OPERATOR_LAST_STATE":
            body["savepointPath"] = restore
        args = split_list(configuration.get("$internal.application.program-args", ""))
        cluster.run_jar(jar.id, body, args)

    # ------------------------------------------------------------------ Flink's Kubernetes HA services

    def _ha_map(self, ref: ClusterRef, name: str) -> JSON | None:
        return self.get("v1", "ConfigMap", name, ref.namespace)

    async def _write_ha_map(self, ref: ClusterRef, name: str, data: dict[str, str]) -> None:
        current = self._ha_map(ref, name)
        if current is None:
            await self.api_server.hooks.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": name,
                        "namespace": ref.namespace,
                        "labels": names.ha_config_map_labels(ref.name),
                    },
                    "data": data,
                }
            )
        elif {**(current.get("data") or {}), **data} != (current.get("data") or {}):
            current["data"] = {**(current.get("data") or {}), **data}
            await self.api_server.hooks.replace(current)

    async def _publish_ha(self, ref: ClusterRef, job_id: str, flink_version: str) -> None:
        graph_key = ("executionPlan-" if not flink_version.startswith("1.") else "jobGraph-") + job_id
        await self._write_ha_map(
            ref,
            f"{ref.name}-cluster-config-map",
            {"address": f"pekko.tcp://flink@{ref.name}", graph_key: "graph"},
        )
        await self._write_ha_map(ref, f"{ref.name}-{job_id}-config-map", {"counter": "0"})

    def ha_checkpoint(self, ref: ClusterRef, job_id: str) -> str | None:
        """The newest checkpoint path the HA ConfigMap of the job records."""
        data = (self._ha_map(ref, f"{ref.name}-{job_id}-config-map") or {}).get("data") or {}
        keys = sorted(k for k in data if k.startswith("checkpointID-"))
        return data[keys[-1]] if keys else None

    async def record_ha(self, ref: ClusterRef) -> None:
        """Write the latest completed checkpoints of the cluster's jobs into its HA ConfigMaps (as a running
        JobManager does on every checkpoint)."""
        name = self.fake_name(ref)
        if name not in self.flink.clusters:
            return
        cluster = self.flink.cluster(name)
        if not _kubernetes_ha(cluster.config):
            return
        for job_id, job in cluster.jobs.items():
            latest = job.latest_completed(savepoint=False)
            if (
                latest is not None
                and latest.external_path
                and self._ha_map(ref, f"{ref.name}-{job_id}-config-map")
            ):
                await self._write_ha_map(
                    ref,
                    f"{ref.name}-{job_id}-config-map",
                    {f"checkpointID-{latest.id:019d}": latest.external_path, "counter": str(latest.id + 1)},
                )

    async def stop_jobmanager(self, ref: ClusterRef) -> None:
        """The JobManager's pods went away (the fake cluster stops answering)."""
        name = self.fake_name(ref)
        if name in self.flink.clusters:
            await self.record_ha(ref)
            await self.flink.remove_cluster(name)

    @contextlib.asynccontextmanager
    async def kubelet(self, *, interval: float = 0.05) -> AsyncIterator[list[ClusterRef]]:
        """While inside: every new JobManager Deployment comes up (`start_jobmanager`) and a deleted one's
        fake cluster goes away, as pods would. Yields the list of starts, in order (for assertions)."""
        started: dict[ClusterRef, str] = {}
        history: list[ClusterRef] = []

        async def run() -> None:
            while True:
                current: dict[ClusterRef, str] = {}
                for _, stored in self.api_server.hooks.state.store.snapshot():
                    obj = stored.obj
                    labels = obj["metadata"].get("labels") or {}
                    if obj.get("kind") == "Deployment" and labels.get("component") == "jobmanager":
                        ref = ClusterRef(obj["metadata"]["namespace"], obj["metadata"]["name"])
                        if not obj["metadata"].get("deletionTimestamp"):
                            current[ref] = obj["metadata"]["uid"]
                for ref, uid in current.items():
                    # like a pod, the JobManager cannot start before its configuration can be mounted
                    ready = self.get("v1", "ConfigMap", names.config_map_name(ref.name), ref.namespace)
                    if started.get(ref) != uid and ready is not None:
                        await self.start_jobmanager(ref)
                        started[ref] = uid
                        history.append(ref)
                for ref in [r for r in started if r not in current]:
                    await self.stop_jobmanager(ref)
                    del started[ref]
                for ref in started:
                    await self.record_ha(ref)
                await asyncio.sleep(interval)

        task = asyncio.create_task(run(), name="kubelet")
        try:
            yield history
        finally:
            task.cancel()
            # a kubelet that failed re-raises its error here
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_gone(self, ref: ClusterRef, *, within: float = 10.0) -> None:
        await until(lambda: not self.objects_of(ref), within=within, what=f"objects of {ref} deleted")

    async def seed_ha_config_maps(
        self, ref: ClusterRef, *, job_id: str, checkpoint: bool = True
    ) -> list[str]:
        """HA ConfigMaps as Flink's Kubernetes HA services leave them (leader + job ConfigMap)."""
        labels = {**names.ha_config_map_labels(ref.name)}
        job_data = {"jobGraph-" + job_id: "serialized-job-graph", "counter": "3"}
        if checkpoint:
            job_data["checkpointID-0000000000000000002"] = "serialized-checkpoint-pointer"
        maps = [
            (f"{ref.name}-cluster-config-map", {"executionPlan-" + job_id: "plan", "address": "x"}),
            (f"{ref.name}-{job_id}-config-map", job_data),
        ]
        for name, data in maps:
            await self.api_server.hooks.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name, "namespace": ref.namespace, "labels": labels},
                    "data": data,
                }
            )
        return [name for name, _ in maps]
