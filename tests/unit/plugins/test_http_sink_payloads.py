"""HTTP sink without a network: payload shapes, idempotency keys, backoff, configuration errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from tests.support.plugin_resources import deployment, event, snapshot, with_status

from flink_operator.config.errors import ConfigError
from flink_operator.plugins import HttpSinkListener, KubernetesEvent
from flink_operator.plugins._http_sink import backoff_delay, event_payload, status_payload

pytestmark = pytest.mark.unit

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_status_payload_carries_identity_states_and_a_key() -> None:
    previous = with_status(deployment(), "DEPLOYED").status
    resource = with_status(deployment(), "STABLE")
    payload = status_payload(resource, previous, resource.status, NOW)
    key = payload.pop("idempotencyKey")
    assert len(key) == 32
    assert payload == {
        "notification": "StatusUpdate",
        "kind": "FlinkDeployment",
        "namespace": "flink",
        "name": "orders",
        "uid": "uid-orders",
        "generation": 2,
        "previousState": {"lifecycleState": "DEPLOYED", "jobState": "RUNNING"},
        "state": {"lifecycleState": "STABLE", "jobState": "RUNNING"},
        "reason": "StatusChanged",
        "type": "Normal",
        "message": "The resource deployment is considered to be stable and won't be rolled back",
        "timestamp": "2025-01-02T03:04:05+00:00",
    }


def test_failed_status_is_a_warning_with_the_error_as_message() -> None:
    resource = with_status(deployment(), "FAILED", error="job failed")
    payload = status_payload(resource, None, resource.status, NOW)
    assert (payload["type"], payload["message"], payload["previousState"]) == ("Warning", "job failed", None)
    assert payload["state"] == {"lifecycleState": "FAILED", "jobState": "FAILED"}


def test_snapshot_payloads_use_the_snapshot_state() -> None:
    shot = snapshot()
    payload = status_payload(shot, None, shot.status, NOW)
    assert (payload["state"], payload["message"]) == ({"snapshotState": "COMPLETED"}, "s3://bucket/sp-1")


def test_event_payload() -> None:
    resource = with_status(deployment(), "STABLE")
    view = KubernetesEvent.from_manifest(event(count=4))
    payload = event_payload(resource, view, NOW)
    assert payload["reason"] == "JobStatusChanged"
    assert payload["type"] == "Normal"
    assert payload["message"] == "Job status changed from CREATED to RUNNING"
    assert payload["state"] == {"lifecycleState": "STABLE", "jobState": "RUNNING"}
    assert payload["event"] == {
        "name": "Job.1234567",
        "component": "Job",
        "count": 4,
        "firstTimestamp": "2025-01-02T03:04:05+00:00",
        "lastTimestamp": "2025-01-02T03:04:06+00:00",
    }


def test_idempotency_keys_repeat_for_the_same_notification_and_differ_otherwise() -> None:
    resource = with_status(deployment(), "STABLE")
    previous = with_status(deployment(), "DEPLOYED").status
    key = status_payload(resource, previous, resource.status, NOW)["idempotencyKey"]
    later = datetime(2026, 1, 1, tzinfo=UTC)
    assert status_payload(resource, previous, resource.status, later)["idempotencyKey"] == key
    other_generation = resource.model_copy(deep=True)
    other_generation.metadata.generation = 3
    assert status_payload(other_generation, previous, resource.status, NOW)["idempotencyKey"] != key
    assert status_payload(resource, None, resource.status, NOW)["idempotencyKey"] != key

    first = event_payload(resource, KubernetesEvent.from_manifest(event(count=1)), NOW)["idempotencyKey"]
    again = event_payload(resource, KubernetesEvent.from_manifest(event(count=1)), later)["idempotencyKey"]
    second = event_payload(resource, KubernetesEvent.from_manifest(event(count=2)), NOW)["idempotencyKey"]
    assert first == again != second


def test_backoff_grows_exponentially_with_jitter_up_to_the_maximum() -> None:
    rng = random.Random(7)
    for attempt, cap in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (10, 30.0)]:
        delays = [backoff_delay(attempt, 0.5, 30.0, rng) for _ in range(50)]
        assert all(cap / 2 <= d <= cap for d in delays)
        assert len(set(delays)) > 1


def test_configuration_is_parsed_and_checked() -> None:
    sink = HttpSinkListener()
    sink.configure(
        {
            "class": "flink_operator.plugins:HttpSinkListener",
            "url": "https://user:pw@hooks.example.com/flink?token=abc",
            "timeout": "3 s",
            "max-retries": "2",
            "queue-size": "10",
            "headers": "Authorization:Bearer xyz,X-Team:data",
        }
    )
    assert sink._timeout == 3.0
    assert sink._max_retries == 2
    assert sink._queue.maxsize == 10
    assert sink._headers == {"Authorization": "Bearer xyz", "X-Team": "data"}
    with pytest.raises(ConfigError, match="url: the HTTP sink needs the URL"):
        HttpSinkListener().configure({})
    with pytest.raises(ConfigError, match="url: expected an http\\(s\\) URL with a host, got 'ftp://x/'"):
        HttpSinkListener().configure({"url": "ftp://x/"})
    with pytest.raises(ConfigError, match="max-retries: 'many' is not an integer"):
        HttpSinkListener().configure({"url": "http://127.0.0.1:1/", "max-retries": "many"})


def test_unknown_keys_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    HttpSinkListener().configure({"url": "http://127.0.0.1:1/", "max-retry": "3"})
    assert any("ignoring unknown keys ['max-retry']" in m for m in caplog.messages)
