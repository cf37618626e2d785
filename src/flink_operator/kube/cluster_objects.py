"""The Kubernetes objects of one Flink cluster, native or standalone (pure builders).

`build_cluster_objects(ClusterSpec)` gives every object a cluster needs:

* JobManager Deployment `<name>` (owner: the resource, from `kubernetes.jobmanager.owner.reference`;
  annotation `flinkdeployment.flink.apache.org/generation` when a generation is given);
* REST Service `<name>-rest` (type from `kubernetes.rest-service.exposed.type`) and, without HA, the
  headless internal Service `<name>` through which TaskManagers find the JobManager;
* ConfigMap `flink-config-<name>`: the configuration file for the version (`config.yaml` / `flink-conf.yaml`)
  and the log configuration files;
* native mode: ConfigMap `pod-template-<name>` with the TaskManager pod template, mounted into the
  JobManager, which creates its TaskManager pods itself (its service account needs the rights of §11);
* standalone mode: TaskManager Deployment `<name>-taskmanager` (the operator runs the TaskManagers).

The Services and ConfigMaps are owned by the JobManager Deployment (as Flink does it), so they go when it
goes; `ClusterObjects.children(uid)` sets that owner once the Deployment's uid is known. Objects carry their
namespace. Nothing is sent anywhere; the tests compare native objects with Flink's own and validate every
object against the Kubernetes schema.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from flink_operator.api.constants import ANNOTATION_GENERATION, COMPONENT_JOBMANAGER
from flink_operator.config import ConfigError
from flink_operator.kube import names
from flink_operator.kube.cluster_config import ClusterConfig, FlinkVersion, Role
from flink_operator.kube.config_file import cluster_side_configuration, render
from flink_operator.kube.names import DeploymentMode
from flink_operator.kube.pods import MainContainer, PodDecoration, decorate_pod

JSON = dict[str, Any]
LOG_FILE_PREFIXES = ("log4j", "logback")


@dataclass(frozen=True)
class ClusterSpec:
    """Everything the builders need, as plain data.

    `configuration` is the effective flat Flink configuration (operator keys may be present; they are
    dropped). Application clusters give their list-valued settings as sequences (`jars`, `program_args`);
    they end up as `pipeline.jars` and `$internal.application.program-args` (native) or on the standalone
    JobManager's command line. `log_files` maps file names (`log4j-console.properties`, ...) to contents.
    `taskmanager_replicas` is used in standalone mode only (None: ceil(parallelism / slots) for
    applications, 1 for sessions).
    """

    name: str
    namespace: str
    flink_version: FlinkVersion
    mode: DeploymentMode
    application: bool
    configuration: Mapping[str, str]
    jobmanager_template: Mapping[str, Any] | None = None
    taskmanager_template: Mapping[str, Any] | None = None
    log_files: Mapping[str, str] = field(default_factory=dict)
    jars: Sequence[str] = ()
    program_args: Sequence[str] = ()
    generation: int | None = None
    taskmanager_replicas: int | None = None


@dataclass(frozen=True)
class ClusterObjects:
    """The built objects; `children(uid)` are the ones owned by the JobManager Deployment."""

    jobmanager_deployment: JSON
    config_map: JSON
    rest_service: JSON
    internal_service: JSON | None = None
    pod_template_config_map: JSON | None = None
    taskmanager_deployment: JSON | None = None
    configuration: Mapping[str, str] = field(default_factory=dict)
    """The cluster-side configuration written into the config file (flat)."""

    def children(self, jobmanager_uid: str) -> list[JSON]:
        """ConfigMaps and Services, each with the JobManager Deployment (uid given) as controlling owner."""
        owned = [self.config_map, self.pod_template_config_map, self.internal_service, self.rest_service]
        reference = jobmanager_owner_reference(self.jobmanager_deployment["metadata"]["name"], jobmanager_uid)
        result = []
        for obj in owned:
            if obj is not None:
                child = copy.deepcopy(obj)
                child["metadata"]["ownerReferences"] = [dict(reference)]
                result.append(child)
        return result

    def all(self, jobmanager_uid: str) -> list[JSON]:
        """Every object in creation order: JobManager Deployment, its children, TaskManager Deployment."""
        found = [self.jobmanager_deployment, *self.children(jobmanager_uid)]
        if self.taskmanager_deployment is not None:
            found.append(self.taskmanager_deployment)
        return found


def jobmanager_owner_reference(deployment_name: str, uid: str) -> JSON:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment_name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def format_cpu(cores: float) -> str:
    """Cores as Flink writes them (Java's `Double.toString` for ordinary values: `1.0`, `0.5`)."""
    return repr(float(cores))


def resources(settings: ClusterConfig, role: Role) -> tuple[dict[str, str], dict[str, str]]:
    """Requests and limits of a role's main container (`cpu`, `memory`), limits scaled by the factors."""
    cpu = settings.cpu(role)
    memory = settings.process_memory_mib(role)
    requests = {"memory": f"{memory}Mi", "cpu": format_cpu(cpu)}
    limits = {
        "memory": f"{math.floor(memory * settings.memory_limit_factor(role))}Mi",
        "cpu": format_cpu(cpu * settings.cpu_limit_factor(role)),
    }
    return requests, limits


def _pod_ip_env() -> JSON:
    return {
        "name": names.POD_IP_ENV,
        "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
    }


def _environment(settings: ClusterConfig, role: Role) -> list[JSON]:
    env: list[JSON] = [{"name": k, "value": v} for k, v in settings.environment(role).items()]
    return [*env, _pod_ip_env()]


def _config_volume(spec: ClusterSpec, config_file: str) -> JSON:
    items = [{"key": name, "path": name} for name in sorted(spec.log_files)]
    items.append({"key": config_file, "path": config_file})
    return {
        "name": names.CONFIG_VOLUME,
        "configMap": {"name": names.config_map_name(spec.name), "items": items},
    }


def _jobmanager_ports(settings: ClusterConfig, blob_port: int) -> list[JSON]:
    return [
        {"name": names.PORT_REST, "containerPort": settings.rest_bind_port},
        {"name": names.PORT_RPC, "containerPort": settings.rpc_port},
        {"name": names.PORT_BLOB, "containerPort": blob_port},
    ]


def _standalone_jobmanager_args(spec: ClusterSpec, settings: ClusterConfig) -> list[str]:
    ha_args = ["-D", f"jobmanager.rpc.address=$({names.POD_IP_ENV})"] if settings.ha_enabled else []
    if not spec.application:
        return ["jobmanager", *ha_args]
    args = ["standalone-job"]
    entry_class = settings.optional_string("$internal.application.main")
    if entry_class:
        args += ["--job-classname", entry_class]
    restore = settings.optional_string("execution.state-recovery.path", "execution.savepoint.path")
    if restore:
        args += ["--fromSavepoint", restore]
    if settings.boolean(False, "execution.state-recovery.ignore-unclaimed-state") or settings.boolean(
        False, "execution.savepoint.ignore-unclaimed-state"
    ):
        args.append("--allowNonRestoredState")
    return [*args, *ha_args, *spec.program_args]


def _jobmanager_deployment(spec: ClusterSpec, settings: ClusterConfig, *, taskmanager_template: bool) -> JSON:
    role = Role.JOBMANAGER
    selector = names.jobmanager_selector(spec.name, spec.mode)
    labels = {**settings.labels(role), **selector}
    annotations = settings.annotations(role)
    if spec.generation is not None:
        annotations[ANNOTATION_GENERATION] = str(spec.generation)
    requests, limits = resources(settings, role)
    version = spec.flink_version
    mounts: list[JSON] = []
    volumes: list[JSON] = []
    if spec.mode is DeploymentMode.NATIVE:
        entry = " ".join(
            [
                "kubernetes-jobmanager.sh",
                "kubernetes-application" if spec.application else "kubernetes-session",
                settings.entrypoint_args(role),
            ]
        )
        args = ["bash", "-c", entry]
        if (version.major, version.minor) >= (1, 19):
            # Flink 1.19+ fetches user artifacts into this directory.
            mounts.append({"name": names.ARTIFACTS_VOLUME, "mountPath": settings.artifacts_dir})
            volumes.append({"name": names.ARTIFACTS_VOLUME, "emptyDir": {}})
    else:
        args = _standalone_jobmanager_args(spec, settings)
    mounts.append({"name": names.CONFIG_VOLUME, "mountPath": settings.conf_dir})
    volumes.append(_config_volume(spec, version.config_file_name))
    if taskmanager_template:
        template_file = names.TASKMANAGER_POD_TEMPLATE_FILE
        mounts.append({"name": names.POD_TEMPLATE_VOLUME, "mountPath": names.POD_TEMPLATE_DIR})
        volumes.append(
            {
                "name": names.POD_TEMPLATE_VOLUME,
                "configMap": {
                    "name": names.pod_template_config_map_name(spec.name),
                    "items": [{"key": template_file, "path": template_file}],
                },
            }
        )
    decoration = PodDecoration(
        labels=labels,
        annotations=annotations,
        service_account=settings.service_account(role),
        node_selector=settings.node_selector(role),
        tolerations=[t.manifest() for t in settings.tolerations(role)],
        image_pull_secrets=settings.image_pull_secrets,
        volumes=volumes,
        host_network=settings.host_network,
        main=MainContainer(
            image=settings.image(version),
            image_pull_policy=settings.image_pull_policy,
            command=[settings.entry_path],
            args=args,
            ports=_jobmanager_ports(settings, settings.blob_port),
            env=_environment(settings, role),
            requests=requests,
            limits=limits,
            volume_mounts=mounts,
        ),
    )
    metadata: JSON = {"name": names.jobmanager_deployment_name(spec.name), "namespace": spec.namespace}
    if annotations:
        metadata["annotations"] = dict(annotations)
    metadata["labels"] = labels
    owners = settings.owner_references
    if owners:
        metadata["ownerReferences"] = owners
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": settings.jobmanager_replicas,
            "selector": {"matchLabels": selector},
            "template": decorate_pod(spec.jobmanager_template, decoration),
        },
    }


def taskmanager_replicas(spec: ClusterSpec, settings: ClusterConfig) -> int:
    """Standalone TaskManager count: the spec's, else `kubernetes.internal.taskmanager.replicas`, else
    ceil(parallelism / slots) for applications and 1 for sessions."""
    if spec.taskmanager_replicas is not None:
        replicas = spec.taskmanager_replicas
    elif settings.raw("kubernetes.internal.taskmanager.replicas") is not None:
        replicas = settings.integer(1, "kubernetes.internal.taskmanager.replicas")
    elif spec.application:
        parallelism = settings.integer(1, "parallelism.default")
        slots = settings.integer(1, "taskmanager.numberOfTaskSlots")
        if slots < 1:
            key = "taskmanager.numberOfTaskSlots"
            raise ConfigError(f"{key}: {slots} must be at least 1", key=key)
        replicas = math.ceil(max(parallelism, 1) / slots)
    else:
        replicas = 1
    if replicas < 0:
        raise ConfigError(f"TaskManager replicas must not be negative, got {replicas}")
    return replicas


def _taskmanager_deployment(spec: ClusterSpec, settings: ClusterConfig) -> JSON:
    role = Role.TASKMANAGER
    selector = names.taskmanager_selector(spec.name, spec.mode)
    labels = {**settings.labels(role), **selector}
    annotations = settings.annotations(role)
    requests, limits = resources(settings, role)
    decoration = PodDecoration(
        labels=labels,
        annotations=annotations,
        service_account=settings.service_account(role),
        node_selector=settings.node_selector(role),
        tolerations=[t.manifest() for t in settings.tolerations(role)],
        image_pull_secrets=settings.image_pull_secrets,
        volumes=[_config_volume(spec, spec.flink_version.config_file_name)],
        host_network=settings.host_network,
        main=MainContainer(
            image=settings.image(spec.flink_version),
            image_pull_policy=settings.image_pull_policy,
            command=[settings.entry_path],
            args=["taskmanager"],
            ports=[{"name": names.PORT_TASKMANAGER_RPC, "containerPort": settings.taskmanager_rpc_port}],
            env=_environment(settings, role),
            requests=requests,
            limits=limits,
            volume_mounts=[{"name": names.CONFIG_VOLUME, "mountPath": settings.conf_dir}],
        ),
    )
    metadata: JSON = {"name": names.taskmanager_deployment_name(spec.name), "namespace": spec.namespace}
    if annotations:
        metadata["annotations"] = dict(annotations)
    metadata["labels"] = labels
    owners = settings.owner_references
    if owners:
        metadata["ownerReferences"] = owners
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": taskmanager_replicas(spec, settings),
            "selector": {"matchLabels": selector},
            "template": decorate_pod(spec.taskmanager_template, decoration),
        },
    }


def _rest_service(spec: ClusterSpec, settings: ClusterConfig) -> JSON:
    exposed = settings.rest_service_type
    service_spec: JSON = {}
    if exposed == "Headless_ClusterIP":
        service_spec["clusterIP"] = "None"
        exposed = "ClusterIP"
    service_spec.update(
        {
            "ports": [
                {"name": names.PORT_REST, "port": settings.rest_port, "targetPort": settings.rest_bind_port}
            ],
            "selector": names.jobmanager_selector(spec.name, spec.mode),
            "type": exposed,
        }
    )
    metadata: JSON = {"name": names.rest_service_name(spec.name), "namespace": spec.namespace}
    annotations = settings.rest_service_annotations
    if annotations:
        metadata["annotations"] = annotations
    metadata["labels"] = names.common_labels(spec.name, spec.mode)
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": service_spec}


def _internal_service(spec: ClusterSpec, settings: ClusterConfig) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": names.internal_service_name(spec.name),
            "namespace": spec.namespace,
            "labels": names.common_labels(spec.name, spec.mode),
        },
        "spec": {
            "clusterIP": "None",
            "ports": [
                {"name": names.PORT_RPC, "port": settings.rpc_port},
                {"name": names.PORT_BLOB, "port": settings.blob_port},
            ],
            "selector": names.jobmanager_selector(spec.name, spec.mode),
        },
    }


def _config_map(name: str, spec: ClusterSpec, data: Mapping[str, str]) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": spec.namespace,
            "labels": names.common_labels(spec.name, spec.mode),
        },
        "data": dict(data),
    }


def _check_log_files(log_files: Mapping[str, str]) -> None:
    for name in log_files:
        if not name.startswith(LOG_FILE_PREFIXES) or "/" in name:
            raise ConfigError(
                f"log configuration file {name!r}: expected a log4j*/logback* file name "
                "(e.g. log4j-console.properties, logback-console.xml)"
            )


def build_cluster_objects(spec: ClusterSpec) -> ClusterObjects:
    """Every object of the cluster (see the module docstring). Raises `ConfigError` for bad settings."""
    _check_log_files(spec.log_files)
    has_tm_template = spec.mode is DeploymentMode.NATIVE and spec.taskmanager_template is not None
    template_path = (
        f"{names.POD_TEMPLATE_DIR}/{names.TASKMANAGER_POD_TEMPLATE_FILE}" if has_tm_template else None
    )
    cluster_conf = cluster_side_configuration(
        spec.configuration,
        cluster_id=spec.name,
        namespace=spec.namespace,
        application=spec.application,
        mode=spec.mode,
        taskmanager_template_path=template_path,
    )
    lists: dict[str, Sequence[str]] = {}
    if spec.application and spec.mode is DeploymentMode.NATIVE:
        if spec.jars:
            lists["pipeline.jars"] = list(spec.jars)
        if spec.program_args:
            lists["$internal.application.program-args"] = list(spec.program_args)
    elif spec.application and spec.jars:
        # Standalone entrypoints load the job from the classpath; `local://` means a file in the image.
        lists["pipeline.classpaths"] = [_classpath_uri(jar) for jar in spec.jars]
    settings = ClusterConfig(cluster_conf)
    config_file = render(cluster_conf, spec.flink_version, lists=lists)
    data = {**dict(spec.log_files), spec.flink_version.config_file_name: config_file}
    jobmanager = _jobmanager_deployment(spec, settings, taskmanager_template=has_tm_template)
    template_map = None
    if has_tm_template:
        template_map = _config_map(
            names.pod_template_config_map_name(spec.name),
            spec,
            {
                names.TASKMANAGER_POD_TEMPLATE_FILE: yaml.safe_dump(
                    dict(spec.taskmanager_template or {}), sort_keys=False
                )
            },
        )
    return ClusterObjects(
        jobmanager_deployment=jobmanager,
        config_map=_config_map(names.config_map_name(spec.name), spec, data),
        rest_service=_rest_service(spec, settings),
        internal_service=None if settings.ha_enabled else _internal_service(spec, settings),
        pod_template_config_map=template_map,
        taskmanager_deployment=(
            _taskmanager_deployment(spec, settings) if spec.mode is DeploymentMode.STANDALONE else None
        ),
        configuration=cluster_conf,
    )


def _classpath_uri(jar: str) -> str:
    return "file://" + jar.removeprefix("local://") if jar.startswith("local://") else jar


def is_jobmanager_deployment(obj: Mapping[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return obj.get("kind") == "Deployment" and labels.get("component") == COMPONENT_JOBMANAGER
