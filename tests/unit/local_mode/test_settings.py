"""Local mode's operator configuration (laptop defaults < --config < environment < -D; the state dir always
wins), option parsing, and where files live."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.resource_builders import model, session_job, with_field

from flink_operator.config import ConfigError, DefaultConfiguration
from flink_operator.config import operator_options as op
from flink_operator.local_mode.layout import DEFAULT_STATE_DIR, LocalPaths
from flink_operator.local_mode.settings import (
    LocalOptions,
    operator_configuration,
    operator_values,
    parse_overrides,
    usrlib_dir,
)
from flink_operator.validation import ValidationContext, offline_resolver, validate_session_job

pytestmark = pytest.mark.unit


def test_layers_win_in_order_and_the_state_dir_always_follows_the_option(tmp_path: Path) -> None:
    paths = LocalPaths.of(tmp_path)
    values = operator_values(
        paths,
        file_values={"kubernetes.operator.reconcile.interval": "30 s", "a": "file", "b": "file"},
        env_values={"b": "env", "c": "env"},
        overrides={"c": "cli", "kubernetes.operator.local.state-dir": "/elsewhere"},
    )
    assert values["kubernetes.operator.reconcile.interval"] == "30 s"
    assert (values["a"], values["b"], values["c"]) == ("file", "env", "cli")
    assert values["kubernetes.operator.observer.progress-check.interval"] == "2 s"
    assert values["kubernetes.operator.local.state-dir"] == str(tmp_path / "flink")
    assert values["kubernetes.operator.local.usrlib-dir"] == str(tmp_path / "usrlib")


def test_the_configuration_is_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("kubernetes.operator:\n  reconcile.interval: 45 s\n")
    options = LocalOptions(state_dir=tmp_path / "state", config_file=config, overrides={"x.y": "1"})
    loaded = operator_configuration(options, environ={})
    assert loaded.configuration.get(op.RECONCILE_INTERVAL).total_seconds() == 45
    assert loaded.configuration.get(op.OBSERVER_REST_READY_DELAY).total_seconds() == 1
    assert loaded.configuration.get(op.LEADER_ELECTION_ENABLED) is True
    assert loaded.values["x.y"] == "1"
    assert loaded.sources == ("local-mode defaults", str(config), "-D options")
    assert usrlib_dir(loaded) == tmp_path / "state" / "usrlib"

    bad = LocalOptions(state_dir=tmp_path, overrides={"kubernetes.operator.reconcile.interval": "soon"})
    with pytest.raises(ConfigError, match=r"kubernetes\.operator\.reconcile\.interval"):
        operator_configuration(bad, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        operator_configuration(LocalOptions(state_dir=tmp_path, config_file=tmp_path / "no.yaml"), environ={})


def test_the_environment_is_a_layer(tmp_path: Path) -> None:
    environ = {"FLINK_OPERATOR_KUBERNETES_OPERATOR_RECONCILE_INTERVAL": "20 s"}
    loaded = operator_configuration(LocalOptions(state_dir=tmp_path), environ=environ)
    assert loaded.configuration.get(op.RECONCILE_INTERVAL).total_seconds() == 20
    assert "environment" in loaded.sources


def test_session_jobs_may_name_usrlib_jars_without_an_option(tmp_path: Path) -> None:
    loaded = operator_configuration(LocalOptions(state_dir=tmp_path), environ={})
    context = ValidationContext(loaded, resolve_host=offline_resolver)

    def problems(uri: str) -> list[str]:
        document = with_field(session_job(), "spec.job.jarURI", uri)
        return [str(p) for p in validate_session_job(model(document), None, context)]

    assert problems("local:///opt/flink/usrlib/counter-job.jar") == []
    assert any("scheme 'http' is not allowed" in p for p in problems("http://repo.example.com/job.jar"))
    assert any("scheme 'file' is not allowed" in p for p in problems("file:///tmp/job.jar"))
    upstream = ValidationContext(DefaultConfiguration(values={}), resolve_host=offline_resolver)
    refused = validate_session_job(
        model(with_field(session_job(), "spec.job.jarURI", "local:///opt/flink/usrlib/counter-job.jar")),
        None,
        upstream,
    )
    assert refused, "outside local mode the upstream default (https only) still applies"


def test_overrides_are_key_value_pairs() -> None:
    assert parse_overrides(["a.b=1", " c = x=y "]) == {"a.b": "1", "c": "x=y"}
    with pytest.raises(ValueError, match="'nothing': expected KEY=VALUE"):
        parse_overrides(["nothing"])
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_overrides(["=value"])


def test_paths_live_under_the_state_dir(tmp_path: Path) -> None:
    paths = LocalPaths.of(tmp_path)
    assert paths.kubeconfig == tmp_path / "kubeconfig"
    assert paths.cluster == tmp_path / "cluster"
    assert paths.operator_log == tmp_path / "logs" / "operator.log"
    assert LocalPaths.of(None).root == DEFAULT_STATE_DIR.absolute()


def test_flink_distributions_beside_the_project_are_found(tmp_path: Path) -> None:
    from flink_operator.local_mode.distributions import discovered_flink_homes

    home = tmp_path / ".venv-flink120" / "lib" / "python3.11" / "site-packages" / "pyflink"
    (home / "lib").mkdir(parents=True)
    (home / "conf").mkdir()
    (home / "bin").mkdir()
    (home / "bin" / "bash-java-utils.jar").write_bytes(b"PK")
    (home / "lib" / "flink-dist-1.20.5.jar").write_bytes(b"PK")
    (tmp_path / ".venv-flink-broken" / "lib" / "python3.11" / "site-packages" / "pyflink").mkdir(parents=True)
    found = discovered_flink_homes(tmp_path)
    assert found == {"kubernetes.operator.local.flink-home.v1_20": str(home)}
    values = operator_values(
        LocalPaths.of(tmp_path),
        discovered=found,
        overrides={"kubernetes.operator.local.flink-home.v1_20": "/mine"},
    )
    assert values["kubernetes.operator.local.flink-home.v1_20"] == "/mine", "configured homes win"
