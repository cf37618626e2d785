"""`KubernetesFlinkService`: the FlinkService for Flink clusters on Kubernetes (native and standalone).

Construct a runtime with the API connection the operator already has (`KubeApi`, which carries the
leader-election write gate) and its settings::

    service = NativeFlinkService.from_configuration(kube_api, configuration)   # or StandaloneFlinkService
    await service.deploy_application_cluster(request)
    ...
    await service.close()

What it does, per call (the object builders in `flink_operator.kube` decide what the objects look like):

* deploy: builds the cluster's objects; if the JobManager Deployment already exists for the same
  generation and mode, only missing companions are created (a repeat after a crash completes the first
  attempt); an older cluster is deleted first (HA data kept). The JobManager Deployment is created first,
  then its companions with it as owner (as Flink does), then (standalone) the TaskManager Deployment. With
  Kubernetes HA an application's job graphs are removed from the HA ConfigMaps before it is resubmitted.
  When the request asks for Ingress management, the Ingress follows `spec.ingress` (created or replaced,
  or removed when the spec has none); a bad Ingress template fails the deploy before anything is written.
* delete: with Foreground propagation the JobManager is first scaled to zero and its pods awaited (bounded),
  then the Deployments are deleted and awaited up to `kubernetes.operator.resource.cleanup.timeout`;
  HA ConfigMaps are deleted when asked.
* observe: the Deployment, its pods and their events are assessed (`kube.observation`); an available
  JobManager is READY once its REST API answers.
* jobs: through the REST API at `rest_url(ref)` (see `kube.kube_options` for the override).

Pod templates and log configuration come with the request, as content. A request without them may name
files instead (`kubernetes.pod-template-file.jobmanager|taskmanager`, `$internal.deployment.config-dir`,
e.g. from the operator's default configuration), which are read; without either, the log configuration
defaults to `kube.log_config`. Not guaranteed: that pods actually start (observe tells), nor anything about
objects other than the cluster's own and its Ingress.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import yaml

from flink_operator.api.constants import LABEL_TYPE
from flink_operator.api.spec import IngressSpec
from flink_operator.config import ConfigError, Configuration
from flink_operator.config.durations import parse_duration
from flink_operator.flink.job_result_store import CLEANUP_ENABLED_KEY, prune_after_deploy
from flink_operator.flink.kubernetes import ha_data
from flink_operator.flink.kubernetes.ingress import reconcile_ingress
from flink_operator.flink.kubernetes.jobs import JobTimeouts, RestJobs, unreachable_as_missing
from flink_operator.flink.kubernetes.objects_api import CONFIG_MAP, DEPLOYMENT, POD, SERVICE, ObjectsApi
from flink_operator.flink.kubernetes.requests import cluster_spec
from flink_operator.flink.kubernetes.settings import KubernetesSettings
from flink_operator.flink.rest import FlinkRestClient, FlinkRestError, RetryPolicy
from flink_operator.flink.service import (
    ClusterInfo,
    ClusterRef,
    ClusterRequest,
    DeploymentError,
    DeployResult,
    FlinkServiceError,
    JobManagerObservation,
    JobManagerStatus,
)
from flink_operator.kube import names
from flink_operator.kube.cluster_config import DEFAULT_REST_PORT, ClusterConfig, FlinkVersion, Role
from flink_operator.kube.cluster_objects import ClusterObjects, build_cluster_objects
from flink_operator.kube.config_file import JOBMANAGER_TEMPLATE_KEY, TASKMANAGER_TEMPLATE_KEY, parse_rendered
from flink_operator.kube.ingress import IngressTemplateError, build_ingress
from flink_operator.kube.log_config import read_log_files
from flink_operator.kube.names import DeploymentMode
from flink_operator.kube.observation import assess_jobmanager, deployment_generation
from flink_operator.kube.rest_address import rest_url
from flink_operator.runtime.kinds import EVENT
from flink_operator.runtime.kube_api import KubeApi

_log = logging.getLogger(__name__)
CONFIG_DIR_KEY = "$internal.deployment.config-dir"
STATS_CACHE_KEYS = ("rest.cache.checkpoint-statistics.timeout", "web.refresh-interval")
JSON = dict[str, Any]


@dataclass(frozen=True)
class KubernetesJobManagerObservation(JobManagerObservation):
    """A JobManager observation of a Kubernetes cluster: `error_reason` (a field of every observation) is
    the Kubernetes reason of an ERROR (`CrashLoopBackOff`, `FailedMount`, ...), which upstream uses as the
    reason of the Warning event."""


class KubernetesFlinkService(RestJobs):
    """FlinkService for Kubernetes; `mode` is set by the native and standalone subclasses."""

    mode: ClassVar[DeploymentMode]

    def __init__(
        self,
        api: KubeApi,
        settings: KubernetesSettings | None = None,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings or KubernetesSettings()
        super().__init__(
            self._rest_client,
            timeouts=JobTimeouts(
                cancel=self.settings.cancel_timeout, savepoint=self.settings.savepoint_timeout
            ),
            artifacts_dir=self.settings.artifacts_dir,
            artifact_settings=self.settings.artifact_settings,
        )
        self.objects = ObjectsApi(
            api, field_manager=self.settings.field_manager, poll_interval=self.settings.poll_interval
        )
        self._http = http
        self._owns_http = http is None
        self._rest_ports: dict[ClusterRef, int] = {}
        self._clients: dict[tuple[ClusterRef, str], FlinkRestClient] = {}

    @classmethod
    def from_configuration(cls, api: KubeApi, configuration: Configuration) -> KubernetesFlinkService:
        return cls(api, KubernetesSettings.from_configuration(configuration))

    async def close(self) -> None:
        """Release HTTP connections (the clusters are not touched)."""
        if self._http is not None and self._owns_http:
            await self._http.aclose()
        self._http = None
        self._clients.clear()

    # ------------------------------------------------------------------ REST access

    def rest_url(self, ref: ClusterRef) -> str:
        port = self._rest_ports.get(ref, DEFAULT_REST_PORT)
        return rest_url(ref.name, ref.namespace, port, self.settings.rest_url_template)

    def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.settings.rest_timeout, trust_env=False)
            self._owns_http = True
        return self._http

    def _rest_client(self, ref: ClusterRef) -> FlinkRestClient:
        url = self.rest_url(ref)
        client = self._clients.get((ref, url))
        if client is None:
            client = FlinkRestClient(url, timeout=self.settings.rest_timeout, http=self._http_client())
            self._clients[(ref, url)] = client
        return client

    def _remember_rest_port(self, ref: ClusterRef, rest_service: JSON) -> None:
        """The REST Service's port is `rest.port` (the pods may listen on another `rest.bind-port`)."""
        for port in (rest_service.get("spec") or {}).get("ports") or []:
            if port.get("name") == names.PORT_REST and isinstance(port.get("port"), int):
                self._rest_ports[ref] = port["port"]
                return

    async def _learn_rest_port(self, ref: ClusterRef) -> None:
        """After an operator restart the port is read once from the REST Service."""
        if ref in self._rest_ports:
            return
        service = await self.objects.get(SERVICE, names.rest_service_name(ref.name), ref.namespace)
        if service is not None:
            self._remember_rest_port(ref, service)

    # ------------------------------------------------------------------ deploy

    async def deploy_session_cluster(self, request: ClusterRequest) -> DeployResult:
        if request.job is not None:
            raise DeploymentError(f"{request.ref}: a session cluster request must not carry a job")
        return await self._deploy(request)

    async def deploy_application_cluster(self, request: ClusterRequest) -> DeployResult:
        if request.job is None:
            raise DeploymentError(f"{request.ref}: an application cluster request needs a job")
        return await self._deploy(request)

    def build_objects(self, request: ClusterRequest) -> ClusterObjects:
        """The cluster's objects for a request (pod templates and log files from the request, else from
        the files its configuration names)."""
        conf = request.configuration
        jm_template = request.jobmanager_pod_template
        tm_template = request.taskmanager_pod_template
        try:
            if jm_template is None:
                jm_template = _read_template(conf.get(JOBMANAGER_TEMPLATE_KEY))
            if tm_template is None:
                tm_template = _read_template(conf.get(TASKMANAGER_TEMPLATE_KEY))
            log_files = dict(request.log_files) or self._log_files(conf.get(CONFIG_DIR_KEY))
            spec = cluster_spec(
                request,
                self.mode,
                jobmanager_template=jm_template,
                taskmanager_template=tm_template,
                log_files=log_files,
            )
            return build_cluster_objects(spec)
        except (ConfigError, ValueError, OSError) as error:
            raise DeploymentError(f"{request.ref}: cannot build the cluster's objects: {error}") from error

    def _ingress_spec(self, request: ClusterRequest, objects: ClusterObjects) -> IngressSpec | None:
        """`spec.ingress` of a request that manages it, checked by building its Ingress once (a bad
        template raises `DeploymentError` before anything is written)."""
        if request.ingress is None:
            return None
        ref = request.ref
        try:
            spec = IngressSpec.model_validate(dict(request.ingress))
            build_ingress(
                spec,
                name=ref.name,
                namespace=ref.namespace,
                rest_port=self._rest_ports.get(ref, DEFAULT_REST_PORT),
                owner=_ingress_owner(objects),
            )
        except (IngressTemplateError, ValueError) as error:
            raise DeploymentError(f"{ref}: spec.ingress: {error}") from error
        return spec

    async def _reconcile_ingress(
        self, request: ClusterRequest, objects: ClusterObjects, ingress: IngressSpec | None
    ) -> None:
        if not request.manage_ingress:
            return
        ref = request.ref
        await reconcile_ingress(
            self.objects,
            ingress,
            name=ref.name,
            namespace=ref.namespace,
            rest_port=self._rest_ports.get(ref, DEFAULT_REST_PORT),
            owner=_ingress_owner(objects),
        )

    def _log_files(self, directory: str | None) -> dict[str, str]:
        if not directory:
            return dict(self.settings.default_log_files)
        found = read_log_files(Path(directory))
        return found or dict(self.settings.default_log_files)

    async def _deploy(self, request: ClusterRequest) -> DeployResult:
        ref = request.ref
        objects = self.build_objects(request)
        self._remember_rest_port(ref, objects.rest_service)
        ingress = self._ingress_spec(request, objects) if request.manage_ingress else None
        url = self.rest_url(ref)
        existing = await self.objects.get(DEPLOYMENT, ref.name, ref.namespace)
        if existing is not None and self._same_deployment(existing, request):
            await self._complete(objects, existing)
            await self._reconcile_ingress(request, objects, ingress)
            return DeployResult(ref, started=False, rest_url=url, job_id=request.job_id)
        if existing is not None:
            _log.info("replacing the cluster of %s (generation %s)", ref, deployment_generation(existing))
            await self.delete_cluster(ref, delete_ha_data=False)
        settings = ClusterConfig(objects.configuration)
        if request.job is not None and settings.kubernetes_ha:
            await ha_data.remove_job_graphs(self.objects, ref)
        created = await self.objects.create_or_replace(objects.jobmanager_deployment)
        for child in objects.children(created["metadata"]["uid"]):
            await self.objects.create_or_replace(child)
        if objects.taskmanager_deployment is not None:
            await self.objects.create_or_replace(objects.taskmanager_deployment)
        await self._reconcile_ingress(request, objects, ingress)
        stores = {**objects.configuration}
        stores[CLEANUP_ENABLED_KEY] = request.configuration.get(CLEANUP_ENABLED_KEY, "true")
        await asyncio.to_thread(prune_after_deploy, stores)
        _log.info(
            "deployed %s cluster %s (%s, generation %d)",
            "application" if request.job else "session",
            ref,
            self.mode,
            request.generation,
        )
        return DeployResult(ref, started=True, rest_url=url, job_id=request.job_id)

    def _same_deployment(self, existing: JSON, request: ClusterRequest) -> bool:
        metadata = existing.get("metadata") or {}
        return (
            not metadata.get("deletionTimestamp")
            and deployment_generation(existing) == request.generation
            and (metadata.get("labels") or {}).get(LABEL_TYPE) == self.mode.type_label
        )

    async def _complete(self, objects: ClusterObjects, existing: JSON) -> None:
        """Create the companions a crashed earlier attempt may have left out (existing ones are kept)."""
        wanted = objects.children(existing["metadata"]["uid"])
        if objects.taskmanager_deployment is not None:
            wanted.append(objects.taskmanager_deployment)
        for obj in wanted:
            kind = {"ConfigMap": CONFIG_MAP, "Service": SERVICE, "Deployment": DEPLOYMENT}[obj["kind"]]
            metadata = obj["metadata"]
            if await self.objects.get(kind, metadata["name"], metadata["namespace"]) is None:
                _log.info("creating missing %s %s/%s", obj["kind"], metadata["namespace"], metadata["name"])
                await self.objects.create_or_replace(obj)

    # ------------------------------------------------------------------ delete

    async def delete_cluster(self, ref: ClusterRef, *, delete_ha_data: bool) -> None:
        propagation = self.settings.propagation
        deployments = [names.jobmanager_deployment_name(ref.name)]
        if self.mode is DeploymentMode.STANDALONE:
            deployments.append(names.taskmanager_deployment_name(ref.name))
        jobmanager = await self.objects.get(DEPLOYMENT, deployments[0], ref.namespace)
        if jobmanager is not None and propagation == "Foreground":
            await self._scale_down_jobmanager(ref)
        for name in deployments:
            await self.objects.delete(DEPLOYMENT, name, ref.namespace, propagation=propagation)
        for name in deployments:
            if not await self.objects.wait_gone(
                DEPLOYMENT, name, ref.namespace, within=self.settings.cleanup_timeout
            ):
                raise FlinkServiceError(
                    f"Deployment {ref.namespace}/{name} was still there "
                    f"{self.settings.cleanup_timeout:.0f} s after its deletion"
                )
        if propagation != "Orphan":
            await self._delete_leftovers(ref)
        if delete_ha_data:
            await ha_data.delete(self.objects, ref)
        self._clients = {key: c for key, c in self._clients.items() if key[0] != ref}
        self.forget_cluster(ref)

    async def _scale_down_jobmanager(self, ref: ClusterRef) -> None:
        """Stop the JobManager before its Deployment goes, so it cannot start new TaskManagers meanwhile."""
        await self.objects.merge_patch(
            DEPLOYMENT, names.jobmanager_deployment_name(ref.name), ref.namespace, {"spec": {"replicas": 0}}
        )
        gone = await self.objects.wait_none_labelled(
            POD,
            ref.namespace,
            names.jobmanager_selector(ref.name, self.mode),
            within=self.settings.jobmanager_pods_timeout,
        )
        if not gone:
            _log.warning("JobManager pods of %s still running after scaling to zero; deleting anyway", ref)

    async def _delete_leftovers(self, ref: ClusterRef) -> None:
        """Companions left without an owner (an attempt that crashed before setting it) go too."""
        ours = names.common_labels(ref.name, self.mode)
        for kind, name in (
            (CONFIG_MAP, names.config_map_name(ref.name)),
            (CONFIG_MAP, names.pod_template_config_map_name(ref.name)),
            (SERVICE, names.rest_service_name(ref.name)),
            (SERVICE, names.internal_service_name(ref.name)),
        ):
            found = await self.objects.get(kind, name, ref.namespace)
            labels = ((found or {}).get("metadata") or {}).get("labels") or {}
            if found is not None and all(labels.get(k) == v for k, v in ours.items()):
                await self.objects.delete(kind, name, ref.namespace)

    # ------------------------------------------------------------------ observe

    async def observe_jobmanager(self, ref: ClusterRef) -> KubernetesJobManagerObservation:
        deployment = await self.objects.get(
            DEPLOYMENT, names.jobmanager_deployment_name(ref.name), ref.namespace
        )
        pods: list[JSON] = []
        events: list[JSON] = []
        if deployment is not None:
            await self._learn_rest_port(ref)
            if not (deployment.get("status") or {}).get("availableReplicas"):
                pods = await self.objects.list(
                    POD, ref.namespace, names.jobmanager_selector(ref.name, self.mode)
                )
                if any(not _initialized(pod) for pod in pods):
                    events = await self.objects.list(
                        EVENT, ref.namespace, fields={"involvedObject.kind": "Pod", "reason": "FailedMount"}
                    )
        assessment = assess_jobmanager(deployment, pods, events)
        status = JobManagerStatus(assessment.status.value)
        url = self.rest_url(ref) if deployment is not None else None
        if status is not JobManagerStatus.DEPLOYED_NOT_READY:
            return KubernetesJobManagerObservation(
                status,
                reason=assessment.message,
                generation=assessment.generation,
                rest_url=url,
                error_reason=assessment.error_reason,
            )
        probe = FlinkRestClient(
            self.rest_url(ref),
            timeout=self.settings.readiness_timeout,
            retry=RetryPolicy.none(),
            http=self._http_client(),
        )
        try:
            overview = await probe.overview()
        except FlinkRestError as error:
            return KubernetesJobManagerObservation(
                JobManagerStatus.DEPLOYED_NOT_READY,
                reason=f"{assessment.message}; the REST API does not answer yet: {error}",
                generation=assessment.generation,
                rest_url=url,
            )
        return KubernetesJobManagerObservation(
            JobManagerStatus.READY,
            reason="JobManager is running and ready to receive REST API calls",
            generation=assessment.generation,
            rest_url=url,
            taskmanagers=overview.taskmanagers,
        )

    async def cluster_info(self, ref: ClusterRef) -> ClusterInfo:
        client = self._rest_client(ref)
        config = await unreachable_as_missing(ref, client.config())
        overview = await unreachable_as_missing(ref, client.overview())
        cpu, memory = await self._cluster_totals(ref, overview.taskmanagers)
        return ClusterInfo(
            flink_version=config.flink_version,
            flink_revision=config.flink_revision,
            total_cpu=cpu,
            total_memory_bytes=memory,
        )

    async def _cluster_configuration(self, ref: ClusterRef) -> dict[str, str] | None:
        """The flat configuration in the cluster's ConfigMap (None when there is none or it is unreadable)."""
        config_map = await self.objects.get(CONFIG_MAP, names.config_map_name(ref.name), ref.namespace)
        data = (config_map or {}).get("data") or {}
        for file_name, version in (
            ("config.yaml", FlinkVersion(2, 0)),
            ("flink-conf.yaml", FlinkVersion(1, 0)),
        ):
            if file_name in data:
                try:
                    return parse_rendered(data[file_name], version)
                except (ConfigError, ValueError) as error:
                    _log.info("cannot read the configuration of %s: %s", ref, error)
        return None

    async def checkpoint_stats_ttl(self, ref: ClusterRef) -> float:
        """`rest.cache.checkpoint-statistics.timeout` (else `web.refresh-interval`) of the cluster's own
        configuration; what the cluster reports when neither is set there."""
        known = self._stats_ttl.get(ref)
        if known is not None:
            return known
        conf = await self._cluster_configuration(ref) or {}
        for key in STATS_CACHE_KEYS:
            text = conf.get(key)
            if text:
                try:
                    ttl = parse_duration(text).total_seconds()
                except ValueError:
                    _log.info("%s of %s is not a duration: %r", key, ref, text)
                    continue
                self._stats_ttl[ref] = ttl
                return ttl
        return await super().checkpoint_stats_ttl(ref)

    async def _cluster_totals(self, ref: ClusterRef, taskmanagers: int) -> tuple[float, int]:
        """Cores and bytes of the JobManager replicas and the running TaskManagers (from the cluster's
        own configuration file; zero when it cannot be read)."""
        conf = await self._cluster_configuration(ref)
        if conf is None:
            return 0.0, 0
        try:
            settings = ClusterConfig(conf)
            jm, tm = Role.JOBMANAGER, Role.TASKMANAGER
            replicas = settings.jobmanager_replicas
            cpu = settings.cpu(jm) * replicas + settings.cpu(tm) * taskmanagers
            memory = (
                settings.process_memory_mib(jm) * replicas + settings.process_memory_mib(tm) * taskmanagers
            ) << 20
            return cpu, memory
        except (ConfigError, ValueError) as error:
            _log.info("cannot compute the resources of %s: %s", ref, error)
        return 0.0, 0

    # ------------------------------------------------------------------ HA

    async def ha_metadata_available(self, ref: ClusterRef) -> bool:
        return await ha_data.metadata_available(self.objects, ref)

    async def ha_has_checkpoint(self, ref: ClusterRef) -> bool:
        return await ha_data.has_checkpoint(self.objects, ref)


def _ingress_owner(objects: ClusterObjects) -> JSON | None:
    """The resource that owns the cluster, as the Ingress's controlling owner (upstream: controller=true)."""
    owners = (objects.jobmanager_deployment.get("metadata") or {}).get("ownerReferences") or []
    if not owners:
        return None
    return {**dict(owners[0]), "controller": True, "blockOwnerDeletion": True}


def _initialized(pod: JSON) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Initialized":
            return bool(condition.get("status") == "True")
    return False


def _read_template(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    try:
        loaded = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"pod template file {path} is not YAML: {error}") from error
    if loaded is None:
        return None
    if not isinstance(loaded, dict):
        raise ValueError(f"pod template file {path} does not hold an object")
    return dict(loaded)
