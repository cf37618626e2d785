"""Cluster specs covering the object builders per Flink version, mode and cluster kind, with regression files.

`CASES` name a `ClusterSpec` each; `regression_path(name)` is the reviewed manifest file of its objects.
Run ``python -m tests.support.kube_cases`` to (re)write the files after a deliberate change, then review
the diff by hand before committing it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from flink_operator.kube.cluster_config import FlinkVersion
from flink_operator.kube.cluster_objects import ClusterObjects, ClusterSpec, build_cluster_objects
from flink_operator.kube.names import DeploymentMode
from flink_operator.kube.pod_templates import STARTUP_PROBE

REGRESSION_DIR = Path(__file__).resolve().parents[1] / "unit" / "kube" / "data" / "regression"
JOBMANAGER_UID = "<jobmanager-deployment-uid>"
OWNER = (
    "apiVersion:flink.apache.org/v1beta1,kind:FlinkDeployment,name:{name},"
    "uid:00000000-0000-0000-0000-0000000000aa,blockOwnerDeletion:true,controller:false"
)
LOG4J = "rootLogger.level = INFO\n"

JSON = dict[str, Any]


def base_configuration(name: str, **extra: str) -> dict[str, str]:
    """What the operator's configuration builder produces for a small cluster (and operator keys to drop)."""
    return {
        "kubernetes.cluster-id": name,
        "kubernetes.namespace": "flink",
        "kubernetes.container.image.ref": "flink:latest-image",
        "kubernetes.service-account": "flink",
        "kubernetes.rest-service.exposed.type": "ClusterIP",
        "kubernetes.jobmanager.owner.reference": OWNER.format(name=name),
        "jobmanager.memory.process.size": "1024m",
        "taskmanager.memory.process.size": "2048m",
        "kubernetes.jobmanager.cpu.amount": "0.5",
        "kubernetes.taskmanager.cpu.amount": "1.0",
        "taskmanager.numberOfTaskSlots": "2",
        "web.cancel.enable": "false",
        "kubernetes.operator.periodic.savepoint.interval": "1h",
        "job.autoscaler.enabled": "false",
        **extra,
    }


HA = {
    "high-availability.type": "kubernetes",
    "high-availability.storageDir": "s3://bucket/ha",
    "state.checkpoints.dir": "s3://bucket/checkpoints",
}
TEMPLATE: JSON = {
    "metadata": {"labels": {"team": "data"}},
    "spec": {
        "containers": [
            {
                "name": "flink-main-container",
                "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                "resources": {
                    "requests": {"ephemeral-storage": "1Gi"},
                    "limits": {"ephemeral-storage": "1Gi"},
                },
            }
        ],
        "volumes": [{"name": "scratch", "emptyDir": {}}],
    },
}
JM_TEMPLATE: JSON = {
    **TEMPLATE,
    "spec": {
        **TEMPLATE["spec"],
        "containers": [{**TEMPLATE["spec"]["containers"][0], "startupProbe": STARTUP_PROBE}],
    },
}


def _spec(
    name: str,
    version: str,
    mode: DeploymentMode,
    *,
    application: bool,
    ha: bool = False,
    templates: bool = False,
    **extra: str,
) -> ClusterSpec:
    configuration = base_configuration(name, **extra)
    if ha:
        configuration.update(HA)
    if application:
        configuration.update(
            {
                "$internal.pipeline.job-id": "00000000000000000000000000000001",
                "$internal.application.main": "org.example.Main",
                "parallelism.default": "3",
            }
        )
    return ClusterSpec(
        name=name,
        namespace="flink",
        flink_version=FlinkVersion.parse(version),
        mode=mode,
        application=application,
        configuration=configuration,
        jobmanager_template=JM_TEMPLATE if templates else None,
        taskmanager_template=TEMPLATE if templates else None,
        log_files={"log4j-console.properties": LOG4J},
        jars=["local:///opt/flink/usrlib/job.jar"] if application else [],
        program_args=["--mode", "a;b"] if application else [],
        generation=4,
    )


def _cases() -> dict[str, ClusterSpec]:
    cases: dict[str, ClusterSpec] = {}
    for version in ("v1_20", "v2_3"):
        for mode in DeploymentMode:
            cases[f"{version}-{mode}-application"] = _spec(
                "app", version, mode, application=True, templates=True
            )
            cases[f"{version}-{mode}-application-ha"] = _spec(
                "app-ha",
                version,
                mode,
                application=True,
                ha=True,
                **{"execution.state-recovery.path": "s3://bucket/savepoints/sp-1"},
            )
            cases[f"{version}-{mode}-session"] = _spec(
                "session",
                version,
                mode,
                application=False,
                templates=True,
                **{"kubernetes.rest-service.exposed.type": "LoadBalancer"},
            )
    return cases


CASES = _cases()


def regression_path(name: str) -> Path:
    return REGRESSION_DIR / f"{name}.yaml"


def objects_of(built: ClusterObjects) -> list[JSON]:
    return built.all(JOBMANAGER_UID)


def render_case(name: str) -> str:
    objects = objects_of(build_cluster_objects(CASES[name]))
    header = f"# Objects built for case {name!r} (tests/support/kube_cases.py); reviewed by hand.\n"
    return header + yaml.safe_dump_all(objects, sort_keys=False, width=110)


def main() -> int:
    REGRESSION_DIR.mkdir(parents=True, exist_ok=True)
    for name in CASES:
        regression_path(name).write_text(render_case(name))
        print(f"wrote {regression_path(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
