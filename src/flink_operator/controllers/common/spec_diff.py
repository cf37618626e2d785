"""The typed difference between two specs (contract §3.7): which fields changed and how much that matters.

`diff_specs(before, after, mode=...)` compares two FlinkDeployment or FlinkSessionJob specs and returns a
`SpecDiff` whose `type` is the largest `DiffType` over all changed fields (IGNORE < SCALE < UPGRADE <
SAVEPOINT_REDEPLOY). Defaults are resolved before comparing, so a stored spec written with explicit defaults
(or with nulls, as the Java operator writes them) equals one that omits them. `job` and `taskManager` are
compared field by field, `flinkConfiguration` key by key (after flattening); every other nested object is
compared as a whole.

`SpecDiff.describe()` is the text for the `SpecChanged` event and logs. Unlike upstream (FLINK-30306) it
never prints a value that could be a secret: it names every changed path, and shows old and new values only
for fields that cannot hold one (numbers, enums, image, nonces); `flinkConfiguration` values, pod templates,
args, URIs and everything else appear by path only.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flink_operator.api import KubernetesDeploymentMode, SpecModel
from flink_operator.config import flatten_flink_configuration


class DiffType(enum.IntEnum):
    """How a spec change must be applied; ordered by impact."""

    IGNORE = 0
    SCALE = 1
    UPGRADE = 2
    SAVEPOINT_REDEPLOY = 3


_JOB_IGNORED = frozenset(
    {
        "savepointTriggerNonce",
        "checkpointTriggerNonce",
        "initialSavepointPath",
        "upgradeMode",
        "allowNonRestoredState",
        "autoscalerResetNonce",
    }
)
_IGNORED_CONFIG_PREFIXES = ("job.autoscaler", "parallelism.default", "kubernetes.operator")
_SCALE_IN_NATIVE_CONFIG_PREFIX = "pipeline.jobvertex-parallelism-overrides"
_FIELD_BY_FIELD = frozenset({"job", "taskManager"})
# Fields whose values are shown in descriptions: numbers, enums and names that cannot carry a secret.
_SHOWN_PATHS = frozenset(
    {
        "restartNonce",
        "image",
        "imagePullPolicy",
        "serviceAccount",
        "flinkVersion",
        "mode",
        "deploymentName",
        "job.parallelism",
        "job.state",
        "job.upgradeMode",
        "job.allowNonRestoredState",
        "job.savepointTriggerNonce",
        "job.checkpointTriggerNonce",
        "job.savepointRedeployNonce",
        "job.autoscalerResetNonce",
        "job.entryClass",
        "taskManager.replicas",
    }
)


@dataclass(frozen=True)
class FieldChange:
    """One changed field: its path (`job.parallelism`, `flinkConfiguration.state.backend.type`) and type."""

    path: str
    type: DiffType
    # Values may be secrets: kept out of repr() so they cannot reach a log line by accident.
    before: Any = field(repr=False)
    after: Any = field(repr=False)

    @property
    def shows_values(self) -> bool:
        return self.path in _SHOWN_PATHS

    def describe(self) -> str:
        if not self.shows_values:
            return self.path
        return f"{self.path} : {_display(self.before)} -> {_display(self.after)}"


def _display(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class SpecDiff:
    """All field changes between two specs; `type` is the largest change type (IGNORE when none)."""

    changes: tuple[FieldChange, ...]
    spec_name: str = "FlinkDeploymentSpec"

    @property
    def type(self) -> DiffType:
        return max((change.type for change in self.changes), default=DiffType.IGNORE)

    @property
    def significant(self) -> tuple[FieldChange, ...]:
        """The changes that are not IGNORE."""
        return tuple(change for change in self.changes if change.type is not DiffType.IGNORE)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(change.path for change in self.changes)

    def describe(self) -> str:
        """`Diff: FlinkDeploymentSpec[job.parallelism : 1 -> 2, flinkConfiguration.s3.secret-key]`."""
        listed = ", ".join(change.describe() for change in self.significant)
        return f"Diff: {self.spec_name}[{listed}]"


def _as_json(spec: SpecModel | Mapping[str, Any] | None) -> dict[str, Any]:
    if spec is None:
        return {}
    if isinstance(spec, SpecModel):
        return spec.model_dump(mode="json", by_alias=True)
    return dict(spec)


def diff_specs(
    before: SpecModel | Mapping[str, Any] | None,
    after: SpecModel | Mapping[str, Any] | None,
    *,
    mode: KubernetesDeploymentMode = KubernetesDeploymentMode.NATIVE,
) -> SpecDiff:
    """Compare two specs (models, or full JSON forms with defaults resolved)."""
    spec_name = type(after).__name__ if isinstance(after, SpecModel) else "FlinkDeploymentSpec"
    old, new = _as_json(before), _as_json(after)
    changes: list[FieldChange] = []
    for key in _ordered_keys(old, new):
        old_value, new_value = old.get(key), new.get(key)
        if old_value == new_value:
            continue
        if key == "flinkConfiguration":
            changes.extend(_config_changes(old_value, new_value, mode))
        elif key in _FIELD_BY_FIELD and isinstance(old_value, dict) and isinstance(new_value, dict):
            for sub in _ordered_keys(old_value, new_value):
                if old_value.get(sub) != new_value.get(sub):
                    path = f"{key}.{sub}"
                    kind = _field_type(path, old_value.get(sub), new_value.get(sub), mode)
                    changes.append(FieldChange(path, kind, old_value.get(sub), new_value.get(sub)))
        else:
            changes.append(
                FieldChange(key, _field_type(key, old_value, new_value, mode), old_value, new_value)
            )
    return SpecDiff(tuple(changes), spec_name)


def _ordered_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = list(old)
    keys.extend(key for key in new if key not in old)
    return keys


def _field_type(path: str, old: Any, new: Any, mode: KubernetesDeploymentMode) -> DiffType:
    if path == "restartNonce":
        return DiffType.IGNORE if new is None else DiffType.UPGRADE
    if path == "job.savepointRedeployNonce":
        return DiffType.IGNORE if new is None else DiffType.SAVEPOINT_REDEPLOY
    if path.startswith("job.") and path[4:] in _JOB_IGNORED:
        return DiffType.IGNORE
    if path in ("job.parallelism", "taskManager.replicas"):
        return DiffType.SCALE if mode is KubernetesDeploymentMode.STANDALONE else DiffType.UPGRADE
    return DiffType.UPGRADE


def _config_changes(old: Any, new: Any, mode: KubernetesDeploymentMode) -> list[FieldChange]:
    old_flat = flatten_flink_configuration(old if isinstance(old, Mapping) else None)
    new_flat = flatten_flink_configuration(new if isinstance(new, Mapping) else None)
    changes = []
    for key in _ordered_keys(old_flat, new_flat):
        before, after = old_flat.get(key), new_flat.get(key)
        if before == after:
            continue
        changes.append(FieldChange(f"flinkConfiguration.{key}", _config_type(key, mode), before, after))
    return changes


def _config_type(key: str, mode: KubernetesDeploymentMode) -> DiffType:
    if key.startswith(_IGNORED_CONFIG_PREFIXES):
        return DiffType.IGNORE
    if key.startswith(_SCALE_IN_NATIVE_CONFIG_PREFIX):
        return DiffType.SCALE if mode is KubernetesDeploymentMode.NATIVE else DiffType.UPGRADE
    return DiffType.UPGRADE
