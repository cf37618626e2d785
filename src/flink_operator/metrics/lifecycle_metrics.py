"""Lifecycle histograms fed from status writes (upstream's `MetricManager.onUpdate` from the StatusRecorder).

`LifecycleMetrics.on_status(update)` is a status hook (`runtime.StatusUpdate`): for a FlinkDeployment or
FlinkSessionJob whose `status.lifecycleState` changed it advances the resource's `LifecycleTrack` (see
`lifecycle`) and observes

* `flink_operator_lifecycle_state_seconds{kind[,namespace[,name]],state}`: time spent in a state, observed
  when the state is left;
* `flink_operator_lifecycle_transition_seconds{kind[,namespace[,name]],transition}`: Resume, Upgrade,
  Suspend, Stabilization, Rollback, Submission.

`namespace` is a label when per-namespace histograms are enabled (upstream's default) or resource labels are;
`name` only with resource labels. The first write seen for a resource starts its track from the status the
server held before that write (`update.previous`); a CREATED resource's entry time is its
`metadata.creationTimestamp`, any other first state has an unknown entry time. `forget(kind, key)` drops a
deleted resource's track. Other kinds are ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from flink_operator.metrics.lifecycle import (
    LifecycleTrack,
    Observations,
    State,
    advance,
    initial_track,
    parse_state,
)
from flink_operator.metrics.resources import LIFECYCLE_KINDS
from flink_operator.runtime.kinds import ObjectKey
from flink_operator.runtime.status import StatusUpdate

LIFECYCLE_BUCKETS = (
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 3.0 * 3600, 12.0 * 3600, 86400.0,
    7 * 86400.0, float("inf"),
)
"""From a quick submission to a job stable for a week."""


def creation_time(document: Mapping[str, Any]) -> float | None:
    """`metadata.creationTimestamp` as epoch seconds, None when absent or unreadable."""
    metadata = document.get("metadata")
    stamp = metadata.get("creationTimestamp") if isinstance(metadata, Mapping) else None
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _state_of(status: Mapping[str, Any] | None) -> State | None:
    if not status:
        return State.CREATED  # not handled yet (contract §2.1)
    value = status.get("lifecycleState")
    return State.CREATED if value is None else parse_state(value)


class LifecycleMetrics:
    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        namespace_label: bool = True,
        name_label: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._namespace_label = namespace_label or name_label
        self._name_label = name_label
        self._clock = clock
        labels: tuple[str, ...] = ("kind",)
        if self._namespace_label:
            labels += ("namespace",)
        if self._name_label:
            labels += ("name",)
        self.state_seconds = Histogram(
            "flink_operator_lifecycle_state_seconds",
            "Time a resource spent in a lifecycle state, observed when it leaves the state.",
            (*labels, "state"),
            buckets=LIFECYCLE_BUCKETS,
            registry=registry,
        )
        self.transition_seconds = Histogram(
            "flink_operator_lifecycle_transition_seconds",
            "Duration of completed lifecycle transitions (Resume, Upgrade, Suspend, Stabilization, Rollback, "
            "Submission).",
            (*labels, "transition"),
            buckets=LIFECYCLE_BUCKETS,
            registry=registry,
        )
        self._tracks: dict[tuple[str, ObjectKey], LifecycleTrack] = {}

    def __len__(self) -> int:
        return len(self._tracks)

    def track(self, kind: str, key: ObjectKey) -> LifecycleTrack | None:
        return self._tracks.get((kind, key))

    def on_status(self, update: StatusUpdate) -> None:
        kind = update.kind.kind
        if kind not in LIFECYCLE_KINDS:
            return
        self.observe(kind, update.key, update.previous, update.current, update.obj)

    def observe(
        self,
        kind: str,
        key: ObjectKey,
        previous: Mapping[str, Any] | None,
        current: Mapping[str, Any],
        document: Mapping[str, Any],
    ) -> Observations:
        """Advance the resource's track to the lifecycle state of `current` and record what completed."""
        new_state = _state_of(current)
        if new_state is None:
            return Observations()
        now = self._clock()
        track = self._tracks.get((kind, key))
        if track is None:
            first = _state_of(previous) or new_state
            entered = creation_time(document) if first is State.CREATED else None
            track = initial_track(first, entered)
        track, observations = advance(track, new_state, now)
        self._tracks[(kind, key)] = track
        self._record(kind, key, observations)
        return observations

    def forget(self, kind: str, key: ObjectKey) -> None:
        self._tracks.pop((kind, key), None)

    def _labels(self, kind: str, key: ObjectKey) -> tuple[str, ...]:
        labels: tuple[str, ...] = (kind,)
        if self._namespace_label:
            labels += (key.namespace,)
        if self._name_label:
            labels += (key.name,)
        return labels

    def _record(self, kind: str, key: ObjectKey, observations: Observations) -> None:
        if observations.empty:
            return
        labels = self._labels(kind, key)
        if observations.time_in_state is not None:
            state, seconds = observations.time_in_state
            self.state_seconds.labels(*labels, state.value).observe(seconds)
        for name, seconds in observations.transitions:
            self.transition_seconds.labels(*labels, name).observe(seconds)
