"""`flink-operator validate` as users run it: the installed command in a subprocess, on the examples and on
bad input. Every problem line must name the file, the line, the resource and the field."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
COMMAND = Path(sys.executable).parent / "flink-operator"
CLEARED = ("FLINK_CONF_DIR", "CONF_OVERRIDE_DIR", "FLINK_PLUGINS_DIR", "OPERATOR_LIB")
"""Environment that would change the operator configuration (as do all FLINK_OPERATOR_* variables)."""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def validate(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    environment = {
        k: v for k, v in os.environ.items() if k not in CLEARED and not k.startswith("FLINK_OPERATOR_")
    }
    environment.update(env or {})
    result = subprocess.run(
        [str(COMMAND), "validate", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


GOOD = textwrap.dedent(
    """
    apiVersion: flink.apache.org/v1beta1
    kind: FlinkDeployment
    metadata:
      name: {name}
    spec:
      image: flink:1.20
      flinkVersion: v1_20
      serviceAccount: flink
      jobManager:
        resource: {{memory: 2048m, cpu: 1}}
      taskManager:
        resource: {{memory: 2048m, cpu: 1}}
      job:
        jarURI: local:///opt/flink/usrlib/job.jar
        parallelism: {parallelism}
    """
).lstrip()


def test_the_examples_are_valid() -> None:
    run = validate("examples/")
    assert run.code == 0, run.out + run.err
    assert run.out == ""
    assert "no problems" in run.err.splitlines()[-1]


def test_bad_input_names_file_line_resource_and_field(tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.yaml",
        """
        apiVersion: flink.apache.org/v1beta1
        kind: FlinkDeployment
        metadata:
          name: wrong-types
        spec:
          flinkVersion: v1_20
          serviceAccount: flink
          job:
            parallelism: "2"
            upgradeMode: fast
        ---
        apiVersion: flink.apache.org/v1beta1
        kind: FlinkDeployment
        metadata:
          name: negative
        spec:
          image: flink:1.20
          jobManager:
            resource: {memory: 2048m, cpu: 1}
          taskManager:
            resource: {memory: 2048m, cpu: 1}
          job:
            jarURI: local:///opt/flink/usrlib/job.jar
            parallelism: -1
        ---
        apiVersion: flink.apache.org/v1beta1
        kind: FlinkDeployment
        spek: {}
        metadata:
          name: typos
          namespace: team-a
        spec:
          jobmanager: {replicas: 1}
        """,
    )
    run = validate(bad, "--no-plugins")
    assert run.code == 1
    shown = str(bad)
    expected = [
        f"{shown}:9: FlinkDeployment default/wrong-types: spec.job.parallelism: expected an integer, "
        'got string "2"',
        f"{shown}:10: FlinkDeployment default/wrong-types: spec.job.upgradeMode: unknown value string "
        '"fast"; allowed values: savepoint, last-state, stateless',
        f"{shown}:16: FlinkDeployment default/negative: spec.flinkVersion: required field is missing",
        f"{shown}:16: FlinkDeployment default/negative: spec.serviceAccount: required field is missing",
        f"{shown}:24: FlinkDeployment default/negative: spec.job.parallelism: must be > 0 when "
        "spec.taskManager.replicas is not set (got -1)",
        f"{shown}:28: FlinkDeployment team-a/typos: spek: unknown field",
        f"{shown}:33: FlinkDeployment team-a/typos: spec.jobmanager: unknown field",
    ]
    for line in expected:
        assert any(out.startswith(line) for out in run.lines), f"missing {line!r} in:\n{run.out}"
    assert len(run.lines) == len(expected)
    assert "3 Flink resources in 1 file: 7 problems" in run.err


def test_malformed_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    good = write(tmp_path / "a-good.yaml", GOOD.format(name="fine", parallelism=1))
    broken = write(tmp_path / "b-broken.yaml", GOOD.format(name="ok", parallelism=1) + "---\nkind: [open\n")
    twice = GOOD.format(name="twice", parallelism=1) + "  image: other\n"
    duplicate = write(tmp_path / "c-duplicate.yml", twice)
    run = validate(tmp_path, "--no-plugins")
    assert run.code == 1
    assert run.lines == [
        f"{broken}:18: malformed YAML: did not find expected ',' or ']' (while parsing a flow sequence "
        "started at line 17)",
        f"{duplicate}:16: duplicate key 'image' (first at line 6)",
    ]
    assert str(good) not in run.out
    assert "3 Flink resources in 3 files: 2 problems" in run.err


def test_other_kinds_are_skipped_unless_strict(tmp_path: Path) -> None:
    file = write(
        tmp_path / "mixed.yaml",
        GOOD.format(name="app", parallelism=1)
        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n",
    )
    run = validate(file, "--no-plugins")
    assert run.code == 0, run.out
    assert f"{file}:17: note: ConfigMap default/settings: skipped: not a Flink resource" in run.err
    strict = validate(file, "--no-plugins", "--strict")
    assert strict.code == 1
    assert strict.lines == [
        f"{file}:17: ConfigMap default/settings: not a Flink resource (FlinkDeployment, FlinkSessionJob, "
        "FlinkStateSnapshot of flink.apache.org)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "error: missing.yaml: no such file or directory"),
        (["examples/", "--config", "nowhere.yaml"], "configuration file 'nowhere.yaml' does not exist"),
        (["examples/", "--kubernetes-version", "0.1"], "--kubernetes-version '0.1': no Pod schema"),
        ([], "Missing argument"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    run = validate(*args)
    assert run.code == 2
    assert message in run.err


def test_operator_configuration_from_file_and_environment(tmp_path: Path) -> None:
    job = write(
        tmp_path / "job.yaml",
        """
        apiVersion: flink.apache.org/v1beta1
        kind: FlinkSessionJob
        metadata:
          name: fetch-over-http
        spec:
          deploymentName: somewhere
          job:
            jarURI: http://repo.example.com/job.jar
        """,
    )
    refused = validate(job, "--no-plugins")
    assert refused.code == 1
    assert refused.lines == [
        f"{job}:8: FlinkSessionJob default/fetch-over-http: spec.job.jarURI: scheme 'http' is not allowed "
        '(got "http://repo.example.com/job.jar"); allowed: https '
        "(kubernetes.operator.user.artifacts.allowed-schemes in the operator configuration)"
    ]
    assert "session cluster FlinkDeployment default/somewhere is not among the files checked" in refused.err
    setting = "kubernetes.operator.user.artifacts.allowed-schemes: http;https\n"
    config = write(tmp_path / "conf" / "config.yaml", setting)
    assert validate(job, "--no-plugins", "--config", config).code == 0
    assert validate(job, "--no-plugins", env={"FLINK_CONF_DIR": str(config.parent)}).code == 0
    env = {"FLINK_OPERATOR_KUBERNETES_OPERATOR_USER_ARTIFACTS_ALLOWED_SCHEMES": "http"}
    assert validate(job, "--no-plugins", env=env).code == 0
    broken = write(tmp_path / "broken" / "config.yaml", "kubernetes.operator.reconcile.interval: soon\n")
    bad_config = validate(job, "--config", broken)
    assert bad_config.code == 2
    assert "kubernetes.operator.reconcile.interval" in bad_config.err


def test_plugin_validators_run_after_the_default_one(tmp_path: Path) -> None:
    write(
        tmp_path / "plugins" / "team-rules" / "rules.py",
        """
        from flink_operator.plugins import FlinkResourceValidator


        class RequireTeamLabel(FlinkResourceValidator):
            def validate_deployment(self, deployment):
                if "team" not in (deployment.metadata.labels or {}):
                    return "metadata.labels.team is required"
                return None
        """,
    )
    file = write(tmp_path / "app.yaml", GOOD.format(name="unlabelled", parallelism=0))
    env = {"FLINK_PLUGINS_DIR": str(tmp_path / "plugins")}
    run = validate(file, env=env)
    assert run.code == 1
    assert run.lines == [
        f"{file}:1: FlinkDeployment default/unlabelled: [team-rules] metadata.labels.team is required",
        f"{file}:15: FlinkDeployment default/unlabelled: spec.job.parallelism: must be > 0 when "
        "spec.taskManager.replicas is not set (got 0)",
    ]
    assert validate(file, "--no-plugins", env=env).lines == run.lines[1:]
    broken_plugin = write(tmp_path / "broken" / "bad" / "bad.py", "import no_such_module_here\n")
    failed = validate(file, env={"FLINK_PLUGINS_DIR": str(broken_plugin.parent.parent)})
    assert failed.code == 2
    assert "plugins could not be loaded" in failed.err
