"""`flink-operator run`: start-up fails loudly and clearly, before touching any cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flink_operator.cli.main import app

pytestmark = pytest.mark.unit

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: u, user: {}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def run(tmp_path: Path, config: str, *extra: str) -> tuple[int, str]:
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    (tmp_path / "config.yaml").write_text(config)
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--kubeconfig",
            str(tmp_path / "kubeconfig"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--health-port",
            "-1",
            *extra,
        ],
        env={"FLINK_CONF_DIR": "", "CONF_OVERRIDE_DIR": ""},
    )
    return result.exit_code, result.output


def test_a_bad_rest_url_template_of_the_kubernetes_runtime_names_the_key(tmp_path: Path) -> None:
    code, output = run(
        tmp_path,
        "kubernetes.operator.runtime: kubernetes\n"
        "kubernetes.operator.flink.rest.url-template: 'ftp://{name}:{port}'\n",
    )
    assert code == 2
    assert "kubernetes.operator.flink.rest.url-template" in output and "http://" in output


def test_a_bad_option_value_names_the_key(tmp_path: Path) -> None:
    code, output = run(tmp_path, "kubernetes.operator.reconcile.interval: soon\n")
    assert code == 2
    assert "kubernetes.operator.reconcile.interval" in output


def test_an_unknown_runtime_names_the_choices(tmp_path: Path) -> None:
    code, output = run(tmp_path, "kubernetes.operator.runtime: cloud\n")
    assert code == 2
    assert "'local'" in output and "'kubernetes'" in output


def test_missing_files_are_bad_parameters(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output
