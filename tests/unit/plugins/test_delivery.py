"""Listener delivery: never blocking the caller or other listeners, bounded queues, masked private copies,
metrics, and a graceful drain at shutdown."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from tests.support.conditions import until
from tests.support.plugin_classes import (
    AsyncRecordingListener,
    ClosableListener,
    GatedListener,
    HangingListener,
    RecordingListener,
)
from tests.support.plugin_resources import (
    SECRET_CONFIG_VALUE,
    SECRET_ENV_VALUE,
    deployment,
    event,
    session_job,
    snapshot,
    with_status,
)

from flink_operator.api import FlinkDeployment
from flink_operator.plugins import StatusUpdateContext
from flink_operator.plugins._host import PluginHost

pytestmark = pytest.mark.unit

C = "tests.support.plugin_classes"
L = "kubernetes.operator.plugins.listeners."
MakeHost = Callable[..., PluginHost]


def listener(host: PluginHost, name: str) -> Any:
    return next(p.instance for p in host.plugins.listeners if p.name == name)


def sample(registry: CollectorRegistry, metric: str, **labels: str) -> float:
    return registry.get_sample_value(metric, labels) or 0.0


async def test_raising_and_hanging_listeners_delay_neither_the_caller_nor_other_listeners(
    make_host: MakeHost,
) -> None:
    registry = CollectorRegistry()
    host = make_host(
        {
            "kubernetes.operator.plugins.listener-call-timeout": "2 s",
            "kubernetes.operator.plugins.shutdown-timeout": "200 ms",
            L + "hangs.class": f"{C}:HangingListener",
            L + "raises.class": f"{C}:RaisingListener",
            L + "fast.class": f"{C}:AsyncRecordingListener",
            L + "fast-sync.class": f"{C}:RecordingListener",
        },
        registry=registry,
    )
    hangs: HangingListener = listener(host, "hangs")
    fast: AsyncRecordingListener = listener(host, "fast")
    fast_sync: RecordingListener = listener(host, "fast-sync")
    resource = with_status(deployment(), "STABLE")
    previous = with_status(deployment(), "DEPLOYED").status

    notifications = 50
    started = time.perf_counter()
    for i in range(notifications):
        host.listeners.notify_status_update(resource, previous)
        host.listeners.notify_event(resource, event(message=f"event {i}", count=i + 1))
    caller_seconds = time.perf_counter() - started

    await until(
        lambda: len(fast.heard) == 2 * notifications, within=10, what="fast listener heard everything"
    )
    fast_seconds = time.perf_counter() - started
    await until(
        lambda: len(fast_sync.heard) == 2 * notifications, within=10, what="sync listener heard everything"
    )
    sync_seconds = time.perf_counter() - started
    assert hangs.started.is_set()
    print(
        f"\n{2 * notifications} notifications with a 30 s-hanging and a raising listener: caller "
        f"{caller_seconds * 1000:.1f} ms in total "
        f"({caller_seconds / (2 * notifications) * 1e6:.0f} µs each); "
        f"other async listener done after {fast_seconds * 1000:.1f} ms, other sync listener after "
        f"{sync_seconds * 1000:.1f} ms"
    )
    assert caller_seconds < 1.0
    assert fast_seconds < 1.0
    assert sync_seconds < 1.0
    assert [
        message
        for method, message in ((m, c.event.message) for m, c in fast.heard if m == "on_deployment_event")
    ] == [f"event {i}" for i in range(notifications)]
    # The raising listener was called for every notification, each failure counted.
    await until(
        lambda: listener(host, "raises").calls == 2 * notifications, within=10, what="raising listener called"
    )
    assert (
        sample(registry, "flink_operator_listener_deliveries_total", listener="raises", outcome="error")
        == 100
    )
    assert sample(registry, "flink_operator_listener_deliveries_total", listener="fast", outcome="ok") == 100
    # The hanging listener times out after 2 s and its worker moves on to the next notification.
    await until(
        lambda: (
            sample(registry, "flink_operator_listener_deliveries_total", listener="hangs", outcome="timeout")
            >= 1
        ),
        within=10,
        what="hanging listener timed out",
    )
    closing = time.perf_counter()
    await host.aclose()
    close_seconds = time.perf_counter() - closing
    print(f"shutdown with a hanging listener took {close_seconds * 1000:.0f} ms (grace period 200 ms)")
    assert close_seconds < 2.0
    assert sample(registry, "flink_operator_listener_dropped_total", listener="hangs", reason="shutdown") > 0


async def test_listener_failures_are_logged_with_the_listener_name(
    make_host: MakeHost, caplog: pytest.LogCaptureFixture
) -> None:
    host = make_host({L + "raises.class": f"{C}:RaisingListener"})
    for _ in range(3):
        host.listeners.notify_status_update(deployment(), None)
    await until(lambda: listener(host, "raises").calls == 3, what="raising listener called")
    await host.aclose()
    failures = [r for r in caplog.records if "failed on" in r.getMessage()]
    assert [r.getMessage() for r in failures] == 3 * [
        "Listener 'raises' failed on on_deployment_status_update for FlinkDeployment flink/orders: "
        "RuntimeError: listener exploded"
    ]
    # The traceback once, not for every failure.
    assert [r.exc_info is not None for r in failures] == [True, False, False]


async def test_a_full_queue_drops_the_oldest_and_counts_it(
    make_host: MakeHost, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    host = make_host(
        {"kubernetes.operator.plugins.listener-queue-size": "3", L + "gated.class": f"{C}:GatedListener"},
        registry=registry,
    )
    gated: GatedListener = listener(host, "gated")
    for i in range(10):
        host.listeners.notify_event(deployment(), event(message=f"m{i}"))
    assert host.listeners.pending() == {"audit-log": 3, "gated": 3}
    gated.gate.set()
    await until(lambda: len(gated.heard) == 3, what="gated listener heard the newest three")
    assert gated.heard == ["m7", "m8", "m9"]
    assert sample(registry, "flink_operator_listener_dropped_total", listener="gated", reason="overflow") == 7
    assert any(
        "Listener 'gated' is falling behind: dropped 1 oldest notification(s)" in m for m in caplog.messages
    )
    await host.aclose()


async def test_third_party_listeners_get_masked_private_copies(make_host: MakeHost) -> None:
    host = make_host(
        {L + "scribbler.class": f"{C}:MutatingListener", L + "recorder.class": f"{C}:RecordingListener"}
    )
    resource = with_status(deployment(secrets=True), "STABLE", error=f"cannot use {SECRET_ENV_VALUE}")
    host.listeners.notify_status_update(resource, None)
    host.listeners.notify_event(
        resource, event(reason="SpecChanged", message=f"s3.secret-key: x -> {SECRET_CONFIG_VALUE}")
    )
    recorder: RecordingListener = listener(host, "recorder")
    await until(
        lambda: len(recorder.heard) == 2 and listener(host, "scribbler").heard, what="both listeners called"
    )
    await host.aclose()
    status_ctx: StatusUpdateContext[Any, Any] = recorder.heard[0][1]
    assert status_ctx.resource.metadata.name == "orders"  # the scribbler changed only its own copy
    assert status_ctx.new_status is status_ctx.resource.status
    assert status_ctx.previous_status is None
    seen = json_text(status_ctx.resource) + recorder.heard[1][1].event.message
    assert SECRET_CONFIG_VALUE not in seen and SECRET_ENV_VALUE not in seen
    assert recorder.heard[1][1].event.message == "s3.secret-key: x -> ******"
    assert resource.metadata.name == "orders"
    assert resource.spec.flink_configuration["s3.secret-key"] == SECRET_CONFIG_VALUE  # type: ignore[index]


def json_text(model: Any) -> str:
    import json

    return json.dumps(model.to_dict())


async def test_each_kind_reaches_its_own_method(make_host: MakeHost) -> None:
    host = make_host({L + "recorder.class": f"{C}:RecordingListener"})
    recorder: RecordingListener = listener(host, "recorder")
    shot = snapshot()
    host.listeners.notify_status_update(session_job(), None)
    host.listeners.notify_event(session_job(), event())
    host.listeners.notify_status_update(shot, shot.status.model_copy(update={"path": None}))
    host.listeners.notify_event(shot, event(component="Snapshot"))
    await until(lambda: len(recorder.heard) == 4, what="four notifications")
    await host.aclose()
    assert [method for method, _ in recorder.heard] == [
        "on_session_job_status_update",
        "on_session_job_event",
        "on_state_snapshot_status_update",
        "on_state_snapshot_event",
    ]
    with pytest.raises(TypeError, match="Flink resources only"):
        host.listeners.notify_event(object(), event())  # type: ignore[arg-type]


async def test_shutdown_drains_queues_then_closes_plugins_and_refuses_later_notifications(
    make_host: MakeHost,
) -> None:
    registry = CollectorRegistry()
    host = make_host({L + "closable.class": f"{C}:ClosableListener"}, registry=registry)
    closable: ClosableListener = listener(host, "closable")
    for i in range(20):
        host.listeners.notify_event(deployment(), event(message=f"m{i}"))
    await host.aclose()
    assert len(closable.heard) == 20
    assert closable.closed
    host.listeners.notify_event(deployment(), event())
    assert (
        sample(registry, "flink_operator_listener_dropped_total", listener="closable", reason="closed") == 1
    )


async def test_only_listeners_implementing_a_method_are_queued(make_host: MakeHost) -> None:
    host = make_host(
        {
            "kubernetes.operator.plugins.audit-log.enabled": "false",
            L + "events.class": f"{C}:AsyncRecordingListener",
        }
    )
    host.listeners.notify_status_update(session_job(), None)
    assert host.listeners.pending() == {"events": 0}
    assert host.listeners.listener_names == ("events",)
    await host.aclose()


async def test_audit_log_runs_as_a_listener(make_host: MakeHost, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "flink_operator.audit")
    host = make_host()
    host.listeners.notify_status_update(with_status(deployment(secrets=True), "STABLE"), None)
    host.listeners.notify_event(deployment(secrets=True), event(message=f"diff: {SECRET_CONFIG_VALUE} -> x"))
    await host.aclose()
    lines = [r.getMessage() for r in caplog.records if r.name == "flink_operator.audit"]
    assert [line.split(" | ")[2].strip() for line in lines] == ["STABLE", "JOBSTATUSCHANGED"]
    assert not any(SECRET_CONFIG_VALUE in line for line in lines)


class UnreadableDeployment(FlinkDeployment):
    def to_dict(self) -> dict[str, Any]:
        raise ValueError("cannot serialise")


async def test_a_resource_that_cannot_be_masked_is_not_delivered_and_the_caller_is_unharmed(
    make_host: MakeHost, caplog: pytest.LogCaptureFixture
) -> None:
    registry = CollectorRegistry()
    host = make_host({L + "recorder.class": f"{C}:RecordingListener"}, registry=registry)
    broken = UnreadableDeployment.model_validate(deployment().model_dump())
    host.listeners.notify_status_update(broken, None)
    host.listeners.notify_event(broken, event())
    await host.aclose()
    assert listener(host, "recorder").heard == []
    assert (
        sample(registry, "flink_operator_listener_dropped_total", listener="recorder", reason="unmaskable")
        == 2
    )
    assert any("Cannot mask FlinkDeployment flink/orders" in m for m in caplog.messages)


def test_notifying_outside_the_event_loop_is_a_clear_error(make_host: MakeHost) -> None:
    host = make_host()
    with pytest.raises(RuntimeError, match="from the operator's event loop"):
        host.listeners.notify_event(deployment(), event())


async def test_events_may_be_given_as_lightkube_models(make_host: MakeHost) -> None:
    from lightkube.models.core_v1 import EventSource
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import Event

    host = make_host({L + "recorder.class": f"{C}:AsyncRecordingListener"})
    written = Event(
        metadata=ObjectMeta(name="Job.42", namespace="flink"),
        involvedObject=None,  # type: ignore[arg-type]
        reason="Submit",
        message="Starting deployment",
        type="Normal",
        source=EventSource(component="JobManagerDeployment"),
        count=2,
    )
    host.listeners.notify_event(deployment(), written)
    await host.aclose()
    ((method, ctx),) = listener(host, "recorder").heard
    assert method == "on_deployment_event"
    assert (ctx.event.name, ctx.event.reason, ctx.event.component, ctx.event.count) == (
        "Job.42",
        "Submit",
        "JobManagerDeployment",
        2,
    )
