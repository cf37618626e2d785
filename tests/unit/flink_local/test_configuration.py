"""The Flink configuration of a local deployment: what is kept, what is forced, what is defaulted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flink_operator.flink.local.configuration import (
    MemoryPreset,
    Ports,
    config_file_name,
    effective_configuration,
    render_config_file,
    taskmanager_replicas,
)
from flink_operator.flink.local.distribution import FlinkDistribution
from flink_operator.flink.local.layout import ClusterLayout
from flink_operator.flink.service import ClusterRef, ClusterRequest, DeploymentError, JobSpec

pytestmark = pytest.mark.unit

REF = ClusterRef("ns", "demo")
DIST = FlinkDistribution(
    home=Path("/flink"),
    version="2.3.0",
    dist_jar=Path("/flink/lib/flink-dist-2.3.0.jar"),
    lib_jars=(Path("/flink/lib/a.jar"), Path("/flink/lib/flink-dist-2.3.0.jar")),
    python_jar=None,
    stock_java_opts="--add-opens=java.base/java.lang=ALL-UNNAMED",
)


def build(
    conf: dict[str, str], *, ha: bool = False, job: JobSpec | None = None, **kw: object
) -> dict[str, str]:
    request = ClusterRequest(REF, "v2_3", conf, generation=3, job=job, ha_enabled=ha)
    cluster = ClusterLayout.of(Path("/state"), REF)
    return effective_configuration(
        request,
        distribution=DIST,
        cluster=cluster,
        deployment=cluster.deployment("3-abc"),
        deployment_id="3-abc",
        ports=Ports(rest=18081, rpc=16123, zookeeper=22181 if ha else None),
        **kw,  # type: ignore[arg-type]
    )


def test_addresses_and_ports_are_always_loopback_and_ours() -> None:
    conf = build(
        {
            "rest.port": "8081",
            "rest.bind-port": "8081",
            "rest.bind-address": "0.0.0.0",
            "blob.server.port": "6124",
        }
    )
    assert conf["rest.port"] == "18081" and "rest.bind-port" not in conf
    assert conf["jobmanager.rpc.port"] == "16123" and conf["blob.server.port"] == "0"
    for key in (
        "rest.address",
        "rest.bind-address",
        "jobmanager.bind-host",
        "taskmanager.bind-host",
        "taskmanager.host",
        "jobmanager.rpc.address",
    ):
        assert conf[key] == "127.0.0.1", key


def test_operator_keys_restore_settings_and_port_opening_reporters_are_dropped() -> None:
    conf = build(
        {
            "kubernetes.operator.reconcile.interval": "5s",
            "job.autoscaler.enabled": "true",
            "metrics.reporter.prom.factory.class": "PrometheusReporterFactory",
            "execution.savepoint.path": "file:///sp",
            "execution.target": "kubernetes-application",
            "pipeline.name": "kept",
        }
    )
    assert conf["pipeline.name"] == "kept"
    assert not [
        k for k in conf if k.startswith(("kubernetes.operator.", "job.autoscaler.", "metrics.reporter"))
    ]
    assert "execution.savepoint.path" not in conf and "execution.target" not in conf


def test_small_memory_preset_fills_only_what_the_request_leaves_open() -> None:
    conf = build({"taskmanager.memory.process.size": "1g"})
    assert conf["taskmanager.memory.process.size"] == "1g"
    assert conf["jobmanager.memory.process.size"] == "384m"
    assert conf["taskmanager.memory.managed.size"] == "0m"
    flink = build({}, memory_preset=MemoryPreset.FLINK)
    assert (
        flink["jobmanager.memory.process.size"] == "1600m" and "taskmanager.memory.managed.size" not in flink
    )


def test_checkpoint_storage_defaults_under_the_cluster_dir_and_is_retained_on_cancel() -> None:
    conf = build({})
    assert conf["execution.checkpointing.dir"] == "file:///state/clusters/ns/demo/checkpoints"
    assert conf["execution.checkpointing.savepoint-dir"] == "file:///state/clusters/ns/demo/savepoints"
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    own = build(
        {
            "state.checkpoints.dir": "file:///mine",
            "execution.checkpointing.externalized-checkpoint-retention": "DELETE_ON_CANCELLATION",
        }
    )
    assert "execution.checkpointing.dir" not in own and own["state.checkpoints.dir"] == "file:///mine"
    assert own["execution.checkpointing.externalized-checkpoint-retention"] == "DELETE_ON_CANCELLATION"


def test_java_options_keep_the_distribution_list_then_ours_then_the_users() -> None:
    conf = build({"env.java.opts.all": "-Dmine=1"}, jvm_options="-XX:+UseSerialGC")
    assert (
        conf["env.java.opts.all"] == "--add-opens=java.base/java.lang=ALL-UNNAMED -XX:+UseSerialGC -Dmine=1"
    )


def test_ha_uses_the_clusters_zookeeper_and_a_fresh_job_result_store_per_deployment() -> None:
    conf = build({"high-availability.type": "kubernetes"}, ha=True)
    assert conf["high-availability.type"] == "zookeeper"
    assert conf["high-availability.zookeeper.quorum"] == "127.0.0.1:22181"
    assert conf["high-availability.cluster-id"] == "demo"
    assert conf["job-result-store.storage-path"].endswith("/ha/storage/job-result-store/demo/3-abc")
    assert conf["job-result-store.delete-on-commit"] == "false"
    plain = build({"high-availability.type": "zookeeper", "high-availability.storageDir": "file:///x"})
    assert plain["high-availability.type"] == "NONE" and "high-availability.storageDir" not in plain


def test_application_clusters_keep_the_jobmanager_after_the_job_ends() -> None:
    conf = build({}, job=JobSpec("local:///job.jar"))
    assert conf["execution.shutdown-on-application-finish"] == "false"
    assert "execution.shutdown-on-application-finish" not in build({})


@pytest.mark.parametrize(
    ("replicas", "conf", "job", "expected"),
    [
        (3, {}, None, 3),
        (None, {"kubernetes.internal.taskmanager.replicas": "2"}, None, 2),
        (None, {}, None, 1),
        (None, {"taskmanager.numberOfTaskSlots": "2"}, JobSpec("x", parallelism=5), 3),
        (None, {"parallelism.default": "4"}, JobSpec("x"), 4),
    ],
)
def test_taskmanager_replicas(
    replicas: int | None, conf: dict[str, str], job: JobSpec | None, expected: int
) -> None:
    request = ClusterRequest(REF, "v2_3", conf, generation=1, job=job, taskmanager_replicas=replicas)
    assert taskmanager_replicas(request) == expected


def test_bad_replica_counts_are_named() -> None:
    with pytest.raises(DeploymentError, match=r"taskManager\.replicas must be at least 1, got 0"):
        taskmanager_replicas(ClusterRequest(REF, "v2_3", {}, generation=1, taskmanager_replicas=0))
    with pytest.raises(
        DeploymentError, match=r"kubernetes\.internal\.taskmanager\.replicas must be a whole number"
    ):
        taskmanager_replicas(
            ClusterRequest(REF, "v2_3", {"kubernetes.internal.taskmanager.replicas": "two"}, generation=1)
        )


def test_config_file_round_trips_through_yaml() -> None:
    conf = build({"pipeline.name": "a: b", "web.cancel.enable": "false", "x.list": "[1, 2]"})
    assert yaml.safe_load(render_config_file(conf)) == conf
    assert config_file_name("1.20.5") == "config.yaml" and config_file_name("1.18.1") == "flink-conf.yaml"


def test_every_directory_flink_writes_is_the_deployments_own() -> None:
    # Flink's default artifacts directory (/opt/flink/artifacts) is shared by every cluster on the machine,
    # and an application cluster keeps a jar it finds there under the same name: a rebuilt job jar would be
    # silently replaced by the first one ever copied.
    conf = build({"user.artifacts.base-dir": "/opt/flink/artifacts", "io.tmp.dirs": "/tmp"})
    root = Path("/state/clusters/ns/demo/deployments/3-abc")
    assert conf["user.artifacts.base-dir"] == str(root / "artifacts")
    for key in ("io.tmp.dirs", "web.tmpdir", "env.pid.dir"):
        assert conf[key] == str(root / "tmp"), key
    assert conf["web.upload.dir"] == str(root / "upload")
    assert conf["env.log.dir"] == str(root / "log")
