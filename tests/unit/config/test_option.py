"""ConfigOption, the registry and typed reads through Configuration."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from flink_operator.config import (
    DURATION,
    INTEGER,
    STRING,
    ConfigError,
    Configuration,
    OptionRegistry,
    Scope,
    declare,
    declare_optional,
)
from flink_operator.config.autoscaler_options import UTILIZATION_TARGET
from flink_operator.config.operator_options import (
    LEADER_ELECTION_ENABLED,
    LEADER_ELECTION_LEASE_NAME,
    RECONCILE_INTERVAL,
    WATCHED_NAMESPACES,
)
from flink_operator.config.option import env_var_for_key
from flink_operator.config.registry import load_declared_options

pytestmark = pytest.mark.unit


def test_typed_get_returns_default_when_unset() -> None:
    assert Configuration().get(RECONCILE_INTERVAL) == timedelta(minutes=1)


def test_typed_get_parses_the_value() -> None:
    config = Configuration({"kubernetes.operator.reconcile.interval": "15 s"})
    assert config.get(RECONCILE_INTERVAL) == timedelta(seconds=15)


def test_bad_value_names_key_value_and_expectation() -> None:
    config = Configuration({"kubernetes.operator.reconcile.interval": "5 minutez"})
    with pytest.raises(ConfigError) as caught:
        config.get(RECONCILE_INTERVAL)
    assert str(caught.value).startswith(
        "kubernetes.operator.reconcile.interval: '5 minutez' is not a duration "
        "(expected e.g. '15 s', '5 min', '1 h')"
    )
    assert caught.value.key == "kubernetes.operator.reconcile.interval"


def test_bad_value_of_secret_option_is_not_echoed() -> None:
    registry = OptionRegistry()
    token = declare("my.token.ttl", INTEGER, 1, "x", secret=True, registry=registry)
    with pytest.raises(ConfigError) as caught:
        Configuration({"my.token.ttl": "hunter22"}).get(token)
    assert "hunter22" not in str(caught.value)
    assert "'******'" in str(caught.value)


def test_deprecated_key_is_read_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = Configuration({"kubernetes.operator.reconciler.reschedule.interval": "30 s"})
    with caplog.at_level(logging.WARNING):
        assert config.get(RECONCILE_INTERVAL) == timedelta(seconds=30)
    assert config.lookup(RECONCILE_INTERVAL) == ("kubernetes.operator.reconciler.reschedule.interval", "30 s")


def test_error_names_the_deprecated_key_actually_used() -> None:
    config = Configuration({"kubernetes.operator.reconciler.reschedule.interval": "soon"})
    with pytest.raises(ConfigError, match=r"^kubernetes\.operator\.reconciler\.reschedule\.interval: 'soon'"):
        config.get(RECONCILE_INTERVAL)


def test_new_key_beats_deprecated_key() -> None:
    config = Configuration(
        {
            "kubernetes.operator.reconcile.interval": "1 s",
            "kubernetes.operator.reconciler.reschedule.interval": "2 s",
        }
    )
    assert config.get(RECONCILE_INTERVAL) == timedelta(seconds=1)


def test_autoscaler_legacy_prefix_and_deprecated_keys() -> None:
    assert Configuration().get(UTILIZATION_TARGET) == 0.7
    assert Configuration({"kubernetes.operator.job.autoscaler.utilization.target": "0.5"}).get(
        UTILIZATION_TARGET
    ) == 0.5
    assert Configuration({"job.autoscaler.target.utilization": "0.6"}).get(UTILIZATION_TARGET) == 0.6
    assert Configuration({"kubernetes.operator.job.autoscaler.target.utilization": "0.4"}).get(
        UTILIZATION_TARGET
    ) == 0.4
    both = {
        "job.autoscaler.utilization.target": "0.9",
        "kubernetes.operator.job.autoscaler.utilization.target": "0.1",
    }
    assert Configuration(both).get(UTILIZATION_TARGET) == 0.9


def test_deliberate_differences_from_upstream_are_recorded() -> None:
    assert LEADER_ELECTION_ENABLED.default is True
    assert LEADER_ELECTION_ENABLED.upstream_default == "false"
    assert LEADER_ELECTION_LEASE_NAME.default
    assert "upstream" in LEADER_ELECTION_ENABLED.description.lower()


def test_env_var_names_are_derived_from_keys() -> None:
    assert RECONCILE_INTERVAL.env_var == "FLINK_OPERATOR_KUBERNETES_OPERATOR_RECONCILE_INTERVAL"
    assert (
        env_var_for_key("job.autoscaler.scale-up.max-factor")
        == "FLINK_OPERATOR_JOB_AUTOSCALER_SCALE_UP_MAX_FACTOR"
    )
    assert WATCHED_NAMESPACES.env_var_name == "WATCH_NAMESPACES"


def test_registry_finds_options_by_any_key_and_template() -> None:
    registry = OptionRegistry()
    opt = declare("a.b", DURATION, timedelta(1), "d", deprecated_keys=("a.old",), registry=registry)
    tmpl = declare_optional("x.<name>.class", STRING, "t", scope=Scope.DYNAMIC, registry=registry)
    assert registry.find("a.b") is opt
    assert registry.find("a.old") is opt
    assert registry.find("x.audit.class") is tmpl
    assert registry.find("x.a.b.class") is None
    assert registry.find("unknown") is None
    assert registry.scope_of("x.audit.class") is Scope.DYNAMIC
    assert registry.is_system_key("a.old")
    assert registry.is_system_key("kubernetes.operator.default-configuration.namespace.ns.a")
    assert not registry.is_system_key("taskmanager.numberOfTaskSlots")
    assert [o.key for o in registry] == ["a.b", "x.<name>.class"]


def test_identical_redeclaration_is_shared_conflicting_one_fails() -> None:
    registry = OptionRegistry()
    first = declare("k", INTEGER, 1, "one", registry=registry)
    assert declare("k", INTEGER, 1, "same option", registry=registry) is first
    with pytest.raises(ValueError, match="already declared differently"):
        declare("k", INTEGER, 2, "other default", registry=registry)
    with pytest.raises(ValueError, match="already declared differently"):
        declare("k", INTEGER, 1, "other scope", scope=Scope.DYNAMIC, registry=registry)


def test_template_resolution() -> None:
    registry = OptionRegistry()
    tmpl = declare_optional("p.<name>.class", STRING, "t", registry=registry)
    concrete = tmpl.resolve(name="audit")
    assert concrete.key == "p.audit.class"
    assert Configuration({"p.audit.class": "m:C"}).get(concrete) == "m:C"
    with pytest.raises(ConfigError, match=r"without '\.'"):
        tmpl.resolve(name="a.b")
    with pytest.raises(KeyError):
        tmpl.resolve(other="x")


def test_subset_strips_prefix() -> None:
    config = Configuration({"kubernetes.operator.plugins.listeners.a.url": "u", "x": "y"})
    assert config.subset("kubernetes.operator.plugins.listeners.a.") == {"url": "u"}


def test_configuration_repr_never_shows_values() -> None:
    assert "hunter22" not in repr(Configuration({"s3.secret-key": "hunter22"}))


def test_all_declared_options_are_well_formed() -> None:
    registry = load_declared_options()
    assert len(registry) > 100
    for option in registry:
        assert option.description.strip(), option.key
        if option.default is not None:
            # Every default survives text form, so the documentation shows a value the parser accepts.
            assert option.parse(option.default_text or "") == option.default, option.key


@pytest.mark.parametrize(
    "key",
    [
        "kubernetes.operator.reconcile.interval",
        "kubernetes.operator.reconcile.parallelism",
        "kubernetes.operator.flink.client.timeout",
        "kubernetes.operator.leader-election.lease-name",
        "kubernetes.operator.watched.namespaces",
        "kubernetes.operator.dynamic.namespaces.enabled",
        "kubernetes.operator.label.selector",
        "kubernetes.operator.health.probe.port",
        "kubernetes.operator.retry.max.attempts",
        "kubernetes.operator.rate-limiter.limit",
        "kubernetes.operator.dynamic.config.check.interval",
        "kubernetes.operator.josdk.metrics.enabled",
        "kubernetes.operator.metrics.scope.k8soperator.system",
        "kubernetes.operator.metrics.reporter.prom.factory.class",
    ],
)
def test_contract_system_options_are_declared_system(key: str) -> None:
    assert load_declared_options().scope_of(key) is Scope.SYSTEM


@pytest.mark.parametrize(
    "key",
    [
        "kubernetes.operator.periodic.savepoint.interval",
        "kubernetes.operator.periodic.checkpoint.interval",
        "kubernetes.operator.savepoint.history.max.count",
        "kubernetes.operator.cluster.health-check.enabled",
        "kubernetes.operator.deployment.rollback.enabled",
        "kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age",
        "kubernetes.operator.exception.label.mapper",
        "job.autoscaler.enabled",
        "job.autoscaler.metrics.window",
        "kubernetes.operator.job.autoscaler.metrics.window",
    ],
)
def test_contract_resource_options_are_declared_dynamic(key: str) -> None:
    assert load_declared_options().scope_of(key) is Scope.DYNAMIC


def test_watched_namespaces() -> None:
    from flink_operator.config.operator_options import watched_namespaces

    assert watched_namespaces(Configuration()) is None
    assert watched_namespaces(Configuration({"kubernetes.operator.watched.namespaces": ""})) is None
    listed = Configuration({"kubernetes.operator.watched.namespaces": "a, b"})
    assert watched_namespaces(listed) == frozenset({"a", "b"})
    assert watched_namespaces(
        Configuration({"kubernetes.operator.watched.namespaces": "a,JOSDK_ALL_NAMESPACES"})
    ) is None


def test_resolved_template_reads_are_not_confused_by_each_other() -> None:
    registry = OptionRegistry()
    tmpl = declare_optional("p.<name>.class", STRING, "t", registry=registry)
    config = Configuration({f"p.n{i}.class": f"C{i}" for i in range(50)})
    assert [config.get(tmpl.resolve(name=f"n{i}")) for i in range(50)] == [f"C{i}" for i in range(50)]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("kubernetes.operator.reconcile.parallelism", "0", "-1 (no bound) or a value of at least 1"),
        ("kubernetes.operator.health.probe.port", "70000", "a value from 1 to 65535"),
        ("kubernetes.operator.dynamic.config.check.interval", "0 s", "a duration greater than zero"),
        ("kubernetes.operator.leader-election.lease-name", " ", "a non-empty value"),
        ("kubernetes.operator.retry.max.attempts", "-2", "a value of at least 0"),
    ],
)
def test_constraints_reject_values_the_operator_cannot_run_with(key: str, value: str, expected: str) -> None:
    option = load_declared_options().find(key)
    assert option is not None
    with pytest.raises(ConfigError) as caught:
        Configuration({key: value}).get(option)
    assert str(caught.value) == f"{key}: {value!r} is not allowed here (expected {expected})"


def test_unbounded_parallelism_is_allowed() -> None:
    from flink_operator.config.operator_options import RECONCILE_PARALLELISM

    assert Configuration({"kubernetes.operator.reconcile.parallelism": "-1"}).get(RECONCILE_PARALLELISM) == -1
