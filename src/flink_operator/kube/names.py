"""Names and labels of the Kubernetes objects of a Flink cluster (as Flink and upstream's operator use them).

Pure constants and functions: the object names derived from the cluster id, the label sets Flink puts on
its objects, the label selectors that find them again (JobManager pods, HA ConfigMaps), and the fixed paths
inside the Flink image. Nothing here talks to Kubernetes.
"""

from __future__ import annotations

import enum
from typing import Final

from flink_operator.api.constants import (
    COMPONENT_JOBMANAGER,
    COMPONENT_TASKMANAGER,
    LABEL_APP,
    LABEL_COMPONENT,
    LABEL_TYPE,
    TYPE_NATIVE,
    TYPE_STANDALONE,
)

CONFIG_MAP_PREFIX: Final = "flink-config-"
POD_TEMPLATE_CONFIG_MAP_PREFIX: Final = "pod-template-"
REST_SERVICE_SUFFIX: Final = "-rest"
TASKMANAGER_DEPLOYMENT_SUFFIX: Final = "-taskmanager"

CONFIG_VOLUME: Final = "flink-config-volume"
POD_TEMPLATE_VOLUME: Final = "pod-template-volume"
ARTIFACTS_VOLUME: Final = "user-artifacts-volume"
USRLIB_VOLUME: Final = "flink-usrlib"
POD_TEMPLATE_DIR: Final = "/opt/flink/pod-template"
TASKMANAGER_POD_TEMPLATE_FILE: Final = "taskmanager-pod-template.yaml"
USRLIB_DIR: Final = "/opt/flink/usrlib"

POD_IP_ENV: Final = "_POD_IP_ADDRESS"
"""Environment variable Flink's images and entrypoints read the pod IP from."""

LABEL_CONFIGMAP_TYPE: Final = "configmap-type"
CONFIGMAP_TYPE_HA: Final = "high-availability"

PORT_REST: Final = "rest"
PORT_RPC: Final = "jobmanager-rpc"
PORT_BLOB: Final = "blobserver"
PORT_TASKMANAGER_RPC: Final = "taskmanager-rpc"

_ENTRYPOINTS: Final = "org.apache.flink.kubernetes.entrypoint."
APPLICATION_ENTRYPOINT: Final = _ENTRYPOINTS + "KubernetesApplicationClusterEntrypoint"
SESSION_ENTRYPOINT: Final = _ENTRYPOINTS + "KubernetesSessionClusterEntrypoint"


class DeploymentMode(enum.StrEnum):
    """`spec.mode`: Flink manages its TaskManagers (native) or the operator does (standalone)."""

    NATIVE = "native"
    STANDALONE = "standalone"

    @property
    def type_label(self) -> str:
        return TYPE_NATIVE if self is DeploymentMode.NATIVE else TYPE_STANDALONE


def rest_service_name(cluster_id: str) -> str:
    return cluster_id + REST_SERVICE_SUFFIX


def internal_service_name(cluster_id: str) -> str:
    return cluster_id


def config_map_name(cluster_id: str) -> str:
    return CONFIG_MAP_PREFIX + cluster_id


def pod_template_config_map_name(cluster_id: str) -> str:
    return POD_TEMPLATE_CONFIG_MAP_PREFIX + cluster_id


def jobmanager_deployment_name(cluster_id: str) -> str:
    return cluster_id


def taskmanager_deployment_name(cluster_id: str) -> str:
    return cluster_id + TASKMANAGER_DEPLOYMENT_SUFFIX


def common_labels(cluster_id: str, mode: DeploymentMode) -> dict[str, str]:
    """`app` and `type`: on every object Flink (or the operator in its place) creates for the cluster."""
    return {LABEL_APP: cluster_id, LABEL_TYPE: mode.type_label}


def component_labels(cluster_id: str, mode: DeploymentMode, component: str) -> dict[str, str]:
    """The selector of a role's pods: `app`, `component`, `type` (in Flink's order)."""
    return {LABEL_APP: cluster_id, LABEL_COMPONENT: component, LABEL_TYPE: mode.type_label}


def jobmanager_selector(cluster_id: str, mode: DeploymentMode) -> dict[str, str]:
    return component_labels(cluster_id, mode, COMPONENT_JOBMANAGER)


def taskmanager_selector(cluster_id: str, mode: DeploymentMode) -> dict[str, str]:
    return component_labels(cluster_id, mode, COMPONENT_TASKMANAGER)


def ha_config_map_labels(cluster_id: str) -> dict[str, str]:
    """Labels of the ConfigMaps Flink's Kubernetes HA services create (in both deployment modes)."""
    return {LABEL_APP: cluster_id, LABEL_TYPE: TYPE_NATIVE, LABEL_CONFIGMAP_TYPE: CONFIGMAP_TYPE_HA}
