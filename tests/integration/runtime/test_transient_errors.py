"""A validator that does not answer in time, in the real manager against the emulator: the reconcile is
retried with backoff and the user sees a Warning event; nothing is recorded as a validation failure."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from tests.support.conditions import until
from tests.support.plugin_resources import deployment
from tests.support.runtime_kit import COUNTER, COUNTER_CRD, api_for, client_for, counter

from flink_operator.api import FlinkDeployment
from flink_operator.config import DefaultConfiguration
from flink_operator.plugins._kinds import PluginKind
from flink_operator.plugins._loading import LoadedPlugin
from flink_operator.plugins._masking import Masker
from flink_operator.plugins._metrics import plugin_metrics
from flink_operator.plugins._sources import Origin, PluginSource
from flink_operator.plugins._validation import ValidatorRunner
from flink_operator.runtime import (
    EVENT,
    ControllerContext,
    ControllerSpec,
    KubeApi,
    Manager,
    Request,
    Result,
)
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration


class StuckThenAnswering:
    """A synchronous validator whose first call blocks until released; later calls answer at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def validate_deployment(self, resource: FlinkDeployment) -> str | None:
        self.calls += 1
        if self.calls == 1:
            self.release.wait(10)
        return None


class Validating:
    """Validates a FlinkDeployment per Counter, as the Flink controllers do before deciding anything."""

    def __init__(self, validators: ValidatorRunner) -> None:
        self.validators = validators
        self.accepted = 0

    def reconciler(self, _ctx: ControllerContext) -> Validating:
        return self

    async def reconcile(self, request: Request) -> Result:
        report = await self.validators.validate_deployment(deployment(request.name))
        assert report.ok
        self.accepted += 1
        return Result.done()


@pytest_asyncio.fixture
async def api(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[KubeApi]:
    await api_server.hooks.seed([COUNTER_CRD])
    kube = api_for(api_kubeconfig)
    yield kube
    await kube.client.close()


async def test_a_validator_timeout_is_retried_with_a_warning_event_not_a_failure(
    api: KubeApi, api_kubeconfig: Path
) -> None:
    plugin = StuckThenAnswering()
    loaded = LoadedPlugin(PluginKind.VALIDATOR, "slow", PluginSource(Origin.CONFIGURATION, "test"), plugin)
    validators = ValidatorRunner(
        [loaded], timeout=0.2, max_threads=2, metrics=plugin_metrics(CollectorRegistry()), masker=Masker()
    )
    controller = Validating(validators)
    client = client_for(api_kubeconfig)
    settings = {
        "kubernetes.operator.rate-limiter.limit": "0",
        "kubernetes.operator.retry.initial.interval": "200 ms",
    }
    manager = Manager(client, DefaultConfiguration(settings), namespace="default", identity="op",
                      leader_election=False, health_port=-1)
    manager.add(ControllerSpec("validating", COUNTER, controller.reconciler))
    await api.create(COUNTER, counter("c"))
    await manager.start()
    try:
        await until(lambda: controller.accepted == 1, what="validation passing on a retry")
        stats = manager.runner("validating").stats
        assert stats.failed == 1 and stats.exhausted == 0
        # The event is recorded before the retry is scheduled, so it is there by now.
        listed = await api.request("GET", EVENT.collection_path("default"))
        found = [e for e in listed["items"] if e.get("reason") == "ValidatorUnavailable"]
        assert len(found) == 1
        event = found[0]
        assert event["type"] == "Warning"
        assert event["involvedObject"]["name"] == "c"
        assert event["message"].startswith(
            "validator 'slow': no answer within 0.2 s (validate_deployment); validation will be retried; "
            "retrying in"
        )
    finally:
        plugin.release.set()
        await manager.stop()
        await client.close()
