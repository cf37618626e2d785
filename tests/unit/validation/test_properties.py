"""Property tests: whatever document comes in, the validator answers with problems that each name a field, or
with nothing, and never raises.

Two sources of documents: arbitrary documents shaped by the models (`tests.support.flink_documents`), and
valid documents with the fields the rules read replaced by hostile values (random text in configuration
values, quantities, templates and URIs; random numbers in parallelism and replicas; random stored specs).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.flink_documents import valid_documents
from tests.support.resource_builders import (
    application,
    deployed,
    savepoint_snapshot,
    session_cluster,
    session_job,
    with_field,
)
from tests.support.rule_runs import fake_resolver

from flink_operator.api import Problem, parse_resource
from flink_operator.config import DefaultConfiguration
from flink_operator.validation import ValidationContext, validate_resource

pytestmark = pytest.mark.unit

CONTEXT = ValidationContext(DefaultConfiguration(values={}), resolve_host=fake_resolver)
FIELD_ROOTS = ("metadata", "spec", "status")

CONFIG_KEYS = [
    "taskmanager.numberOfTaskSlots",
    "jobmanager.memory.process.size",
    "taskmanager.memory.process.size",
    "taskmanager.memory.task.heap.size",
    "jobmanager.heap.mb",
    "high-availability.type",
    "high-availability",
    "scheduler-mode",
    "execution.checkpointing.dir",
    "state.savepoints.dir",
    "kubernetes.namespace",
    "kubernetes.operator.deployment.rollback.enabled",
    "kubernetes.operator.cluster.health-check.enabled",
    "kubernetes.operator.jm-deployment-recovery.enabled",
    "kubernetes.operator.periodic.savepoint.interval",
    "kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age",
    "kubernetes.operator.savepoint.history.max.count",
    "kubernetes.operator.user.artifacts.allowed-schemes",
    "job.autoscaler.enabled",
    "job.autoscaler.metrics.window",
    "job.autoscaler.utilization.target",
    "job.autoscaler.utilization.max",
    "job.autoscaler.utilization.min",
    "job.autoscaler.excluded.periods",
    "job.autoscaler.memory.tuning.enabled",
    "job.autoscaler.memory.tuning.overhead",
    "kubernetes.operator.job.autoscaler.scale-down.max-factor",
]
SAMPLES = ["true", "false", "0", "-1", "1.5", "2g", "2Gi", "5 min", "kubernetes", "REACTIVE", "9:00-10:00"]
TEXT = st.text(max_size=20) | st.sampled_from([*SAMPLES, "* * * ? * 2"])
QUANTITY = st.integers(-5, 5) | st.sampled_from(["0", "-1", "1Gi", "500m", "1e3", "x", "2GB", ""]) | TEXT
CONFIG = st.dictionaries(st.sampled_from(CONFIG_KEYS), TEXT, max_size=6)
RESOURCES = st.fixed_dictionaries(
    {},
    optional={
        "requests": st.dictionaries(
            st.sampled_from(["cpu", "memory", "ephemeral-storage"]), QUANTITY, max_size=3
        ),
        "limits": st.dictionaries(st.sampled_from(["cpu", "memory", "nvidia.com/gpu"]), QUANTITY, max_size=3),
    },
)
URIS = TEXT | st.sampled_from(
    ["https://repo.example.com/j.jar", "http://10.0.0.1/j.jar", "https://[::1]/x", "s3://b/j.jar", "https://:99/x"]
)


def assert_named(problems: list[Problem]) -> None:
    for problem in problems:
        assert problem.path.split(".")[0].split("[")[0] in FIELD_ROOTS, str(problem)
        assert problem.message
        assert "internal error" not in problem.message, str(problem)


def check(document: dict[str, Any], related: dict[str, Any] | None = None) -> None:
    parsed = parse_resource(document, check_pod_templates=False)
    if isinstance(parsed, list):
        assert parsed, "a document either parses or has problems"
        for problem in parsed:
            assert problem.path, str(problem)
        return
    other = None
    if related is not None:
        other_parsed = parse_resource(related, check_pod_templates=False)
        other = None if isinstance(other_parsed, list) else other_parsed
    assert_named(validate_resource(parsed, other, CONTEXT))  # type: ignore[arg-type]


QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(st.sampled_from(["FlinkDeployment", "FlinkSessionJob", "FlinkStateSnapshot"]).flatmap(valid_documents))
def test_model_shaped_documents(document: dict[str, Any]) -> None:
    check(document)


@QUICK
@given(
    config=CONFIG,
    parallelism=st.integers(-3, 3),
    tm_replicas=st.none() | st.integers(-2, 3),
    jm_replicas=st.integers(-1, 3),
    upgrade_mode=st.sampled_from(["stateless", "savepoint", "last-state"]),
    mode=st.sampled_from(["native", "standalone"]),
    jm_resources=RESOURCES,
    tm_memory=st.none() | TEXT,
    template=st.none() | TEXT,
    name=st.sampled_from(["basic", "Basic", "a" * 50, "x-", "ok-1"]),
    deployed_before=st.booleans(),
)
def test_hostile_deployments(
    config: dict[str, str],
    parallelism: int,
    tm_replicas: int | None,
    jm_replicas: int,
    upgrade_mode: str,
    mode: str,
    jm_resources: dict[str, Any],
    tm_memory: str | None,
    template: str | None,
    name: str,
    deployed_before: bool,
) -> None:
    document = application(name)
    last = session_cluster()["spec"] if deployed_before and parallelism % 2 else application()["spec"]
    document = with_field(document, "spec.flinkConfiguration", config)
    document = with_field(document, "spec.job.parallelism", parallelism)
    document = with_field(document, "spec.job.upgradeMode", upgrade_mode)
    document = with_field(document, "spec.mode", mode)
    document = with_field(document, "spec.jobManager", {"replicas": jm_replicas, "resources": jm_resources})
    if tm_replicas is not None:
        document = with_field(document, "spec.taskManager.replicas", tm_replicas)
    if tm_memory is not None:
        document = with_field(document, "spec.taskManager.resource.memory", tm_memory)
    if template is not None:
        document = with_field(document, "spec.ingress", {"template": template})
    if deployed_before:
        document = deployed(document, last)
    check(document)


@QUICK
@given(
    uri=URIS,
    config=CONFIG,
    cluster_config=CONFIG,
    deployment=st.sampled_from(["session", "other", "Bad!"]),
    application_cluster=st.booleans(),
    stored=st.none() | TEXT,
)
def test_hostile_session_jobs(
    uri: str,
    config: dict[str, str],
    cluster_config: dict[str, str],
    deployment: str,
    application_cluster: bool,
    stored: str | None,
) -> None:
    document = with_field(session_job(deployment=deployment), "spec.job.jarURI", uri)
    document = with_field(document, "spec.flinkConfiguration", config)
    if stored is not None:
        document = with_field(document, "status", {"reconciliationStatus": {"lastReconciledSpec": stored}})
    cluster = application("session") if application_cluster else session_cluster()
    check(document, with_field(cluster, "spec.flinkConfiguration", cluster_config))


@QUICK
@given(
    savepoint=st.none() | st.fixed_dictionaries({}, optional={"alreadyExists": st.booleans(), "path": TEXT}),
    checkpoint=st.none() | st.just({}),
    reference=st.none() | st.fixed_dictionaries({}, optional={"kind": st.sampled_from(["FlinkDeployment",
                                                                                           "FlinkSessionJob"]),
                                                                  "name": TEXT}),
    backoff=st.integers(-5, 5),
    target=st.sampled_from(["application", "session", "none"]),
)
def test_hostile_snapshots(
    savepoint: dict[str, Any] | None,
    checkpoint: dict[str, Any] | None,
    reference: dict[str, Any] | None,
    backoff: int,
    target: str,
) -> None:
    spec: dict[str, Any] = {"backoffLimit": backoff}
    for key, value in (("savepoint", savepoint), ("checkpoint", checkpoint), ("jobReference", reference)):
        if value is not None:
            spec[key] = value
    document = with_field(savepoint_snapshot(), "spec", spec)
    related = {"application": application(), "session": session_cluster(), "none": None}[target]
    check(document, related)
