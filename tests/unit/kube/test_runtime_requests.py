"""From ClusterRequest to ClusterSpec (the request's job fields win, per version), runtime settings, modes."""

from __future__ import annotations

import pytest

from flink_operator.config import Configuration, load_declared_options
from flink_operator.flink.kubernetes.requests import cluster_spec, deploy_configuration
from flink_operator.flink.kubernetes.runtimes import DEPLOYMENT_MODE_KEY, request_mode
from flink_operator.flink.kubernetes.settings import KubernetesSettings
from flink_operator.flink.service import ClusterRef, ClusterRequest, DeploymentError, JobSpec
from flink_operator.kube.cluster_config import FlinkVersion
from flink_operator.kube.names import DeploymentMode

pytestmark = pytest.mark.unit

REF = ClusterRef("flink", "demo")
BASE = {
    "execution.savepoint.path": "s3://old/savepoint",
    "execution.state-recovery.path": "s3://old/savepoint",
    "pipeline.jars": "local:///wrong.jar",
    "$internal.application.program-args": "stale",
}


def request(version: str = "v2_3", **kwargs: object) -> ClusterRequest:
    fields: dict[str, object] = {
        "ref": REF,
        "flink_version": version,
        "configuration": dict(BASE),
        "generation": 7,
        "job": JobSpec(
            jar_uri="local:///opt/flink/usrlib/job.jar", entry_class="a.Main", args=("x;y",), parallelism=4
        ),
        "job_id": "0000000000000000000000000000000a",
        "restore_path": "s3://new/savepoint",
        "allow_non_restored_state": True,
    }
    fields.update(kwargs)
    return ClusterRequest(**fields)  # type: ignore[arg-type]


def test_request_fields_win_with_the_keys_of_the_version() -> None:
    modern = deploy_configuration(request(), FlinkVersion(2, 3))
    assert modern["execution.state-recovery.path"] == "s3://new/savepoint"
    assert "execution.savepoint.path" not in modern
    assert modern["execution.state-recovery.ignore-unclaimed-state"] == "true"
    assert modern["$internal.pipeline.job-id"] == "0000000000000000000000000000000a"
    assert modern["$internal.application.main"] == "a.Main"
    assert modern["parallelism.default"] == "4"
    # lists travel apart (as lists), never as the stale strings
    assert "pipeline.jars" not in modern and "$internal.application.program-args" not in modern
    old = deploy_configuration(request(version="v1_19"), FlinkVersion(1, 19))
    assert old["execution.savepoint.path"] == "s3://new/savepoint"
    assert "execution.state-recovery.path" not in old
    assert old["execution.savepoint.ignore-unclaimed-state"] == "true"


def test_no_restore_path_removes_any_configured_one() -> None:
    conf = deploy_configuration(request(restore_path=None), FlinkVersion(2, 3))
    assert "execution.state-recovery.path" not in conf and "execution.savepoint.path" not in conf


def test_session_requests_keep_their_configuration() -> None:
    session = request(job=None, job_id=None, restore_path=None)
    conf = deploy_configuration(session, FlinkVersion(2, 3))
    assert "$internal.pipeline.job-id" not in conf and "pipeline.jars" in conf


def test_job_result_store_path_only_with_ha_storage_and_none_set() -> None:
    ha = {"high-availability.type": "kubernetes", "high-availability.storageDir": "s3://b/ha/"}
    conf = deploy_configuration(request(configuration=ha), FlinkVersion(2, 3), job_result_store_id="run-1")
    assert conf["job-result-store.storage-path"] == "s3://b/ha/job-result-store/demo/run-1"
    assert conf["job-result-store.delete-on-commit"] == "false"
    given = {**ha, "job-result-store.storage-path": "s3://mine"}
    assert (
        deploy_configuration(request(configuration=given), FlinkVersion(2, 3))[
            "job-result-store.storage-path"
        ]
        == "s3://mine"
    )
    assert "job-result-store.storage-path" not in deploy_configuration(
        request(configuration={}), FlinkVersion(2, 3)
    )


def test_cluster_spec_carries_lists_and_mode() -> None:
    spec = cluster_spec(
        request(),
        DeploymentMode.STANDALONE,
        jobmanager_template=None,
        taskmanager_template=None,
        log_files={},
    )
    assert spec.jars == ["local:///opt/flink/usrlib/job.jar"] and spec.program_args == ["x;y"]
    assert spec.mode is DeploymentMode.STANDALONE and spec.application and spec.generation == 7
    assert spec.flink_version == FlinkVersion(2, 3)


def test_request_mode() -> None:
    assert request_mode(request()) is DeploymentMode.NATIVE
    assert (
        request_mode(request(configuration={DEPLOYMENT_MODE_KEY: "Standalone"})) is DeploymentMode.STANDALONE
    )
    with pytest.raises(DeploymentError, match="expected native or standalone"):
        request_mode(request(configuration={DEPLOYMENT_MODE_KEY: "yarn"}))


def test_settings_from_the_operator_configuration() -> None:
    load_declared_options()
    settings = KubernetesSettings.from_configuration(
        Configuration(
            {
                "kubernetes.operator.flink.rest.url-template": "http://localhost:{port}",
                "kubernetes.operator.flink.client.timeout": "3 s",
                "kubernetes.operator.resource.cleanup.timeout": "30 s",
                "kubernetes.operator.resource.deletion.propagation": "Background",
            }
        )
    )
    assert settings.rest_url_template == "http://localhost:{port}"
    assert settings.rest_timeout == 3.0
    assert settings.cleanup_timeout == 30.0 and settings.jobmanager_pods_timeout == 15.0
    assert settings.propagation == "Background"
    assert "log4j-console.properties" in settings.default_log_files
