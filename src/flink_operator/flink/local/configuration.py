"""The Flink configuration a local cluster runs with, computed from a ClusterRequest (pure functions).

What the operator asked for is kept, except what would break the machine or the loopback-only rule:
addresses and ports are always ours (127.0.0.1, free ports), per-deployment directories are ours, reporters
that open listening sockets are dropped, and state-restore settings are taken from the request fields (so a
session cluster never applies a savepoint path to every submitted job). Memory, checkpoint storage and
retention get local defaults only where the request says nothing.

What it does not guarantee: that the resulting values are valid Flink values (Flink checks those when the
processes start, and the error is reported then).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from flink_operator.flink.local.distribution import FlinkDistribution
from flink_operator.flink.local.layout import ClusterLayout, DeploymentLayout
from flink_operator.flink.service import ClusterMode, ClusterRequest, DeploymentError

LOOPBACK = "127.0.0.1"

DEFAULT_JVM_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=48m -Xss512k"
"""Measured to cut each JVM's resident memory by ~30% and to start faster (C1 only, serial GC)."""


class MemoryPreset(enum.StrEnum):
    """Memory defaults applied where the request sets nothing.

    SMALL: 384m JobManager and TaskManager with sub-budgets shrunk so Flink's validation accepts them.
    FLINK: Flink's own defaults (1600m / 1728m from the stock configuration).
    """

    SMALL = "small"
    FLINK = "flink"


_SMALL_MEMORY = {
    "jobmanager.memory.process.size": "384m",
    "jobmanager.memory.jvm-metaspace.size": "112m",
    "jobmanager.memory.jvm-overhead.min": "48m",
    "jobmanager.memory.off-heap.size": "32m",
    "taskmanager.memory.process.size": "384m",
    "taskmanager.memory.jvm-metaspace.size": "112m",
    "taskmanager.memory.jvm-overhead.min": "48m",
    "taskmanager.memory.managed.size": "0m",
    "taskmanager.memory.framework.heap.size": "64m",
    "taskmanager.memory.framework.off-heap.size": "32m",
    "taskmanager.memory.network.min": "16m",
    "taskmanager.memory.network.max": "16m",
}
_FLINK_MEMORY = {
    "jobmanager.memory.process.size": "1600m",
    "taskmanager.memory.process.size": "1728m",
}

_DROPPED_PREFIXES = ("kubernetes.operator.", "job.autoscaler.", "metrics.reporter.", "$internal.application.")
_DROPPED_KEYS = frozenset(
    {
        "execution.target",
        "metrics.reporters",
        "pipeline.jars",
        "$internal.deployment.config-dir",
        "$internal.flink.version",
        "$internal.pipeline.job-id",
        "execution.savepoint.path",
        "execution.state-recovery.path",
        "execution.savepoint.ignore-unclaimed-state",
        "execution.state-recovery.ignore-unclaimed-state",
        "high-availability",
        "high-availability.type",
        "high-availability.zookeeper.quorum",
        "high-availability.cluster-id",
        "rest.bind-port",
    }
)
_CHECKPOINT_DIR_KEYS = ("execution.checkpointing.dir", "state.checkpoints.dir")
_SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
_RETENTION_KEYS = (
    "execution.checkpointing.externalized-checkpoint-retention",
    "execution.checkpointing.externalized-checkpoint-retention.enabled",
)
_HA_STORAGE_KEYS = ("high-availability.storageDir", "high-availability.storage-path")
TASKMANAGER_REPLICAS_KEY = "kubernetes.internal.taskmanager.replicas"


@dataclass(frozen=True)
class Ports:
    rest: int
    rpc: int
    zookeeper: int | None = None


def _first(conf: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if conf.get(key):
            return conf[key]
    return None


def file_uri(path: object) -> str:
    return f"file://{path}"


def effective_configuration(
    request: ClusterRequest,
    *,
    distribution: FlinkDistribution,
    cluster: ClusterLayout,
    deployment: DeploymentLayout,
    deployment_id: str,
    ports: Ports,
    memory_preset: MemoryPreset = MemoryPreset.SMALL,
    jvm_options: str = DEFAULT_JVM_OPTIONS,
) -> dict[str, str]:
    """The flat configuration written to the deployment's config file."""
    requested = {str(k): str(v) for k, v in request.configuration.items()}
    conf = {
        key: value
        for key, value in requested.items()
        if key not in _DROPPED_KEYS and not key.startswith(_DROPPED_PREFIXES)
    }
    preset = _SMALL_MEMORY if memory_preset is MemoryPreset.SMALL else _FLINK_MEMORY
    for key, value in preset.items():
        conf.setdefault(key, value)

    if _first(requested, _CHECKPOINT_DIR_KEYS) is None:
        conf["execution.checkpointing.dir"] = file_uri(cluster.checkpoints)
    if _first(requested, _SAVEPOINT_DIR_KEYS) is None:
        conf["execution.checkpointing.savepoint-dir"] = file_uri(cluster.savepoints)
    if _first(requested, _RETENTION_KEYS) is None:
        # Without it a JobManager stopped by SIGTERM deletes the checkpoints a last-state restore needs.
        conf["execution.checkpointing.externalized-checkpoint-retention"] = "RETAIN_ON_CANCELLATION"
    # A TaskManager that starts before its JobManager listens would otherwise wait 10 s to retry.
    conf.setdefault("cluster.registration.error-delay", "1000")
    if request.mode is ClusterMode.APPLICATION:
        # Keep the JobManager after the job ends so its final state can be observed (as upstream does).
        conf.setdefault("execution.shutdown-on-application-finish", "false")

    user_java_opts = requested.get("env.java.opts.all", "")
    conf["env.java.opts.all"] = " ".join(
        part for part in (distribution.stock_java_opts, jvm_options, user_java_opts) if part
    )
    conf.update(_network(ports))
    conf.update(
        {
            "env.log.dir": str(deployment.log),
            "env.pid.dir": str(deployment.tmp),
            "io.tmp.dirs": str(deployment.tmp),
            "web.tmpdir": str(deployment.tmp),
            "web.upload.dir": str(deployment.upload),
            # An application cluster copies its job's jar here and keeps a copy it finds under the same
            # name; Flink's default (/opt/flink/artifacts) would be shared by every cluster on the machine,
            # so a rebuilt jar was silently replaced by the first one ever copied.
            "user.artifacts.base-dir": str(deployment.artifacts),
        }
    )
    if request.ha_enabled:
        conf.update(_high_availability(request, requested, cluster, deployment_id, ports))
    else:
        conf["high-availability.type"] = "NONE"
        for key in _HA_STORAGE_KEYS:
            conf.pop(key, None)
    return conf


def _network(ports: Ports) -> dict[str, str]:
    return {
        "jobmanager.rpc.address": LOOPBACK,
        "jobmanager.bind-host": LOOPBACK,
        "jobmanager.rpc.port": str(ports.rpc),
        "taskmanager.host": LOOPBACK,
        "taskmanager.bind-host": LOOPBACK,
        "taskmanager.rpc.port": "0",
        "taskmanager.data.port": "0",
        "rest.address": LOOPBACK,
        "rest.bind-address": LOOPBACK,
        "rest.port": str(ports.rest),
        "blob.server.port": "0",
        "metrics.internal.query-service.port": "0",
        "high-availability.jobmanager.port": "0",
    }


def _high_availability(
    request: ClusterRequest,
    requested: Mapping[str, str],
    cluster: ClusterLayout,
    deployment_id: str,
    ports: Ports,
) -> dict[str, str]:
    if ports.zookeeper is None:
        raise DeploymentError(f"{request.ref}: HA was asked for but no ZooKeeper port was allocated")
    storage = _first(requested, _HA_STORAGE_KEYS) or file_uri(cluster.ha_storage)
    cluster_id = request.ref.name
    return {
        "high-availability.type": "zookeeper",
        "high-availability.zookeeper.quorum": f"{LOOPBACK}:{ports.zookeeper}",
        "high-availability.storageDir": storage,
        "high-availability.cluster-id": cluster_id,
        # A fresh JobResultStore path per deployment, as upstream does (FLINK-27569): a finished job id
        # recorded by an earlier deployment must not make the next one exit with "already terminal" (1443).
        "job-result-store.delete-on-commit": requested.get("job-result-store.delete-on-commit", "false"),
        "job-result-store.storage-path": job_result_store_path(storage, cluster_id, deployment_id),
    }


def job_result_store_path(ha_storage: str, cluster_id: str, deployment_id: str) -> str:
    return f"{ha_storage.rstrip('/')}/job-result-store/{cluster_id}/{deployment_id}"


def taskmanager_replicas(request: ClusterRequest) -> int:
    """TaskManagers to start: the request's count, else the config's, else what the job needs (app) or 1."""
    if request.taskmanager_replicas is not None:
        replicas = request.taskmanager_replicas
    elif request.configuration.get(TASKMANAGER_REPLICAS_KEY):
        text = request.configuration[TASKMANAGER_REPLICAS_KEY]
        try:
            replicas = int(text)
        except ValueError:
            raise DeploymentError(
                f"{request.ref}: {TASKMANAGER_REPLICAS_KEY} must be a whole number, got {text!r}"
            ) from None
    elif request.job is not None:
        slots = _int_option(request, "taskmanager.numberOfTaskSlots", 1)
        parallelism = request.job.parallelism or _int_option(request, "parallelism.default", 1)
        replicas = max(1, math.ceil(parallelism / max(1, slots)))
    else:
        replicas = 1
    if replicas < 1:
        raise DeploymentError(f"{request.ref}: taskManager.replicas must be at least 1, got {replicas}")
    return replicas


def _int_option(request: ClusterRequest, key: str, default: int) -> int:
    text = request.configuration.get(key)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise DeploymentError(f"{request.ref}: {key} must be a whole number, got {text!r}") from None


def config_file_name(flink_version: str) -> str:
    """Flink 1.19+ (and every 2.x) reads config.yaml; older releases read flink-conf.yaml."""
    major, minor = (int(part) for part in flink_version.split(".")[:2])
    return "config.yaml" if (major, minor) >= (1, 19) else "flink-conf.yaml"


def render_config_file(conf: Mapping[str, str]) -> str:
    """Flat ``key: value`` YAML lines (quoted where YAML needs it), as Flink's standard parser reads them."""
    return yaml.safe_dump(
        dict(sorted(conf.items())), default_flow_style=False, sort_keys=False, width=1 << 30
    )
