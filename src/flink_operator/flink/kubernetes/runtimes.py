"""`KubernetesRuntimes`: one FlinkService for both Kubernetes modes, dispatching per cluster.

Upstream picks the native or standalone service per resource from `spec.mode`. Callers that hold one
FlinkService for all resources (the operator wiring) use this facade:

* deploys go to the mode named by the request's configuration key `kubernetes.operator.deployment.mode`
  (`native` when absent; the configuration builder puts `spec.mode` there; operator keys never reach
  Flink). Callers that know the mode may also use `for_mode(mode)` directly;
* every other call goes to the mode of the cluster's existing JobManager (or TaskManager) Deployment (its
  `type` label), remembered per cluster; a cluster without either is treated as native (both modes answer
  "missing" alike).

Usage: `runtimes = KubernetesRuntimes.from_configuration(kube_api, configuration)`; `await runtimes.close()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flink_operator.api.constants import LABEL_TYPE, TYPE_STANDALONE
from flink_operator.config import Configuration
from flink_operator.flink.kubernetes.objects_api import DEPLOYMENT
from flink_operator.flink.kubernetes.service import KubernetesFlinkService
from flink_operator.flink.kubernetes.settings import KubernetesSettings
from flink_operator.flink.native import NativeFlinkService
from flink_operator.flink.rest import CheckpointType, SavepointFormat
from flink_operator.flink.service import (
    CancelResult,
    CheckpointInfo,
    ClusterInfo,
    ClusterRef,
    ClusterRequest,
    DeploymentError,
    DeployResult,
    JobExceptionInfo,
    JobFailure,
    JobManagerObservation,
    JobSummary,
    SessionJobRequest,
    SnapshotResult,
    SnapshotTrigger,
    SuspendMode,
)
from flink_operator.flink.standalone import StandaloneFlinkService
from flink_operator.kube.names import (
    DeploymentMode,
    jobmanager_deployment_name,
    taskmanager_deployment_name,
)
from flink_operator.runtime.kube_api import KubeApi

DEPLOYMENT_MODE_KEY = "kubernetes.operator.deployment.mode"


def request_mode(request: ClusterRequest) -> DeploymentMode:
    """The mode a deploy request asks for (see the module docstring)."""
    text = (request.configuration.get(DEPLOYMENT_MODE_KEY) or "native").strip().lower()
    try:
        return DeploymentMode(text)
    except ValueError:
        raise DeploymentError(
            f"{request.ref}: {DEPLOYMENT_MODE_KEY} is {text!r}; expected native or standalone"
        ) from None


class KubernetesRuntimes:
    """FlinkService over `NativeFlinkService` and `StandaloneFlinkService` (see the module docstring)."""

    def __init__(self, native: NativeFlinkService, standalone: StandaloneFlinkService) -> None:
        self.native = native
        self.standalone = standalone
        self._modes: dict[ClusterRef, DeploymentMode] = {}

    @classmethod
    def from_configuration(cls, api: KubeApi, configuration: Configuration) -> KubernetesRuntimes:
        settings = KubernetesSettings.from_configuration(configuration)
        return cls(NativeFlinkService(api, settings), StandaloneFlinkService(api, settings))

    def for_mode(self, mode: DeploymentMode) -> KubernetesFlinkService:
        return self.native if mode is DeploymentMode.NATIVE else self.standalone

    async def close(self) -> None:
        await self.native.close()
        await self.standalone.close()

    async def _of(self, ref: ClusterRef) -> KubernetesFlinkService:
        mode = self._modes.get(ref)
        if mode is None:
            objects = self.native.objects
            found = await objects.get(DEPLOYMENT, jobmanager_deployment_name(ref.name), ref.namespace)
            if found is None:
                # a standalone cluster whose JobManager is gone may still have its TaskManagers
                found = await objects.get(DEPLOYMENT, taskmanager_deployment_name(ref.name), ref.namespace)
            labels = ((found or {}).get("metadata") or {}).get("labels") or {}
            standalone = labels.get(LABEL_TYPE) == TYPE_STANDALONE
            mode = DeploymentMode.STANDALONE if standalone else DeploymentMode.NATIVE
            if found is not None:
                self._modes[ref] = mode
        return self.for_mode(mode)

    def _known(self, ref: ClusterRef) -> KubernetesFlinkService:
        return self.for_mode(self._modes.get(ref, DeploymentMode.NATIVE))

    # ------------------------------------------------------------------ clusters

    async def deploy_session_cluster(self, request: ClusterRequest) -> DeployResult:
        mode = request_mode(request)
        self._modes[request.ref] = mode
        return await self.for_mode(mode).deploy_session_cluster(request)

    async def deploy_application_cluster(self, request: ClusterRequest) -> DeployResult:
        mode = request_mode(request)
        self._modes[request.ref] = mode
        return await self.for_mode(mode).deploy_application_cluster(request)

    async def delete_cluster(self, ref: ClusterRef, *, delete_ha_data: bool) -> None:
        await (await self._of(ref)).delete_cluster(ref, delete_ha_data=delete_ha_data)
        self._modes.pop(ref, None)

    async def observe_jobmanager(self, ref: ClusterRef) -> JobManagerObservation:
        return await (await self._of(ref)).observe_jobmanager(ref)

    def rest_url(self, ref: ClusterRef) -> str | None:
        return self._known(ref).rest_url(ref)

    async def cluster_info(self, ref: ClusterRef) -> ClusterInfo:
        return await (await self._of(ref)).cluster_info(ref)

    # ------------------------------------------------------------------ jobs (the same REST calls for both)

    async def submit_job(self, request: SessionJobRequest) -> str:
        return await (await self._of(request.cluster)).submit_job(request)

    async def list_jobs(self, ref: ClusterRef) -> list[JobSummary]:
        return await (await self._of(ref)).list_jobs(ref)

    async def job_status(self, ref: ClusterRef, job_id: str) -> JobSummary | None:
        return await (await self._of(ref)).job_status(ref, job_id)

    async def job_failure(self, ref: ClusterRef, job_id: str) -> JobFailure | None:
        return await (await self._of(ref)).job_failure(ref, job_id)

    async def job_exceptions(
        self, ref: ClusterRef, job_id: str, *, since_ms: int = 0, limit: int = 10
    ) -> list[JobExceptionInfo]:
        service = await self._of(ref)
        return await service.job_exceptions(ref, job_id, since_ms=since_ms, limit=limit)

    async def cancel_job(
        self,
        ref: ClusterRef,
        job_id: str,
        mode: SuspendMode,
        *,
        savepoint_dir: str | None = None,
        savepoint_format: SavepointFormat = SavepointFormat.CANONICAL,
        drain: bool = False,
    ) -> CancelResult:
        service = await self._of(ref)
        return await service.cancel_job(
            ref, job_id, mode, savepoint_dir=savepoint_dir, savepoint_format=savepoint_format, drain=drain
        )

    async def trigger_savepoint(
        self,
        ref: ClusterRef,
        job_id: str,
        *,
        target_dir: str | None = None,
        savepoint_format: SavepointFormat = SavepointFormat.CANONICAL,
    ) -> SnapshotTrigger:
        service = await self._of(ref)
        return await service.trigger_savepoint(
            ref, job_id, target_dir=target_dir, savepoint_format=savepoint_format
        )

    async def trigger_checkpoint(
        self, ref: ClusterRef, job_id: str, *, checkpoint_type: CheckpointType = CheckpointType.FULL
    ) -> SnapshotTrigger:
        return await (await self._of(ref)).trigger_checkpoint(ref, job_id, checkpoint_type=checkpoint_type)

    async def snapshot_result(self, ref: ClusterRef, trigger: SnapshotTrigger) -> SnapshotResult:
        return await (await self._of(ref)).snapshot_result(ref, trigger)

    async def dispose_savepoint(self, ref: ClusterRef | None, path: str) -> None:
        service = await self._of(ref) if ref is not None else self.native
        await service.dispose_savepoint(ref, path)

    async def latest_checkpoint(self, ref: ClusterRef, job_id: str) -> CheckpointInfo | None:
        return await (await self._of(ref)).latest_checkpoint(ref, job_id)

    async def ha_metadata_available(self, ref: ClusterRef) -> bool:
        return await self.native.ha_metadata_available(ref)

    async def ha_has_checkpoint(self, ref: ClusterRef) -> bool:
        return await self.native.ha_has_checkpoint(ref)

    async def rescale_job(self, ref: ClusterRef, job_id: str, parallelism: Mapping[str, int]) -> None:
        await (await self._of(ref)).rescale_job(ref, job_id, parallelism)

    async def job_metrics(self, ref: ClusterRef, job_id: str, names: Sequence[str]) -> dict[str, str]:
        return await (await self._of(ref)).job_metrics(ref, job_id, names)
