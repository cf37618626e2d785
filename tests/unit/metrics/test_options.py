"""Metric settings from the configuration: the endpoint (own key or an upstream Prometheus reporter), the
enabling flags, and clear errors for bad ports."""

from __future__ import annotations

import logging

import pytest

from flink_operator.config import ConfigError, Configuration
from flink_operator.metrics.options import MetricsSettings, endpoint_ports, parse_port_range

pytestmark = pytest.mark.unit

PROM = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
R = "kubernetes.operator.metrics.reporter."


def settings(**values: str) -> MetricsSettings:
    return MetricsSettings.from_configuration(Configuration(values))


def test_no_endpoint_by_default_and_upstream_flags_are_on() -> None:
    default = MetricsSettings.from_configuration(Configuration({}))
    assert not default.serves
    assert default.host == "0.0.0.0"
    assert (default.controller_metrics, default.process_metrics, default.kube_client_metrics) == (True,) * 3
    assert (default.resource_metrics, default.lifecycle_metrics, default.namespace_histograms) == (True,) * 3
    assert not default.kube_client_code_groups and not default.resource_labels
    assert default.kube_client_slow_threshold == 5.0


def test_the_charts_prometheus_reporter_keys_serve_the_endpoint() -> None:
    config = Configuration({R + "prom.factory.class": PROM, R + "prom.port": "9999"})
    assert endpoint_ports(config) == (9999,)


def test_a_prometheus_reporter_without_port_uses_flinks_default() -> None:
    assert endpoint_ports(Configuration({R + "p.factory.class": PROM})) == (9249,)


def test_a_port_range_is_tried_in_order() -> None:
    config = Configuration({R + "prom.factory.class": PROM, R + "prom.port": "9250-9252"})
    assert endpoint_ports(config) == (9250, 9251, 9252)


def test_the_own_port_key_wins_and_the_host_is_configurable() -> None:
    chosen = MetricsSettings.from_configuration(Configuration({
        R + "prom.factory.class": PROM, R + "prom.port": "9999",
        "kubernetes.operator.metrics.port": "0", "kubernetes.operator.metrics.host": "127.0.0.1",
    }))
    assert chosen.ports == (0,) and chosen.host == "127.0.0.1"


def test_other_reporters_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = Configuration({
        R + "slf4j.factory.class": "org.apache.flink.metrics.slf4j.Slf4jReporterFactory",
        R + "slf4j.interval": "1 MINUTE",
    })
    with caplog.at_level(logging.WARNING):
        assert endpoint_ports(config) == ()
    assert "slf4j" in caplog.text and "not supported" in caplog.text


def test_a_reporter_port_without_factory_is_not_an_endpoint() -> None:
    assert endpoint_ports(Configuration({R + "prom.port": "9999"})) == ()


@pytest.mark.parametrize("text", ["nine", "70000", "9260-9250", "1-2-3", "-1", ""])
def test_bad_reporter_ports_name_the_key(text: str) -> None:
    config = Configuration({R + "prom.factory.class": PROM, R + "prom.port": text or " "})
    with pytest.raises(ConfigError) as raised:
        endpoint_ports(config)
    assert raised.value.key == R + "prom.port"
    assert "a port (0-65535) or a range" in str(raised.value)


def test_bad_own_port_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"kubernetes\.operator\.metrics\.port"):
        settings(**{"kubernetes.operator.metrics.port": "65536"})


def test_parse_port_range() -> None:
    assert parse_port_range(" 9249 ", key="k") == (9249,)
    assert parse_port_range("0", key="k") == (0,)


def test_flags_follow_upstreams_keys() -> None:
    chosen = settings(**{
        "kubernetes.operator.josdk.metrics.enabled": "false",
        "kubernetes.operator.jvm.metrics.enabled": "false",
        "kubernetes.operator.kubernetes.client.metrics.enabled": "false",
        "kubernetes.operator.kubernetes.client.metrics.http.response.code.groups.enabled": "true",
        "kubernetes.operator.kubernetes.client.metrics.slow.request.threshold": "500 ms",
        "kubernetes.operator.resource.metrics.enabled": "false",
        "kubernetes.operator.resource.lifecycle.metrics.enabled": "false",
        "kubernetes.operator.resource.lifecycle.namespace.histograms.enabled": "false",
        "kubernetes.operator.metrics.resource-labels.enabled": "true",
    })
    assert not (chosen.controller_metrics or chosen.process_metrics or chosen.kube_client_metrics)
    assert not (chosen.resource_metrics or chosen.lifecycle_metrics or chosen.namespace_histograms)
    assert chosen.kube_client_code_groups and chosen.resource_labels
    assert chosen.kube_client_slow_threshold == 0.5
