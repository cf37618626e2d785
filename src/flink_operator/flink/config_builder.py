"""The effective Flink configuration of a FlinkDeployment: its spec translated into flat Flink keys (§3.11).

Pure functions: `build_flink_configuration` turns a spec (plus the operator's scoped defaults for the
resource) into the configuration a runtime deploys with; `with_deployment_state` adds what only a concrete
deployment attempt knows (job id, restore path, JobResultStore path); `flink_only` strips operator keys.
Keys that only the Kubernetes runtimes read (image, service account, pod template files, owner reference,
JobManager annotations) are produced as well; the local runtime ignores them. Pod templates are layered by
`flink_operator.kube.pod_templates`, quantities parsed by `flink_operator.validation.quantities`.

Key names follow the target Flink version (`execution.state-recovery.path` from 1.20 on,
`kubernetes.container.image.ref` from 1.17 on, ...). The layered pod templates and the log configuration
are returned as content (`BuiltConfiguration.jobmanager_template`, `.taskmanager_template`, `.log_files`),
never written here; keys naming files are set only when the caller says in which directory it will write
them (`files_dir`, `BuiltConfiguration.files`). `spec.mode` is carried as
`kubernetes.operator.deployment.mode` (an operator key, never handed to Flink) so that a runtime serving
both Kubernetes modes can pick one.

Not guaranteed: that the values are valid for Flink (Flink checks them when it starts), nor that secrets in
`flinkConfiguration` are hidden (this is the configuration itself, not a log line).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from flink_operator.api import (
    ANNOTATION_GENERATION,
    FlinkDeploymentSpec,
    FlinkVersion,
    KubernetesDeploymentMode,
    Resource,
    ResourceRequirements,
    UpgradeMode,
)
from flink_operator.config import split_spec_configuration
from flink_operator.config.layering import OPERATOR_KEY_PREFIXES
from flink_operator.kube.pod_templates import pod_templates_for
from flink_operator.validation.quantities import QuantityError, parse_memory_amount, parse_quantity

__all__ = [
    "LAST_STATE_DUMMY_SAVEPOINT_PATH",
    "BuiltConfiguration",
    "ConfigBuildError",
    "OwnerInfo",
    "build_flink_configuration",
    "checkpoint_dir",
    "flink_only",
    "ha_enabled",
    "parse_cpu_quantity",
    "parse_memory_quantity",
    "restore_path_key",
    "savepoint_dir",
    "with_deployment_state",
]

LAST_STATE_DUMMY_SAVEPOINT_PATH = "KUBERNETES_OPERATOR_LAST_STATE"
"""Upstream's guard path for last-state restores: a lost HA store fails the job instead of an empty start."""

JOB_ID_KEY = "$internal.pipeline.job-id"
FLINK_VERSION_KEY = "$internal.flink.version"
CONFIG_DIR_KEY = "$internal.deployment.config-dir"
APPLICATION_MAIN_KEY = "$internal.application.main"
APPLICATION_ARGS_KEY = "$internal.application.program-args"
TASKMANAGER_REPLICAS_KEY = "kubernetes.internal.taskmanager.replicas"
JM_ANNOTATIONS_KEY = "kubernetes.jobmanager.annotations"
OWNER_REFERENCE_KEY = "kubernetes.jobmanager.owner.reference"
POD_TEMPLATE_JM_KEY = "kubernetes.pod-template-file.jobmanager"
POD_TEMPLATE_TM_KEY = "kubernetes.pod-template-file.taskmanager"
DEPLOYMENT_MODE_KEY = "kubernetes.operator.deployment.mode"
STARTUP_PROBE_KEY = "kubernetes.operator.jm-deployment.startup.probe.enabled"
MERGE_ARRAYS_BY_NAME_KEY = "kubernetes.operator.pod-template.merge-arrays-by-name"
HA_TYPE_KEYS = ("high-availability.type", "high-availability")
HA_STORAGE_KEY = "high-availability.storageDir"
CHECKPOINT_DIR_KEYS = ("execution.checkpointing.dir", "state.checkpoints.dir")
SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
CHECKPOINT_INTERVAL_KEY = "execution.checkpointing.interval"
CHECKPOINT_RETENTION_KEY = "execution.checkpointing.externalized-checkpoint-retention"
LAST_STATE_DEFAULT_CHECKPOINT_INTERVAL = "5 min"
_RESTORE_PATH_KEYS = ("execution.state-recovery.path", "execution.savepoint.path")
_IGNORE_UNCLAIMED_KEYS = (
    "execution.state-recovery.ignore-unclaimed-state",
    "execution.savepoint.ignore-unclaimed-state",
)
LOG_FILES = ("log4j-console.properties", "logback-console.xml")


class ConfigBuildError(ValueError):
    """A spec value cannot be translated (e.g. an unparsable memory quantity); the message names the field."""


@dataclass(frozen=True)
class OwnerInfo:
    """The owning resource, for `kubernetes.jobmanager.owner.reference`."""

    api_version: str
    kind: str
    name: str
    uid: str


@dataclass(frozen=True)
class BuiltConfiguration:
    """The flat configuration, the layered pod templates and log files as content, and (with `files_dir`)
    the files the configuration refers to (`path -> content`, to be written by the caller)."""

    configuration: dict[str, str]
    files: dict[str, str] = field(default_factory=dict)
    jobmanager_template: dict[str, Any] | None = None
    taskmanager_template: dict[str, Any] | None = None
    log_files: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- versions


def _at_least(version: FlinkVersion | None, major: int, minor: int) -> bool:
    # An unknown version is treated as the newest: the keys a current Flink reads.
    return version is None or version.major_minor >= (major, minor)


def restore_path_key(version: FlinkVersion | None) -> str:
    """`execution.state-recovery.path` (Flink 1.20+) or `execution.savepoint.path` (older)."""
    return _RESTORE_PATH_KEYS[0] if _at_least(version, 1, 20) else _RESTORE_PATH_KEYS[1]


def _ignore_unclaimed_key(version: FlinkVersion | None) -> str:
    return _IGNORE_UNCLAIMED_KEYS[0] if _at_least(version, 1, 20) else _IGNORE_UNCLAIMED_KEYS[1]


def _image_key(version: FlinkVersion | None) -> str:
    return "kubernetes.container.image.ref" if _at_least(version, 1, 17) else "kubernetes.container.image"


# --------------------------------------------------------------------------------------------- queries


def _first(conf: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = conf.get(key)
        if value:
            return value
    return None


def ha_enabled(conf: Mapping[str, str]) -> bool:
    """HA is on when `high-availability.type` (or the legacy `high-availability`) is set and not NONE."""
    value = _first(conf, HA_TYPE_KEYS)
    return value is not None and value.strip().upper() not in ("", "NONE")


def checkpoint_dir(conf: Mapping[str, str]) -> str | None:
    return _first(conf, CHECKPOINT_DIR_KEYS)


def savepoint_dir(conf: Mapping[str, str]) -> str | None:
    return _first(conf, SAVEPOINT_DIR_KEYS)


def flink_only(conf: Mapping[str, str]) -> dict[str, str]:
    """What may be handed to Flink: without `kubernetes.operator.*` and `job.autoscaler.*` keys."""
    return {key: value for key, value in conf.items() if not key.startswith(OPERATOR_KEY_PREFIXES)}


# --------------------------------------------------------------------------------------------- quantities


def parse_cpu_quantity(value: int | str | float, where: str = "cpu") -> float:
    """`500m` -> 0.5, `2` -> 2.0; raises `ConfigBuildError` naming `where`."""
    try:
        return float(parse_quantity(value))
    except QuantityError as error:
        raise ConfigBuildError(f"{where}: {value!r}: {error}") from None


def parse_memory_quantity(value: int | str, where: str = "memory") -> int:
    """Bytes of a memory value: Flink syntax first (`2048m` = 2048 MiB), else a Kubernetes quantity."""
    try:
        amount = parse_memory_amount(value) if isinstance(value, str) else parse_quantity(value)
    except QuantityError as error:
        raise ConfigBuildError(f"{where}: {value!r}: {error}") from None
    return math.ceil(amount)


def _memory_text(size: int) -> str:
    mib = 2**20
    return f"{size // mib}m" if size % mib == 0 else f"{size}b"


def _cpu_text(cpu: float) -> str:
    return repr(float(cpu))


def _ratio_text(ratio: float) -> str:
    return repr(round(ratio, 6))


# --------------------------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class _RoleResources:
    memory: int | None = None
    cpu: float | None = None
    memory_limit_factor: float | None = None
    cpu_limit_factor: float | None = None


def _role_resources(
    resources: ResourceRequirements | None, resource: Resource | None, where: str
) -> _RoleResources:
    if resources is not None and (resources.requests or resources.limits):
        requests = resources.requests or {}
        limits = resources.limits or {}
        memory = cpu = memory_factor = cpu_factor = None
        memory_source = requests.get("memory", limits.get("memory"))
        if memory_source is not None:
            memory = parse_memory_quantity(memory_source, f"{where}.resources memory")
            if "memory" in limits and "memory" in requests and memory > 0:
                memory_factor = (
                    parse_memory_quantity(limits["memory"], f"{where}.resources.limits.memory") / memory
                )
        cpu_source = requests.get("cpu", limits.get("cpu"))
        if cpu_source is not None:
            cpu = parse_cpu_quantity(cpu_source, f"{where}.resources cpu")
            if "cpu" in limits and "cpu" in requests and cpu > 0:
                cpu_factor = parse_cpu_quantity(limits["cpu"], f"{where}.resources.limits.cpu") / cpu
        return _RoleResources(memory, cpu, memory_factor, cpu_factor)
    if resource is not None:
        memory = (
            parse_memory_quantity(resource.memory, f"{where}.resource.memory")
            if resource.memory is not None
            else None
        )
        return _RoleResources(memory=memory, cpu=resource.cpu)
    return _RoleResources()


def _apply_resources(
    conf: dict[str, str], role: str, res: _RoleResources, version: FlinkVersion | None
) -> None:
    if res.memory is not None:
        conf[f"{role}.memory.process.size"] = _memory_text(res.memory)
    if res.cpu is not None:
        conf[f"kubernetes.{role}.cpu.amount"] = _cpu_text(res.cpu)
        if not _at_least(version, 1, 17):
            conf[f"kubernetes.{role}.cpu"] = _cpu_text(res.cpu)
    if res.cpu_limit_factor is not None:
        conf[f"kubernetes.{role}.cpu.limit-factor"] = _ratio_text(res.cpu_limit_factor)
    if res.memory_limit_factor is not None:
        conf[f"kubernetes.{role}.memory.limit-factor"] = _ratio_text(res.memory_limit_factor)


# --------------------------------------------------------------------------------------------- files


def _render_yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), default_flow_style=False, sort_keys=True)


# --------------------------------------------------------------------------------------------- the builder


def _map_text(entries: Mapping[str, str]) -> str:
    return ",".join(f"{key}:{value}" for key, value in entries.items())


def _parse_map_text(text: str | None) -> dict[str, str]:
    entries: dict[str, str] = {}
    for part in (text or "").split(","):
        key, sep, value = part.partition(":")
        if sep and key.strip():
            entries[key.strip()] = value.strip()
    return entries


def build_flink_configuration(
    spec: FlinkDeploymentSpec,
    *,
    name: str,
    namespace: str,
    base: Mapping[str, str],
    generation: int | None = None,
    owner: OwnerInfo | None = None,
    files_dir: str | None = None,
    merge_arrays_by_name: bool | None = None,
    startup_probe: bool | None = None,
) -> BuiltConfiguration:
    """The configuration a cluster for `spec` runs with, built in upstream's order.

    `base` is the operator default configuration with the resource's namespace and Flink-version defaults
    applied (`DefaultConfiguration.for_resource(...).as_dict()`). `generation` marks a deploy config: it adds
    the generation annotation for the JobManager. `files_dir` is where the caller will write `files`.
    `merge_arrays_by_name` and `startup_probe` default to the resource's
    `kubernetes.operator.pod-template.merge-arrays-by-name` and
    `kubernetes.operator.jm-deployment.startup.probe.enabled`.
    Raises `ConfigBuildError` naming the spec field that cannot be translated.
    """
    version = spec.flink_version
    accepted, _ignored_system_keys = split_spec_configuration(spec.flink_configuration)
    conf: dict[str, str] = {**base, **accepted}
    files: dict[str, str] = {}
    if merge_arrays_by_name is None:
        merge_arrays_by_name = _flag(conf, MERGE_ARRAYS_BY_NAME_KEY, default=False)
    if startup_probe is None:
        startup_probe = _flag(conf, STARTUP_PROBE_KEY, default=True)

    conf.setdefault("kubernetes.rest-service.exposed.type", "ClusterIP")
    conf.setdefault("web.cancel.enable", "false")
    if version is not None:
        conf[FLINK_VERSION_KEY] = version.value

    if spec.log_configuration:
        for file_name, content in spec.log_configuration.items():
            if files_dir is not None:
                files[f"{files_dir}/{file_name}"] = content
        if files_dir is not None:
            conf[CONFIG_DIR_KEY] = files_dir

    if spec.image:
        conf[_image_key(version)] = spec.image
    if spec.image_pull_policy:
        conf["kubernetes.container.image.pull-policy"] = spec.image_pull_policy
    if spec.service_account:
        conf["kubernetes.service-account"] = spec.service_account

    jm, tm = spec.job_manager, spec.task_manager
    templates = pod_templates_for(
        spec, merge_arrays_by_name=merge_arrays_by_name, jobmanager_startup_probe=startup_probe
    )
    jm_template, tm_template = templates.jobmanager, templates.taskmanager
    if files_dir is not None:
        if jm_template is not None and jm_template == tm_template:
            path = f"{files_dir}/pod-template.yaml"
            files[path] = _render_yaml(jm_template)
            conf[POD_TEMPLATE_JM_KEY] = conf[POD_TEMPLATE_TM_KEY] = path
        else:
            if jm_template is not None:
                path = f"{files_dir}/pod-template-jobmanager.yaml"
                files[path] = _render_yaml(jm_template)
                conf[POD_TEMPLATE_JM_KEY] = path
            if tm_template is not None:
                path = f"{files_dir}/pod-template-taskmanager.yaml"
                files[path] = _render_yaml(tm_template)
                conf[POD_TEMPLATE_TM_KEY] = path

    if jm is not None:
        _apply_resources(
            conf, "jobmanager", _role_resources(jm.resources, jm.resource, "jobManager"), version
        )
        if jm.replicas > 0:
            conf["kubernetes.jobmanager.replicas"] = str(jm.replicas)
    if tm is not None:
        _apply_resources(
            conf, "taskmanager", _role_resources(tm.resources, tm.resource, "taskManager"), version
        )
        if tm.replicas is not None:
            conf[TASKMANAGER_REPLICAS_KEY] = str(tm.replicas)

    job = spec.job
    if job is not None:
        conf["execution.target"] = "kubernetes-application"
        if job.jar_uri and spec.effective_mode is KubernetesDeploymentMode.NATIVE:
            conf["pipeline.jars"] = job.jar_uri
        parallelism = _parallelism(spec, conf)
        if parallelism is not None:
            conf["parallelism.default"] = str(parallelism)
        conf["execution.shutdown-on-application-finish"] = "false"
        conf.setdefault("execution.submit-failed-job-on-application-error", "true")
        conf.setdefault("pipeline.name", name)
        if job.upgrade_mode is UpgradeMode.LAST_STATE:
            conf.setdefault(CHECKPOINT_INTERVAL_KEY, LAST_STATE_DEFAULT_CHECKPOINT_INTERVAL)
        conf.setdefault(CHECKPOINT_RETENTION_KEY, "RETAIN_ON_CANCELLATION")
        if job.allow_non_restored_state is not None:
            conf[_ignore_unclaimed_key(version)] = "true" if job.allow_non_restored_state else "false"
        if job.entry_class:
            conf[APPLICATION_MAIN_KEY] = job.entry_class
        if job.args:
            conf[APPLICATION_ARGS_KEY] = ";".join(job.args)
    else:
        conf["execution.target"] = "kubernetes-session"

    conf[DEPLOYMENT_MODE_KEY] = spec.effective_mode.value
    conf["kubernetes.namespace"] = namespace
    conf["kubernetes.cluster-id"] = name
    if ha_enabled(conf):
        conf["high-availability.cluster-id"] = name

    if owner is not None:
        conf[OWNER_REFERENCE_KEY] = _map_text(
            {
                "apiVersion": owner.api_version,
                "kind": owner.kind,
                "name": owner.name,
                "uid": owner.uid,
                "blockOwnerDeletion": "true",
                "controller": "false",
            }
        )
    if generation is not None:
        annotations = _parse_map_text(conf.get(JM_ANNOTATIONS_KEY))
        annotations[ANNOTATION_GENERATION] = str(generation)
        conf[JM_ANNOTATIONS_KEY] = _map_text(annotations)
    return BuiltConfiguration(
        conf,
        files,
        jobmanager_template=jm_template,
        taskmanager_template=tm_template,
        log_files=dict(spec.log_configuration or {}),
    )


def _flag(conf: Mapping[str, str], key: str, *, default: bool) -> bool:
    """A boolean option as Flink reads it (`true`/`false`, any case); the validator reports bad values,
    so one is taken as the default here."""
    text = (conf.get(key) or "").strip().lower()
    if text in ("true", "false"):
        return text == "true"
    return default


def _parallelism(spec: FlinkDeploymentSpec, conf: Mapping[str, str]) -> int | None:
    assert spec.job is not None
    tm = spec.task_manager
    if tm is not None and tm.replicas is not None:
        slots_text = conf.get("taskmanager.numberOfTaskSlots", "1")
        try:
            slots = int(slots_text)
        except ValueError:
            raise ConfigBuildError(
                f"flinkConfiguration taskmanager.numberOfTaskSlots: {slots_text!r} is not a whole number"
            ) from None
        return tm.replicas * slots
    if spec.effective_mode is KubernetesDeploymentMode.STANDALONE:
        overrides = _parse_map_text(conf.get("pipeline.jobvertex-parallelism-overrides"))
        values = [int(v) for v in overrides.values() if v.isdigit()]
        if values:
            return max(values)
    if spec.job.parallelism > 0:
        return spec.job.parallelism
    return None


def with_deployment_state(
    conf: Mapping[str, str],
    *,
    version: FlinkVersion | None,
    job_id: str | None,
    restore_path: str | None,
    allow_non_restored_state: bool | None = None,
    job_result_store_id: str | None = None,
) -> dict[str, str]:
    """The configuration of one deployment attempt (contract §3.8 steps 2, 4, 6).

    Sets the job id, the restore path (or removes any user-set one), and with HA storage a fresh
    JobResultStore path `<ha storage>/job-result-store/<cluster-id>/<job_result_store_id>`.
    """
    result = dict(conf)
    for key in _RESTORE_PATH_KEYS:
        result.pop(key, None)
    if restore_path:
        result[restore_path_key(version)] = restore_path
    if allow_non_restored_state is not None:
        result[_ignore_unclaimed_key(version)] = "true" if allow_non_restored_state else "false"
    if job_id:
        result[JOB_ID_KEY] = job_id
    storage = result.get(HA_STORAGE_KEY)
    if storage and job_result_store_id and ha_enabled(result):
        result.setdefault("job-result-store.delete-on-commit", "false")
        cluster_id = result.get("kubernetes.cluster-id", "")
        result["job-result-store.storage-path"] = (
            f"{storage.rstrip('/')}/job-result-store/{cluster_id}/{job_result_store_id}"
        )
    return result
