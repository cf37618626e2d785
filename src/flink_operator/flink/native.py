"""NativeFlinkService: Flink clusters in Kubernetes native mode (`spec.mode: native`, the default).

The operator creates what Flink's own native integration would (JobManager Deployment, REST and internal
Services, the configuration and TaskManager pod-template ConfigMaps; see `flink_operator.kube`), and the
JobManager creates and removes its TaskManager pods itself, with its service account. Everything else is
shared with standalone mode (`flink_operator.flink.kubernetes.service`).

Usage: `NativeFlinkService.from_configuration(kube_api, configuration)`; `await service.close()` at the end.
"""

from __future__ import annotations

from typing import ClassVar

from flink_operator.flink.kubernetes.service import KubernetesFlinkService, KubernetesJobManagerObservation
from flink_operator.kube.names import DeploymentMode

__all__ = ["KubernetesJobManagerObservation", "NativeFlinkService"]


class NativeFlinkService(KubernetesFlinkService):
    """FlinkService for native Kubernetes clusters."""

    mode: ClassVar[DeploymentMode] = DeploymentMode.NATIVE
