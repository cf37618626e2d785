"""The whole operator (`flink_operator.app` wiring) on the Kubernetes API emulator with the fake Flink
runtime, scraped over HTTP on 127.0.0.1: a FlinkDeployment that becomes STABLE shows in the lifecycle gauge,
its first deployment as a Submission, and the listener metrics share the operator's registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from tests.support.deployment_driver import deployment_document
from tests.support.metrics_scrape import Scrape, wait_for_metrics
from tests.support.operator_env import OperatorEnv

from flink_operator.testing.fake_flink import FakeFlinkServer
from flink_operator.testing.fake_runtime import FakeFlinkService, FakeRuntimeSettings
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

FD = {"kind": "FlinkDeployment", "namespace": "default"}
METRICS = {
    "kubernetes.operator.metrics.port": "0",
    "kubernetes.operator.metrics.host": "127.0.0.1",
    "kubernetes.operator.plugins.listeners.recorder.class": "tests.support.plugin_classes:RecordingListener",
}


@pytest_asyncio.fixture
async def env(api_server: EmbeddedApiServer, tmp_path: Path) -> AsyncIterator[OperatorEnv]:
    async with FakeFlinkServer() as server:
        flink = FakeFlinkService(server, FakeRuntimeSettings(ready_delay=0.1))
        environment = OperatorEnv(api_server, tmp_path, flink, METRICS)
        await environment.setup()
        try:
            yield environment
        finally:
            await environment.close()
            await flink.aclose()


async def test_a_stable_deployment_and_its_submission_are_scraped(env: OperatorEnv) -> None:
    operator = await env.start_operator()
    assert operator.metrics is not None
    port = operator.metrics.port
    assert port is not None
    url = f"http://127.0.0.1:{port}/metrics"

    await env.create(deployment_document("demo", upgrade_mode="stateless"))
    await env.wait_settled("demo", 1)

    def stable(scrape: Scrape) -> bool:
        transitions = "flink_operator_lifecycle_transition_seconds_count"
        return (
            scrape.value("flink_operator_resources_in_lifecycle_state", **FD, state="STABLE") == 1
            and scrape.value(transitions, **FD, transition="Stabilization") == 1
        )

    scrape = await wait_for_metrics(url, stable, what="STABLE gauge and Stabilization")
    transitions = "flink_operator_lifecycle_transition_seconds_count"
    assert scrape.value(transitions, **FD, transition="Submission") == 1
    assert scrape.value("flink_operator_resources", **FD) == 1
    ns = {"namespace": "default"}
    assert scrape.value("flink_operator_deployments_by_jobmanager_status", **ns, status="READY") == 1
    assert scrape.value("flink_operator_deployments_by_flink_version", **ns, version="2.3.0") == 1
    assert (scrape.value("flink_operator_reconcile_finished_total", kind="FlinkDeployment") or 0) >= 2
    assert scrape.total("flink_operator_events_total", kind="FlinkDeployment", reason="Submit") >= 1
    assert (scrape.value("flink_operator_kube_client_responses_total", method="PUT", code="200") or 0) >= 1
    assert scrape.value("flink_operator_leader") == 1
    # The plugin system's metrics are on the same registry.
    assert scrape.total("flink_operator_listener_deliveries_total", listener="recorder", outcome="ok") >= 1
    assert (scrape.value("process_resident_memory_bytes") or 0) > 0
