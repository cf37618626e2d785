"""Rules on the autoscaler settings of a job (contract §4.4 item 13 and §4.5).

Readability (values and excluded-period expressions) is checked whenever a setting is present: a value that
cannot be read is wrong whether or not the autoscaler is on yet. The range checks and the metrics-window
check apply, as upstream, only when `job.autoscaler.enabled` is true. Each range check is its own rule,
named after its option (`autoscaler-utilization-target`, ...).

Settings are read from the job's effective configuration, under their own key or the legacy
`kubernetes.operator.job.autoscaler.*` key; messages name the key actually used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flink_operator.api import Problem
from flink_operator.config import ConfigOption, format_duration
from flink_operator.config import autoscaler_options as opts
from flink_operator.config.operator_options import RECONCILE_INTERVAL
from flink_operator.validation.config_rules import is_autoscaler_key, value_problem
from flink_operator.validation.context import OPERATOR_CONFIGURATION, read_option
from flink_operator.validation.excluded_periods import period_problem
from flink_operator.validation.rule import Rule, got, rule
from flink_operator.validation.subjects import AutoscalerSubject

Bound = float | Callable[[AutoscalerSubject], float | None]


def enabled(s: AutoscalerSubject) -> bool:
    return s.config.get(opts.ENABLED) is True


@rule("autoscaler-option-values", "Autoscaler options set for the job have readable values.")
def autoscaler_option_values(s: AutoscalerSubject) -> Iterator[Problem]:
    for key in sorted(s.config.configuration):
        if is_autoscaler_key(key) and s.config.origins.get(key) != OPERATOR_CONFIGURATION:
            problem = value_problem(s.config, key)
            if problem:
                yield problem


@rule(
    "autoscaler-excluded-periods",
    "job.autoscaler.excluded.periods holds daily ranges and/or Quartz cron expressions.",
)
def autoscaler_excluded_periods(s: AutoscalerSubject) -> Iterator[Problem]:
    found = s.config.lookup(opts.EXCLUDED_PERIODS)
    periods = s.config.get(opts.EXCLUDED_PERIODS)
    if found is None or periods is None:
        return
    key = found[0]
    for period in periods:
        problem = period_problem(period)
        if problem:
            yield Problem(s.config.path(key), f"{problem}{s.config.origin(key)}")


def _bound_value(bound: Bound, s: AutoscalerSubject) -> float | None:
    return bound(s) if callable(bound) else bound


def _target(s: AutoscalerSubject) -> float | None:
    return s.config.get(opts.UTILIZATION_TARGET)


def _range_rule(
    option: ConfigOption[Any],
    low: Bound,
    high: Bound | None = None,
    *,
    only_if: ConfigOption[bool] | None = None,
) -> Rule[AutoscalerSubject]:
    short = option.key.removeprefix("job.autoscaler.")
    name = "autoscaler-" + short.replace(".", "-")
    target = "the utilization target"
    upper = "" if high is None else f", at most {target if callable(high) else high}"
    condition = f" when {only_if.key} is true" if only_if is not None else ""
    summary = f"{option.key} is at least {target if callable(low) else low}{upper}{condition}."

    @rule(name, summary)
    def check(s: AutoscalerSubject) -> Iterator[Problem]:
        if not enabled(s) or (only_if is not None and s.config.get(only_if) is not True):
            return
        found = s.config.lookup(option)
        value = s.config.get(option)
        if found is None or not isinstance(value, int | float):
            return  # unset (the default is in range) or unreadable (reported by autoscaler-option-values)
        minimum = _bound_value(low, s)
        maximum = None if high is None else _bound_value(high, s)
        if minimum is None or (high is not None and maximum is None):
            return
        if value < minimum or (maximum is not None and value > maximum):
            key = found[0]
            wanted = f"within [{minimum:g}, {maximum:g}]" if maximum is not None else f">= {minimum:g}"
            yield Problem(s.config.path(key), f"must be {wanted} (got {got(value)}){s.config.origin(key)}")

    return check


autoscaler_scale_down_max_factor = _range_rule(opts.SCALE_DOWN_MAX_FACTOR, 0.0)
autoscaler_scale_up_max_factor = _range_rule(opts.SCALE_UP_MAX_FACTOR, 0.0)
autoscaler_utilization_target = _range_rule(opts.UTILIZATION_TARGET, 0.0, 1.0)
autoscaler_target_utilization_boundary = _range_rule(opts.TARGET_UTILIZATION_BOUNDARY, 0.0)
autoscaler_utilization_max = _range_rule(opts.UTILIZATION_MAX, _target, 1.0)
autoscaler_utilization_min = _range_rule(opts.UTILIZATION_MIN, 0.0, _target)
autoscaler_gc_pressure_threshold = _range_rule(opts.MEMORY_GC_PRESSURE_THRESHOLD, 0.0, 1.0)
autoscaler_heap_usage_threshold = _range_rule(opts.MEMORY_HEAP_USAGE_THRESHOLD, 0.0, 1.0)
autoscaler_scalability_coefficient_min = _range_rule(
    opts.OBSERVED_SCALABILITY_COEFFICIENT_MIN, 0.01, 1.0, only_if=opts.OBSERVED_SCALABILITY_ENABLED
)
autoscaler_scaling_effectiveness_threshold = _range_rule(
    opts.SCALING_EFFECTIVENESS_THRESHOLD, 0.0, 1.0, only_if=opts.SCALING_EFFECTIVENESS_DETECTION_ENABLED
)
autoscaler_memory_tuning_overhead = _range_rule(
    opts.MEMORY_TUNING_OVERHEAD, 0.0, 1.0, only_if=opts.MEMORY_TUNING_ENABLED
)

RANGE_RULES = (
    autoscaler_scale_down_max_factor,
    autoscaler_scale_up_max_factor,
    autoscaler_utilization_target,
    autoscaler_target_utilization_boundary,
    autoscaler_utilization_max,
    autoscaler_utilization_min,
    autoscaler_gc_pressure_threshold,
    autoscaler_heap_usage_threshold,
    autoscaler_scalability_coefficient_min,
    autoscaler_scaling_effectiveness_threshold,
    autoscaler_memory_tuning_overhead,
)


@rule(
    "autoscaler-metrics-window",
    "job.autoscaler.metrics.window is not shorter than kubernetes.operator.reconcile.interval.",
)
def autoscaler_metrics_window(s: AutoscalerSubject) -> Iterator[Problem]:
    if not enabled(s):
        return
    window = s.config.get(opts.METRICS_WINDOW)
    interval = read_option(s.operator_config, RECONCILE_INTERVAL)
    if window is None or interval is None or window >= interval:
        return
    found = s.config.lookup(opts.METRICS_WINDOW)
    key = found[0] if found else opts.METRICS_WINDOW.key
    yield Problem(
        s.config.path(key),
        f"must not be shorter than {RECONCILE_INTERVAL.key} ({format_duration(interval)}) of the operator "
        f"configuration (got {format_duration(window)}){s.config.origin(key)}",
    )
