"""Rules on a resource's Flink configuration (contract §4.4 items 3-5, plus value checks of our own).

* keys the operator sets itself may not be configured;
* the health check needs JobManager deployment recovery (rollback does not need HA here: it restores from
  the failing job's checkpoint or the upgrade savepoint without it, see docs/operations.md);
* every operator option a resource sets must be readable (upstream fails later, at reconcile time);
* `taskmanager.numberOfTaskSlots` must be a positive integer (parallelism and TaskManager counts use it).
"""

from __future__ import annotations

from collections.abc import Iterator

from flink_operator.api import Problem
from flink_operator.config import REGISTRY, Scope
from flink_operator.config.errors import ValueParseError
from flink_operator.config.resource_options import (
    CLUSTER_HEALTH_CHECK_ENABLED,
    JM_DEPLOYMENT_RECOVERY_ENABLED,
)
from flink_operator.validation.context import ConfigView
from flink_operator.validation.rule import got, rule
from flink_operator.validation.subjects import DeploymentSubject

FORBIDDEN_KEYS = ("kubernetes.namespace", "kubernetes.cluster-id", "high-availability.cluster-id")
"""Set by the operator from the resource's namespace and name."""
AUTOSCALER_PREFIXES = ("job.autoscaler.", "kubernetes.operator.job.autoscaler.")
TASK_SLOTS = "taskmanager.numberOfTaskSlots"


@rule(
    "forbidden-config-keys",
    "spec.flinkConfiguration does not set keys the operator derives from the resource.",
)
def forbidden_config_keys(s: DeploymentSubject) -> Iterator[Problem]:
    for key in FORBIDDEN_KEYS:
        if s.config.own(key):
            yield Problem(
                s.config.path(key),
                "must not be set: the operator sets it from the resource's namespace and name",
            )


@rule(
    "health-check-requires-jm-recovery",
    "kubernetes.operator.cluster.health-check.enabled needs "
    "kubernetes.operator.jm-deployment-recovery.enabled.",
)
def health_check_requires_jm_recovery(s: DeploymentSubject) -> Iterator[Problem]:
    if s.config.get(CLUSTER_HEALTH_CHECK_ENABLED) and s.config.get(JM_DEPLOYMENT_RECOVERY_ENABLED) is False:
        key = JM_DEPLOYMENT_RECOVERY_ENABLED.key
        found = s.config.lookup(JM_DEPLOYMENT_RECOVERY_ENABLED)
        if found is not None:
            key = found[0]
        yield Problem(
            s.config.path(key),
            f"must be true when {CLUSTER_HEALTH_CHECK_ENABLED.key} is true{s.config.origin(key)}: "
            "the health check restarts a cluster by recovering its JobManager deployment",
        )


def is_autoscaler_key(key: str) -> bool:
    return key.startswith(AUTOSCALER_PREFIXES)


def value_problem(config: ConfigView, key: str) -> Problem | None:
    """The problem with the value of `key` if a declared option claims it and cannot read it."""
    option = REGISTRY.find(key)
    text = config.text(key)
    if option is None or text is None or option.scope is Scope.SYSTEM:
        return None
    try:
        option.value_type.parse(text)
    except ValueParseError as error:
        shown = '"******"' if option.secret else got(text)
        message = f"{shown} is not {error.what} (expected {error.expected})"
        if error.detail:
            message += f"; {error.detail}"
        return Problem(config.path(key), message + config.origin(key))
    return None


@rule("option-values", "Operator options set in spec.flinkConfiguration have readable values.")
def option_values(config: ConfigView) -> Iterator[Problem]:
    for key in sorted(config.configuration):
        if config.own(key) and not is_autoscaler_key(key):
            problem = value_problem(config, key)
            if problem:
                yield problem


@rule("task-slots", "taskmanager.numberOfTaskSlots, when set, is an integer of at least 1.")
def task_slots(config: ConfigView) -> Iterator[Problem]:
    text = config.text(TASK_SLOTS)
    if text is None:
        return
    try:
        slots = int(text.strip())
    except ValueError:
        where = config.origin(TASK_SLOTS)
        yield Problem(config.path(TASK_SLOTS), f"expected an integer, got {got(text)}{where}")
        return
    if slots < 1:
        yield Problem(config.path(TASK_SLOTS), f"must be at least 1 (got {slots}){config.origin(TASK_SLOTS)}")
