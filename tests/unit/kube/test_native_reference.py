"""Native-mode objects against the objects Flink's own native integration creates (captured references).

The references under data/reference/<version>/ were captured with tests/support/native_reference.py (the
Flink CLI of each version against the API emulator) and reviewed by hand. Each scenario's input file holds
exactly what Flink was given; the builders get the same and must produce the same objects, except for the
deliberate differences listed in `_apply_deliberate_differences` (each with its reason).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from tests.support.native_reference import DEPLOYMENT_UID, VERSIONS, load_reference, reference_scenarios

from flink_operator.kube.cluster_config import FlinkVersion
from flink_operator.kube.cluster_objects import ClusterSpec, build_cluster_objects
from flink_operator.kube.config_file import parse_rendered
from flink_operator.kube.names import DeploymentMode

pytestmark = pytest.mark.unit

JSON = dict[str, Any]

CLIENT_ONLY_KEYS = frozenset(
    {
        # Set by the CLI frontend for its own run, not by the native integration (the operator deploys
        # without the CLI and never sets them).
        "execution.attached",
        "execution.shutdown-on-attached-exit",
        "execution.state-recovery.claim-mode",
        "execution.state-recovery.ignore-unclaimed-state",
        "pipeline.classpaths",
    }
)


def spec_from(inputs: JSON) -> ClusterSpec:
    return ClusterSpec(
        name=inputs["name"],
        namespace=inputs["namespace"],
        flink_version=FlinkVersion.parse(inputs["flinkVersion"]),
        mode=DeploymentMode.NATIVE,
        application=inputs["application"],
        configuration=inputs["configuration"],
        jobmanager_template=inputs["jobManagerPodTemplate"],
        taskmanager_template=inputs["taskManagerPodTemplate"],
        log_files=inputs["logFiles"],
        jars=inputs["jars"],
        program_args=inputs["programArgs"],
    )


def _cases() -> list[tuple[str, str]]:
    return [(version, scenario) for version in VERSIONS for scenario in reference_scenarios(version)]


def _by_key(objects: list[JSON]) -> dict[tuple[str, str], JSON]:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}


def _config_files(obj: JSON) -> dict[str, str]:
    return {k: v for k, v in obj["data"].items() if k in ("config.yaml", "flink-conf.yaml")}


def _apply_deliberate_differences(expected: JSON, ours: JSON, version: FlinkVersion) -> None:
    """Bring the reference object to what we produce on purpose (each change says why)."""
    # Our manifests carry their namespace (the reference holds request bodies, whose URL names it).
    ours["metadata"].pop("namespace", None)
    if expected["kind"] == "ConfigMap" and expected["metadata"]["name"].startswith("flink-config-"):
        ((reference_name, reference_text),) = _config_files(expected).items()
        del expected["data"][reference_name]
        ((our_name, our_text),) = _config_files(ours).items()
        # 1.x images read flink-conf.yaml (Flink 1.20's CLI writes config.yaml because its own conf dir has
        # one; older 1.x images only know the legacy file, and 1.20 images read either).
        assert our_name == version.config_file_name
        del ours["data"][our_name]
        flink_conf = parse_rendered(reference_text, FlinkVersion(2, 0))
        our_conf = parse_rendered(our_text, version)
        for key in CLIENT_ONLY_KEYS:
            flink_conf.pop(key, None)
        # Flink 1.20's CLI writes an empty argument list; without arguments we write none.
        if flink_conf.get("$internal.application.program-args") == "":
            del flink_conf["$internal.application.program-args"]
        # A loopback REST address means nothing inside a pod (HA entrypoints replace it with the pod IP).
        assert flink_conf.pop("rest.address") == "localhost"
        assert "rest.address" not in our_conf
        # The pod-template file keys name files on the client machine in Flink's output; ours names the
        # TaskManager template where the JobManager finds it (the JobManager template is client-side only).
        flink_conf.pop("kubernetes.pod-template-file.jobmanager", None)
        if "kubernetes.pod-template-file.taskmanager" in flink_conf:
            flink_conf["kubernetes.pod-template-file.taskmanager"] = (
                "/opt/flink/pod-template/taskmanager-pod-template.yaml"
            )
        assert our_conf == flink_conf
    if expected["kind"] == "ConfigMap" and expected["metadata"]["name"].startswith("pod-template-"):
        for data in (expected["data"], ours["data"]):
            for key, text in data.items():
                data[key] = yaml.safe_load(text)
    if expected["kind"] == "Deployment":
        # The items of the config volume are listed in directory order by Flink, sorted by us.
        for obj in (expected, ours):
            for volume in obj["spec"]["template"]["spec"].get("volumes", []):
                if "configMap" in volume:
                    items = volume["configMap"]["items"]
                    items.sort(key=lambda item: item["key"])
                    for item in items:
                        if item["key"] == "config.yaml" and version.major < 2:
                            item["key"] = item["path"] = "flink-conf.yaml"


@pytest.mark.parametrize(("version", "scenario"), _cases())
def test_native_objects_match_flinks_own(version: str, scenario: str) -> None:
    captured = load_reference(version, scenario)
    spec = spec_from(captured.inputs)
    built = build_cluster_objects(spec)
    ours = _by_key([copy.deepcopy(o) for o in built.all(DEPLOYMENT_UID)])
    expected = _by_key(copy.deepcopy(captured.objects))
    assert sorted(ours) == sorted(expected)
    for key, reference in expected.items():
        mine = ours[key]
        _apply_deliberate_differences(reference, mine, spec.flink_version)
        assert mine == reference, key


def test_every_version_has_references() -> None:
    for version in VERSIONS:
        assert {"application-basic", "session-basic", "application-full", "session-ha"} <= set(
            reference_scenarios(version)
        )
