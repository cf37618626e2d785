"""Is a running job healthy? Restarts within a window and checkpoint progress (contract §3.18), as pure
functions over plain values.

The state between two observations is upstream's `ClusterHealthInfo`, kept as JSON in
`status.clusterInfo["ClusterHealthInfo"]` with upstream's field names, so tools reading the Java operator's
statuses keep working. Here its fields mean:

* `timeStamp`: when the job's metrics were last sampled (epoch milliseconds);
* `numRestarts` / `numRestartsEvaluationTimeStamp`: the restart counter at the start of the current
  counting window, and when that window started;
* `numCompletedCheckpoints` / `numCompletedCheckpointsIncreasedTimeStamp`: the completed-checkpoint counter
  last seen, and when it last changed;
* `healthResult`: the verdict of the last sample (`healthy`, `error`).

`evaluate(previous, sample, settings)` is the whole rule set:

* the first sample (no previous info, e.g. right after a deployment, which drops the info) only sets the
  baselines and is healthy;
* restarts: a counter lower than the baseline means a new job attempt counted from zero (JobManager
  failover, redeploy): the baseline is reset and the job is healthy. Otherwise the restarts since the
  baseline, scaled down to the window when the baseline is older than the window
  (`(now - base) x min(1, window / elapsed)`), above `restarts.threshold` make the job unhealthy
  ("Restart count hit threshold: N"); a baseline older than the window is moved to this sample
  afterwards;
* checkpoints (when `checkpoint-progress.enabled`): a counter that did not change for longer than the
  window makes the job unhealthy ("Cluster is not able to complete checkpoints"). The window is the
  configured one, but never less than max(checkpoint interval, checkpoint timeout) x (tolerable failed
  checkpoints + 2). A job without periodic checkpoints is never judged by checkpoint progress (upstream
  does judge it when a window is configured, and would restart such a job forever);
* both verdicts are joined: unhealthy if either is, errors joined by `|`.

What callers must add (not decided here): only non-terminal jobs on a reachable JobManager are sampled,
and a restart because of an unhealthy verdict is only taken on the verdict of the current sample (never a
stored one), so a job that ended meanwhile is never restarted (FLINK-39507).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flink_operator.config.durations import parse_duration

__all__ = [
    "CHECKPOINTS_METRIC",
    "CLUSTER_HEALTH_INFO_KEY",
    "FULL_RESTARTS_METRIC",
    "HEALTH_METRICS",
    "RESTARTS_METRIC",
    "ClusterHealthInfo",
    "HealthResult",
    "HealthSample",
    "HealthSettings",
    "checkpoint_window_ms",
    "evaluate",
    "read_info",
    "sample_from_metrics",
]

CLUSTER_HEALTH_INFO_KEY = "ClusterHealthInfo"
RESTARTS_METRIC = "numRestarts"
FULL_RESTARTS_METRIC = "fullRestarts"
CHECKPOINTS_METRIC = "numberOfCompletedCheckpoints"
HEALTH_METRICS = (RESTARTS_METRIC, FULL_RESTARTS_METRIC, CHECKPOINTS_METRIC)
"""The job metrics a sample reads (`fullRestarts` is the older name of `numRestarts`)."""

MSG_RESTARTS = "Restart count hit threshold: {count}"
MSG_CHECKPOINTS = "Cluster is not able to complete checkpoints"

_INTERVAL_KEYS = ("execution.checkpointing.interval", "execution.checkpointing.interval-during-backlog")
_TIMEOUT_KEY = "execution.checkpointing.timeout"
_TOLERABLE_KEY = "execution.checkpointing.tolerable-failed-checkpoints"
_DEFAULT_CHECKPOINT_TIMEOUT_MS = 600_000


@dataclass(frozen=True)
class HealthSettings:
    """The options of the health check, plus the job's checkpointing configuration (milliseconds)."""

    restarts_threshold: int = 64
    restarts_window_ms: int = 120_000
    checkpoint_progress_enabled: bool = True
    checkpoint_window_ms: int | None = None
    """The configured checkpoint-progress window (None: derive it)."""
    checkpoint_interval_ms: int | None = None
    """The job's checkpoint interval; None when periodic checkpointing is off."""
    checkpoint_timeout_ms: int = _DEFAULT_CHECKPOINT_TIMEOUT_MS
    tolerable_failed_checkpoints: int = 0

    def with_job_configuration(self, configuration: Mapping[str, str]) -> HealthSettings:
        """These settings with the checkpointing options of a job's Flink configuration (bad values fall
        back to Flink's defaults; the validator reports them)."""
        interval = None
        text = configuration.get(_INTERVAL_KEYS[0])
        if text:
            interval = _millis(text)
            if interval is not None and interval <= 0:
                interval = None
        timeout = _millis(configuration.get(_TIMEOUT_KEY, "")) or _DEFAULT_CHECKPOINT_TIMEOUT_MS
        tolerable_text = configuration.get(_TOLERABLE_KEY, "0").strip()
        tolerable = int(tolerable_text) if tolerable_text.isdigit() else 0
        return HealthSettings(
            restarts_threshold=self.restarts_threshold,
            restarts_window_ms=self.restarts_window_ms,
            checkpoint_progress_enabled=self.checkpoint_progress_enabled,
            checkpoint_window_ms=self.checkpoint_window_ms,
            checkpoint_interval_ms=interval,
            checkpoint_timeout_ms=timeout,
            tolerable_failed_checkpoints=tolerable,
        )


def _millis(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(parse_duration(text.strip()).total_seconds() * 1000)
    except ValueError:
        return None


@dataclass(frozen=True)
class HealthResult:
    healthy: bool
    error: str | None = None


@dataclass(frozen=True)
class HealthSample:
    """One reading of the job's counters."""

    time_ms: int
    restarts: int
    completed_checkpoints: int | None = None


@dataclass(frozen=True)
class ClusterHealthInfo:
    """Upstream's ClusterHealthInfo (see the module docstring for what the fields mean here)."""

    time_stamp: int
    num_restarts: int
    num_restarts_evaluation_time_stamp: int
    num_completed_checkpoints: int
    num_completed_checkpoints_increased_time_stamp: int
    health_result: HealthResult | None = None

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "timeStamp": self.time_stamp,
            "numRestarts": self.num_restarts,
            "numRestartsEvaluationTimeStamp": self.num_restarts_evaluation_time_stamp,
            "numCompletedCheckpoints": self.num_completed_checkpoints,
            "numCompletedCheckpointsIncreasedTimeStamp": self.num_completed_checkpoints_increased_time_stamp,
        }
        if self.health_result is not None:
            result: dict[str, Any] = {"healthy": self.health_result.healthy}
            if self.health_result.error:
                result["error"] = self.health_result.error
            body["healthResult"] = result
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ClusterHealthInfo | None:
        """The info in `text`; None when it is not a readable ClusterHealthInfo."""
        try:
            body = json.loads(text)
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        try:
            stamp = int(body["timeStamp"])
            result = body.get("healthResult")
            health = (
                HealthResult(bool(result.get("healthy", True)), result.get("error") or None)
                if isinstance(result, dict)
                else None
            )
            return cls(
                time_stamp=stamp,
                num_restarts=int(body.get("numRestarts", 0)),
                num_restarts_evaluation_time_stamp=int(body.get("numRestartsEvaluationTimeStamp", stamp)),
                num_completed_checkpoints=int(body.get("numCompletedCheckpoints", 0)),
                num_completed_checkpoints_increased_time_stamp=int(
                    body.get("numCompletedCheckpointsIncreasedTimeStamp", stamp)
                ),
                health_result=health,
            )
        except (KeyError, TypeError, ValueError):
            return None


def read_info(cluster_info: Mapping[str, str]) -> ClusterHealthInfo | None:
    text = cluster_info.get(CLUSTER_HEALTH_INFO_KEY)
    return ClusterHealthInfo.from_json(text) if text else None


def sample_from_metrics(metrics: Mapping[str, str], now_ms: int) -> HealthSample | None:
    """A sample from job metric values; None without a restart counter (nothing to judge)."""
    restarts = _count(metrics.get(RESTARTS_METRIC))
    if restarts is None:
        restarts = _count(metrics.get(FULL_RESTARTS_METRIC))
    if restarts is None:
        return None
    return HealthSample(now_ms, restarts, _count(metrics.get(CHECKPOINTS_METRIC)))


def _count(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def checkpoint_window_ms(settings: HealthSettings) -> int | None:
    """The checkpoint-progress window; None when checkpoint progress is not judged."""
    if not settings.checkpoint_progress_enabled or settings.checkpoint_interval_ms is None:
        return None
    minimum = max(settings.checkpoint_interval_ms, settings.checkpoint_timeout_ms) * (
        max(settings.tolerable_failed_checkpoints, 0) + 2
    )
    configured = settings.checkpoint_window_ms
    return configured if configured is not None and configured >= minimum else minimum


def evaluate(
    previous: ClusterHealthInfo | None, sample: HealthSample, settings: HealthSettings
) -> ClusterHealthInfo:
    """The info after `sample` (see the module docstring); its `health_result` is this sample's verdict."""
    now = sample.time_ms
    checkpoints = sample.completed_checkpoints if sample.completed_checkpoints is not None else 0
    if previous is None or now < previous.time_stamp:
        # First sample, or a clock that went backwards: start counting afresh.
        return ClusterHealthInfo(now, sample.restarts, now, checkpoints, now, HealthResult(True))
    errors: list[str] = []

    base_restarts = previous.num_restarts
    base_time = previous.num_restarts_evaluation_time_stamp
    window = max(settings.restarts_window_ms, 1)
    if sample.restarts < base_restarts:
        base_restarts, base_time = sample.restarts, now
    else:
        elapsed = now - base_time
        scale = 1.0 if elapsed <= window else window / elapsed
        in_window = int((sample.restarts - base_restarts) * scale)
        if in_window > settings.restarts_threshold:
            errors.append(MSG_RESTARTS.format(count=in_window))
        if elapsed > window:
            base_restarts, base_time = sample.restarts, now

    changed_at = previous.num_completed_checkpoints_increased_time_stamp
    if sample.completed_checkpoints is None:
        checkpoints = previous.num_completed_checkpoints
    elif checkpoints != previous.num_completed_checkpoints:
        changed_at = now
    progress_window = checkpoint_window_ms(settings)
    if (
        progress_window is not None
        and sample.completed_checkpoints is not None
        and now - changed_at > progress_window
    ):
        errors.append(MSG_CHECKPOINTS)

    result = HealthResult(False, "|".join(errors)) if errors else HealthResult(True)
    return ClusterHealthInfo(now, base_restarts, base_time, checkpoints, changed_at, result)
