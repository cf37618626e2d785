"""The installed sample plugin package (tests/plugin_packages/sample_plugins), found through its real
entry-point metadata, and the secrets guarantee across the audit log, the HTTP sink and a listener."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

# Installed by scripts/setup.sh --tests (pip install -e tests/plugin_packages/sample_plugins).
from sample_flink_plugins import listeners as sample_listeners
from tests.support.conditions import until
from tests.support.plugin_resources import (
    OLD_SECRET_CONFIG_VALUE,
    SECRET_CONFIG_VALUE,
    SECRET_ENV_VALUE,
    deployment,
    event,
    session_job,
    with_status,
)

from flink_operator.plugins._host import PluginHost

pytestmark = pytest.mark.integration

ENFORCE = {"sample-plugins/enforce": "true"}


def load(tmp_path: Path, config: dict[str, str] | None = None) -> PluginHost:
    """Real discovery: installed entry points included, an empty plugins directory."""
    return PluginHost.load(
        config or {}, registry=CollectorRegistry(), environ={"FLINK_PLUGINS_DIR": str(tmp_path / "none")}
    )


def test_entry_points_of_the_installed_package_are_discovered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "flink_operator.plugins")
    host = load(tmp_path)
    sources = {
        (p.kind.value, p.name): str(p.source)
        for p in (*host.plugins.validators, *host.plugins.mutators, *host.plugins.listeners)
    }
    assert (
        sources[("validators", "sample-owner-label")]
        == "entry point [flink_operator.validators:sample-owner-label]"
    )
    assert sources[("mutators", "sample-team-annotation")] == (
        "entry point [flink_operator.mutators:sample-team-annotation]"
    )
    assert (
        sources[("listeners", "sample-recorder")] == "entry point [flink_operator.listeners:sample-recorder]"
    )
    assert (
        "Discovered resource validator from entry point [flink_operator.validators:sample-owner-label]: "
        "sample_flink_plugins.validators.RequireOwnerLabel (name 'sample-owner-label')" in caplog.messages
    )


async def test_sample_validator_and_mutator_act_on_enforced_resources_only(tmp_path: Path) -> None:
    host = load(tmp_path, {"kubernetes.operator.plugins.mutators.sample-team-annotation.team": "payments"})
    report = await host.validators.validate_deployment(deployment(**ENFORCE))
    assert report.describe() == "[sample-owner-label] FlinkDeployment orders needs an 'owner' label"
    assert (await host.validators.validate_deployment(deployment(owner="ana", **ENFORCE))).ok
    assert (await host.validators.validate_deployment(deployment())).ok

    mutated = await host.mutators.mutate_session_job(session_job(deployment_name="shared", **ENFORCE), None)
    assert mutated.resource.metadata.annotations == {"sample-plugins/team": "payments"}
    assert (mutated.resource.metadata.labels or {})["target.session"] == "shared"
    assert mutated.changed_by == ("default", "sample-team-annotation")
    untouched = await host.mutators.mutate_deployment(deployment())
    assert not untouched.changed


@pytest.fixture
async def receiver_url() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/", received
    await runner.cleanup()


async def test_no_secret_in_audit_lines_http_payloads_or_listener_copies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, receiver_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver_url
    caplog.set_level(logging.DEBUG)
    host = load(
        tmp_path,
        {
            "kubernetes.operator.plugins.listeners.sink.class": "flink_operator.plugins:HttpSinkListener",
            "kubernetes.operator.plugins.listeners.sink.url": url,
            "kubernetes.operator.plugins.listeners.sample-recorder.label": "secrets-test",
        },
    )
    previous = with_status(deployment(secrets=True), "STABLE", secrets=True).status
    resource = with_status(deployment(secrets=True), "DEPLOYED", secrets=True)
    resource.status.error = f"credentials {SECRET_CONFIG_VALUE} rejected"
    host.listeners.notify_status_update(resource, previous)
    host.listeners.notify_event(
        resource,
        event(
            reason="SpecChanged",
            message=(
                f"UPGRADE change(s) detected (Diff: FlinkDeploymentSpec[flinkConfiguration.s3.secret-key : "
                f"{OLD_SECRET_CONFIG_VALUE} -> {SECRET_CONFIG_VALUE}, "
                f"podTemplate.spec.containers.0.env.0.value : null -> {SECRET_ENV_VALUE}]), "
                "starting reconciliation."
            ),
        ),
    )

    def heard() -> list[Any]:
        return [h for h in sample_listeners.RECORDED if h.listener == "secrets-test"]

    await until(
        lambda: len(received) == 2 and len(heard()) == 2, within=10, what="sink and recorder notified"
    )
    await host.aclose()

    audit = [r.getMessage() for r in caplog.records if r.name == "flink_operator.audit"]
    assert len(audit) == 2
    listener_view = (
        json.dumps([h.context.resource.to_dict() for h in heard()])
        + json.dumps(
            [h.context.previous_status.to_dict() for h in heard() if h.method.endswith("status_update")]
        )
        + "".join(h.context.event.message for h in heard() if h.method.endswith("_event"))
    )
    everything = {
        "audit log": "\n".join(audit),
        "all log records": "\n".join(r.getMessage() for r in caplog.records),
        "HTTP payloads": json.dumps(received),
        "listener-visible resources": listener_view,
    }
    for secret in (SECRET_CONFIG_VALUE, SECRET_ENV_VALUE, OLD_SECRET_CONFIG_VALUE):
        for where, text in everything.items():
            assert secret not in text, f"{secret!r} leaked into the {where}"
    assert "******" in everything["audit log"]
    assert "flinkConfiguration.s3.secret-key : ****** -> ******" in everything["HTTP payloads"]
