"""`flink-operator config check|show|docs` run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flink_operator.cli.config_cmd import config_app
from flink_operator.config.docs import render_markdown

pytestmark = pytest.mark.unit

RI = "kubernetes.operator.reconcile.interval"


@pytest.fixture
def conf_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("FLINK_CONF_DIR", "CONF_OVERRIDE_DIR", "WATCH_NAMESPACES", "FLINK_OPERATOR_PROPERTIES"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_check_accepts_a_good_file_and_names_the_bad_value(conf_dir: Path) -> None:
    (conf_dir / "config.yaml").write_text(f"{RI}: 15 s\n")
    result = CliRunner().invoke(config_app, ["check", "--config", str(conf_dir)])
    assert result.exit_code == 0, result.output
    assert "configuration OK" in result.output

    (conf_dir / "config.yaml").write_text(f"{RI}: 5 minutez\n")
    result = CliRunner().invoke(config_app, ["check", "--config", str(conf_dir)])
    assert result.exit_code == 1
    assert f"{RI}: '5 minutez' is not a duration" in result.output


def test_show_applies_namespace_defaults_and_masks_secrets(conf_dir: Path) -> None:
    (conf_dir / "config.yaml").write_text(
        f"{RI}: 15 s\ns3.secret-key: hunter2222\n"
        f"kubernetes.operator.default-configuration.namespace.team.{RI}: 5 s\n"
    )
    result = CliRunner().invoke(config_app, ["show", "-c", str(conf_dir), "--namespace", "team", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown == {RI: "5 s", "s3.secret-key": "******"}

    result = CliRunner().invoke(config_app, ["show", "-c", str(conf_dir), "--with-defaults"])
    assert "kubernetes.operator.leader-election.enabled: true" in result.output
    assert "hunter2222" not in result.output


def test_docs_prints_the_reference(tmp_path: Path) -> None:
    result = CliRunner().invoke(config_app, ["docs"])
    assert result.exit_code == 0
    assert result.output == render_markdown()
    target = tmp_path / "c.md"
    target.write_text("stale\n")
    assert CliRunner().invoke(config_app, ["docs", "--check", str(target)]).exit_code == 1
    assert CliRunner().invoke(config_app, ["docs", "--write", str(target)]).exit_code == 0
    assert CliRunner().invoke(config_app, ["docs", "--check", str(target)]).exit_code == 0
