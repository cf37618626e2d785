"""Flink's Kubernetes HA metadata, recognised in ConfigMaps (contract §3.10): pure predicates.

Flink's Kubernetes HA services keep the leader addresses, the submitted job graphs and the completed
checkpoints of a cluster in ConfigMaps labelled `app=<cluster-id>`, `type=flink-native-kubernetes`,
`configmap-type=high-availability` (in standalone mode too). Upstream's rules, kept here:

* "HA metadata available" = a non-deleted ConfigMap of the cluster (not the autoscaler's) whose name ends
  in `-config-map` but not `-cluster-config-map`, or ends in `-jobmanager-leader`;
* "at least one checkpoint" = such a ConfigMap with a `checkpointID-*` key;
* before an application is (re)submitted, the job-graph entries (`jobGraph-*`, `executionPlan-*`) are
  removed so a changed job configuration takes effect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flink_operator.api.constants import COMPONENT_AUTOSCALER, LABEL_COMPONENT

JSON = Mapping[str, Any]
JOB_GRAPH_PREFIXES = ("jobGraph-", "executionPlan-")
CHECKPOINT_PREFIX = "checkpointID-"


def is_ha_metadata(config_map: JSON) -> bool:
    metadata = config_map.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return False
    if (metadata.get("labels") or {}).get(LABEL_COMPONENT) == COMPONENT_AUTOSCALER:
        return False
    name = str(metadata.get("name", ""))
    if name.endswith("-config-map"):
        return not name.endswith("-cluster-config-map")
    return name.endswith("-jobmanager-leader")


def ha_metadata_available(config_maps: Iterable[JSON]) -> bool:
    return any(is_ha_metadata(cm) for cm in config_maps)


def has_checkpoint(config_maps: Iterable[JSON]) -> bool:
    return any(
        is_ha_metadata(cm) and any(key.startswith(CHECKPOINT_PREFIX) for key in cm.get("data") or {})
        for cm in config_maps
    )


def job_graph_keys(config_map: JSON) -> list[str]:
    """The job-graph entries of an HA ConfigMap (removed before an application is resubmitted)."""
    return [key for key in config_map.get("data") or {} if key.startswith(JOB_GRAPH_PREFIXES)]
