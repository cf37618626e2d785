"""From a runtime-neutral `ClusterRequest` to the `ClusterSpec` the object builders take (pure).

The request's own fields are authoritative and are written into the configuration with the key names of
the target Flink version: job id (`$internal.pipeline.job-id`), restore path (`execution.state-recovery.path`
from 1.20, `execution.savepoint.path` before; any other restore path is removed), non-restored state,
entry class; the jar and program arguments travel as lists (so an argument containing `;` survives).
With HA storage and no JobResultStore path yet, a fresh one is added (upstream's FLINK-27569 workaround).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flink_operator.flink.service import ClusterRequest
from flink_operator.kube.cluster_config import ClusterConfig, FlinkVersion
from flink_operator.kube.cluster_objects import ClusterSpec
from flink_operator.kube.names import DeploymentMode

RESTORE_PATH_KEYS = ("execution.state-recovery.path", "execution.savepoint.path")
IGNORE_UNCLAIMED_KEYS = (
    "execution.state-recovery.ignore-unclaimed-state",
    "execution.savepoint.ignore-unclaimed-state",
)
JOB_ID_KEY = "$internal.pipeline.job-id"
MAIN_CLASS_KEY = "$internal.application.main"
PROGRAM_ARGS_KEY = "$internal.application.program-args"
JOB_RESULT_STORE_PATH_KEY = "job-result-store.storage-path"


def deploy_configuration(
    request: ClusterRequest, version: FlinkVersion, *, job_result_store_id: str | None = None
) -> dict[str, str]:
    """The request's configuration with its job fields applied (see the module docstring)."""
    conf = dict(request.configuration)
    modern = (version.major, version.minor) >= (1, 20)
    for key in RESTORE_PATH_KEYS:
        conf.pop(key, None)
    job = request.job
    if job is None:
        return conf
    if request.restore_path:
        conf[RESTORE_PATH_KEYS[0] if modern else RESTORE_PATH_KEYS[1]] = request.restore_path
    if request.allow_non_restored_state:
        conf[IGNORE_UNCLAIMED_KEYS[0] if modern else IGNORE_UNCLAIMED_KEYS[1]] = "true"
    if request.job_id:
        conf[JOB_ID_KEY] = request.job_id
    if job.entry_class:
        conf[MAIN_CLASS_KEY] = job.entry_class
    conf.pop(PROGRAM_ARGS_KEY, None)
    conf.pop("pipeline.jars", None)
    if job.parallelism is not None and job.parallelism > 0:
        conf["parallelism.default"] = str(job.parallelism)
    settings = ClusterConfig(conf)
    storage = settings.optional_string("high-availability.storageDir", "high-availability.storage-path")
    if settings.ha_enabled and storage and JOB_RESULT_STORE_PATH_KEY not in conf:
        conf.setdefault("job-result-store.delete-on-commit", "false")
        store_id = job_result_store_id or str(uuid.uuid4())
        conf[JOB_RESULT_STORE_PATH_KEY] = (
            f"{storage.rstrip('/')}/job-result-store/{request.ref.name}/{store_id}"
        )
    return conf


def cluster_spec(
    request: ClusterRequest,
    mode: DeploymentMode,
    *,
    jobmanager_template: Mapping[str, Any] | None,
    taskmanager_template: Mapping[str, Any] | None,
    log_files: Mapping[str, str],
    job_result_store_id: str | None = None,
) -> ClusterSpec:
    version = FlinkVersion.parse(request.flink_version)
    job = request.job
    return ClusterSpec(
        name=request.ref.name,
        namespace=request.ref.namespace,
        flink_version=version,
        mode=mode,
        application=job is not None,
        configuration=deploy_configuration(request, version, job_result_store_id=job_result_store_id),
        jobmanager_template=jobmanager_template,
        taskmanager_template=taskmanager_template,
        log_files=log_files,
        jars=[job.jar_uri] if job is not None and job.jar_uri else [],
        program_args=list(job.args) if job is not None else [],
        generation=request.generation,
        taskmanager_replicas=request.taskmanager_replicas,
    )
