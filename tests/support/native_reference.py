"""Ground truth for native mode: the Kubernetes objects Flink's own native integration creates.

Flink ships its native Kubernetes integration inside flink-dist, so no cluster is needed: the Flink CLI is
pointed at the Kubernetes API emulator (with a private FLINK_CONF_DIR) and every object it creates is read
back from the emulator's request log, i.e. exactly the bodies Flink sent (no server-side defaults).
Generated values (the JobManager Deployment's uid in owner references) are replaced by placeholders.

Each scenario names the CLI target, the dynamic properties and the pod-template files. Run
``python -m tests.support.native_reference [VERSION ...]`` to (re)write the reviewed reference files under
``tests/unit/kube/data/reference/<version>/``; the `flink`-marked test re-captures and compares.
Needs Java and the Flink distributions (2.x from the project venv, 1.20 from ``.venv-flink120``).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kube_emulator import ThreadedApiServer

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPOSITORY_ROOT / "tests" / "unit" / "kube" / "data" / "reference"
OWNER_UID = "00000000-0000-0000-0000-00000000cafe"
"""The uid of the (fictional) FlinkDeployment named in the owner-reference option of the scenarios."""
DEPLOYMENT_UID = "<jobmanager-deployment-uid>"
CLI_TIMEOUT = 180.0

JSON = dict[str, Any]

JOBMANAGER_TEMPLATE: JSON = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"labels": {"team": "analytics"}, "annotations": {"example.com/role": "jm"}},
    "spec": {
        "serviceAccountName": "ignored-by-flink",
        "nodeSelector": {"disk": "ssd"},
        "initContainers": [{"name": "fetch", "image": "busybox:1.36", "command": ["sh", "-c", "true"]}],
        "containers": [
            {
                "name": "flink-main-container",
                "env": [{"name": "FROM_TEMPLATE", "value": "jm"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "resources": {"limits": {"ephemeral-storage": "2Gi"}},
                "startupProbe": {
                    "httpGet": {"path": "/config", "port": "rest"},
                    "periodSeconds": 1,
                    "failureThreshold": 2147483647,
                },
            },
            {"name": "sidecar", "image": "busybox:1.36", "command": ["sleep", "infinity"]},
        ],
        "volumes": [{"name": "data", "emptyDir": {}}],
    },
}
TASKMANAGER_TEMPLATE: JSON = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"labels": {"team": "analytics"}},
    "spec": {
        "containers": [
            {
                "name": "flink-main-container",
                "env": [{"name": "FROM_TEMPLATE", "value": "tm"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            }
        ],
        "volumes": [{"name": "data", "emptyDir": {}}],
    },
}
CUSTOM_LOG4J = "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = Console\n"


@dataclass(frozen=True)
class Scenario:
    """One CLI invocation: application (``flink run``) or session (``kubernetes-session.sh``)."""

    name: str
    application: bool
    properties: Mapping[str, str]
    jobmanager_template: JSON | None = None
    taskmanager_template: JSON | None = None
    log_files: Mapping[str, str] | None = None
    """When set, the conf dir holds only these log files (as the upstream operator's generated dir does)."""
    job_args: Sequence[str] = field(default_factory=tuple)


def _owner_reference() -> str:
    return (
        "apiVersion:flink.apache.org/v1beta1,kind:FlinkDeployment,name:{name},"
        f"uid:{OWNER_UID},blockOwnerDeletion:true,controller:false"
    )


def scenarios(version: str) -> list[Scenario]:
    image = "flink:1.20" if version == "v1_20" else "flink:2.3"
    common = {
        "kubernetes.namespace": "flink",
        "kubernetes.container.image.ref": image,
        "kubernetes.rest-service.exposed.type": "ClusterIP",
    }
    return [
        Scenario(
            "application-basic",
            application=True,
            properties={**common, "kubernetes.cluster-id": "basic"},
        ),
        Scenario(
            "session-basic",
            application=False,
            properties={**common, "kubernetes.cluster-id": "session"},
        ),
        Scenario(
            "application-full",
            application=True,
            properties={
                **common,
                "kubernetes.cluster-id": "full",
                "kubernetes.service-account": "flink",
                "kubernetes.container.image.pull-policy": "Always",
                "kubernetes.rest-service.exposed.type": "NodePort",
                "kubernetes.jobmanager.owner.reference": _owner_reference().format(name="full"),
                "kubernetes.jobmanager.annotations": "flinkdeployment.flink.apache.org/generation:3",
                "kubernetes.jobmanager.cpu.amount": "0.5",
                "kubernetes.jobmanager.cpu.limit-factor": "2.0",
                "kubernetes.jobmanager.memory.limit-factor": "1.0",
                "jobmanager.memory.process.size": "1024m",
                "kubernetes.taskmanager.cpu.amount": "1.0",
                "taskmanager.memory.process.size": "1536m",
                "taskmanager.numberOfTaskSlots": "2",
                "parallelism.default": "4",
                "high-availability.type": "kubernetes",
                "high-availability.storageDir": "file:///flink-data/ha",
                "high-availability.cluster-id": "full",
                "state.checkpoints.dir": "file:///flink-data/checkpoints",
                "execution.checkpointing.interval": "10s",
                "$internal.pipeline.job-id": "0000000000000000000000000000beef",
                "execution.savepoint.path": "file:///flink-data/savepoints/savepoint-1",
                "$internal.application.main": "org.example.Main",
                "kubernetes.jobmanager.labels": "tier:backend,cost-center:42",
                "kubernetes.jobmanager.node-selector": "zone:a",
                "kubernetes.jobmanager.tolerations": (
                    "key:dedicated,operator:Equal,value:flink,effect:NoSchedule"
                ),
                "kubernetes.container.image.pull-secrets": "registry-a;registry-b",
                "kubernetes.rest-service.annotations": "example.com/exposed:yes",
                "containerized.master.env.EXTRA_JM": "jm-value",
                "containerized.taskmanager.env.EXTRA_TM": "tm-value",
            },
            jobmanager_template=JOBMANAGER_TEMPLATE,
            taskmanager_template=TASKMANAGER_TEMPLATE,
            log_files={"log4j-console.properties": CUSTOM_LOG4J},
            job_args=("--input", "x"),
        ),
        Scenario(
            "session-ha",
            application=False,
            properties={
                **common,
                "kubernetes.cluster-id": "session-ha",
                "kubernetes.service-account": "flink",
                "kubernetes.jobmanager.owner.reference": _owner_reference().format(name="session-ha"),
                "kubernetes.jobmanager.replicas": "2",
                "high-availability.type": "kubernetes",
                "high-availability.storageDir": "file:///flink-data/ha",
                "taskmanager.numberOfTaskSlots": "2",
            },
            taskmanager_template=TASKMANAGER_TEMPLATE,
            log_files={"log4j-console.properties": CUSTOM_LOG4J},
        ),
    ]


def flink_home(version: str) -> Path | None:
    """FLINK_HOME for a version: 1.20 from ``.venv-flink120``, 2.x from the project venv."""
    venv = ".venv-flink120" if version == "v1_20" else ".venv"
    found = sorted((REPOSITORY_ROOT / venv / "lib").glob("python3*/site-packages/pyflink"))
    return found[0] if found and (found[0] / "bin" / "flink").is_file() else None


def _conf_dir(home: Path, scenario: Scenario, work: Path) -> Path:
    conf = work / "conf"
    shutil.copytree(home / "conf", conf)
    if scenario.log_files is not None:
        for path in conf.iterdir():
            if path.name.startswith(("log4j", "logback")):
                path.unlink()
        for name, content in scenario.log_files.items():
            (conf / name).write_text(content)
    return conf


def _command(version: str, home: Path, scenario: Scenario, work: Path, kubeconfig: Path) -> list[str]:
    properties = dict(scenario.properties)
    properties["kubernetes.config.file"] = str(kubeconfig)
    for role, template in (
        ("jobmanager", scenario.jobmanager_template),
        ("taskmanager", scenario.taskmanager_template),
    ):
        if template is not None:
            path = work / f"{role}-template.yaml"
            path.write_text(yaml.safe_dump(template, sort_keys=False))
            properties[f"kubernetes.pod-template-file.{role}"] = str(path)
    options = [f"-D{key}={value}" for key, value in properties.items()]
    if scenario.application:
        return [
            str(home / "bin" / "flink"),
            # 1.x runs applications with `run-application`; 2.x folded it into `run`.
            "run-application" if version.startswith("v1_") else "run",
            "--target",
            "kubernetes-application",
            *options,
            "local:///opt/flink/usrlib/job.jar",
            *scenario.job_args,
        ]
    return [str(home / "bin" / "kubernetes-session.sh"), *options, "-Dexecution.attached=false"]


@dataclass(frozen=True)
class Capture:
    """What Flink was given (its effective configuration and files) and the objects it created."""

    inputs: JSON
    objects: list[JSON]


def _effective_configuration(conf_dir: Path, scenario: Scenario) -> dict[str, str]:
    """The stock configuration file of the distribution (flattened) plus the scenario's properties."""
    from flink_operator.config import flatten_flink_configuration

    conf_file = conf_dir / "config.yaml"
    if not conf_file.is_file():
        conf_file = conf_dir / "flink-conf.yaml"
    stock = yaml.safe_load(conf_file.read_text()) or {}
    configuration = dict(flatten_flink_configuration(stock))
    configuration.update(scenario.properties)
    return configuration


def _inputs(version: str, scenario: Scenario, conf_dir: Path, objects: list[JSON]) -> JSON:
    config_map = next(o for o in objects if o["metadata"]["name"].startswith("flink-config-"))
    return {
        "kind": "NativeReferenceInput",
        "flinkVersion": version,
        "name": scenario.properties["kubernetes.cluster-id"],
        "namespace": scenario.properties["kubernetes.namespace"],
        "application": scenario.application,
        "configuration": _effective_configuration(conf_dir, scenario),
        "jars": ["local:///opt/flink/usrlib/job.jar"] if scenario.application else [],
        "programArgs": list(scenario.job_args),
        "jobManagerPodTemplate": scenario.jobmanager_template,
        "taskManagerPodTemplate": scenario.taskmanager_template,
        # The log files Flink picked from the conf dir (1.x: only the console ones; 2.x: all of them).
        "logFiles": {
            name: content
            for name, content in config_map["data"].items()
            if name.startswith(("log4j", "logback"))
        },
    }


def capture(version: str, scenario: Scenario) -> Capture:
    """Run the scenario's CLI against a fresh emulator: Flink's inputs and the objects it created."""
    home = flink_home(version)
    if home is None:
        raise RuntimeError(f"no Flink distribution for {version}")
    with tempfile.TemporaryDirectory(prefix="native-reference-") as tmp, ThreadedApiServer() as api:
        work = Path(tmp)
        api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flink"}})
        kubeconfig = api.write_kubeconfig(work / "kubeconfig", namespace="flink")
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("KUBERNETES_", "FLINK_", "HADOOP_"))
        }
        conf_dir = _conf_dir(home, scenario, work)
        env["FLINK_CONF_DIR"] = str(conf_dir)
        env["FLINK_LOG_DIR"] = str(work / "log")
        done = subprocess.run(
            _command(version, home, scenario, work, kubeconfig),
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        # With a NodePort REST service the CLI finally looks for a node address, which the emulator has
        # none of; the objects are all created by then.
        endpoint_only = "Could not get the rest endpoint" in done.stdout + done.stderr
        if done.returncode != 0 and not endpoint_only:
            raise RuntimeError(
                f"{version}/{scenario.name}: the Flink CLI failed ({done.returncode}):\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        created = [
            record.json()
            for record in api.hooks.requests("POST")
            if record.status == 201 and record.body and "/namespaces/flink/" in record.path
        ]
        objects = normalise(created, work)
        return Capture(_inputs(version, scenario, conf_dir, objects), objects)


def normalise(objects: list[JSON], work: Path) -> list[JSON]:
    """Replace the generated uid of the JobManager Deployment (owner of the other objects) by a placeholder
    and the temporary work directory (in pod-template file paths) by ``<workdir>``.

    (The uid cannot be read back: when the CLI fails after creating everything, Flink deletes what it made.)
    """
    result = []
    for obj in objects:
        obj = copy.deepcopy(obj)
        if obj.get("kind") == "ConfigMap":
            obj["data"] = {k: v.replace(str(work), "<workdir>") for k, v in (obj.get("data") or {}).items()}
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "Deployment":
                ref["uid"] = DEPLOYMENT_UID
        result.append(obj)
    return result


def reference_path(version: str, scenario: str) -> Path:
    return REFERENCE_DIR / version / f"{scenario}.yaml"


def input_path(version: str, scenario: str) -> Path:
    return REFERENCE_DIR / version / f"{scenario}.input.yaml"


def load_reference(version: str, scenario: str) -> Capture:
    """The checked-in capture of a scenario."""
    inputs = yaml.safe_load(input_path(version, scenario).read_text())
    objects = list(yaml.safe_load_all(reference_path(version, scenario).read_text()))
    return Capture(inputs, objects)


def reference_scenarios(version: str) -> list[str]:
    """Names of the scenarios with checked-in references for a version."""
    return sorted(p.name.removesuffix(".input.yaml") for p in (REFERENCE_DIR / version).glob("*.input.yaml"))


def write_reference(version: str, scenario: Scenario, captured: Capture) -> list[Path]:
    path = reference_path(version, scenario.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Objects Flink's native integration ({version}) created for scenario {scenario.name!r}\n"
        "# (captured by tests/support/native_reference.py; reviewed by hand).\n"
    )
    path.write_text(header + yaml.safe_dump_all(captured.objects, sort_keys=False, width=110))
    inputs = input_path(version, scenario.name)
    inputs.write_text(
        f"# What Flink {version} was given in scenario {scenario.name!r}: its effective configuration\n"
        "# (stock configuration file plus the -D properties) and files.\n"
        + yaml.safe_dump(captured.inputs, sort_keys=False, width=110)
    )
    return [path, inputs]


VERSIONS = ("v2_3", "v1_20")


def main(argv: Sequence[str]) -> int:
    versions = list(argv) or list(VERSIONS)
    for version in versions:
        if flink_home(version) is None:
            print(f"skipping {version}: no distribution installed")
            continue
        for scenario in scenarios(version):
            captured = capture(version, scenario)
            written = write_reference(version, scenario, captured)
            print(f"{version}/{scenario.name}: {len(captured.objects)} objects -> {written[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
