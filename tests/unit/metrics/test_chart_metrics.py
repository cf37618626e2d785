"""The Helm chart's metrics promise kept: the configuration it renders makes the operator serve /metrics on
all interfaces on the port the container and the Service expose, and nothing when metrics are off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.helm_chart import config_yaml, one, operator_container, render

from flink_operator.config import load_declared_options, load_default_configuration
from flink_operator.metrics import MetricsSettings

pytestmark = pytest.mark.unit


def settings_for(values: dict[str, Any], directory: Path) -> tuple[MetricsSettings, list[dict[str, Any]]]:
    objects = render(values)
    (directory / "config.yaml").write_text(config_yaml(objects))
    load_declared_options()
    loaded = load_default_configuration({"FLINK_CONF_DIR": str(directory)}).configuration
    return MetricsSettings.from_configuration(loaded), objects


@pytest.mark.parametrize("port", [None, 9300])
def test_the_rendered_configuration_serves_the_exposed_port(port: int | None, tmp_path: Path) -> None:
    values: dict[str, Any] = {} if port is None else {"metrics": {"port": port}}
    settings, objects = settings_for(values, tmp_path)
    expected = 9999 if port is None else port
    assert settings.ports == (expected,)
    assert settings.host == "0.0.0.0"
    container_ports = {p["name"]: p["containerPort"] for p in operator_container(objects)["ports"]}
    assert container_ports["metrics"] == expected
    service = one(objects, "Service", "flink-operator-metrics")
    assert service["spec"]["ports"][0]["port"] == expected


def test_metrics_off_serves_nothing(tmp_path: Path) -> None:
    settings, objects = settings_for({"metrics": {"enabled": False}}, tmp_path)
    assert not settings.serves
    assert "metrics" not in {p["name"] for p in operator_container(objects)["ports"]}
