"""The operator's Prometheus metrics: names, the lifecycle bookkeeping behind them, and the `/metrics`
endpoint (see docs/metrics.md for the catalogue and its mapping to upstream's names).

    metrics = OperatorMetrics.from_configuration(configuration)
    metrics.install(manager)          # after manager.add(...), before manager.start()
    await metrics.start()             # serves /metrics when configured
    await metrics.stop()

Public names: `OperatorMetrics`, `MetricsSettings`, `MetricsServer`, the option `METRICS_*` constants, and the
pure lifecycle functions (`advance`, `completed_transitions`, `cleared_states`, `TRANSITIONS`). Modules
behind them may change.
"""

from flink_operator.metrics.lifecycle import (
    TRANSITIONS,
    LifecycleTrack,
    Observations,
    StateTimes,
    Transition,
    advance,
    cleared_states,
    completed_transitions,
    initial_track,
)
from flink_operator.metrics.operator_metrics import OperatorMetrics
from flink_operator.metrics.options import (
    METRICS_HOST,
    METRICS_PORT,
    METRICS_RESOURCE_LABELS_ENABLED,
    MetricsSettings,
)
from flink_operator.metrics.resources import ResourceFacts, ResourceSummary, facts_of, summarize
from flink_operator.metrics.server import MetricsServer

__all__ = [
    "METRICS_HOST",
    "METRICS_PORT",
    "METRICS_RESOURCE_LABELS_ENABLED",
    "TRANSITIONS",
    "LifecycleTrack",
    "MetricsServer",
    "MetricsSettings",
    "Observations",
    "OperatorMetrics",
    "ResourceFacts",
    "ResourceSummary",
    "StateTimes",
    "Transition",
    "advance",
    "cleared_states",
    "completed_transitions",
    "facts_of",
    "initial_track",
    "summarize",
]
