"""StandaloneFlinkService: Flink clusters in Kubernetes standalone mode (`spec.mode: standalone`).

Flink runs its standalone entrypoints and is not Kubernetes-aware: the operator also creates the
TaskManager Deployment `<name>-taskmanager` and changes its replicas to scale (reactive mode, sessions).
Everything else is shared with native mode (`flink_operator.flink.kubernetes.service`).

Usage: `StandaloneFlinkService.from_configuration(kube_api, configuration)`; `await service.close()` at
the end.
"""

from __future__ import annotations

from typing import ClassVar

from flink_operator.flink.kubernetes.objects_api import DEPLOYMENT
from flink_operator.flink.kubernetes.service import KubernetesFlinkService, KubernetesJobManagerObservation
from flink_operator.flink.service import ClusterNotFoundError, ClusterRef
from flink_operator.kube.names import DeploymentMode, taskmanager_deployment_name

__all__ = ["KubernetesJobManagerObservation", "StandaloneFlinkService"]


class StandaloneFlinkService(KubernetesFlinkService):
    """FlinkService for standalone Kubernetes clusters."""

    mode: ClassVar[DeploymentMode] = DeploymentMode.STANDALONE

    async def scale_taskmanagers(self, ref: ClusterRef, replicas: int) -> None:
        """Set the TaskManager Deployment's replicas (what upstream does for reactive-mode rescaling).

        Repeat: setting the same count again is harmless.
        """
        if replicas < 0:
            raise ValueError(f"TaskManager replicas must not be negative, got {replicas}")
        patched = await self.objects.merge_patch(
            DEPLOYMENT, taskmanager_deployment_name(ref.name), ref.namespace, {"spec": {"replicas": replicas}}
        )
        if patched is None:
            raise ClusterNotFoundError(f"cluster {ref} has no TaskManager Deployment")
