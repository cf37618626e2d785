"""Object builders per Flink version and mode: regression manifests, Kubernetes schema, and the rules."""

from __future__ import annotations

import dataclasses
from typing import Any

import kubernetes_validate
import pytest
import yaml
from tests.support.kube_cases import CASES, JOBMANAGER_UID, base_configuration, regression_path, render_case

from flink_operator.config import ConfigError
from flink_operator.kube.cluster_config import ClusterConfig, FlinkVersion, Role
from flink_operator.kube.cluster_objects import ClusterSpec, build_cluster_objects, taskmanager_replicas
from flink_operator.kube.config_file import parse_rendered
from flink_operator.kube.names import DeploymentMode

pytestmark = pytest.mark.unit

JSON = dict[str, Any]
KUBERNETES_VERSION = "1.35"


@pytest.mark.parametrize("case", sorted(CASES))
def test_objects_match_the_reviewed_regression_file(case: str) -> None:
    path = regression_path(case)
    assert path.is_file(), f"missing {path}: run python -m tests.support.kube_cases and review the output"
    assert render_case(case) == path.read_text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_object_is_valid_for_kubernetes(case: str) -> None:
    for obj in build_cluster_objects(CASES[case]).all(JOBMANAGER_UID):
        # strict: unknown fields are errors too
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def _spec(**changes: Any) -> ClusterSpec:
    base = CASES["v2_3-native-application"]
    return dataclasses.replace(base, **changes)


def _config_file(spec: ClusterSpec) -> tuple[str, dict[str, str]]:
    data = build_cluster_objects(spec).config_map["data"]
    name = spec.flink_version.config_file_name
    return data[name], parse_rendered(data[name], spec.flink_version)


def _main(deployment: JSON) -> JSON:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "flink-main-container")


def test_config_file_name_and_format_follow_the_version() -> None:
    text, conf = _config_file(_spec(flink_version=FlinkVersion(1, 20)))
    assert "$internal.application.program-args: --mode;'a;b'" in text.splitlines()
    assert conf["pipeline.jars"] == "local:///opt/flink/usrlib/job.jar"
    text2, conf2 = _config_file(_spec(flink_version=FlinkVersion(2, 3)))
    assert yaml.safe_load(text2)["$internal.application.program-args"] == ["--mode", "a;b"]
    assert conf2["kubernetes.cluster-id"] == "app"


def test_operator_and_client_keys_do_not_reach_the_cluster() -> None:
    configuration = {
        **CASES["v2_3-native-session"].configuration,
        "kubernetes.config.file": "/home/me/.kube/config",
        "rest.address": "localhost",
        "rest.bind-address": "localhost",
        "taskmanager.host": "localhost",
        "kubernetes.pod-template-file.jobmanager": "/tmp/jm.yaml",
    }
    _, conf = _config_file(dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration))
    for key in configuration:
        if key.startswith(("kubernetes.operator.", "job.autoscaler.")):
            assert key not in conf
    for key in ("kubernetes.config.file", "rest.address", "rest.bind-address", "taskmanager.host"):
        assert key not in conf
    assert conf["kubernetes.pod-template-file.taskmanager"] == (
        "/opt/flink/pod-template/taskmanager-pod-template.yaml"
    )
    assert "kubernetes.pod-template-file.jobmanager" not in conf
    assert conf["execution.target"] == "kubernetes-session"
    assert conf["kubernetes.internal.jobmanager.entrypoint.class"].endswith("SessionClusterEntrypoint")


def test_legacy_file_refuses_what_it_cannot_express() -> None:
    for value in ("first\nsecond", "value # not a comment"):
        configuration = {**CASES["v1_20-native-session"].configuration, "metrics.scope.jm": value}
        with pytest.raises(ConfigError, match=r"metrics\.scope\.jm"):
            build_cluster_objects(
                dataclasses.replace(CASES["v1_20-native-session"], configuration=configuration)
            )
    configuration = {**CASES["v2_3-native-session"].configuration, "metrics.scope.jm": "a # b\nc"}
    _, conf = _config_file(dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration))
    assert conf["metrics.scope.jm"] == "a # b\nc"


def test_without_ha_the_jobmanager_is_found_through_the_internal_service() -> None:
    built = build_cluster_objects(CASES["v2_3-native-session"])
    assert built.internal_service is not None
    assert built.internal_service["spec"]["clusterIP"] == "None"
    assert built.configuration["jobmanager.rpc.address"] == "session.flink"
    ha = build_cluster_objects(CASES["v2_3-native-application-ha"])
    assert ha.internal_service is None
    assert "jobmanager.rpc.address" not in ha.configuration
    assert ha.configuration["high-availability.cluster-id"] == "app-ha"
    assert ha.configuration["high-availability.jobmanager.port"] == "6123"


def test_fixed_ports_replace_ranges_and_zero() -> None:
    configuration = {
        **CASES["v2_3-native-session"].configuration,
        "blob.server.port": "6100-6200",
        "taskmanager.rpc.port": "0",
        "rest.port": "9081",
    }
    built = build_cluster_objects(
        dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration)
    )
    assert built.configuration["blob.server.port"] == "6124"
    assert built.configuration["taskmanager.rpc.port"] == "6122"
    assert built.rest_service["spec"]["ports"] == [{"name": "rest", "port": 9081, "targetPort": 9081}]
    assert {"name": "rest", "containerPort": 9081} in _main(built.jobmanager_deployment)["ports"]


def test_rest_service_exposure() -> None:
    for exposed, service_type, cluster_ip in (
        ("NodePort", "NodePort", None),
        ("LoadBalancer", "LoadBalancer", None),
        ("Headless_ClusterIP", "ClusterIP", "None"),
        ("clusterip", "ClusterIP", None),
    ):
        configuration = {
            **CASES["v2_3-native-session"].configuration,
            "kubernetes.rest-service.exposed.type": exposed,
            "kubernetes.rest-service.annotations": "example.com/lb:internal",
        }
        service = build_cluster_objects(
            dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration)
        ).rest_service
        assert service["spec"]["type"] == service_type
        assert service["spec"].get("clusterIP") == cluster_ip
        assert service["metadata"]["annotations"] == {"example.com/lb": "internal"}
    bad = {**CASES["v2_3-native-session"].configuration, "kubernetes.rest-service.exposed.type": "Ingress"}
    with pytest.raises(ConfigError, match=r"kubernetes\.rest-service\.exposed\.type: 'Ingress'"):
        build_cluster_objects(dataclasses.replace(CASES["v2_3-native-session"], configuration=bad))


def test_resources_limits_scale_with_the_factors() -> None:
    configuration = {
        **CASES["v2_3-native-session"].configuration,
        "kubernetes.jobmanager.cpu.limit-factor": "2.0",
        "kubernetes.jobmanager.memory.limit-factor": "1.5",
    }
    main = _main(
        build_cluster_objects(
            dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration)
        ).jobmanager_deployment
    )
    assert main["resources"]["requests"] == {"ephemeral-storage": "1Gi", "memory": "1024Mi", "cpu": "0.5"}
    assert main["resources"]["limits"] == {"ephemeral-storage": "1Gi", "memory": "1536Mi", "cpu": "1.0"}


def test_missing_or_bad_memory_is_named() -> None:
    configuration = dict(CASES["v2_3-native-session"].configuration)
    del configuration["jobmanager.memory.process.size"]
    with pytest.raises(ConfigError, match=r"jobmanager.memory.process.size is not set .*spec.jobManager"):
        build_cluster_objects(dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration))
    configuration["jobmanager.memory.process.size"] = "lots"
    with pytest.raises(ConfigError, match=r"jobmanager\.memory\.process\.size: 'lots' is not a memory size"):
        build_cluster_objects(dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration))


@pytest.mark.parametrize(
    ("settings", "expected_mib"),
    [
        # flink 1024m + metaspace 256m + overhead 10% of the process (1280/0.9*0.1 = 142m, raised to min 192m)
        ({"jobmanager.memory.flink.size": "1024m"}, 1024 + 256 + 192),
        # heap 2g + off-heap 128m default + metaspace 256m; overhead (2432/9 = 270.2m)
        ({"jobmanager.memory.heap.size": "2g"}, 2048 + 128 + 256 + 270),
        # a large cluster hits the overhead maximum (1g)
        (
            {"jobmanager.memory.flink.size": "16g", "jobmanager.memory.jvm-metaspace.size": "512m"},
            16384 + 512 + 1024,
        ),
    ],
)
def test_process_memory_derived_like_flink(settings: dict[str, str], expected_mib: int) -> None:
    configuration = dict(CASES["v2_3-native-session"].configuration)
    del configuration["jobmanager.memory.process.size"]
    configuration.update(settings)
    assert ClusterConfig(configuration).process_memory_mib(Role.JOBMANAGER) == expected_mib


def test_taskmanager_process_memory_from_flink_memory() -> None:
    # the figures of these tests were checked against Flink 2.3's own memory utilities (3g -> 3697 MiB)
    assert ClusterConfig({"taskmanager.memory.flink.size": "3g"}).process_memory_mib(Role.TASKMANAGER) == 3697
    with pytest.raises(ConfigError, match=r"taskmanager\.memory\.flink\.size, or spec\.taskManager"):
        ClusterConfig({"taskmanager.memory.task.heap.size": "1g"}).process_memory_mib(Role.TASKMANAGER)


def test_pod_settings_from_configuration() -> None:
    configuration = {
        **CASES["v2_3-native-session"].configuration,
        "kubernetes.container.image.pull-policy": "always",
        "kubernetes.container.image.pull-secrets": "a;b",
        "kubernetes.jobmanager.service-account": "jm-account",
        "kubernetes.jobmanager.labels": "tier:web",
        "kubernetes.jobmanager.node-selector": "disk:ssd",
        "kubernetes.jobmanager.tolerations": "key:k,operator:Exists,effect:NoExecute,tolerationSeconds:30",
        "containerized.master.env.GREETING": "hello",
        "kubernetes.hostnetwork.enabled": "true",
        "kubernetes.jobmanager.entrypoint.args": "-Dfoo=bar",
    }
    deployment = build_cluster_objects(
        dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration)
    ).jobmanager_deployment
    pod = deployment["spec"]["template"]
    main = _main(deployment)
    assert main["imagePullPolicy"] == "Always"
    assert pod["spec"]["imagePullSecrets"] == [{"name": "a"}, {"name": "b"}]
    assert pod["spec"]["serviceAccountName"] == "jm-account"
    assert pod["metadata"]["labels"]["tier"] == "web"
    assert deployment["metadata"]["labels"]["tier"] == "web"
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app": "session",
        "component": "jobmanager",
        "type": "flink-native-kubernetes",
    }
    assert pod["spec"]["nodeSelector"] == {"disk": "ssd"}
    assert pod["spec"]["tolerations"] == [
        {"effect": "NoExecute", "key": "k", "operator": "Exists", "tolerationSeconds": 30}
    ]
    assert main["env"][0] == {"name": "GREETING", "value": "hello"}
    assert pod["spec"]["hostNetwork"] is True and pod["spec"]["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert main["args"] == ["bash", "-c", "kubernetes-jobmanager.sh kubernetes-session -Dfoo=bar"]
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_template_entries_give_way_to_flinks_own() -> None:
    template = {
        "spec": {
            "containers": [
                {
                    "name": "flink-main-container",
                    "image": "mine:1",
                    "args": ["mine"],
                    "env": [{"name": "_POD_IP_ADDRESS", "value": "x"}, {"name": "KEEP", "value": "1"}],
                    "ports": [
                        {"name": "metrics", "containerPort": 9249},
                        {"name": "r", "containerPort": 8081},
                    ],
                    "volumeMounts": [{"name": "cfg", "mountPath": "/opt/flink/conf"}],
                }
            ],
            "volumes": [{"name": "flink-config-volume", "emptyDir": {}}, {"name": "cfg", "emptyDir": {}}],
        }
    }
    deployment = build_cluster_objects(_spec(jobmanager_template=template)).jobmanager_deployment
    main = _main(deployment)
    assert main["image"] == "flink:latest-image" and main["args"][0] == "bash"
    assert [e["name"] for e in main["env"]] == ["KEEP", "_POD_IP_ADDRESS"]
    assert [p["containerPort"] for p in main["ports"]] == [9249, 8081, 6123, 6124]
    assert main["ports"][1]["name"] == "rest"
    assert [m["name"] for m in main["volumeMounts"] if m["mountPath"] == "/opt/flink/conf"] == [
        "flink-config-volume"
    ]
    config_volumes = [
        v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "flink-config-volume"
    ]
    assert len(config_volumes) == 1 and "configMap" in config_volumes[0]


def test_standalone_jobmanager_command_lines() -> None:
    session = build_cluster_objects(CASES["v2_3-standalone-session"])
    assert _main(session.jobmanager_deployment)["args"] == ["jobmanager"]
    assert session.configuration["execution.target"] == "remote"
    ha_session = dataclasses.replace(
        CASES["v2_3-standalone-session"],
        configuration={
            **CASES["v2_3-standalone-session"].configuration,
            "high-availability.type": "kubernetes",
        },
    )
    assert _main(build_cluster_objects(ha_session).jobmanager_deployment)["args"] == [
        "jobmanager",
        "-D",
        "jobmanager.rpc.address=$(_POD_IP_ADDRESS)",
    ]
    application = dataclasses.replace(
        CASES["v1_20-standalone-application"],
        configuration={
            **CASES["v1_20-standalone-application"].configuration,
            "execution.savepoint.path": "s3://b/sp",
            "execution.savepoint.ignore-unclaimed-state": "true",
        },
    )
    built = build_cluster_objects(application)
    assert _main(built.jobmanager_deployment)["args"] == [
        "standalone-job",
        "--job-classname",
        "org.example.Main",
        "--fromSavepoint",
        "s3://b/sp",
        "--allowNonRestoredState",
        "--mode",
        "a;b",
    ]
    assert built.configuration.get("pipeline.jars") is None
    _, conf = _config_file(application)
    assert conf["pipeline.classpaths"] == "file:///opt/flink/usrlib/job.jar"
    assert built.pod_template_config_map is None


def test_standalone_taskmanagers() -> None:
    spec = CASES["v2_3-standalone-application"]
    built = build_cluster_objects(spec)
    assert built.taskmanager_deployment is not None
    assert built.taskmanager_deployment["spec"]["replicas"] == 2  # ceil(3 / 2)
    assert _main(built.taskmanager_deployment)["args"] == ["taskmanager"]
    explicit = dataclasses.replace(spec, taskmanager_replicas=5)
    assert taskmanager_replicas(explicit, ClusterConfig(spec.configuration)) == 5
    internal = {**spec.configuration, "kubernetes.internal.taskmanager.replicas": "4"}
    assert (
        taskmanager_replicas(dataclasses.replace(spec, configuration=internal), ClusterConfig(internal)) == 4
    )
    session = build_cluster_objects(CASES["v2_3-standalone-session"]).taskmanager_deployment
    assert session is not None and session["spec"]["replicas"] == 1


def test_native_has_no_taskmanager_deployment_but_a_template_configmap() -> None:
    built = build_cluster_objects(CASES["v2_3-native-application"])
    assert built.taskmanager_deployment is None
    assert built.pod_template_config_map is not None
    template = yaml.safe_load(built.pod_template_config_map["data"]["taskmanager-pod-template.yaml"])
    assert template == CASES["v2_3-native-application"].taskmanager_template
    no_template = build_cluster_objects(_spec(taskmanager_template=None))
    assert no_template.pod_template_config_map is None
    assert "kubernetes.pod-template-file.taskmanager" not in no_template.configuration


def test_children_are_owned_by_the_jobmanager_deployment() -> None:
    built = build_cluster_objects(CASES["v2_3-native-application"])
    children = built.children("uid-1")
    assert {c["metadata"]["name"] for c in children} == {
        "flink-config-app",
        "pod-template-app",
        "app",
        "app-rest",
    }
    for child in children:
        assert child["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "app",
                "uid": "uid-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    owner = built.jobmanager_deployment["metadata"]["ownerReferences"]
    assert owner[0]["kind"] == "FlinkDeployment" and owner[0]["controller"] is False
    assert built.jobmanager_deployment["metadata"]["annotations"] == {
        "flinkdeployment.flink.apache.org/generation": "4"
    }


def test_log_files_must_be_log_configuration() -> None:
    with pytest.raises(ConfigError, match=r"'\.\./config\.yaml'"):
        build_cluster_objects(_spec(log_files={"../config.yaml": "x"}))


def test_artifacts_volume_only_where_flink_uses_it() -> None:
    def volumes(version: FlinkVersion) -> list[str]:
        deployment = build_cluster_objects(_spec(flink_version=version)).jobmanager_deployment
        return [v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]]

    assert "user-artifacts-volume" in volumes(FlinkVersion(1, 19))
    assert "user-artifacts-volume" not in volumes(FlinkVersion(1, 18))


def test_flink_version_parsing() -> None:
    assert FlinkVersion.parse("v1_20") == FlinkVersion(1, 20)
    assert FlinkVersion.parse("2.3.0") == FlinkVersion(2, 3)
    assert FlinkVersion(1, 20).config_file_name == "flink-conf.yaml"
    assert FlinkVersion(2, 0).config_file_name == "config.yaml"
    with pytest.raises(ValueError, match="'latest' is not a Flink version"):
        FlinkVersion.parse("latest")


def test_owner_reference_option_is_checked() -> None:
    configuration = {
        **base_configuration("x"),
        "kubernetes.jobmanager.owner.reference": "kind:FlinkDeployment",
    }
    spec = dataclasses.replace(CASES["v2_3-native-session"], configuration=configuration)
    with pytest.raises(ConfigError, match="owner reference needs apiVersion, name, uid"):
        build_cluster_objects(spec)


def test_every_mode_and_version_is_covered() -> None:
    kinds = {(spec.flink_version.major, spec.mode, spec.application) for spec in CASES.values()}
    assert kinds == {
        (major, mode, application)
        for major in (1, 2)
        for mode in DeploymentMode
        for application in (True, False)
    }
