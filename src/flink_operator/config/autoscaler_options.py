"""Autoscaler options (contract §8.9): `job.autoscaler.*`, each also read from the legacy
`kubernetes.operator.job.autoscaler.*` key. All are per-resource (dynamic) options.

Range checks (contract §4.5) belong to the validator; this module only declares keys, types and defaults.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import TypeVar

from flink_operator.config.option import ConfigOption, Scope
from flink_operator.config.registry import declare, declare_optional
from flink_operator.config.values import (
    BOOLEAN,
    DOUBLE,
    DURATION,
    INTEGER,
    MEMORY_SIZE,
    STRING,
    ValueType,
    enum_type,
    list_type,
)

DOCS_SECTION = "Autoscaler"

T = TypeVar("T")

PREFIX = "job.autoscaler."
LEGACY_PREFIX = "kubernetes.operator.job.autoscaler."


class BusyTimeAggregator(enum.Enum):
    MAX = "MAX"
    AVG = "AVG"
    MIN = "MIN"


class KeyGroupPartitionsAdjustMode(enum.Enum):
    EVENLY_SPREAD = "EVENLY_SPREAD"
    MAXIMIZE_UTILISATION = "MAXIMIZE_UTILISATION"


def _deprecated(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(prefix + name for name in names for prefix in (PREFIX, LEGACY_PREFIX))


def _option(
    name: str, value_type: ValueType[T], default: T, description: str, *, deprecated: tuple[str, ...] = ()
) -> ConfigOption[T]:
    return declare(
        PREFIX + name, value_type, default, description, scope=Scope.DYNAMIC,
        fallback_keys=(LEGACY_PREFIX + name,), deprecated_keys=_deprecated(deprecated),
    )


def _optional(
    name: str, value_type: ValueType[T], description: str, *, deprecated: tuple[str, ...] = ()
) -> ConfigOption[T | None]:
    return declare_optional(
        PREFIX + name, value_type, description, scope=Scope.DYNAMIC,
        fallback_keys=(LEGACY_PREFIX + name,), deprecated_keys=_deprecated(deprecated),
    )


_STRINGS = list_type(STRING)

ENABLED = _option("enabled", BOOLEAN, False, "Collect metrics and compute scaling decisions for the job.")
SCALING_ENABLED = _option(
    "scaling.enabled", BOOLEAN, True,
    "Apply the computed parallelism; when false the autoscaler only evaluates and reports.",
)
METRICS_WINDOW = _option(
    "metrics.window", DURATION, timedelta(minutes=15),
    "Window over which metrics are aggregated; must not be shorter than the reconcile interval.",
)
STABILIZATION_INTERVAL = _option(
    "stabilization.interval", DURATION, timedelta(minutes=5),
    "After a (re)start, no scaling decision is taken for this long.",
)
UTILIZATION_TARGET = _option(
    "utilization.target", DOUBLE, 0.7,
    "Target busy ratio of each vertex (0..1).", deprecated=("target.utilization",),
)
TARGET_UTILIZATION_BOUNDARY = _option(
    "target.utilization.boundary", DOUBLE, 0.3,
    "Deprecated: tolerated deviation around the target; use `utilization.max`/`utilization.min`.",
)
UTILIZATION_MAX = _optional(
    "utilization.max", DOUBLE, "Scale up above this utilization (default target + boundary).",
)
UTILIZATION_MIN = _optional(
    "utilization.min", DOUBLE, "Scale down below this utilization (default target - boundary).",
)
SCALE_DOWN_INTERVAL = _option(
    "scale-down.interval", DURATION, timedelta(hours=1),
    "Scale-downs are delayed and merged within this interval after a scale-up.",
    deprecated=("scale-up.grace-period",),
)
SCALE_DOWN_MAX_FACTOR = _option(
    "scale-down.max-factor", DOUBLE, 0.6, "Largest relative parallelism decrease in one step.",
)
SCALE_UP_MAX_FACTOR = _option(
    "scale-up.max-factor", DOUBLE, 100000.0, "Largest relative parallelism increase in one step.",
)
VERTEX_MIN_PARALLELISM = _option(
    "vertex.min-parallelism", INTEGER, 1, "Lowest parallelism the autoscaler sets for a vertex.",
)
VERTEX_MAX_PARALLELISM = _option(
    "vertex.max-parallelism", INTEGER, 200, "Highest parallelism the autoscaler sets for a vertex.",
)
CATCH_UP_DURATION = _option(
    "catch-up.duration", DURATION, timedelta(minutes=30),
    "Time the job should need to process its backlog after scaling.",
)
RESTART_TIME = _option(
    "restart.time", DURATION, timedelta(minutes=5),
    "Expected time to apply a scaling (used until restart times are tracked).",
)
RESTART_TIME_TRACKING_ENABLED = _option(
    "restart.time-tracking.enabled", BOOLEAN, False, "Measure restart times instead of assuming them.",
)
RESTART_TIME_TRACKING_LIMIT = _option(
    "restart.time-tracking.limit", DURATION, timedelta(minutes=15), "Upper bound for measured restart times.",
)
BACKLOG_PROCESSING_LAG_THRESHOLD = _option(
    "backlog-processing.lag-threshold", DURATION, timedelta(minutes=5),
    "Lag above which the job is considered to be processing a backlog (no scale-down then).",
)
OBSERVED_TRUE_PROCESSING_RATE_LAG_THRESHOLD = _option(
    "observed-true-processing-rate.lag-threshold", DURATION, timedelta(seconds=30),
    "Lag above which the observed processing rate is used as the true processing rate.",
)
OBSERVED_TRUE_PROCESSING_RATE_SWITCH_THRESHOLD = _option(
    "observed-true-processing-rate.switch-threshold", DOUBLE, 0.15,
    "Relative difference at which the observed rate replaces the busy-time based estimate.",
)
OBSERVED_TRUE_PROCESSING_RATE_MIN_OBSERVATIONS = _option(
    "observed-true-processing-rate.min-observations", INTEGER, 2,
    "Observations needed before the observed processing rate is used.",
)
SCALING_EFFECTIVENESS_DETECTION_ENABLED = _option(
    "scaling.effectiveness.detection.enabled", BOOLEAN, False,
    "Stop scaling up vertices whose previous scale-up did not raise their throughput.",
)
SCALING_EFFECTIVENESS_THRESHOLD = _option(
    "scaling.effectiveness.threshold", DOUBLE, 0.1,
    "A scale-up below this fraction of the expected throughput gain counts as ineffective.",
)
METRICS_BUSY_TIME_AGGREGATOR = _option(
    "metrics.busy-time.aggregator", enum_type(BusyTimeAggregator), BusyTimeAggregator.MAX,
    "How busy time is aggregated across the subtasks of a vertex.",
)
VERTEX_EXCLUDE_IDS = _option(
    "vertex.exclude.ids", _STRINGS, (), "Vertex ids (`;`-separated) the autoscaler never rescales.",
)
EXCLUDED_PERIODS = _option(
    "excluded.periods", _STRINGS, (),
    "Periods (`;`-separated; daily time ranges or cron expressions) in which no scaling happens.",
)
SCALING_EVENT_INTERVAL = _option(
    "scaling.event.interval", DURATION, timedelta(minutes=30),
    "Identical scaling report events are not repeated within this interval.",
)
FLINK_REST_CLIENT_TIMEOUT = _option(
    "flink.rest-client.timeout", DURATION, timedelta(seconds=10),
    "Timeout of the autoscaler's Flink REST calls (upstream lets the operator client timeout override it).",
)
HISTORY_MAX_COUNT = _option(
    "history.max.count", INTEGER, 3, "Scaling decisions kept per vertex.",
)
HISTORY_MAX_AGE = _option(
    "history.max.age", DURATION, timedelta(days=1), "Scaling decisions older than this are dropped.",
)
MEMORY_GC_PRESSURE_THRESHOLD = _option(
    "memory.gc-pressure.threshold", DOUBLE, 1.0,
    "No scale-up when the fraction of time spent in GC exceeds this (0..1; 1 disables the check).",
)
MEMORY_HEAP_USAGE_THRESHOLD = _option(
    "memory.heap-usage.threshold", DOUBLE, 1.0,
    "No scale-up when average heap usage exceeds this (0..1; 1 disables the check).",
)
MEMORY_TUNING_ENABLED = _option(
    "memory.tuning.enabled", BOOLEAN, False, "Tune TaskManager memory from observed usage.",
)
MEMORY_TUNING_OVERHEAD = _option(
    "memory.tuning.overhead", DOUBLE, 0.2, "Headroom added to observed memory needs (0..1).",
)
MEMORY_TUNING_MAXIMIZE_MANAGED_MEMORY = _option(
    "memory.tuning.maximize-managed-memory", BOOLEAN, False,
    "Give memory saved elsewhere to managed memory (for RocksDB).",
)
MEMORY_TUNING_SCALE_DOWN_COMPENSATION_ENABLED = _option(
    "memory.tuning.scale-down-compensation.enabled", BOOLEAN, True,
    "Raise per-TaskManager memory when scaling down so total memory stays sufficient.",
)
QUOTA_CPU = _optional("quota.cpu", DOUBLE, "Total CPU the job may use after scaling.")
QUOTA_MEMORY = _optional("quota.memory", MEMORY_SIZE, "Total memory the job may use after scaling.")
SCALING_PARALLELISM_ALIGNMENT_MODE = _option(
    "scaling.parallelism-alignment.mode", STRING, "BALANCED",
    "How parallelism is aligned with source partitions and key groups; the name of a built-in or "
    "plugged-in alignment mode.",
)
SCALING_KEY_GROUP_PARTITIONS_ADJUST_MODE = _option(
    "scaling.key-group.partitions.adjust.mode", enum_type(KeyGroupPartitionsAdjustMode),
    KeyGroupPartitionsAdjustMode.EVENLY_SPREAD,
    "Deprecated: use `scaling.parallelism-alignment.mode`.",
)
OBSERVED_SCALABILITY_ENABLED = _option(
    "observed-scalability.enabled", BOOLEAN, False,
    "Fit a scalability coefficient from past scalings instead of assuming linear scaling.",
)
OBSERVED_SCALABILITY_MIN_OBSERVATIONS = _option(
    "observed-scalability.min-observations", INTEGER, 3, "Scalings needed before the coefficient is fitted.",
)
OBSERVED_SCALABILITY_COEFFICIENT_MIN = _option(
    "observed-scalability.coefficient-min", DOUBLE, 0.5, "Lowest scalability coefficient used (0.01..1).",
)
METRICS_CUSTOM_EVALUATORS = _option(
    "metrics.custom-evaluators", _STRINGS, (),
    "Names of custom metric evaluator plugins (`;`-separated); each is configured under "
    "`job.autoscaler.metrics.custom-evaluator.<name>.*`.",
)
SCALING_CUSTOM_EXECUTORS = _option(
    "scaling.custom-executors", _STRINGS, (),
    "Names of custom scaling executor plugins (`;`-separated); each is configured under "
    "`job.autoscaler.scaling.custom-executor.<name>.*`.",
)
