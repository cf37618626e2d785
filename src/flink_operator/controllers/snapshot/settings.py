"""The options snapshot decisions read, as one plain value per job (contract §5.5, §5.6).

`SnapshotSettings.from_configs(operator, effective)` reads system options (intervals, cleanup timeout,
history thresholds) from the operator configuration and per-resource options (schedules, grace periods,
formats, retention, `snapshot.resource.enabled`) from the job's effective configuration, plus two Flink
options: the number of retained checkpoints and the checkpoint timeout. Decisions take the result and
never read configuration themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from flink_operator.api import CheckpointType, SavepointFormatType
from flink_operator.config import Configuration, Schedule, parse_duration
from flink_operator.config import operator_options as op
from flink_operator.config import resource_options as ro

CHECKPOINTS_RETAINED_KEYS = ("execution.checkpointing.num-retained", "state.checkpoints.num-retained")
CHECKPOINT_TIMEOUT_KEY = "execution.checkpointing.timeout"
DEFAULT_CHECKPOINT_TIMEOUT = timedelta(minutes=10)


def _ms(value: timedelta) -> int:
    return int(value.total_seconds() * 1000)


def _flink_int(conf: Configuration, keys: tuple[str, ...], default: int) -> int:
    for key in keys:
        text = conf.raw(key)
        if text is not None and text.strip().lstrip("-").isdigit():
            return int(text.strip())
    return default


def _flink_duration(conf: Configuration, key: str, default: timedelta) -> timedelta:
    text = conf.raw(key)
    if text is None:
        return default
    try:
        return parse_duration(text)
    except ValueError:
        return default


@dataclass(frozen=True)
class SnapshotSettings:
    """Snapshot behaviour for one job; durations in seconds or milliseconds as named."""

    reconcile_interval: float = 60.0
    progress_check_interval: float = 10.0
    resources_enabled: bool = True
    periodic_savepoint: Schedule | None = None
    periodic_checkpoint: Schedule | None = None
    savepoint_grace_ms: int = 60_000
    checkpoint_grace_ms: int = 60_000
    savepoint_format: SavepointFormatType = SavepointFormatType.CANONICAL
    checkpoint_type: CheckpointType = CheckpointType.FULL
    dispose_on_delete: bool = False
    cleanup_enabled: bool = True
    history_max_count: int = 10
    """Already bounded by `savepoint.history.max.count.threshold`, at least 1."""
    history_max_age_ms: int = 86_400_000
    """Already bounded by `savepoint.history.max.age.threshold`."""
    checkpoints_retained: int = 1
    checkpoint_timeout_ms: int = 600_000
    cleanup_timeout_ms: int = 300_000
    max_error_length: int = 2048
    retry_base_s: float = 10.0
    """First retry delay of a failed snapshot or disposal (upstream's fixed 10 s; doubled per failure)."""

    @classmethod
    def from_configs(
        cls, operator: Configuration, effective: Configuration | Mapping[str, str]
    ) -> SnapshotSettings:
        dynamic = effective if isinstance(effective, Configuration) else Configuration(effective)
        max_count = dynamic.get(ro.SAVEPOINT_HISTORY_MAX_COUNT)
        count_threshold = operator.get(op.SAVEPOINT_HISTORY_MAX_COUNT_THRESHOLD)
        if count_threshold is not None:
            max_count = min(max_count, count_threshold)
        max_age = dynamic.get(ro.SAVEPOINT_HISTORY_MAX_AGE)
        age_threshold = operator.get(op.SAVEPOINT_HISTORY_MAX_AGE_THRESHOLD)
        if age_threshold is not None:
            max_age = min(max_age, age_threshold)
        return cls(
            reconcile_interval=operator.get(op.RECONCILE_INTERVAL).total_seconds(),
            progress_check_interval=operator.get(op.OBSERVER_PROGRESS_CHECK_INTERVAL).total_seconds(),
            resources_enabled=dynamic.get(ro.SNAPSHOT_RESOURCE_ENABLED),
            periodic_savepoint=dynamic.get(ro.PERIODIC_SAVEPOINT_INTERVAL),
            periodic_checkpoint=dynamic.get(ro.PERIODIC_CHECKPOINT_INTERVAL),
            savepoint_grace_ms=_ms(dynamic.get(ro.SAVEPOINT_TRIGGER_GRACE_PERIOD)),
            checkpoint_grace_ms=_ms(dynamic.get(ro.CHECKPOINT_TRIGGER_GRACE_PERIOD)),
            savepoint_format=SavepointFormatType(dynamic.get(ro.SAVEPOINT_FORMAT_TYPE).value),
            checkpoint_type=CheckpointType(dynamic.get(ro.CHECKPOINT_TYPE).value),
            dispose_on_delete=dynamic.get(ro.SAVEPOINT_DISPOSE_ON_DELETE),
            cleanup_enabled=dynamic.get(ro.SAVEPOINT_CLEANUP_ENABLED),
            history_max_count=max(1, max_count),
            history_max_age_ms=_ms(max_age),
            checkpoints_retained=max(1, _flink_int(dynamic, CHECKPOINTS_RETAINED_KEYS, 1)),
            checkpoint_timeout_ms=_ms(
                _flink_duration(dynamic, CHECKPOINT_TIMEOUT_KEY, DEFAULT_CHECKPOINT_TIMEOUT)
            ),
            cleanup_timeout_ms=_ms(operator.get(op.RESOURCE_CLEANUP_TIMEOUT)),
            max_error_length=operator.get(op.EXCEPTION_FIELD_MAX_LENGTH),
        )

    def grace_ms(self, savepoint: bool) -> int:
        return self.savepoint_grace_ms if savepoint else self.checkpoint_grace_ms

    def schedule(self, savepoint: bool) -> Schedule | None:
        return self.periodic_savepoint if savepoint else self.periodic_checkpoint
