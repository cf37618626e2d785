"""The spec -> Flink configuration translation (contract §3.11), per Flink version where keys differ."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from flink_operator.api import ANNOTATION_GENERATION, FlinkDeploymentSpec
from flink_operator.flink.config_builder import (
    LAST_STATE_DUMMY_SAVEPOINT_PATH,
    ConfigBuildError,
    OwnerInfo,
    build_flink_configuration,
    flink_only,
    ha_enabled,
    parse_cpu_quantity,
    parse_memory_quantity,
    restore_path_key,
    with_deployment_state,
)

pytestmark = pytest.mark.unit

JOB = {"jarURI": "local:///opt/flink/usrlib/job.jar", "parallelism": 2, "upgradeMode": "stateless"}


def spec(**fields: Any) -> FlinkDeploymentSpec:
    document: dict[str, Any] = {"flinkVersion": "v2_3", "serviceAccount": "flink", "job": dict(JOB)}
    document.update(fields)
    return FlinkDeploymentSpec.from_dict({k: v for k, v in document.items() if v is not None})


def build(value: FlinkDeploymentSpec, base: dict[str, str] | None = None, **kwargs: Any) -> dict[str, str]:
    return build_flink_configuration(
        value, name="demo", namespace="team", base=base or {}, **kwargs
    ).configuration


def test_defaults_cluster_identity_and_application_keys() -> None:
    conf = build(spec())
    assert conf["kubernetes.rest-service.exposed.type"] == "ClusterIP"
    assert conf["web.cancel.enable"] == "false"
    assert conf["$internal.flink.version"] == "v2_3"
    assert conf["kubernetes.namespace"] == "team"
    assert conf["kubernetes.cluster-id"] == "demo"
    assert conf["execution.target"] == "kubernetes-application"
    assert conf["pipeline.jars"] == JOB["jarURI"]
    assert conf["parallelism.default"] == "2"
    assert conf["execution.shutdown-on-application-finish"] == "false"
    assert conf["execution.submit-failed-job-on-application-error"] == "true"
    assert conf["pipeline.name"] == "demo"
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    assert "execution.checkpointing.interval" not in conf  # only last-state gets a default interval
    assert "high-availability.cluster-id" not in conf


def test_user_values_win_over_defaults_and_base_config_is_layered_under_the_spec() -> None:
    base = {"taskmanager.numberOfTaskSlots": "4", "web.cancel.enable": "true", "pipeline.name": "base"}
    conf = build(
        spec(
            flinkConfiguration={
                "pipeline": {"name": "mine"},
                "execution.checkpointing": {"externalized-checkpoint-retention": "DELETE_ON_CANCELLATION"},
            }
        ),
        base,
    )
    assert conf["web.cancel.enable"] == "true"
    assert conf["pipeline.name"] == "mine"
    assert conf["taskmanager.numberOfTaskSlots"] == "4"
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "DELETE_ON_CANCELLATION"


def test_system_operator_keys_in_the_spec_are_ignored() -> None:
    conf = build(spec(flinkConfiguration={"kubernetes.operator.reconcile.interval": "1 s"}))
    assert "kubernetes.operator.reconcile.interval" not in conf


def test_session_cluster_target() -> None:
    conf = build(spec(job=None))
    assert conf["execution.target"] == "kubernetes-session"
    assert "pipeline.jars" not in conf and "parallelism.default" not in conf


def test_parallelism_from_taskmanager_replicas_times_slots() -> None:
    conf = build(spec(taskManager={"replicas": 3}, flinkConfiguration={"taskmanager.numberOfTaskSlots": "2"}))
    assert conf["parallelism.default"] == "6"
    assert conf["kubernetes.internal.taskmanager.replicas"] == "3"


def test_bad_slot_count_names_the_key() -> None:
    with pytest.raises(ConfigBuildError, match=r"taskmanager\.numberOfTaskSlots"):
        build(spec(taskManager={"replicas": 3}, flinkConfiguration={"taskmanager.numberOfTaskSlots": "two"}))


def test_standalone_parallelism_from_vertex_overrides() -> None:
    conf = build(
        spec(
            mode="standalone",
            job={**JOB, "parallelism": 1},
            flinkConfiguration={"pipeline.jobvertex-parallelism-overrides": "a:3,b:5"},
        )
    )
    assert conf["parallelism.default"] == "5"
    assert "pipeline.jars" not in conf  # standalone puts the jar on the classpath instead


def test_last_state_gets_a_default_checkpoint_interval_unless_set() -> None:
    assert (
        build(spec(job={**JOB, "upgradeMode": "last-state"}))["execution.checkpointing.interval"] == "5 min"
    )
    conf = build(
        spec(
            job={**JOB, "upgradeMode": "last-state"},
            flinkConfiguration={"execution.checkpointing.interval": "10 s"},
        )
    )
    assert conf["execution.checkpointing.interval"] == "10 s"


def test_job_entry_class_args_and_non_restored_state() -> None:
    conf = build(
        spec(job={**JOB, "entryClass": "demo.Main", "args": ["--a", "1"], "allowNonRestoredState": True})
    )
    assert conf["$internal.application.main"] == "demo.Main"
    assert conf["$internal.application.program-args"] == "--a;1"
    assert conf["execution.state-recovery.ignore-unclaimed-state"] == "true"


@pytest.mark.parametrize(
    ("version", "image_key", "recovery_key", "legacy_cpu"),
    [
        ("v1_16", "kubernetes.container.image", "execution.savepoint.path", True),
        ("v1_19", "kubernetes.container.image.ref", "execution.savepoint.path", False),
        ("v1_20", "kubernetes.container.image.ref", "execution.state-recovery.path", False),
        ("v2_0", "kubernetes.container.image.ref", "execution.state-recovery.path", False),
        ("v2_3", "kubernetes.container.image.ref", "execution.state-recovery.path", False),
    ],
)
def test_version_specific_keys(version: str, image_key: str, recovery_key: str, legacy_cpu: bool) -> None:
    value = spec(
        flinkVersion=version, image="flink:x", jobManager={"resource": {"cpu": 1.5, "memory": "2048m"}}
    )
    conf = build(value)
    assert conf[image_key] == "flink:x"
    assert conf["kubernetes.jobmanager.cpu.amount"] == "1.5"
    assert ("kubernetes.jobmanager.cpu" in conf) is legacy_cpu
    assert conf["$internal.flink.version"] == version
    deployed = with_deployment_state(conf, version=value.flink_version, job_id=None, restore_path="file:/sp")
    assert deployed[recovery_key] == "file:/sp"
    assert restore_path_key(value.flink_version) == recovery_key
    other = {"execution.savepoint.path", "execution.state-recovery.path"} - {recovery_key}
    assert not other & set(deployed)


def test_image_pull_policy_and_service_account() -> None:
    conf = build(spec(imagePullPolicy="Always", serviceAccount="runner"))
    assert conf["kubernetes.container.image.pull-policy"] == "Always"
    assert conf["kubernetes.service-account"] == "runner"


def test_resources_memory_cpu_and_limit_factors() -> None:
    value = spec(
        jobManager={
            "resources": {
                "requests": {"cpu": "500m", "memory": "1Gi"},
                "limits": {"cpu": "1", "memory": "2Gi"},
            },
            "replicas": 2,
        },
        taskManager={"resources": {"limits": {"cpu": 2, "memory": "3000Mi"}}},
    )
    conf = build(value)
    assert conf["jobmanager.memory.process.size"] == "1024m"
    assert conf["kubernetes.jobmanager.cpu.amount"] == "0.5"
    assert conf["kubernetes.jobmanager.cpu.limit-factor"] == "2.0"
    assert conf["kubernetes.jobmanager.memory.limit-factor"] == "2.0"
    assert conf["kubernetes.jobmanager.replicas"] == "2"
    # Requests fall back to limits; no factor without both.
    assert conf["taskmanager.memory.process.size"] == "3000m"
    assert conf["kubernetes.taskmanager.cpu.amount"] == "2.0"
    assert "kubernetes.taskmanager.cpu.limit-factor" not in conf


def test_deprecated_resource_memory_flink_syntax_then_kubernetes_quantity() -> None:
    assert (
        build(spec(taskManager={"resource": {"memory": "2g"}}))["taskmanager.memory.process.size"] == "2048m"
    )
    assert build(spec(taskManager={"resource": {"memory": "1.5Gi"}}))["taskmanager.memory.process.size"] == (
        "1536m"
    )


def test_unparsable_quantity_names_the_field() -> None:
    with pytest.raises(ConfigBuildError, match=r"taskManager\.resource\.memory"):
        build(spec(taskManager={"resource": {"memory": "lots"}}))


def test_quantity_parsers() -> None:
    assert parse_cpu_quantity("250m") == 0.25
    assert parse_cpu_quantity(3) == 3.0
    assert parse_memory_quantity("1Gi") == 2**30
    assert parse_memory_quantity("1G") == 2**30  # Flink syntax is tried first (case-insensitive units)
    assert parse_memory_quantity("1e3") == 1000  # only Kubernetes syntax reads this
    assert parse_memory_quantity("512m") == 512 * 2**20  # Flink syntax first: m = MiB
    assert parse_memory_quantity(1024) == 1024


def test_ha_keys_and_detection() -> None:
    conf = build(
        spec(
            flinkConfiguration={
                "high-availability.type": "kubernetes",
                "high-availability.storageDir": "s3://b/ha",
            }
        )
    )
    assert conf["high-availability.cluster-id"] == "demo"
    assert ha_enabled(conf)
    assert ha_enabled({"high-availability": "zookeeper"})
    assert not ha_enabled({"high-availability.type": "NONE"})
    assert not ha_enabled({"high-availability": "none"})
    assert not ha_enabled({})


def test_deployment_state_job_id_restore_and_job_result_store() -> None:
    value = spec(
        flinkConfiguration={
            "high-availability.type": "kubernetes",
            "high-availability.storageDir": "s3://b/ha/",
            "execution.state-recovery.path": "s3://user-set",
        }
    )
    conf = with_deployment_state(
        build(value),
        version=value.flink_version,
        job_id="ab" * 16,
        restore_path=None,
        job_result_store_id="uuid-1",
    )
    assert conf["$internal.pipeline.job-id"] == "ab" * 16
    assert "execution.state-recovery.path" not in conf  # a user-set path is removed without a restore
    assert conf["job-result-store.storage-path"] == "s3://b/ha/job-result-store/demo/uuid-1"
    assert conf["job-result-store.delete-on-commit"] == "false"
    guarded = with_deployment_state(
        conf, version=value.flink_version, job_id=None, restore_path=LAST_STATE_DUMMY_SAVEPOINT_PATH
    )
    assert guarded["execution.state-recovery.path"] == LAST_STATE_DUMMY_SAVEPOINT_PATH


def test_no_job_result_store_path_without_ha() -> None:
    conf = with_deployment_state(
        build(spec()), version=None, job_id="x", restore_path=None, job_result_store_id="u"
    )
    assert "job-result-store.storage-path" not in conf


def test_owner_reference_and_generation_annotation_merge_with_user_annotations() -> None:
    conf = build(
        spec(flinkConfiguration={"kubernetes.jobmanager.annotations": "team:data"}),
        generation=7,
        owner=OwnerInfo("flink.apache.org/v1beta1", "FlinkDeployment", "demo", "uid-1"),
    )
    assert conf["kubernetes.jobmanager.owner.reference"] == (
        "apiVersion:flink.apache.org/v1beta1,kind:FlinkDeployment,name:demo,uid:uid-1,"
        "blockOwnerDeletion:true,controller:false"
    )
    assert conf["kubernetes.jobmanager.annotations"] == f"team:data,{ANNOTATION_GENERATION}:7"


def test_operator_keys_are_stripped_for_flink() -> None:
    conf = {"kubernetes.operator.x": "1", "job.autoscaler.enabled": "true", "a": "b"}
    assert flink_only(conf) == {"a": "b"}


def test_pod_templates_written_as_files_with_keys() -> None:
    common = {
        "spec": {"containers": [{"name": "flink-main-container", "env": [{"name": "A", "value": "1"}]}]}
    }
    built = build_flink_configuration(
        spec(
            podTemplate=common,
            taskManager={"podTemplate": {"metadata": {"labels": {"role": "tm"}}}},
            jobManager={"resources": {"requests": {"memory": "1Gi", "ephemeral-storage": "2Gi"}}},
        ),
        name="demo",
        namespace="team",
        base={},
        files_dir="/tmp/conf",
    )
    conf = built.configuration
    jm = yaml.safe_load(built.files[conf["kubernetes.pod-template-file.jobmanager"]])
    tm = yaml.safe_load(built.files[conf["kubernetes.pod-template-file.taskmanager"]])
    main = jm["spec"]["containers"][0]
    assert main["resources"]["requests"] == {"ephemeral-storage": "2Gi"}
    assert main["startupProbe"]["httpGet"] == {"path": "/config", "port": "rest"}
    assert tm["metadata"]["labels"] == {"role": "tm"}
    assert "startupProbe" not in tm["spec"]["containers"][0]


def test_log_configuration_files() -> None:
    built = build_flink_configuration(
        spec(logConfiguration={"log4j-console.properties": "rootLogger=INFO"}),
        name="demo",
        namespace="team",
        base={},
        files_dir="/tmp/c",
    )
    assert built.configuration["$internal.deployment.config-dir"] == "/tmp/c"
    assert built.files["/tmp/c/log4j-console.properties"] == "rootLogger=INFO"
    without_dir = build_flink_configuration(
        spec(logConfiguration={"log4j-console.properties": "x"}), name="demo", namespace="team", base={}
    )
    assert "$internal.deployment.config-dir" not in without_dir.configuration
