"""Every rule of the default validator, each with a scenario it accepts and one it rejects.

For the accepted scenario both the rule and the whole validator report nothing; for the rejected one the rule
reports a problem at the expected field, and the whole validator reports the same problem. A rule added to
`ALL_RULES` without a case here fails `test_every_rule_has_a_case`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from tests.support.resource_builders import (
    application,
    checkpoint_snapshot,
    deployed,
    savepoint_snapshot,
    session_cluster,
    session_job,
    with_config,
    with_field,
    without_field,
)
from tests.support.rule_runs import Scenario, run_all, run_rule

from flink_operator.validation import ALL_RULES

pytestmark = pytest.mark.unit

A = application
HA = {"high-availability.type": "kubernetes", "high-availability.storageDir": "file:///flink/ha"}
DIRS = {
    "execution.checkpointing.dir": "file:///flink/checkpoints",
    "execution.checkpointing.savepoint-dir": "file:///flink/savepoints",
}
AUTOSCALER = {"job.autoscaler.enabled": "true"}


@dataclass(frozen=True)
class Case:
    passing: Callable[[], Scenario]
    failing: Callable[[], Scenario]
    path: str
    words: str = ""
    """Text the failing problem's message contains."""


def app(**config: str) -> Scenario:
    return Scenario(with_config(A(), dict(config)))


def app_config(values: dict[str, str]) -> Scenario:
    return Scenario(with_config(A(), values))


def cfg(key: str) -> str:
    return f'spec.flinkConfiguration["{key}"]'


def last_state_app() -> dict[str, object]:
    return with_config(with_field(A(), "spec.job.upgradeMode", "last-state"), DIRS)


def suspended_v1_19() -> dict[str, object]:
    last = with_field(last_state_app(), "spec.job.state", "suspended")
    last = with_field(last, "spec.flinkVersion", "v1_19")
    return last["spec"]  # type: ignore[return-value]


def redeploy(nonce: int, path: str | None) -> Scenario:
    last = with_field(A(), "spec.job.savepointRedeployNonce", 1)
    current = with_field(A(), "spec.job.savepointRedeployNonce", nonce)
    if path:
        current = with_field(current, "spec.job.initialSavepointPath", path)
    return Scenario(deployed(current, last["spec"]))


def autoscaled(values: dict[str, str]) -> Scenario:
    return app_config({**AUTOSCALER, **values})


def job(document: dict[str, object] | None = None, related: dict[str, object] | None = None) -> Scenario:
    return Scenario(document or session_job(), related if related is not None else session_cluster())


def snap(document: dict[str, object] | None = None, related: dict[str, object] | None = None) -> Scenario:
    return Scenario(document or savepoint_snapshot(), related)


def range_case(key: str, good: str, bad: str, *extra: tuple[str, str], words: str = "must be") -> Case:
    flags = dict(extra)
    return Case(
        lambda: autoscaled({**flags, key: good}),
        lambda: autoscaled({**flags, key: bad}),
        cfg(key),
        words,
    )


P = "job.autoscaler."

CASES: dict[str, Case] = {
    "deployment-name": Case(
        lambda: Scenario(A()), lambda: Scenario(with_field(A(), "metadata.name", "Basic_1")), "metadata.name",
        "lower-case letters",
    ),
    "flink-version": Case(
        lambda: Scenario(A()), lambda: Scenario(without_field(A(), "spec.flinkVersion")), "spec.flinkVersion",
        "required",
    ),
    "flink-version-after-last-state-suspend": Case(
        lambda: Scenario(
            deployed(with_field(last_state_app(), "spec.flinkVersion", "v1_19"), suspended_v1_19())
        ),
        lambda: Scenario(deployed(last_state_app(), suspended_v1_19())),
        "spec.flinkVersion",
        "suspended with upgradeMode last-state",
    ),
    "forbidden-config-keys": Case(
        lambda: app(), lambda: app_config({"kubernetes.cluster-id": "other"}), cfg("kubernetes.cluster-id"),
        "must not be set",
    ),
    "health-check-requires-jm-recovery": Case(
        lambda: app_config({"kubernetes.operator.cluster.health-check.enabled": "true"}),
        lambda: app_config(
            {
                "kubernetes.operator.cluster.health-check.enabled": "true",
                "kubernetes.operator.jm-deployment-recovery.enabled": "false",
            }
        ),
        cfg("kubernetes.operator.jm-deployment-recovery.enabled"),
        "must be true",
    ),
    "ingress-template": Case(
        lambda: Scenario(
            with_field(A(), "spec.ingress", {"template": "{{name}}.{{namespace}}.flink.example.com"})
        ),
        lambda: Scenario(with_field(A(), "spec.ingress", {"className": "nginx"})),
        "spec.ingress.template",
        "required",
    ),
    "log-configuration": Case(
        lambda: Scenario(
            with_field(A(), "spec.logConfiguration", {"log4j-console.properties": "rootLogger=INFO"})
        ),
        lambda: Scenario(with_field(A(), "spec.logConfiguration", {"log4j.properties": "rootLogger=INFO"})),
        'spec.logConfiguration["log4j.properties"]',
        "log4j-console.properties",
    ),
    "jobmanager-memory": Case(
        lambda: Scenario(A()),
        lambda: Scenario(with_field(A(), "spec.jobManager.resource", {"cpu": 1})),
        "spec.jobManager",
        "JobManager memory is not set",
    ),
    "jobmanager-resource": Case(
        lambda: Scenario(A()),
        lambda: Scenario(with_field(A(), "spec.jobManager.resource.memory", "lots")),
        "spec.jobManager.resource.memory",
        "memory size",
    ),
    "jobmanager-resources": Case(
        lambda: Scenario(
            with_field(A(), "spec.jobManager", {"resources": {"requests": {"memory": "2Gi", "cpu": 1}}})
        ),
        lambda: Scenario(
            with_field(A(), "spec.jobManager", {"resources": {"requests": {"memory": "2Gi", "cpu": 0}}})
        ),
        "spec.jobManager.resources.requests.cpu",
        "must be > 0",
    ),
    "jobmanager-replicas": Case(
        lambda: Scenario(with_config(with_field(A(), "spec.jobManager.replicas", 2), HA)),
        lambda: Scenario(with_field(A(), "spec.jobManager.replicas", 2)),
        "spec.jobManager.replicas",
        "needs HA",
    ),
    "taskmanager-memory": Case(
        lambda: app_config({"taskmanager.memory.process.size": "4g"}),
        lambda: Scenario(with_field(A(), "spec.taskManager", {"replicas": 2})),
        "spec.taskManager",
        "TaskManager memory is not set",
    ),
    "taskmanager-resource": Case(
        lambda: Scenario(A()),
        lambda: Scenario(with_field(A(), "spec.taskManager.resource.cpu", -1)),
        "spec.taskManager.resource.cpu",
        "must be > 0",
    ),
    "taskmanager-resources": Case(
        lambda: Scenario(
            with_field(
                A(),
                "spec.taskManager",
                {"resources": {"requests": {"memory": "2Gi", "cpu": "500m"}, "limits": {"memory": "4Gi"}}},
            )
        ),
        lambda: Scenario(
            with_field(
                A(),
                "spec.taskManager",
                {"resources": {"requests": {"memory": "4Gi"}, "limits": {"memory": "2Gi"}}},
            )
        ),
        "spec.taskManager.resources.requests.memory",
        "must not exceed",
    ),
    "taskmanager-replicas": Case(
        lambda: Scenario(with_field(A(), "spec.taskManager.replicas", 1)),
        lambda: Scenario(with_field(A(), "spec.taskManager.replicas", 0)),
        "spec.taskManager.replicas",
        "must be >= 1",
    ),
    "no-cluster-type-switch": Case(
        lambda: Scenario(deployed(A())),
        lambda: Scenario(deployed(A(), session_cluster()["spec"])),
        "spec.job",
        "cannot be added",
    ),
    "no-deployment-mode-switch": Case(
        lambda: Scenario(deployed(A())),
        lambda: Scenario(deployed(with_field(A(), "spec.mode", "standalone"), A()["spec"])),
        "spec.mode",
        "native to standalone",
    ),
    "savepoint-redeploy-needs-path": Case(
        lambda: redeploy(2, "file:///flink/savepoints/savepoint-1"),
        lambda: redeploy(2, None),
        "spec.job.initialSavepointPath",
        "savepointRedeployNonce",
    ),
    "service-account": Case(
        lambda: Scenario(A()),
        lambda: Scenario(without_field(A(), "spec.serviceAccount")),
        "spec.serviceAccount",
        "required",
    ),
    "image-pull-policy": Case(
        lambda: Scenario(with_field(A(), "spec.imagePullPolicy", "IfNotPresent")),
        lambda: Scenario(with_field(A(), "spec.imagePullPolicy", "always")),
        "spec.imagePullPolicy",
        "Always, IfNotPresent, Never",
    ),
    "reactive-mode": Case(
        lambda: Scenario(
            with_config(with_field(A(), "spec.mode", "standalone"), {"scheduler-mode": "reactive"})
        ),
        lambda: app_config({"scheduler-mode": "REACTIVE"}),
        "spec.mode",
        "standalone",
    ),
    "pod-templates": Case(
        lambda: Scenario(
            with_field(A(), "spec.podTemplate", {"spec": {"containers": [{"name": "flink-main-container"}]}})
        ),
        lambda: Scenario(
            with_field(
                A(),
                "spec.taskManager.podTemplate",
                {"spec": {"containers": [{"name": "sidecar", "ports": [{"containerPort": "http"}]}]}},
            )
        ),
        "spec.taskManager.podTemplate.spec.containers[0].ports[0].containerPort",
        "integer",
    ),
    "option-values": Case(
        lambda: app_config({"kubernetes.operator.savepoint.history.max.count": "5"}),
        lambda: app_config({"kubernetes.operator.savepoint.history.max.count": "many"}),
        cfg("kubernetes.operator.savepoint.history.max.count"),
        "is not an integer",
    ),
    "task-slots": Case(
        lambda: app_config({"taskmanager.numberOfTaskSlots": "4"}),
        lambda: app_config({"taskmanager.numberOfTaskSlots": "0"}),
        cfg("taskmanager.numberOfTaskSlots"),
        "at least 1",
    ),
    "checkpoint-dir": Case(
        lambda: Scenario(last_state_app()),
        lambda: Scenario(with_field(A(), "spec.job.upgradeMode", "last-state")),
        cfg("execution.checkpointing.dir"),
        "last-state",
    ),
    "savepoint-dir": Case(
        lambda: Scenario(with_config(with_field(A(), "spec.job.upgradeMode", "savepoint"), DIRS)),
        lambda: Scenario(
            with_config(
                with_field(A(), "spec.job.upgradeMode", "savepoint"),
                {"execution.checkpointing.dir": "file:///flink/checkpoints"},
            )
        ),
        cfg("execution.checkpointing.savepoint-dir"),
        "upgradeMode is savepoint",
    ),
    "job-parallelism": Case(
        lambda: Scenario(with_field(A(), "spec.job.parallelism", 1)),
        lambda: Scenario(with_field(A(), "spec.job.parallelism", 0)),
        "spec.job.parallelism",
        "must be > 0 when spec.taskManager.replicas is not set (got 0)",
    ),
    "autoscaler-option-values": Case(
        lambda: autoscaled({P + "utilization.target": "0.6"}),
        lambda: app_config({P + "utilization.target": "high"}),
        cfg(P + "utilization.target"),
        "is not a number",
    ),
    "autoscaler-excluded-periods": Case(
        lambda: autoscaled({P + "excluded.periods": "9:00-17:00 && * * * ? * 2-6;0 0 0-6 * * ?"}),
        lambda: autoscaled({P + "excluded.periods": "9:00-17:00;25:00-26:00"}),
        cfg(P + "excluded.periods"),
        "not a valid time",
    ),
    "autoscaler-scale-down-max-factor": range_case(P + "scale-down.max-factor", "0.5", "-0.1"),
    "autoscaler-scale-up-max-factor": range_case(P + "scale-up.max-factor", "2", "-1"),
    "autoscaler-utilization-target": range_case(
        P + "utilization.target", "0.8", "1.5", words="within [0, 1]"
    ),
    "autoscaler-target-utilization-boundary": range_case(P + "target.utilization.boundary", "0.1", "-0.1"),
    "autoscaler-utilization-max": range_case(
        P + "utilization.max", "0.9", "0.5", (P + "utilization.target", "0.7"), words="within [0.7, 1]"
    ),
    "autoscaler-utilization-min": range_case(
        P + "utilization.min", "0.5", "0.8", (P + "utilization.target", "0.7"), words="within [0, 0.7]"
    ),
    "autoscaler-memory-gc-pressure-threshold": range_case(P + "memory.gc-pressure.threshold", "0.3", "2"),
    "autoscaler-memory-heap-usage-threshold": range_case(P + "memory.heap-usage.threshold", "0.9", "-1"),
    "autoscaler-observed-scalability-coefficient-min": range_case(
        P + "observed-scalability.coefficient-min",
        "0.5",
        "0.001",
        (P + "observed-scalability.enabled", "true"),
    ),
    "autoscaler-scaling-effectiveness-threshold": range_case(
        P + "scaling.effectiveness.threshold",
        "0.2",
        "1.2",
        (P + "scaling.effectiveness.detection.enabled", "true"),
    ),
    "autoscaler-memory-tuning-overhead": range_case(
        P + "memory.tuning.overhead", "0.3", "3", (P + "memory.tuning.enabled", "true")
    ),
    "autoscaler-metrics-window": Case(
        lambda: autoscaled({P + "metrics.window": "5 min"}),
        lambda: autoscaled({P + "metrics.window": "30 s"}),
        cfg(P + "metrics.window"),
        "kubernetes.operator.reconcile.interval (1 min)",
    ),
    "session-deployment-name": Case(
        lambda: job(),
        lambda: Scenario(with_field(session_job(), "spec.deploymentName", "Session!")),
        "spec.deploymentName",
        "lower-case letters",
    ),
    "session-job-required": Case(
        lambda: job(),
        lambda: Scenario(without_field(session_job(), "spec.job")),
        "spec.job",
        "required",
    ),
    "session-deployment-name-unchanged": Case(
        lambda: job(deployed(session_job())),
        lambda: job(
            deployed(session_job(), with_field(session_job(), "spec.deploymentName", "other")["spec"])
        ),
        "spec.deploymentName",
        'cannot change from "other" to "session"',
    ),
    "session-job-jar-uri": Case(
        lambda: job(),
        lambda: job(with_field(session_job(), "spec.job.jarURI", "http://repo.example.com/jobs/job.jar")),
        "spec.job.jarURI",
        "scheme 'http' is not allowed",
    ),
    "session-cluster-type": Case(
        lambda: job(),
        lambda: job(related=A("session")),
        "spec.deploymentName",
        "application cluster",
    ),
    "session-cluster-match": Case(
        lambda: job(),
        lambda: job(related=session_cluster("other")),
        "spec.deploymentName",
        "does not match",
    ),
    "snapshot-type": Case(
        lambda: snap(related=A()),
        lambda: snap(with_field(savepoint_snapshot(), "spec.checkpoint", {}), A()),
        "spec.checkpoint",
        "together with spec.savepoint",
    ),
    "snapshot-job-reference": Case(
        lambda: snap(checkpoint_snapshot(), A()),
        lambda: snap(without_field(checkpoint_snapshot(), "spec.jobReference"), A()),
        "spec.jobReference",
        "required",
    ),
    "snapshot-existing-savepoint-path": Case(
        lambda: snap(
            with_field(
                without_field(savepoint_snapshot(), "spec.jobReference"),
                "spec.savepoint",
                {"alreadyExists": True, "path": "file:///flink/savepoints/savepoint-1"},
            )
        ),
        lambda: snap(with_field(savepoint_snapshot(), "spec.savepoint", {"alreadyExists": True})),
        "spec.savepoint.path",
        "alreadyExists",
    ),
    "snapshot-target-found": Case(
        lambda: snap(related=A()),
        lambda: snap(related=None),
        "spec.jobReference",
        "target FlinkDeployment default/basic was not found",
    ),
    "snapshot-target-has-job": Case(
        lambda: snap(related=A()),
        lambda: snap(
            with_field(savepoint_snapshot(), "spec.jobReference.name", "session"), session_cluster()
        ),
        "spec.jobReference",
        "session cluster",
    ),
    "snapshot-backoff-limit": Case(
        lambda: snap(with_field(savepoint_snapshot(), "spec.backoffLimit", -1), A()),
        lambda: snap(with_field(savepoint_snapshot(), "spec.backoffLimit", -2), A()),
        "spec.backoffLimit",
        "must be >= -1",
    ),
}


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(ALL_RULES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_accepts(name: str) -> None:
    scenario = CASES[name].passing()
    assert run_rule(ALL_RULES[name], scenario) == []
    assert [str(p) for p in run_all(scenario)] == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_rejects(name: str) -> None:
    case = CASES[name]
    scenario = case.failing()
    problems = run_rule(ALL_RULES[name], scenario)
    assert [p.path for p in problems] == [case.path], [str(p) for p in problems]
    assert case.words in problems[0].message
    assert problems[0] in run_all(scenario)
