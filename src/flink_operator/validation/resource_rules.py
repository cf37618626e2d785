"""Rules on JobManager and TaskManager resources and replicas (contract §4.4 items 9 and 10).

Both roles get the same three checks, each a rule of its own: memory is given somewhere (`resource.memory`,
`resources` requests/limits, or the Flink memory options in the configuration), the deprecated `resource`
block is readable, and `resources` holds readable quantities with positive cpu/memory and requests not above
limits. Replicas: JobManager at least 1 and more than one only with HA; TaskManager, when set, at least 1.

Not reproduced: upstream also rejects Flink memory settings that Flink's memory model cannot satisfy (e.g. a
process size smaller than the fixed overheads); here only the presence and syntax of those options is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from flink_operator.api import (
    FlinkDeploymentSpec,
    JobManagerSpec,
    Problem,
    Resource,
    ResourceRequirements,
    TaskManagerSpec,
    format_path,
)
from flink_operator.config import parse_memory_size
from flink_operator.config.errors import ValueParseError
from flink_operator.validation.context import ConfigView, ha_enabled
from flink_operator.validation.quantities import QuantityError, parse_memory_amount, parse_quantity
from flink_operator.validation.rule import Rule, got, rule
from flink_operator.validation.subjects import DeploymentSubject


@dataclass(frozen=True)
class Role:
    """JobManager or TaskManager: where its spec lives and which Flink options size its memory."""

    field: str
    """`jobManager` / `taskManager`."""
    title: str
    memory_keys: tuple[str, ...]
    """Options any one of which sizes the memory."""
    memory_key_pairs: tuple[tuple[str, str], ...] = ()
    """Pairs of options that together size the memory."""
    legacy_megabyte_keys: tuple[str, ...] = ()
    """Old integer options in megabytes."""

    def section(self, spec: FlinkDeploymentSpec) -> JobManagerSpec | TaskManagerSpec | None:
        return spec.job_manager if self.field == "jobManager" else spec.task_manager

    @property
    def all_memory_keys(self) -> tuple[str, ...]:
        return (*self.memory_keys, *(key for pair in self.memory_key_pairs for key in pair))


JOB_MANAGER = Role(
    "jobManager",
    "JobManager",
    ("jobmanager.memory.process.size", "jobmanager.memory.flink.size", "jobmanager.memory.heap.size",
     "jobmanager.heap.size"),
    legacy_megabyte_keys=("jobmanager.heap.mb",),
)
TASK_MANAGER = Role(
    "taskManager",
    "TaskManager",
    ("taskmanager.memory.process.size", "taskmanager.memory.flink.size", "taskmanager.heap.size"),
    memory_key_pairs=(("taskmanager.memory.task.heap.size", "taskmanager.memory.managed.size"),),
    legacy_megabyte_keys=("taskmanager.heap.mb",),
)


def _spec_memory_given(section: JobManagerSpec | TaskManagerSpec | None) -> bool:
    if section is None:
        return False
    if section.resource is not None and section.resource.memory:
        return True
    resources = section.resources
    if resources is None:
        return False
    return "memory" in (resources.requests or {}) or "memory" in (resources.limits or {})


def _memory_config_problems(role: Role, config: ConfigView) -> Iterator[Problem]:
    for key in role.all_memory_keys:
        text = config.text(key)
        if text is None:
            continue
        try:
            parse_memory_size(text)
        except ValueParseError as error:
            message = f"{got(text)} is not {error.what} (expected {error.expected})"
            yield Problem(config.path(key), message + config.origin(key))
    for key in role.legacy_megabyte_keys:
        text = config.text(key)
        if text is not None and not text.strip().isdigit():
            message = f"expected a number of megabytes, got {got(text)}"
            yield Problem(config.path(key), message + config.origin(key))


def _memory_configured(role: Role, config: ConfigView) -> bool:
    if any(config.is_set(key) for key in (*role.memory_keys, *role.legacy_megabyte_keys)):
        return True
    return any(all(config.is_set(key) for key in pair) for pair in role.memory_key_pairs)


def _memory_rule(role: Role) -> Rule[DeploymentSubject]:
    @rule(
        f"{role.title.lower()}-memory",
        f"{role.title} memory is set in spec.{role.field}.resource(s) or through Flink's memory options, "
        "and those options are readable.",
    )
    def check(s: DeploymentSubject) -> Iterator[Problem]:
        yield from _memory_config_problems(role, s.config)
        if _spec_memory_given(role.section(s.deployment.spec)) or _memory_configured(role, s.config):
            return
        yield Problem(
            f"spec.{role.field}",
            f"{role.title} memory is not set: set spec.{role.field}.resource.memory, "
            f"spec.{role.field}.resources.requests.memory (or limits), or {role.memory_keys[0]} in "
            "spec.flinkConfiguration",
        )

    return check


def _resource_problems(path: str, resource: Resource) -> Iterator[Problem]:
    if resource.memory is not None:
        try:
            amount = parse_memory_amount(resource.memory)
        except QuantityError as error:
            yield Problem(f"{path}.memory", f"{error} (got {got(resource.memory)})")
        else:
            if amount <= 0:
                yield Problem(f"{path}.memory", f"must be > 0 (got {got(resource.memory)})")
    if resource.cpu is not None and resource.cpu <= 0:
        yield Problem(f"{path}.cpu", f"must be > 0 (got {got(resource.cpu)})")
    if resource.ephemeral_storage is not None:
        try:
            storage = parse_quantity(resource.ephemeral_storage)
        except QuantityError as error:
            yield Problem(f"{path}.ephemeralStorage", f"{error} (got {got(resource.ephemeral_storage)})")
        else:
            if storage < 0:
                message = f"must be >= 0 (got {got(resource.ephemeral_storage)})"
                yield Problem(f"{path}.ephemeralStorage", message)


def _resource_rule(role: Role) -> Rule[DeploymentSubject]:
    @rule(
        f"{role.title.lower()}-resource",
        f"The deprecated spec.{role.field}.resource has a readable, positive memory and cpu and a readable "
        "ephemeralStorage.",
    )
    def check(s: DeploymentSubject) -> Iterator[Problem]:
        section = role.section(s.deployment.spec)
        if section is not None and section.resource is not None:
            yield from _resource_problems(f"spec.{role.field}.resource", section.resource)

    return check


_MUST_BE_POSITIVE = ("cpu", "memory")


def _quantities(
    path: tuple[str, ...], values: dict[str, int | str] | None
) -> tuple[dict[str, Decimal], list[Problem]]:
    parsed: dict[str, Decimal] = {}
    problems: list[Problem] = []
    for name, value in (values or {}).items():
        where = format_path((*path, name))
        try:
            amount = parse_quantity(value)
        except QuantityError as error:
            problems.append(Problem(where, f"{error} (got {got(value)})"))
            continue
        parsed[name] = amount
        if name in _MUST_BE_POSITIVE and amount <= 0:
            problems.append(Problem(where, f"must be > 0 (got {got(value)})"))
        elif amount < 0:
            problems.append(Problem(where, f"must be >= 0 (got {got(value)})"))
    return parsed, problems


def _requirements_problems(field: str, resources: ResourceRequirements) -> Iterator[Problem]:
    base = ("spec", field, "resources")
    requests, problems = _quantities((*base, "requests"), resources.requests)
    limits, more = _quantities((*base, "limits"), resources.limits)
    yield from problems
    yield from more
    for name in _MUST_BE_POSITIVE:
        if name in requests and name in limits and requests[name] > limits[name]:
            request = (resources.requests or {})[name]
            limit = (resources.limits or {})[name]
            yield Problem(
                format_path((*base, "requests", name)),
                f"must not exceed spec.{field}.resources.limits.{name} (got {got(request)} > {got(limit)})",
            )


def _resources_rule(role: Role) -> Rule[DeploymentSubject]:
    @rule(
        f"{role.title.lower()}-resources",
        f"spec.{role.field}.resources holds readable quantities, cpu and memory > 0, others >= 0, and "
        "requests not above limits.",
    )
    def check(s: DeploymentSubject) -> Iterator[Problem]:
        section = role.section(s.deployment.spec)
        if section is not None and section.resources is not None:
            yield from _requirements_problems(role.field, section.resources)

    return check


jobmanager_memory = _memory_rule(JOB_MANAGER)
jobmanager_resource = _resource_rule(JOB_MANAGER)
jobmanager_resources = _resources_rule(JOB_MANAGER)
taskmanager_memory = _memory_rule(TASK_MANAGER)
taskmanager_resource = _resource_rule(TASK_MANAGER)
taskmanager_resources = _resources_rule(TASK_MANAGER)


@rule("jobmanager-replicas", "spec.jobManager.replicas is at least 1, and more than 1 only with HA.")
def jobmanager_replicas(s: DeploymentSubject) -> Iterator[Problem]:
    section = s.deployment.spec.job_manager
    if section is None:
        return
    if section.replicas < 1:
        yield Problem("spec.jobManager.replicas", f"must be >= 1 (got {got(section.replicas)})")
    elif section.replicas > 1 and not ha_enabled(s.config):
        yield Problem(
            "spec.jobManager.replicas",
            f"more than one JobManager needs HA (got {section.replicas}): set high-availability.type "
            "(e.g. kubernetes) and high-availability.storageDir in spec.flinkConfiguration",
        )


@rule("taskmanager-replicas", "spec.taskManager.replicas, when set, is at least 1.")
def taskmanager_replicas(s: DeploymentSubject) -> Iterator[Problem]:
    section = s.deployment.spec.task_manager
    if section is not None and section.replicas is not None and section.replicas < 1:
        yield Problem("spec.taskManager.replicas", f"must be >= 1 (got {got(section.replicas)})")
