"""Status writer, event recorder and finalizers against the emulator: resourceVersion locking, 409 races
between two writers, no-op writes, event aggregation, 403 handling, redaction, safe finalizer edits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from tests.support.runtime_kit import COUNTER, COUNTER_CRD, FINALIZER, api_for, counter

from flink_operator.runtime import (
    EVENT,
    EventTarget,
    EventType,
    Finalizers,
    KubeApi,
    ObjectKey,
    RecordedEvent,
    Recurrence,
    StatusConflict,
    StatusUpdate,
    StatusWriter,
)
from flink_operator.runtime.events import EventRecorder
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

JSON = dict[str, Any]


@pytest_asyncio.fixture
async def apis(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[tuple[KubeApi, KubeApi]]:
    await api_server.hooks.seed([COUNTER_CRD])
    first, second = api_for(api_kubeconfig, "writer-a"), api_for(api_kubeconfig, "writer-b")
    yield first, second
    await first.client.close()
    await second.client.close()


async def fresh(api: KubeApi, name: str = "c") -> JSON:
    return await api.get(COUNTER, name, "default")


def status_puts(api_server: EmbeddedApiServer, agent: str | None = None) -> int:
    return sum(
        1 for r in api_server.hooks.requests("PUT", r"/counters/[^/]+/status$")
        if agent is None or agent in r.user_agent
    )


# --- status writer -----------------------------------------------------------------------------------------


async def test_no_write_when_the_status_is_unchanged_and_one_locked_write_when_it_changes(
    api_server: EmbeddedApiServer, apis: tuple[KubeApi, KubeApi]
) -> None:
    api, _ = apis
    await api.create(COUNTER, counter("c"))
    updates: list[StatusUpdate] = []
    writer = StatusWriter(api, COUNTER, hooks=[updates.append])
    obj = writer.observe(await fresh(api))
    assert await writer.write(obj, {}) is None
    written = await writer.write(obj, {"count": 1})
    assert written is not None and written["status"] == {"count": 1}
    assert await writer.write(writer.observe(await fresh(api)), {"count": 1}) is None
    assert status_puts(api_server) == 1
    assert [(u.previous, u.current) for u in updates] == [({}, {"count": 1})]
    sent = api_server.hooks.requests("PUT", r"/status$")[0].json()
    assert sent["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


async def test_a_stale_read_is_overlaid_with_the_last_written_status(apis: tuple[KubeApi, KubeApi]) -> None:
    api, _ = apis
    await api.create(COUNTER, counter("c"))
    writer = StatusWriter(api, COUNTER)
    stale = await fresh(api)
    await writer.write(writer.observe(dict(stale)), {"phase": "UPGRADING", "jobId": "j2"})
    assert writer.observe(dict(stale))["status"] == {"phase": "UPGRADING", "jobId": "j2"}
    assert writer.last_written(ObjectKey("default", "c")) == {"phase": "UPGRADING", "jobId": "j2"}


async def test_409_caused_by_a_spec_change_is_retried_with_the_new_resource_version(
    api_server: EmbeddedApiServer, apis: tuple[KubeApi, KubeApi]
) -> None:
    api, other = apis
    await api.create(COUNTER, counter("c"))
    writer = StatusWriter(api, COUNTER)
    obj = writer.observe(await fresh(api))
    await other.patch(COUNTER, "c", "default", {"spec": {"size": 3}})  # moves resourceVersion, not status
    written = await writer.write(obj, {"count": 2})
    assert written is not None and written["status"] == {"count": 2} and written["spec"] == {"size": 3}
    assert [r.status for r in api_server.hooks.requests("PUT", r"/status$")] == [409, 200]


async def test_two_writers_racing_on_one_status_one_wins_and_the_other_gets_a_conflict(
    api_server: EmbeddedApiServer, apis: tuple[KubeApi, KubeApi]
) -> None:
    api_a, api_b = apis
    await api_a.create(COUNTER, counter("c"))
    writer_a, writer_b = StatusWriter(api_a, COUNTER), StatusWriter(api_b, COUNTER)
    for round_ in range(8):
        for writer in (writer_a, writer_b):
            writer.forget(ObjectKey("default", "c"))
        seen_a, seen_b = writer_a.observe(await fresh(api_a)), writer_b.observe(await fresh(api_b))
        outcomes = await asyncio.gather(
            writer_a.write(seen_a, {"round": round_, "by": "a"}),
            writer_b.write(seen_b, {"round": round_, "by": "b"}),
            return_exceptions=True,
        )
        winners = [o for o in outcomes if isinstance(o, dict)]
        conflicts = [o for o in outcomes if isinstance(o, StatusConflict)]
        assert len(winners) == 1 and len(conflicts) == 1, outcomes
        assert (await fresh(api_a))["status"] == winners[0]["status"]
        assert "modified externally" in str(conflicts[0])
    assert status_puts(api_server, "writer-a") + status_puts(api_server, "writer-b") == 16


async def test_a_conflict_persisting_beyond_the_retry_budget_raises(
    api_server: EmbeddedApiServer, apis: tuple[KubeApi, KubeApi]
) -> None:
    api, _ = apis
    await api.create(COUNTER, counter("c"))
    writer = StatusWriter(api, COUNTER, max_conflict_retries=2)
    obj = writer.observe(await fresh(api))
    api_server.hooks.faults.fail_next("PUT", r"/counters/c/status$", 409, times=5, reason="Conflict")
    with pytest.raises(StatusConflict):
        await writer.write(obj, {"count": 9})
    assert len(api_server.hooks.requests("PUT", r"/status$")) == 3


async def test_transient_failures_are_retried(
    api_server: EmbeddedApiServer, apis: tuple[KubeApi, KubeApi]
) -> None:
    api, _ = apis
    await api.create(COUNTER, counter("c"))
    writer = StatusWriter(api, COUNTER, transient_delay=0.01)
    obj = writer.observe(await fresh(api))
    api_server.hooks.faults.fail_next("PUT", r"/counters/c/status$", 503, times=2)
    assert await writer.write(obj, {"count": 4}) is not None
    assert (await fresh(api))["status"] == {"count": 4}


# --- events ------------------------------------------------------------------------------------------------


async def list_events(api: KubeApi) -> list[JSON]:
    return list((await api.request("GET", EVENT.collection_path("default")))["items"])


async def test_repeated_events_aggregate_under_one_deterministic_name(apis: tuple[KubeApi, KubeApi]) -> None:
    api, _ = apis
    target = await api.create(COUNTER, counter("c"))
    recorded: list[RecordedEvent] = []
    recorder = EventRecorder(api, hooks=[recorded.append], reporting_instance="op-1")
    first = await recorder.record(target, EventType.WARNING, "Missing", "Job Not Found", "Job")
    second = await recorder.record(target, EventType.WARNING, "Missing", "Job Not Found", "Job")
    other = await recorder.record(
        target, EventType.NORMAL, "Submit", "Starting deployment", "JobManagerDeployment"
    )
    assert first is not None and second is not None and other is not None
    assert first.name == second.name != other.name
    events = {e["metadata"]["name"]: e for e in await list_events(api)}
    assert set(events) == {first.name, other.name}
    repeated = events[first.name]
    assert repeated["count"] == 2 and repeated["reason"] == "Missing" and repeated["type"] == "Warning"
    assert repeated["source"] == {"component": "Job"} and repeated["reportingInstance"] == "op-1"
    assert repeated["involvedObject"]["uid"] == target["metadata"]["uid"]
    assert repeated["involvedObject"]["kind"] == "Counter"
    assert [(r.count, r.created) for r in recorded] == [(1, True), (2, False), (1, True)]

    # A fresh recorder (e.g. after a restart) continues the server's count.
    again = await EventRecorder(api).record(target, EventType.WARNING, "Missing", "Job Not Found", "Job")
    assert again is not None and again.count == 3


async def test_message_keys_once_and_dedupe_interval(apis: tuple[KubeApi, KubeApi]) -> None:
    api, _ = apis
    target = EventTarget.of(await api.create(COUNTER, counter("c")))
    recorder = EventRecorder(api)
    a = await recorder.record(target, "Normal", "SpecChanged", "spec changed: x", message_key="gen-2")
    b = await recorder.record(target, "Normal", "SpecChanged", "spec changed: y", message_key="gen-2",
                              recurrence=Recurrence.ONCE)
    assert a is not None and b is None
    labels = {"parallelismMap": "h1"}
    c = await recorder.record(target, "Normal", "ScalingReport", "scale", labels=labels,
                              dedupe_interval=timedelta(minutes=5))
    d = await recorder.record(target, "Normal", "ScalingReport", "scale", labels=labels,
                              dedupe_interval=timedelta(minutes=5))
    e = await recorder.record(target, "Normal", "ScalingReport", "scale", labels={"parallelismMap": "h2"},
                              dedupe_interval=timedelta(minutes=5))
    assert c is not None and d is None and e is not None and e.count == 2
    stored = {ev["reason"]: ev for ev in await list_events(api)}
    assert stored["SpecChanged"]["message"] == "spec changed: x" and stored["SpecChanged"]["count"] == 1
    assert stored["ScalingReport"]["metadata"]["labels"] == {"parallelismMap": "h2"}


async def test_forbidden_events_are_ignored_other_failures_raise_and_expired_events_are_recreated(
    api_server: EmbeddedApiServer, apis: tuple[KubeApi, KubeApi]
) -> None:
    api, _ = apis
    target = await api.create(COUNTER, counter("c"))
    recorder = EventRecorder(api)
    api_server.hooks.faults.fail_next("POST", r"/events$", 403)
    assert await recorder.record(target, "Warning", "Error", "boom") is None
    api_server.hooks.faults.fail_next("POST", r"/events$", 422)
    with pytest.raises(Exception, match=r"injected fault: 422"):
        await recorder.record(target, "Warning", "Error", "boom")
    first = await recorder.record(target, "Warning", "Error", "boom")
    assert first is not None
    await api.delete(EVENT, first.name, "default")
    again = await recorder.record(target, "Warning", "Error", "boom")
    assert again is not None and again.created and again.count == 1


async def test_event_messages_are_redacted(apis: tuple[KubeApi, KubeApi]) -> None:
    api, _ = apis
    target = await api.create(COUNTER, counter("c"))
    recorder = EventRecorder(api, redact=lambda text: text.replace("hunter2", "******"))
    await recorder.record(target, "Normal", "SpecChanged", "password hunter2 and key s3cr3t-value",
                          secret_values=["s3cr3t-value"])
    (event,) = await list_events(api)
    assert event["message"] == "password ****** and key ******"


# --- finalizers --------------------------------------------------------------------------------------------


async def test_finalizers_are_added_and_removed_without_losing_concurrent_edits(
    api_server: EmbeddedApiServer, apis: tuple[KubeApi, KubeApi]
) -> None:
    api, other = apis
    await api.create(COUNTER, counter("c"))
    finalizers = Finalizers(api, COUNTER, FINALIZER)
    stale = await fresh(api)
    await other.patch(COUNTER, "c", "default", {"metadata": {"finalizers": ["someone.else/keep"]}})
    added = await finalizers.add(stale)
    assert added["metadata"]["finalizers"] == ["someone.else/keep", FINALIZER]
    assert [r.status for r in api_server.hooks.requests("PATCH", r"/counters/c$")][-2:] == [409, 200]
    assert await finalizers.add(added) is added  # already there: no request

    await api.delete(COUNTER, "c", "default")
    deleting = await fresh(api)
    assert deleting["metadata"].get("deletionTimestamp")
    remaining = await finalizers.remove(deleting)
    assert remaining is not None and remaining["metadata"]["finalizers"] == ["someone.else/keep"]
    assert await _exists(api, "c")

    await api.create(COUNTER, counter("only-ours"))
    ours = await finalizers.add(await fresh(api, "only-ours"))
    await api.delete(COUNTER, "only-ours", "default")
    await finalizers.remove(await fresh(api, "only-ours"))
    assert not await _exists(api, "only-ours")  # the last finalizer gone: the server deletes it
    assert await finalizers.remove(ours) is None  # and removing again is harmless


async def _exists(api: KubeApi, name: str) -> bool:
    try:
        await fresh(api, name)
    except Exception:
        return False
    return True


def test_finalizer_names_must_be_qualified() -> None:
    with pytest.raises(ValueError, match="domain-qualified"):
        Finalizers(None, COUNTER, "cleanup")  # type: ignore[arg-type]
