"""The default validator as a whole: every violation reported, configuration layering and origins, the plugin
shape and its use as the plugin host's first validator, and robustness against failing rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.resource_builders import (
    application,
    model,
    savepoint_snapshot,
    session_cluster,
    session_job,
    with_config,
    with_field,
    without_field,
)
from tests.support.rule_runs import fake_resolver

from flink_operator.api import Problem
from flink_operator.config import DefaultConfiguration
from flink_operator.plugins._host import PluginHost
from flink_operator.validation import (
    DefaultValidator,
    ValidationContext,
    describe_problems,
    offline_resolver,
    validate_deployment,
    validate_session_job,
)
from flink_operator.validation.rule import Rule, run_rules

pytestmark = pytest.mark.unit


def context(values: dict[str, str] | None = None) -> ValidationContext:
    return ValidationContext(DefaultConfiguration(values=values or {}), resolve_host=fake_resolver)


def test_all_violations_are_reported_not_only_the_first() -> None:
    document = application("Bad_Name")
    document = without_field(document, "spec.serviceAccount")
    document = without_field(document, "spec.flinkVersion")
    document = with_field(document, "spec.job.parallelism", -1)
    document = with_field(document, "spec.job.upgradeMode", "savepoint")
    document = with_field(document, "spec.jobManager.replicas", 0)
    document = with_field(document, "spec.logConfiguration", {"log4j.properties": "x"})
    document = with_field(document, "spec.ingress", {"template": "{{name}}:port"})
    document = with_config(
        document,
        {
            "kubernetes.namespace": "other",
            "job.autoscaler.enabled": "true",
            "job.autoscaler.utilization.target": "2",
        },
    )
    problems = validate_deployment(model(document), context())
    paths = [problem.path for problem in problems]
    assert paths == [
        "metadata.name",
        "spec.flinkVersion",
        'spec.flinkConfiguration["kubernetes.namespace"]',
        "spec.ingress.template",
        'spec.logConfiguration["log4j.properties"]',
        "spec.jobManager.replicas",
        "spec.serviceAccount",
        'spec.flinkConfiguration["execution.checkpointing.dir"]',
        'spec.flinkConfiguration["execution.checkpointing.savepoint-dir"]',
        "spec.job.parallelism",
        'spec.flinkConfiguration["job.autoscaler.utilization.target"]',
    ]
    assert "(got -1)" in problems[paths.index("spec.job.parallelism")].message


def test_a_valid_application_has_no_problems() -> None:
    assert validate_deployment(model(application()), context()) == []


def test_operator_defaults_count_and_are_named_as_the_origin() -> None:
    defaults = {
        "kubernetes.operator.cluster.health-check.enabled": "true",
        "kubernetes.operator.jm-deployment-recovery.enabled": "false",
    }
    problems = validate_deployment(model(application()), context(defaults))
    assert [str(p) for p in problems] == [
        'spec.flinkConfiguration["kubernetes.operator.jm-deployment-recovery.enabled"]: must be true when '
        "kubernetes.operator.cluster.health-check.enabled is true (from the operator configuration): the "
        "health check restarts a cluster by recovering its JobManager deployment"
    ]


def test_namespace_and_version_defaults_apply_to_the_resource() -> None:
    defaults = {
        "kubernetes.operator.default-configuration.namespace.team-a.execution.checkpointing.dir": "s3://cp",
        "kubernetes.operator.default-configuration.flink-version.v1_20+.execution.checkpointing.savepoint-dir":
            "s3://sp",
    }
    document = with_field(application(namespace="team-a"), "spec.job.upgradeMode", "savepoint")
    assert validate_deployment(model(document), context(defaults)) == []
    elsewhere = with_field(application(namespace="team-b"), "spec.job.upgradeMode", "savepoint")
    paths = [p.path for p in validate_deployment(model(elsewhere), context(defaults))]
    assert paths == ['spec.flinkConfiguration["execution.checkpointing.dir"]']


def test_a_session_clusters_configuration_counts_for_its_jobs() -> None:
    cluster = with_config(session_cluster(), {"job.autoscaler.enabled": "true"})
    job = with_config(session_job(), {"job.autoscaler.utilization.target": "7"})
    problems = validate_session_job(model(job), model(cluster), context())
    assert [str(p) for p in problems] == [
        'spec.flinkConfiguration["job.autoscaler.utilization.target"]: must be within [0, 1] (got 7.0)'
    ]
    cluster = with_config(session_cluster(), {"job.autoscaler.utilization.target": "7"})
    job = with_config(session_job(), {"job.autoscaler.enabled": "true"})
    problems = validate_session_job(model(job), model(cluster), context())
    assert [p.message for p in problems] == [
        "must be within [0, 1] (got 7.0) (from FlinkDeployment default/session)"
    ]


def test_session_job_rules_needing_the_cluster_wait_for_it() -> None:
    job = with_field(session_job(), "spec.job.parallelism", 0)
    assert validate_session_job(model(job), None, context()) == []
    problems = validate_session_job(model(job), model(session_cluster()), context())
    assert [str(p) for p in problems] == ["spec.job.parallelism: must be > 0 (got 0)"]


def test_a_resource_cannot_loosen_the_artifact_options() -> None:
    job = with_field(session_job(), "spec.job.jarURI", "http://repo.example.com/job.jar")
    job = with_config(job, {"kubernetes.operator.user.artifacts.allowed-schemes": "http;https"})
    problems = validate_session_job(model(job), model(session_cluster()), context())
    assert [p.path for p in problems] == ["spec.job.jarURI"]
    allowed = context({"kubernetes.operator.user.artifacts.allowed-schemes": "http;https"})
    assert validate_session_job(model(job), model(session_cluster()), allowed) == []


def test_an_unreadable_last_reconciled_spec_skips_the_comparisons() -> None:
    status = {"reconciliationStatus": {"lastReconciledSpec": "{not json"}}
    document = with_field(application(), "status", status)
    assert validate_deployment(model(document), context()) == []


def _broken(subject: object) -> Iterator[Problem]:
    raise RuntimeError("boom")
    yield  # pragma: no cover


def test_a_failing_rule_becomes_a_problem_naming_it() -> None:
    broken = Rule("broken-rule", "always fails", _broken)
    problems = run_rules([broken], object())
    assert [p.message for p in problems] == [
        "internal error in validation rule broken-rule: RuntimeError: boom"
    ]


def test_plugin_shape_joins_the_problems() -> None:
    validator = DefaultValidator(resolve_host=fake_resolver)
    assert validator.validate_deployment(model(application())) is None
    bad = with_field(without_field(application(), "spec.serviceAccount"), "spec.job.parallelism", 0)
    message = validator.validate_deployment(model(bad))
    assert message == describe_problems(validator.problems(model(bad)))
    assert message is not None
    assert message.startswith("spec.serviceAccount: required field is missing")
    assert "; spec.job.parallelism: must be > 0" in message
    assert validator.validate_session_job(model(session_job()), model(session_cluster())) is None
    assert validator.validate_state_snapshot(model(savepoint_snapshot()), model(application())) is None
    assert validator.validate_state_snapshot(model(savepoint_snapshot()), None) == (
        "spec.jobReference: target FlinkDeployment default/basic was not found"
    )


def test_reloaded_defaults_apply_at_once() -> None:
    current = [DefaultConfiguration(values={})]
    validator = DefaultValidator(lambda: current[0], resolve_host=fake_resolver)
    assert validator.validate_deployment(model(application())) is None
    current[0] = DefaultConfiguration(values={"taskmanager.numberOfTaskSlots": "0"}, generation=1)
    # The resource's own value wins over the default, so the default only shows without it.
    document = without_field(application(), 'spec.flinkConfiguration["taskmanager.numberOfTaskSlots"]')
    message = validator.validate_deployment(model(document))
    assert message is not None and "must be at least 1" in message


def test_offline_resolution_checks_literal_hosts_only() -> None:
    offline = ValidationContext(resolve_host=offline_resolver)
    named = with_field(session_job(), "spec.job.jarURI", "https://unknown.example.org/job.jar")
    assert validate_session_job(model(named), None, offline) == []
    literal = with_field(session_job(), "spec.job.jarURI", "https://127.0.0.1/job.jar")
    assert [p.path for p in validate_session_job(model(literal), None, offline)] == ["spec.job.jarURI"]


def test_the_plugin_host_runs_it_first() -> None:
    from prometheus_client import CollectorRegistry

    host = PluginHost.load(
        {},
        default_validator=DefaultValidator(resolve_host=fake_resolver),
        registry=CollectorRegistry(),
        environ={},
        entry_points=[],
    )
    assert host.validators.names[0] == "default"
    bad = model(with_field(application(), "spec.job.parallelism", 0))
    report = host.validators.validate_sync(bad)
    assert not report.ok
    assert report.describe() == (
        "spec.job.parallelism: must be > 0 when spec.taskManager.replicas is not set (got 0)"
    )
    assert host.validators.validate_sync(model(application())).ok


def test_generated_names_are_checked_by_their_prefix() -> None:
    document = without_field(application(), "metadata.name")
    document = with_field(document, "metadata.generateName", "counter-")
    assert validate_deployment(model(document), context()) == []
    too_long = with_field(document, "metadata.generateName", "c" * 41)
    assert [p.path for p in validate_deployment(model(too_long), context())] == ["metadata.generateName"]
