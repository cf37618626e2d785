"""Pod-template layering (contract §10.1): the JobManager and TaskManager templates a resource asks for.

* The role template (`jobManager.podTemplate` / `taskManager.podTemplate`) is merged *into* the common
  `spec.podTemplate` as a JSON tree: objects field by field; where the override is not an object the base
  object stays; arrays by index (element i of the override deep-merged into element i of the base, surplus
  elements appended; for arrays of scalars the base elements win where both have one), or by `name` when
  `kubernetes.operator.pod-template.merge-arrays-by-name` is on and every element of both arrays has one.
* Resource entries Flink does not manage (everything but `cpu` and `memory`, e.g. `ephemeral-storage`) and
  resource claims go into the main container `flink-main-container` (added when missing); the deprecated
  `resource.ephemeralStorage` becomes both request and limit.
* The JobManager gets a startup probe (`GET /config` on port `rest`, every second, no failure limit) unless
  disabled or already defined.

Pure functions over plain JSON-like data; inputs are never modified. Whether a template is a valid Pod is
checked by `flink_operator.validation.pod_template`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flink_operator.api.constants import MAIN_CONTAINER_NAME
from flink_operator.api.deployment import FlinkDeploymentSpec
from flink_operator.api.spec import Resource, ResourceRequirements

JSON = dict[str, Any]
FLINK_MANAGED_RESOURCES = frozenset({"cpu", "memory"})
STARTUP_PROBE: JSON = {
    "httpGet": {"path": "/config", "port": "rest"},
    "periodSeconds": 1,
    "failureThreshold": 2147483647,
}


def merge_pod_templates(
    base: Mapping[str, Any] | None,
    override: Mapping[str, Any] | None,
    *,
    merge_arrays_by_name: bool = False,
) -> JSON | None:
    """`override` merged into `base` (see the module docstring); None when both are None."""
    if base is None:
        return copy.deepcopy(dict(override)) if override is not None else None
    if override is None:
        return copy.deepcopy(dict(base))
    return _merge_objects(copy.deepcopy(dict(base)), override, merge_arrays_by_name)


def _merge_objects(base: JSON, override: Mapping[str, Any], by_name: bool) -> JSON:
    for key, value in override.items():
        current = base.get(key)
        if isinstance(current, list) and isinstance(value, list):
            base[key] = _merge_arrays(current, value, by_name)
        elif isinstance(current, dict):
            if isinstance(value, Mapping):
                base[key] = _merge_objects(current, value, by_name)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _named(items: Sequence[Any]) -> bool:
    return all(isinstance(item, Mapping) and "name" in item for item in items)


def _merge_arrays(base: list[Any], override: Sequence[Any], by_name: bool) -> list[Any]:
    if by_name and _named(base) and _named(override):
        merged = {item["name"]: item for item in base}
        for item in override:
            existing = merged.get(item["name"])
            merged[item["name"]] = (
                _merge_objects(existing, item, by_name) if existing is not None else copy.deepcopy(item)
            )
        return list(merged.values())
    result = list(base)
    for index, item in enumerate(override):
        if index >= len(result):
            result.append(copy.deepcopy(item))
        elif isinstance(result[index], list) and isinstance(item, list):
            result[index] = _merge_arrays(result[index], item, by_name)
        elif isinstance(result[index], dict) and isinstance(item, Mapping):
            result[index] = _merge_objects(result[index], item, by_name)
        # Otherwise the base element stays (scalars, or an object overridden by a non-object).
    return result


def main_container(template: JSON) -> JSON:
    """The template's `flink-main-container`, added (with just its name) when it has none."""
    spec = template.setdefault("spec", {})
    if not isinstance(spec, dict):
        raise ValueError(f"pod template spec must be an object, got {type(spec).__name__}")
    containers = spec.setdefault("containers", [])
    for container in containers:
        if isinstance(container, dict) and container.get("name") == MAIN_CONTAINER_NAME:
            return container
    container = {"name": MAIN_CONTAINER_NAME}
    containers.append(container)
    return container


@dataclass(frozen=True)
class ExtraResources:
    """What of a role's resources belongs in the pod template rather than in Flink's configuration."""

    requests: Mapping[str, Any]
    limits: Mapping[str, Any]
    claims: Sequence[Mapping[str, Any]] = ()

    @property
    def empty(self) -> bool:
        return not (self.requests or self.limits or self.claims)


def extra_resources(resources: ResourceRequirements | None, resource: Resource | None) -> ExtraResources:
    """Non-cpu/memory entries of `resources` (preferred), else the deprecated `resource.ephemeralStorage`."""
    if resources is not None:
        requests = {k: v for k, v in (resources.requests or {}).items() if k not in FLINK_MANAGED_RESOURCES}
        limits = {k: v for k, v in (resources.limits or {}).items() if k not in FLINK_MANAGED_RESOURCES}
        claims = [claim.to_dict() for claim in resources.claims or []]
        return ExtraResources(requests, limits, claims)
    if resource is not None and resource.ephemeral_storage:
        storage = {"ephemeral-storage": resource.ephemeral_storage}
        return ExtraResources(storage, dict(storage))
    return ExtraResources({}, {})


def layer_pod_template(
    common: Mapping[str, Any] | None,
    role: Mapping[str, Any] | None,
    *,
    extra: ExtraResources | None = None,
    startup_probe: bool = False,
    merge_arrays_by_name: bool = False,
) -> JSON | None:
    """One role's template: merged, extra resources in the main container, optional startup probe."""
    template = merge_pod_templates(common, role, merge_arrays_by_name=merge_arrays_by_name)
    needs_container = (extra is not None and not extra.empty) or startup_probe
    if template is None and not needs_container:
        return None
    template = template if template is not None else {}
    if extra is not None and not extra.empty:
        container = main_container(template)
        resources = container.setdefault("resources", {})
        for section, values in (("requests", extra.requests), ("limits", extra.limits)):
            if values:
                resources.setdefault(section, {}).update(copy.deepcopy(dict(values)))
        if extra.claims:
            resources["claims"] = [copy.deepcopy(dict(claim)) for claim in extra.claims]
    if startup_probe:
        container = main_container(template)
        container.setdefault("startupProbe", copy.deepcopy(STARTUP_PROBE))
    return template


@dataclass(frozen=True)
class PodTemplates:
    jobmanager: JSON | None
    taskmanager: JSON | None


def pod_templates_for(
    spec: FlinkDeploymentSpec,
    *,
    merge_arrays_by_name: bool = False,
    jobmanager_startup_probe: bool = True,
) -> PodTemplates:
    """The layered JobManager and TaskManager templates of a FlinkDeployment spec.

    `merge_arrays_by_name` is `kubernetes.operator.pod-template.merge-arrays-by-name`;
    `jobmanager_startup_probe` is `kubernetes.operator.jm-deployment.startup.probe.enabled`.
    """
    jm, tm = spec.job_manager, spec.task_manager
    return PodTemplates(
        jobmanager=layer_pod_template(
            spec.pod_template,
            jm.pod_template if jm is not None else None,
            extra=extra_resources(jm.resources, jm.resource) if jm is not None else None,
            startup_probe=jobmanager_startup_probe,
            merge_arrays_by_name=merge_arrays_by_name,
        ),
        taskmanager=layer_pod_template(
            spec.pod_template,
            tm.pod_template if tm is not None else None,
            extra=extra_resources(tm.resources, tm.resource) if tm is not None else None,
            merge_arrays_by_name=merge_arrays_by_name,
        ),
    )
