"""Progress lines: what a person watching `local up` reads for each change of a Flink resource."""

from __future__ import annotations

from typing import Any

import pytest

from flink_operator.local_mode.progress import ProgressTracker, Transition, transitions, view_of

pytestmark = pytest.mark.unit


def deployment(
    generation: int = 1,
    *,
    lifecycle: str | None = None,
    job: str | None = None,
    jobmanager: str | None = None,
    rest_url: str | None = None,
    error: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    status: dict[str, Any] = {"jobStatus": {"state": job} if job else {}}
    if lifecycle:
        status["lifecycleState"] = lifecycle
    if jobmanager:
        status["jobManagerDeploymentStatus"] = jobmanager
    if rest_url:
        status["clusterInfo"] = {"rest-url": rest_url, "flink-version": "2.3.0"}
    if error:
        status["error"] = error
    metadata: dict[str, Any] = {"name": "demo", "namespace": "default", "generation": generation}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"kind": "FlinkDeployment", "metadata": metadata, "status": status}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_changed_state_is_one_transition_in_reading_order() -> None:
    before = view_of(deployment(lifecycle="DEPLOYED", job="RECONCILING", jobmanager="DEPLOYING"))
    after = view_of(
        deployment(lifecycle="STABLE", job="RUNNING", jobmanager="READY", rest_url="http://127.0.0.1:8081")
    )
    assert transitions(before, after) == [
        Transition("lifecycle", "DEPLOYED", "STABLE"),
        Transition("JobManager", "DEPLOYING", "READY"),
        Transition("job", "RECONCILING", "RUNNING"),
        Transition("web ui", after="http://127.0.0.1:8081"),
    ]
    assert transitions(after, after) == []


def test_first_sight_a_spec_change_an_error_and_deletion() -> None:
    first = view_of(deployment())
    assert transitions(None, first) == [Transition("seen", after="generation 1")]
    changed = view_of(deployment(2, error="spec.job.parallelism must be > 0"))
    assert transitions(first, changed) == [
        Transition("spec changed", "generation 1", "generation 2"),
        Transition("error", after="spec.job.parallelism must be > 0"),
    ]
    # The API server bumps the generation when it marks an object for deletion: no spec change.
    deleting = view_of(deployment(3, lifecycle="DELETING", deleting=True))
    assert transitions(changed, deleting) == [
        Transition("deleting"),
        Transition("lifecycle", None, "DELETING"),
    ]


def test_a_new_rest_url_of_a_ready_cluster_is_announced_again() -> None:
    ready = view_of(deployment(jobmanager="READY", rest_url="http://127.0.0.1:1"))
    moved = view_of(deployment(jobmanager="READY", rest_url="http://127.0.0.1:2"))
    assert transitions(ready, moved) == [Transition("web ui", after="http://127.0.0.1:2")]


def test_elapsed_time_counts_from_the_latest_spec_change() -> None:
    clock = Clock()
    tracker = ProgressTracker(clock)
    [seen] = tracker.resource(deployment())
    assert (seen.elapsed, seen.subject) == (0.0, "flinkdeployment/demo")
    clock.now += 4.5
    [stable] = tracker.resource(deployment(lifecycle="STABLE"))
    assert stable.elapsed == 4.5 and stable.severity == "good"
    assert stable.plain() == "+   4.5s  flinkdeployment/demo  lifecycle STABLE"
    clock.now += 10
    changed, upgrading = tracker.resource(deployment(2, lifecycle="UPGRADING"))
    assert changed.elapsed == 0.0 and upgrading.transition == Transition("lifecycle", "STABLE", "UPGRADING")
    clock.now += 2
    [gone] = tracker.deleted(deployment(2))
    assert (gone.elapsed, gone.transition.what) == (2.0, "deleted")
    assert tracker.view("FlinkDeployment", "default", "demo") is None


def test_warning_events_about_flink_resources_are_shown_once_per_message() -> None:
    clock = Clock()
    tracker = ProgressTracker(clock)
    tracker.resource(deployment())
    event = {
        "metadata": {"uid": "e1", "namespace": "default"},
        "type": "Warning",
        "reason": "ValidationError",
        "message": "spec.job.parallelism must be > 0",
        "involvedObject": {"kind": "FlinkDeployment", "namespace": "default", "name": "demo"},
    }
    [line] = tracker.event(event)
    assert line.severity == "bad"
    assert line.plain().endswith(
        "flinkdeployment/demo  warning ValidationError: spec.job.parallelism must be > 0"
    )
    assert tracker.event({**event, "count": 2}) == [], "an aggregated repeat is not shown again"
    assert tracker.event({**event, "type": "Normal", "metadata": {"uid": "e2"}}) == []
    other = {**event, "involvedObject": {"kind": "Pod", "name": "x"}, "metadata": {"uid": "e3"}}
    assert tracker.event(other) == []
    listed = {**event, "metadata": {"uid": "e4"}, "message": "from before"}
    assert tracker.event(listed, old=True) == [], "events listed at start are history"
    assert tracker.event(listed) == []


def test_non_default_namespaces_are_named() -> None:
    document = deployment()
    document["metadata"]["namespace"] = "team-a"
    assert view_of(document).label == "flinkdeployment/demo (team-a)"


def test_upstream_style_json_errors_read_as_type_and_message() -> None:
    from flink_operator.local_mode.progress import readable_error

    stored = (
        '{"type":"org.apache.flink.kubernetes.operator.exception.FlinkServiceException",'
        '"message":"jarURI does not exist","additionalMetadata":{},"throwableList":[]}'
    )
    assert readable_error(stored) == "FlinkServiceException: jarURI does not exist"
    assert readable_error("plain text") == "plain text"
    assert readable_error("{not json") == "{not json"
    assert readable_error('{"type": "x.Y"}') == '{"type": "x.Y"}'
    assert readable_error(None) is None
    assert view_of(deployment(error=stored)).error == "FlinkServiceException: jarURI does not exist"
