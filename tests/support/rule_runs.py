"""Running one validation rule, or the whole default validator, on a scenario: documents plus context.

A `Scenario` is a document, optionally its related document (the session cluster of a session job, the
target of a snapshot), the operator default configuration and a fake host resolver, so no test needs DNS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.support.resource_builders import model

from flink_operator.api import FlinkDeployment, FlinkSessionJob, Problem
from flink_operator.config import DefaultConfiguration
from flink_operator.validation import (
    AUTOSCALER_RULES,
    CONFIG_RULES,
    DEPLOYMENT_RULES,
    JOB_RULES,
    SESSION_JOB_RULES,
    SNAPSHOT_RULES,
    Rule,
    ValidationContext,
    validate_resource,
)
from flink_operator.validation.default_validator import deployment_subject, session_job_subject
from flink_operator.validation.subjects import AutoscalerSubject, JobSubject, SnapshotSubject

HOSTS: dict[str, list[str]] = {
    "repo.example.com": ["93.184.216.34"],
    "artifacts.internal": ["10.20.1.5"],
    "mixed.example.com": ["93.184.216.34", "127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
}


def fake_resolver(host: str) -> list[str]:
    """Resolves the names in `HOSTS`; any other name does not resolve."""
    if host in HOSTS:
        return HOSTS[host]
    raise OSError(f"[Errno -2] Name or service not known: {host}")


@dataclass(frozen=True)
class Scenario:
    document: dict[str, Any]
    related: dict[str, Any] | None = None
    defaults: Mapping[str, str] = field(default_factory=dict)

    def context(self) -> ValidationContext:
        return ValidationContext(DefaultConfiguration(values=dict(self.defaults)), resolve_host=fake_resolver)

    def resource(self) -> Any:
        return model(self.document)

    def related_resource(self) -> Any:
        return None if self.related is None else model(self.related)


def run_all(scenario: Scenario) -> list[Problem]:
    """The default validator's problems for the scenario."""
    return validate_resource(scenario.resource(), scenario.related_resource(), scenario.context())


def _in(rule: Rule[Any], rules: Sequence[Rule[Any]]) -> bool:
    return any(rule is each for each in rules)


def run_rule(rule: Rule[Any], scenario: Scenario) -> list[Problem]:
    """The problems of one rule, on the subject the default validator would give it."""
    resource, related, context = scenario.resource(), scenario.related_resource(), scenario.context()
    if _in(rule, SNAPSHOT_RULES):
        return rule(SnapshotSubject(resource, related, True))
    if isinstance(resource, FlinkDeployment):
        subject = deployment_subject(resource, context)
        job_replicas = resource.spec.task_manager.replicas if resource.spec.task_manager else None
        job_subject = (
            JobSubject(resource.spec.job, subject.config, job_replicas) if resource.spec.job else None
        )
        if _in(rule, DEPLOYMENT_RULES):
            return rule(subject)
    else:
        assert isinstance(resource, FlinkSessionJob)
        session = related if isinstance(related, FlinkDeployment) else None
        subject = session_job_subject(resource, session, context)  # type: ignore[assignment]
        job = resource.spec.job
        job_subject = JobSubject(job, subject.config, None, session_job=True) if job else None
        if _in(rule, SESSION_JOB_RULES):
            return rule(subject)
    if _in(rule, CONFIG_RULES):
        return rule(subject.config)
    if _in(rule, AUTOSCALER_RULES):
        return rule(AutoscalerSubject(subject.config, subject.operator_config))
    if _in(rule, JOB_RULES):
        assert job_subject is not None, "a job rule needs a resource with spec.job"
        return rule(job_subject)
    raise AssertionError(f"rule {rule.name} does not apply to {type(resource).__name__}")
