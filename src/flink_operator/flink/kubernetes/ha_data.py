"""Flink's Kubernetes HA ConfigMaps of a cluster: reading and deleting them (the rules are in `kube.ha`)."""

from __future__ import annotations

from flink_operator.api.constants import LABEL_APP, LABEL_TYPE, TYPE_NATIVE
from flink_operator.flink.kubernetes.objects_api import CONFIG_MAP, ObjectsApi
from flink_operator.flink.service import ClusterRef
from flink_operator.kube import ha
from flink_operator.kube.names import ha_config_map_labels


def _cluster_labels(ref: ClusterRef) -> dict[str, str]:
    # Upstream looks at every ConfigMap with the cluster's common labels and filters by name.
    return {LABEL_APP: ref.name, LABEL_TYPE: TYPE_NATIVE}


async def metadata_available(objects: ObjectsApi, ref: ClusterRef) -> bool:
    return ha.ha_metadata_available(await objects.list(CONFIG_MAP, ref.namespace, _cluster_labels(ref)))


async def has_checkpoint(objects: ObjectsApi, ref: ClusterRef) -> bool:
    return ha.has_checkpoint(await objects.list(CONFIG_MAP, ref.namespace, _cluster_labels(ref)))


async def remove_job_graphs(objects: ObjectsApi, ref: ClusterRef) -> int:
    """Remove the job-graph entries from the cluster's HA ConfigMaps; returns how many were removed."""
    removed = 0
    for config_map in await objects.list(CONFIG_MAP, ref.namespace, _cluster_labels(ref)):
        keys = ha.job_graph_keys(config_map)
        if keys:
            name = config_map["metadata"]["name"]
            await objects.merge_patch(CONFIG_MAP, name, ref.namespace, {"data": dict.fromkeys(keys)})
            removed += len(keys)
    return removed


async def delete(objects: ObjectsApi, ref: ClusterRef) -> int:
    """Delete the cluster's HA ConfigMaps (`configmap-type=high-availability`); returns how many."""
    deleted = 0
    for config_map in await objects.list(CONFIG_MAP, ref.namespace, ha_config_map_labels(ref.name)):
        if await objects.delete(CONFIG_MAP, config_map["metadata"]["name"], ref.namespace):
            deleted += 1
    return deleted
