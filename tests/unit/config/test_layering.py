"""Layering of a resource's configuration (contract §5.1): one test per layer beating the one below."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flink_operator.config import (
    Configuration,
    DefaultConfiguration,
    FlinkVersion,
    effective_flink_configuration,
    flink_only,
    operator_configuration,
    scoped_defaults,
    split_spec_configuration,
)
from flink_operator.config.layering import changed_keys, parse_scoped_key, parse_version_token
from flink_operator.config.operator_options import RECONCILE_INTERVAL
from flink_operator.config.resource_options import PERIODIC_SAVEPOINT_INTERVAL, SAVEPOINT_HISTORY_MAX_COUNT
from flink_operator.config.values import IntervalSchedule

pytestmark = pytest.mark.unit

NS = "kubernetes.operator.default-configuration.namespace."
VER = "kubernetes.operator.default-configuration.flink-version."
SLOTS = "taskmanager.numberOfTaskSlots"
COUNT = "kubernetes.operator.savepoint.history.max.count"


def test_file_value_beats_builtin_default() -> None:
    assert Configuration().get(SAVEPOINT_HISTORY_MAX_COUNT) == 10
    assert operator_configuration({COUNT: "3"}, None, None).get(SAVEPOINT_HISTORY_MAX_COUNT) == 3


def test_namespace_default_beats_base() -> None:
    base = {SLOTS: "1", NS + "team-a." + SLOTS: "2"}
    assert scoped_defaults(base, "team-a", None)[SLOTS] == "2"
    assert scoped_defaults(base, "team-b", None)[SLOTS] == "1"
    assert scoped_defaults(base, None, None)[SLOTS] == "1"


def test_version_default_beats_namespace_default() -> None:
    base = {SLOTS: "1", NS + "team-a." + SLOTS: "2", VER + "v1_20." + SLOTS: "3"}
    assert scoped_defaults(base, "team-a", "v1_20")[SLOTS] == "3"
    assert scoped_defaults(base, "team-a", "v1_19")[SLOTS] == "2"


def test_open_ended_version_default_beats_namespace_default() -> None:
    base = {NS + "team-a." + SLOTS: "2", VER + "v1_18+." + SLOTS: "4"}
    assert scoped_defaults(base, "team-a", "v1_20")[SLOTS] == "4"
    assert scoped_defaults(base, "team-a", "v1_17")[SLOTS] == "2"


def test_open_ended_versions_apply_in_ascending_order() -> None:
    # Listed out of order on purpose: the newest applicable `+` entry wins, whatever the file order.
    base = {VER + "v1_19+." + SLOTS: "19", VER + "v1_16+." + SLOTS: "16", VER + "v1_18+." + SLOTS: "18"}
    assert scoped_defaults(base, None, "v1_20")[SLOTS] == "19"
    assert scoped_defaults(base, None, "v1_18")[SLOTS] == "18"
    assert scoped_defaults(base, None, "v1_17")[SLOTS] == "16"
    assert SLOTS not in scoped_defaults(base, None, "v1_15")


def test_open_ended_ordering_compares_versions_numerically() -> None:
    base = {VER + "v1_9+." + SLOTS: "9", VER + "v1_10+." + SLOTS: "10", VER + "v2_0+." + SLOTS: "20"}
    assert scoped_defaults(base, None, "v1_20")[SLOTS] == "10"
    assert scoped_defaults(base, None, "v2_1")[SLOTS] == "20"


def test_exact_version_beats_open_ended_version() -> None:
    base = {VER + "v1_20." + SLOTS: "exact", VER + "v1_20+." + SLOTS: "plus", VER + "v1_18+." + SLOTS: "old"}
    assert scoped_defaults(base, None, "v1_20")[SLOTS] == "exact"
    assert scoped_defaults(base, None, "v2_0")[SLOTS] == "plus"


def test_spec_beats_version_default() -> None:
    base = {SLOTS: "1", VER + "v1_20." + SLOTS: "3"}
    result = effective_flink_configuration(base, "ns", "v1_20", {"taskmanager": {"numberOfTaskSlots": 5}})
    assert result[SLOTS] == "5"


def test_dynamic_option_in_spec_overrides_operator_default() -> None:
    base = {"kubernetes.operator.periodic.savepoint.interval": "6 h"}
    spec = {"kubernetes.operator.periodic.savepoint.interval": "1 h"}
    result = Configuration(effective_flink_configuration(base, "ns", "v1_20", spec))
    assert result.get(PERIODIC_SAVEPOINT_INTERVAL) == IntervalSchedule(timedelta(hours=1))


def test_system_option_in_spec_is_ignored() -> None:
    base = {"kubernetes.operator.reconcile.interval": "15 s"}
    spec = {
        "kubernetes.operator.reconcile.interval": "1 s",
        "kubernetes.operator.reconciler.reschedule.interval": "2 s",
        "kubernetes.operator.default-configuration.namespace.ns.taskmanager.numberOfTaskSlots": "9",
        SLOTS: "4",
    }
    result = effective_flink_configuration(base, "ns", "v1_20", spec)
    assert result["kubernetes.operator.reconcile.interval"] == "15 s"
    assert "kubernetes.operator.reconciler.reschedule.interval" not in result
    assert result[SLOTS] == "4"
    accepted, ignored = split_spec_configuration(spec)
    assert sorted(ignored) == sorted(
        [
            "kubernetes.operator.reconcile.interval",
            "kubernetes.operator.reconciler.reschedule.interval",
            "kubernetes.operator.default-configuration.namespace.ns.taskmanager.numberOfTaskSlots",
        ]
    )
    assert accepted == {SLOTS: "4"}


def test_operator_configuration_never_reads_the_spec() -> None:
    base = {
        "kubernetes.operator.reconcile.interval": "15 s",
        NS + "ns.kubernetes.operator.reconcile.interval": "5 s",
    }
    assert operator_configuration(base, "ns", None).get(RECONCILE_INTERVAL) == timedelta(seconds=5)
    assert operator_configuration(base, "other", None).get(RECONCILE_INTERVAL) == timedelta(seconds=15)


def test_session_job_layers_cluster_then_job_configuration() -> None:
    base = {SLOTS: "1", "parallelism.default": "1", "state.savepoints.dir": "file:///a"}
    cluster = {"parallelism.default": "2", "state.savepoints.dir": "file:///b"}
    job = {"state.savepoints.dir": "file:///c"}
    result = effective_flink_configuration(base, "ns", "v1_20", cluster, job)
    assert result == {SLOTS: "1", "parallelism.default": "2", "state.savepoints.dir": "file:///c"}


def test_scoped_keys_never_appear_in_results() -> None:
    base = {NS + "ns." + SLOTS: "2", VER + "v1_20." + SLOTS: "3", "a": "b"}
    assert scoped_defaults(base, "ns", "v1_20") == {SLOTS: "3", "a": "b"}
    assert scoped_defaults(base, "x", "v1_19") == {"a": "b"}


def test_flink_only_drops_operator_and_autoscaler_keys() -> None:
    config = {
        SLOTS: "1",
        "kubernetes.operator.reconcile.interval": "1 s",
        "job.autoscaler.enabled": "true",
        "kubernetes.jobmanager.replicas": "1",
    }
    assert flink_only(config) == {SLOTS: "1", "kubernetes.jobmanager.replicas": "1"}


def test_default_configuration_caches_per_resource_scope() -> None:
    defaults = DefaultConfiguration({SLOTS: "1", NS + "ns." + SLOTS: "2"})
    assert defaults.for_resource("ns", "v1_20") is defaults.for_resource("ns", "v1_20")
    assert defaults.for_resource("ns", "v1_20").raw(SLOTS) == "2"
    assert defaults.configuration.raw(SLOTS) == "1"
    assert defaults.effective("ns", "v1_20", {SLOTS: 7})[SLOTS] == "7"
    assert defaults.for_resource("ns", "v1_20").raw(SLOTS) == "2"


def test_scoped_key_parsing() -> None:
    parsed = parse_scoped_key(NS + "team-a.x.y")
    assert parsed is not None
    assert (parsed.kind, parsed.scope, parsed.key) == ("namespace", "team-a", "x.y")
    assert parse_scoped_key(NS + "team-a") is None
    assert parse_scoped_key("a.b") is None
    assert parse_version_token("v1_19+") == (FlinkVersion(1, 19), True)
    assert parse_version_token("v2_0") == (FlinkVersion(2, 0), False)
    assert parse_version_token("1.19") is None
    assert FlinkVersion.parse("v1_20") == FlinkVersion(1, 20)
    assert str(FlinkVersion(2, 1)) == "v2_1"
    assert FlinkVersion.parse("v1_20+") is None


def test_changed_keys_covers_added_removed_and_changed() -> None:
    assert changed_keys({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "x", "d": "4"}) == {"b", "c", "d"}


def test_observe_configuration_takes_operator_keys_from_the_current_spec() -> None:
    from flink_operator.config.layering import observe_configuration

    deployed = effective_flink_configuration({}, "ns", "v1_20", {SLOTS: "1", COUNT: "3"})
    current = {
        SLOTS: "8",
        COUNT: "5",
        "job.autoscaler.enabled": "true",
        "state.savepoints.dir": "s3://new",
        "kubernetes.operator.reconcile.interval": "1 s",
    }
    observed = observe_configuration(deployed, current)
    assert observed == {
        SLOTS: "1",
        COUNT: "5",
        "job.autoscaler.enabled": "true",
        "state.savepoints.dir": "s3://new",
    }
