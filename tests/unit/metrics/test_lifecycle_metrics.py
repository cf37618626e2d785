"""Lifecycle histograms fed by status updates (the runtime's status hook), with a controlled clock."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from flink_operator.metrics.lifecycle_metrics import LifecycleMetrics, creation_time
from flink_operator.runtime.kinds import Kind, ObjectKey
from flink_operator.runtime.status import StatusUpdate

pytestmark = pytest.mark.unit

DEPLOYMENT = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
SNAPSHOT = Kind("flink.apache.org", "v1beta1", "FlinkStateSnapshot", "flinkstatesnapshots")
KEY = ObjectKey("team-a", "demo")
CREATED_AT = "2024-05-01T10:00:00Z"
T0 = creation_time({"metadata": {"creationTimestamp": CREATED_AT}}) or 0.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def status(state: str | None) -> dict[str, Any]:
    return {} if state is None else {"lifecycleState": state}


def document() -> dict[str, Any]:
    return {"metadata": {"name": KEY.name, "namespace": KEY.namespace, "creationTimestamp": CREATED_AT}}


def drive(
    metrics: LifecycleMetrics, clock: Clock, steps: list[tuple[float, str]], kind: Kind = DEPLOYMENT
) -> None:
    previous: str | None = None
    for at, state in steps:
        clock.now = T0 + at
        metrics.on_status(StatusUpdate(kind, KEY, status(previous), status(state), document()))
        previous = state


def test_creation_time() -> None:
    assert creation_time({"metadata": {"creationTimestamp": "1970-01-01T00:01:00Z"}}) == 60.0
    assert creation_time({"metadata": {"creationTimestamp": "yesterday"}}) is None
    assert creation_time({}) is None


def test_first_deployment_records_submission_stabilization_and_times_in_state() -> None:
    registry, clock = CollectorRegistry(), Clock()
    metrics = LifecycleMetrics(registry, clock=clock)
    drive(metrics, clock, [(2.0, "UPGRADING"), (5.0, "DEPLOYED"), (12.0, "STABLE")])

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"kind": "FlinkDeployment", "namespace": "team-a", **labels})

    transition = "flink_operator_lifecycle_transition_seconds"
    assert value(transition + "_count", transition="Submission") == 1
    assert value(transition + "_sum", transition="Submission") == 3.0
    assert value(transition + "_sum", transition="Stabilization") == 7.0
    assert value(transition + "_count", transition="Upgrade") is None
    in_state = "flink_operator_lifecycle_state_seconds"
    # CREATED counts from the creation timestamp: the first write came 2 s after it.
    assert value(in_state + "_sum", state="CREATED") == 2.0
    assert value(in_state + "_sum", state="DEPLOYED") == 7.0
    assert value(in_state + "_bucket", state="DEPLOYED", le="10.0") == 1
    assert value(in_state + "_bucket", state="DEPLOYED", le="5.0") == 0
    assert metrics.track("FlinkDeployment", KEY) is not None


def test_a_resource_first_seen_mid_life_reports_only_what_it_saw() -> None:
    registry, clock = CollectorRegistry(), Clock()
    metrics = LifecycleMetrics(registry, clock=clock)
    # The operator restarted: the first write it makes moves a STABLE job into an upgrade.
    clock.now = T0 + 100
    metrics.on_status(StatusUpdate(DEPLOYMENT, KEY, status("STABLE"), status("UPGRADING"), document()))
    drive(metrics, clock, [(104.0, "DEPLOYED"), (110.0, "STABLE")])
    labels = {"kind": "FlinkDeployment", "namespace": "team-a"}
    in_state = "flink_operator_lifecycle_state_seconds_count"
    assert registry.get_sample_value(in_state, {**labels, "state": "STABLE"}) is None
    upgrade = {**labels, "transition": "Upgrade"}
    assert registry.get_sample_value("flink_operator_lifecycle_transition_seconds_sum", upgrade) == 10.0


def test_labels_without_namespace_and_with_resource_names() -> None:
    registry, clock = CollectorRegistry(), Clock()
    drive(LifecycleMetrics(registry, namespace_label=False, clock=clock), clock, [(1.0, "UPGRADING")])
    name = "flink_operator_lifecycle_state_seconds_count"
    assert registry.get_sample_value(name, {"kind": "FlinkDeployment", "state": "CREATED"}) == 1

    registry, clock = CollectorRegistry(), Clock()
    drive(LifecycleMetrics(registry, namespace_label=False, name_label=True, clock=clock), clock,
          [(1.0, "UPGRADING")])
    labels = {"kind": "FlinkDeployment", "namespace": "team-a", "name": "demo", "state": "CREATED"}
    assert registry.get_sample_value(name, labels) == 1


def test_other_kinds_and_unreadable_states_are_ignored_and_forget_drops_the_track() -> None:
    registry, clock = CollectorRegistry(), Clock()
    metrics = LifecycleMetrics(registry, clock=clock)
    drive(metrics, clock, [(1.0, "COMPLETED")], kind=SNAPSHOT)
    assert len(metrics) == 0
    drive(metrics, clock, [(1.0, "UPGRADING"), (2.0, "SOMETHING")])
    track = metrics.track("FlinkDeployment", KEY)
    assert track is not None and track.state.value == "UPGRADING"
    metrics.forget("FlinkDeployment", KEY)
    assert len(metrics) == 0
