"""The local runtime writes a resource's `logConfiguration` into a deployment's configuration directory
(the container file names mapped to the ones local processes read) over the distribution's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_operator.flink.local.distribution import FlinkDistribution
from flink_operator.flink.local.launcher import _prepare_conf_dir
from flink_operator.flink.local.layout import DeploymentLayout
from flink_operator.flink.service import DeploymentError

pytestmark = pytest.mark.unit


def distribution(home: Path) -> FlinkDistribution:
    (home / "conf").mkdir(parents=True)
    (home / "conf" / "log4j.properties").write_text("stock log4j")
    (home / "conf" / "logback.xml").write_text("stock logback")
    return FlinkDistribution(home, "2.3.0", home / "lib" / "flink-dist.jar", (), None, "")


def test_log_configuration_replaces_the_distributions_files(tmp_path: Path) -> None:
    deployment = DeploymentLayout(tmp_path / "deployment")
    files = {"log4j-console.properties": "rootLogger.level = DEBUG", "extra.properties": "x=1"}
    _prepare_conf_dir(distribution(tmp_path / "flink"), deployment, {"a": "b"}, files)
    assert (deployment.conf / "log4j.properties").read_text() == "rootLogger.level = DEBUG"
    assert (deployment.conf / "extra.properties").read_text() == "x=1"
    assert (deployment.conf / "logback.xml").read_text() == "stock logback", "not given: the stock file"
    assert "a: b" in (deployment.conf / "config.yaml").read_text()


def test_without_log_configuration_the_distributions_files_are_used(tmp_path: Path) -> None:
    deployment = DeploymentLayout(tmp_path / "deployment")
    _prepare_conf_dir(distribution(tmp_path / "flink"), deployment, {}, {})
    assert (deployment.conf / "log4j.properties").read_text() == "stock log4j"


def test_a_log_file_name_with_a_path_is_refused(tmp_path: Path) -> None:
    deployment = DeploymentLayout(tmp_path / "deployment")
    with pytest.raises(DeploymentError, match="logConfiguration"):
        _prepare_conf_dir(distribution(tmp_path / "flink"), deployment, {}, {"../escape": "x"})
