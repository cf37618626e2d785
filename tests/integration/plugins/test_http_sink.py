"""The HTTP sink listener against a real aiohttp server on 127.0.0.1: retries with backoff, no retry on 4xx,
idempotency keys, a caller that never waits, and payloads without secrets."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry
from tests.support.conditions import until
from tests.support.plugin_resources import (
    OLD_SECRET_CONFIG_VALUE,
    SECRET_CONFIG_VALUE,
    SECRET_ENV_VALUE,
    deployment,
    event,
    with_status,
)

from flink_operator.plugins._host import PluginHost

pytestmark = pytest.mark.integration

L = "kubernetes.operator.plugins.listeners.hook."


@dataclass
class Receiver:
    """An HTTP endpoint that answers `fail_status` to the first `failures` requests, then 200."""

    failures: int = 0
    fail_status: int = 503
    gate: asyncio.Event | None = None
    requests: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.gate is not None:
            await self.gate.wait()
        body = await request.json()
        failing = len(self.requests) < self.failures
        status = self.fail_status if failing else 200
        self.requests.append((status, dict(request.headers), body))
        return web.Response(status=status, text="no" if failing else "ok")

    @property
    def delivered(self) -> list[dict[str, Any]]:
        return [body for status, _, body in self.requests if status == 200]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/hook"
    yield receiver
    if receiver.gate is not None:
        receiver.gate.set()
    await runner.cleanup()


def sink_host(tmp_path: Path, url: str, registry: CollectorRegistry, **keys: str) -> PluginHost:
    config = {
        L + "class": "flink_operator.plugins:HttpSinkListener",
        L + "url": url,
        L + "initial-backoff": "20 ms",
        L + "max-backoff": "100 ms",
        L + "headers": "X-Team:data",
        **{L + key.replace("_", "-"): value for key, value in keys.items()},
    }
    return PluginHost.load(
        config, registry=registry, environ={"FLINK_PLUGINS_DIR": str(tmp_path / "none")}, entry_points=[]
    )


def requests_total(registry: CollectorRegistry, outcome: str) -> float:
    return (
        registry.get_sample_value(
            "flink_operator_http_sink_requests_total", {"listener": "hook", "outcome": outcome}
        )
        or 0.0
    )


async def test_failed_requests_are_retried_until_delivered_with_the_same_key(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.failures = 3
    registry = CollectorRegistry()
    host = sink_host(tmp_path, receiver.url, registry)
    resource = with_status(deployment(), "STABLE")
    host.listeners.notify_status_update(resource, with_status(deployment(), "DEPLOYED").status)
    host.listeners.notify_event(resource, event())
    await until(lambda: len(receiver.delivered) == 2, within=10, what="both notifications delivered")
    await host.aclose()

    assert [status for status, _, _ in receiver.requests] == [503, 503, 503, 200, 200]
    keys = [body["idempotencyKey"] for _, _, body in receiver.requests]
    assert len(set(keys[:4])) == 1, "retries of one notification carry one key"
    assert keys[4] != keys[0]
    headers = receiver.requests[0][1]
    assert headers["Idempotency-Key"] == keys[0]
    assert headers["X-Team"] == "data"
    assert headers["Content-Type"] == "application/json"
    status_body, event_body = receiver.delivered
    assert status_body["notification"] == "StatusUpdate"
    assert status_body["previousState"] == {"lifecycleState": "DEPLOYED", "jobState": "RUNNING"}
    assert status_body["state"] == {"lifecycleState": "STABLE", "jobState": "RUNNING"}
    assert event_body["reason"] == "JobStatusChanged"
    assert (requests_total(registry, "retried"), requests_total(registry, "delivered")) == (3, 2)


async def test_client_errors_are_not_retried(
    receiver: Receiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.failures, receiver.fail_status = 1, 400
    registry = CollectorRegistry()
    host = sink_host(tmp_path, receiver.url, registry)
    host.listeners.notify_event(deployment(), event(message="first"))
    host.listeners.notify_event(deployment(), event(message="second", count=2))
    await until(lambda: len(receiver.requests) == 2, within=10, what="two requests")
    await host.aclose()
    assert [(status, body["message"]) for status, _, body in receiver.requests] == [
        (400, "first"),
        (200, "second"),
    ]
    assert requests_total(registry, "failed") == 1
    assert any("HTTP 400 (not retried)" in m for m in caplog.messages)


async def test_connection_errors_are_retried_then_given_up_without_leaking_the_url_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    registry = CollectorRegistry()
    url = f"http://127.0.0.1:{port}/hook?token=url-secret"
    host = sink_host(tmp_path, url, registry, max_retries="2")
    caplog.set_level(logging.INFO, "flink_operator.plugins.http_sink")
    host.listeners.notify_event(deployment(), event())
    await until(lambda: requests_total(registry, "failed") == 1, within=10, what="delivery given up")
    await host.aclose()
    assert requests_total(registry, "retried") == 2
    given_up = next(m for m in caplog.messages if "could not deliver" in m)
    assert f"http://127.0.0.1:{port}/hook" in given_up and "after 3 attempt(s)" in given_up
    assert not any("url-secret" in m for m in caplog.messages)


async def test_a_stalled_receiver_never_blocks_the_caller(receiver: Receiver, tmp_path: Path) -> None:
    receiver.gate = asyncio.Event()
    registry = CollectorRegistry()
    host = sink_host(tmp_path, receiver.url, registry, queue_size="5", timeout="30 s")
    started = time.perf_counter()
    for i in range(200):
        host.listeners.notify_event(deployment(), event(message=f"m{i}", count=i + 1))
    caller = time.perf_counter() - started
    print(f"\n200 notifications to a stalled HTTP receiver: caller {caller * 1000:.1f} ms in total")
    assert caller < 1.0
    await until(lambda: requests_total(registry, "dropped") > 0, within=10, what="sink queue overflowed")
    receiver.gate.set()
    await until(lambda: len(receiver.delivered) >= 5, within=10, what="queued notifications delivered")
    await host.aclose()
    messages = [body["message"] for body in receiver.delivered]
    assert messages[-1] == "m199", "the newest notifications survive an overflow"


async def test_no_secret_reaches_the_receiver(receiver: Receiver, tmp_path: Path) -> None:
    host = sink_host(tmp_path, receiver.url, CollectorRegistry())
    # As during a spec change: the stored last reconciled spec still holds the old secret value.
    resource = with_status(
        deployment(secrets=True), "FAILED", error=f"auth with {SECRET_ENV_VALUE} failed", secrets=True
    )
    previous = with_status(deployment(secrets=True), "STABLE", secrets=True).status
    host.listeners.notify_status_update(resource, previous)
    spec_change = f"flinkConfiguration.s3.secret-key : {OLD_SECRET_CONFIG_VALUE} -> {SECRET_CONFIG_VALUE}"
    host.listeners.notify_event(resource, event(reason="SpecChanged", message=spec_change))
    await until(lambda: len(receiver.delivered) == 2, within=10, what="both notifications delivered")
    await host.aclose()
    sent = json.dumps(receiver.delivered)
    for secret in (SECRET_CONFIG_VALUE, SECRET_ENV_VALUE, OLD_SECRET_CONFIG_VALUE):
        assert secret not in sent
    assert receiver.delivered[1]["message"] == "flinkConfiguration.s3.secret-key : ****** -> ******"
