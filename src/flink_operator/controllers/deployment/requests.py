"""From a FlinkDeployment spec to what the runtime needs: the deploy configuration and a ClusterRequest.

Pure: the configuration comes from `flink_operator.flink.config_builder`, the request adds the job, the
restore point, the job id and the HA flag (derived from the configuration, never guessed), and carries
the layered pod templates, the log configuration and (when the operator manages Ingresses) `spec.ingress`
as plain data, so no runtime depends on files on the operator's machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flink_operator.api import FlinkDeploymentSpec
from flink_operator.config import flatten_flink_configuration
from flink_operator.flink import config_builder
from flink_operator.flink.config_builder import OwnerInfo
from flink_operator.flink.service import ClusterRef, ClusterRequest
from flink_operator.flink.service import JobSpec as RuntimeJobSpec


def resource_configuration(
    spec: FlinkDeploymentSpec, *, name: str, namespace: str, defaults: Mapping[str, str]
) -> dict[str, str]:
    """The spec's configuration without deployment specifics (what the observer and options read)."""
    return config_builder.build_flink_configuration(
        spec, name=name, namespace=namespace, base=defaults, startup_probe=False
    ).configuration


def user_job_id(spec: FlinkDeploymentSpec) -> str | None:
    """A job id the user fixed with `$internal.pipeline.job-id` (upstream honours it)."""
    value = flatten_flink_configuration(spec.flink_configuration).get(config_builder.JOB_ID_KEY)
    return value.strip() if value and value.strip() else None


def cluster_request(
    spec: FlinkDeploymentSpec,
    *,
    ref: ClusterRef,
    defaults: Mapping[str, str],
    generation: int,
    job_id: str,
    restore_path: str | None,
    deployment_id: str,
    owner: OwnerInfo | None = None,
    manage_ingress: bool = False,
) -> ClusterRequest:
    """The request that deploys `spec` as an application cluster; raises `ConfigBuildError`.

    `manage_ingress` is `kubernetes.operator.ingress.manage`: the runtime then keeps the cluster's Ingress
    in line with `spec.ingress` (and removes it when the spec has none)."""
    assert spec.job is not None, "application clusters need a job"
    assert spec.flink_version is not None, "the version check comes first"
    built = config_builder.build_flink_configuration(
        spec, name=ref.name, namespace=ref.namespace, base=defaults, generation=generation, owner=owner
    )
    configuration = config_builder.with_deployment_state(
        built.configuration,
        version=spec.flink_version,
        job_id=job_id,
        restore_path=restore_path,
        allow_non_restored_state=spec.job.allow_non_restored_state,
        job_result_store_id=deployment_id,
    )
    parallelism_text = configuration.get("parallelism.default")
    parallelism = int(parallelism_text) if parallelism_text and parallelism_text.isdigit() else None
    task_manager = spec.task_manager
    return ClusterRequest(
        ref=ref,
        flink_version=spec.flink_version.value,
        configuration=configuration,
        generation=generation,
        job=RuntimeJobSpec(
            jar_uri=spec.job.jar_uri,
            entry_class=spec.job.entry_class,
            args=tuple(spec.job.args),
            parallelism=parallelism,
        ),
        restore_path=restore_path,
        job_id=job_id,
        allow_non_restored_state=bool(spec.job.allow_non_restored_state),
        ha_enabled=config_builder.ha_enabled(configuration),
        taskmanager_replicas=task_manager.replicas if task_manager is not None else None,
        jobmanager_pod_template=built.jobmanager_template,
        taskmanager_pod_template=built.taskmanager_template,
        log_files=built.log_files,
        ingress=ingress_document(spec) if manage_ingress else None,
        manage_ingress=manage_ingress,
    )


def session_request(
    spec: FlinkDeploymentSpec,
    *,
    ref: ClusterRef,
    defaults: Mapping[str, str],
    generation: int,
    owner: OwnerInfo | None = None,
    manage_ingress: bool = False,
) -> ClusterRequest:
    """The request that deploys `spec` as a session cluster; raises `ConfigBuildError`.

    `manage_ingress` as for `cluster_request`."""
    assert spec.job is None, "session clusters have no job"
    assert spec.flink_version is not None, "the version check comes first"
    built = config_builder.build_flink_configuration(
        spec, name=ref.name, namespace=ref.namespace, base=defaults, generation=generation, owner=owner
    )
    task_manager = spec.task_manager
    return ClusterRequest(
        ref=ref,
        flink_version=spec.flink_version.value,
        configuration=built.configuration,
        generation=generation,
        ha_enabled=config_builder.ha_enabled(built.configuration),
        taskmanager_replicas=task_manager.replicas if task_manager is not None else None,
        jobmanager_pod_template=built.jobmanager_template,
        taskmanager_pod_template=built.taskmanager_template,
        log_files=built.log_files,
        ingress=ingress_document(spec) if manage_ingress else None,
        manage_ingress=manage_ingress,
    )


def ingress_document(spec: FlinkDeploymentSpec) -> dict[str, Any] | None:
    """`spec.ingress` as the JSON the resource holds (None when the spec has none)."""
    return spec.ingress.to_dict() if spec.ingress is not None else None
