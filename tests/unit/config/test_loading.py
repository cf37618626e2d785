"""Loading the default configuration: file location, file formats, environment layer, checks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flink_operator.config import ConfigError, load_default_configuration
from flink_operator.config.loading import (
    PROPERTIES_ENV,
    check_values,
    environment_layer,
    locate_config_files,
    parse_config_text,
)
from flink_operator.config.operator_options import (
    RECONCILE_INTERVAL,
    RECONCILE_PARALLELISM,
    WATCHED_NAMESPACES,
)

pytestmark = pytest.mark.unit

RI = "kubernetes.operator.reconcile.interval"
RI_ENV = "FLINK_OPERATOR_KUBERNETES_OPERATOR_RECONCILE_INTERVAL"


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def test_no_files_means_builtin_defaults() -> None:
    loaded = load_default_configuration({})
    assert loaded.values == {}
    assert loaded.configuration.get(RECONCILE_INTERVAL) == timedelta(minutes=1)


def test_config_yaml_in_flink_conf_dir(tmp_path: Path) -> None:
    write(tmp_path, "config.yaml", f"{RI}: 15 s\n")
    loaded = load_default_configuration({"FLINK_CONF_DIR": str(tmp_path)})
    assert loaded.configuration.get(RECONCILE_INTERVAL) == timedelta(seconds=15)
    assert loaded.sources == (str(tmp_path / "config.yaml"),)


def test_config_yaml_is_preferred_over_legacy_file(tmp_path: Path) -> None:
    write(tmp_path, "config.yaml", f"{RI}: 15 s\n")
    write(tmp_path, "flink-conf.yaml", f"{RI}: 30 s\n")
    assert locate_config_files({"FLINK_CONF_DIR": str(tmp_path)}) == [tmp_path / "config.yaml"]


def test_legacy_file_when_no_config_yaml(tmp_path: Path) -> None:
    write(tmp_path, "flink-conf.yaml", f"{RI}: 30 s\n")
    loaded = load_default_configuration({"FLINK_CONF_DIR": str(tmp_path)})
    assert loaded.configuration.get(RECONCILE_INTERVAL) == timedelta(seconds=30)


def test_override_dir_beats_conf_dir(tmp_path: Path) -> None:
    write(tmp_path / "conf", "config.yaml", f"{RI}: 15 s\nparallelism.default: 2\n")
    write(tmp_path / "override", "flink-conf.yaml", f"{RI}: 45 s\n")
    env = {"FLINK_CONF_DIR": str(tmp_path / "conf"), "CONF_OVERRIDE_DIR": str(tmp_path / "override")}
    loaded = load_default_configuration(env)
    assert loaded.configuration.get(RECONCILE_INTERVAL) == timedelta(seconds=45)
    assert loaded.values["parallelism.default"] == "2"


def test_explicit_path_replaces_flink_conf_dir(tmp_path: Path) -> None:
    write(tmp_path / "conf", "config.yaml", f"{RI}: 15 s\n")
    explicit = write(tmp_path, "mine.yaml", f"{RI}: 20 s\n")
    loaded = load_default_configuration({"FLINK_CONF_DIR": str(tmp_path / "conf")}, explicit)
    assert loaded.configuration.get(RECONCILE_INTERVAL) == timedelta(seconds=20)
    with pytest.raises(ConfigError, match="does not exist"):
        load_default_configuration({}, tmp_path / "missing.yaml")


def test_nested_yaml_is_flattened() -> None:
    text = """
kubernetes.operator:
  reconcile:
    interval: 15 s
  watched.namespaces: a, b
taskmanager:
  numberOfTaskSlots: 2
pipeline.jars: [a.jar, b.jar]
"""
    assert parse_config_text(text) == {
        "kubernetes.operator.reconcile.interval": "15 s",
        "kubernetes.operator.watched.namespaces": "a, b",
        "taskmanager.numberOfTaskSlots": "2",
        "pipeline.jars": "a.jar;b.jar",
    }


def test_yaml_scalars_keep_their_written_form() -> None:
    text = "a: on\nb: 010\nc: 1.0\nd: True\ne: '5 min'\nf:\n"
    assert parse_config_text(text) == {"a": "on", "b": "010", "c": "1.0", "d": "True", "e": "5 min", "f": ""}


def test_empty_file_is_empty() -> None:
    assert parse_config_text("") == {}
    assert parse_config_text("# only a comment\n") == {}


def test_yaml_errors_name_the_file() -> None:
    with pytest.raises(ConfigError, match=r"^conf/config.yaml: not valid YAML"):
        parse_config_text("a: [unclosed\n", source="conf/config.yaml")
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_config_text("- a\n- b\n", source="config.yaml")


def test_legacy_line_format_fallback() -> None:
    # Not YAML (a flow mapping as a key), but fine in Flink's legacy line format.
    text = (
        "# comment\nkubernetes.ingress.template: {{name}}.{{namespace}}.example.com\n"
        "a: b # trailing\n\nc:\n"
    )
    assert parse_config_text(text, legacy=True) == {
        "kubernetes.ingress.template": "{{name}}.{{namespace}}.example.com",
        "a": "b",
        "c": "",
    }


def test_legacy_format_reports_bad_lines() -> None:
    with pytest.raises(ConfigError, match=r"line 2: expected 'key: value', got 'garbage'"):
        parse_config_text("a: {{x}\ngarbage\n", source="flink-conf.yaml", legacy=True)


def test_environment_beats_config_file(tmp_path: Path) -> None:
    write(tmp_path, "config.yaml", f"{RI}: 15 s\n")
    loaded = load_default_configuration({"FLINK_CONF_DIR": str(tmp_path), RI_ENV: "3 min"})
    assert loaded.configuration.get(RECONCILE_INTERVAL) == timedelta(minutes=3)
    assert loaded.sources[-1] == "environment"


def test_upstream_watch_namespaces_variable() -> None:
    env = {"WATCH_NAMESPACES": "ns1, ns2"}
    assert load_default_configuration(env).configuration.get(WATCHED_NAMESPACES) == ("ns1", "ns2")
    env["FLINK_OPERATOR_KUBERNETES_OPERATOR_WATCHED_NAMESPACES"] = "ns3"
    assert load_default_configuration(env).configuration.get(WATCHED_NAMESPACES) == ("ns3",)


def test_properties_variable_sets_any_key_and_loses_to_option_variables() -> None:
    env = {
        PROPERTIES_ENV: f"{RI}: 2 min\nkubernetes.operator.default-configuration.namespace.a.x: y\n",
        "FLINK_OPERATOR_KUBERNETES_OPERATOR_RECONCILE_PARALLELISM": "7",
    }
    layer = environment_layer(env)
    assert layer[RI] == "2 min"
    assert layer["kubernetes.operator.default-configuration.namespace.a.x"] == "y"
    env[RI_ENV] = "4 min"
    loaded = load_default_configuration(env)
    assert loaded.configuration.get(RECONCILE_INTERVAL) == timedelta(minutes=4)
    assert loaded.configuration.get(RECONCILE_PARALLELISM) == 7


def test_invalid_values_fail_the_load_listing_every_problem(tmp_path: Path) -> None:
    write(
        tmp_path,
        "config.yaml",
        f"{RI}: 5 minutez\n"
        "kubernetes.operator.reconcile.parallelism: many\n"
        "kubernetes.operator.default-configuration.namespace.ns.kubernetes.operator.retry.max.attempts: x\n"
        "kubernetes.operator.default-configuration.flink-version.1.20.a: b\n"
        "taskmanager.numberOfTaskSlots: not-checked-here\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_default_configuration({"FLINK_CONF_DIR": str(tmp_path)})
    message = str(caught.value)
    assert str(tmp_path / "config.yaml") in message
    assert f"{RI}: '5 minutez' is not a duration (expected e.g. '15 s', '5 min', '1 h')" in message
    assert "kubernetes.operator.reconcile.parallelism: 'many' is not an integer" in message
    assert "namespace.ns.kubernetes.operator.retry.max.attempts: 'x' is not an integer" in message
    assert "'1' is not a Flink version" in message
    assert "numberOfTaskSlots" not in message


def test_check_values_accepts_good_configuration() -> None:
    good = {RI: "15 s", "kubernetes.operator.default-configuration.flink-version.v1_19+.a": "b"}
    assert check_values(good) == []


def test_bad_redaction_pattern_is_reported() -> None:
    problems = check_values({"kubernetes.operator.redaction.patterns": "ok;(unclosed"})
    assert len(problems) == 1
    assert "kubernetes.operator.redaction.patterns" in problems[0]
    assert "'(unclosed' is not a regular expression" in problems[0]


def test_namespace_default_beats_environment(tmp_path: Path) -> None:
    write(tmp_path, "config.yaml", f"kubernetes.operator.default-configuration.namespace.team.{RI}: 5 s\n")
    loaded = load_default_configuration({"FLINK_CONF_DIR": str(tmp_path), RI_ENV: "3 min"})
    assert loaded.configuration.get(RECONCILE_INTERVAL) == timedelta(minutes=3)
    assert loaded.for_resource("team", "v1_20").get(RECONCILE_INTERVAL) == timedelta(seconds=5)


def test_environment_variables_of_every_declared_option_are_honoured() -> None:
    # Plugin options are declared outside this package; loading must still know their variables.
    env = {"FLINK_OPERATOR_KUBERNETES_OPERATOR_PLUGINS_FAIL_ON_ERROR": "false"}
    assert load_default_configuration(env).values == {"kubernetes.operator.plugins.fail-on-error": "false"}
