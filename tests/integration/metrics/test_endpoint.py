"""The metrics endpoint over real HTTP on 127.0.0.1: a runtime manager on the Kubernetes API emulator with a
small controller that walks a FlinkDeployment through lifecycle states by writing its status (so the metrics
are fed by the runtime's own status hook), scraped and parsed with prometheus_client's parser."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import pytest_asyncio
from lightkube import AsyncClient, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap
from prometheus_client import CollectorRegistry
from tests.support.deployment_driver import deployment_document
from tests.support.metrics_scrape import Scrape, scrape_metrics, wait_for_metrics

from flink_operator.api import crd_manifests
from flink_operator.config import DefaultConfiguration
from flink_operator.metrics import MetricsServer, OperatorMetrics
from flink_operator.metrics.kube_client import KubeClientMetrics
from flink_operator.runtime import (
    ControllerContext,
    ControllerSpec,
    Kind,
    KubeApi,
    Manager,
    ObjectKey,
    Request,
    Result,
    StatusUpdate,
)
from kube_emulator import EmbeddedApiServer

pytestmark = pytest.mark.integration

JSON = dict[str, Any]
DEPLOYMENT = Kind("flink.apache.org", "v1beta1", "FlinkDeployment", "flinkdeployments")
STATE_ANNOTATION = "metrics-test/state"
CONFIG = {
    "kubernetes.operator.rate-limiter.limit": "0",
    "kubernetes.operator.termination.timeout": "1 s",
    "kubernetes.operator.retry.initial.interval": "100 ms",
    "kubernetes.operator.retry.max.interval": "200 ms",
    "kubernetes.operator.metrics.port": "0",
    "kubernetes.operator.metrics.host": "127.0.0.1",
}
CLUSTER_INFO = {"flink-version": "2.3.0", "total-cpu": "2", "total-memory": "1073741824"}
FD = {"kind": "FlinkDeployment", "namespace": "default"}
TRANSITIONS = "flink_operator_lifecycle_transition_seconds_count"


class Walker:
    """Writes the lifecycle state named in the resource's annotation into its status ("FAIL" raises)."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx

    async def reconcile(self, request: Request) -> Result:
        obj = self.ctx.get(request)
        if obj is None:
            return Result.done()
        state = ((obj.get("metadata") or {}).get("annotations") or {}).get(STATE_ANNOTATION)
        if state == "FAIL":
            raise RuntimeError("told to fail")
        if state:
            status = dict(obj.get("status") or {})
            status["lifecycleState"] = state
            status["jobManagerDeploymentStatus"] = "READY" if state == "STABLE" else "DEPLOYING"
            status["clusterInfo"] = CLUSTER_INFO
            await self.ctx.status.write(obj, status)
        return Result.done()


class World:
    def __init__(self, api: KubeApi, manager: Manager, metrics: OperatorMetrics) -> None:
        self.api = api
        self.manager = manager
        self.metrics = metrics

    @property
    def url(self) -> str:
        assert self.metrics.server is not None
        return self.metrics.server.url

    async def create(self, name: str, state: str) -> None:
        document = deployment_document(name)
        annotations = {STATE_ANNOTATION: state}
        document["metadata"] = {"name": name, "namespace": "default", "annotations": annotations}
        await self.api.create(DEPLOYMENT, document, "default")

    async def move(self, name: str, state: str) -> None:
        patch = {"metadata": {"annotations": {STATE_ANNOTATION: state}}}
        await self.api.patch(DEPLOYMENT, name, "default", patch)
        if state != "FAIL":
            await self.wait_state(name, state)

    async def wait_state(self, name: str, state: str, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while True:
            status = (await self.api.get(DEPLOYMENT, name, "default")).get("status") or {}
            if status.get("lifecycleState") == state:
                return
            if time.monotonic() >= deadline:
                raise AssertionError(f"{name}: lifecycle state {state} not written in {within:g} s: {status}")
            await asyncio.sleep(0.02)


@pytest_asyncio.fixture
async def world(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[World]:
    await api_server.hooks.seed(list(crd_manifests()))
    test_client = AsyncClient(config=KubeConfig.from_file(str(api_kubeconfig)), namespace="default")
    client = AsyncClient(config=KubeConfig.from_file(str(api_kubeconfig)), namespace="default")
    configuration = DefaultConfiguration(CONFIG)
    manager = Manager(
        client, configuration, namespace="default", identity="metrics-test", leader_election=False,
        health_port=-1,
    )
    manager.add(ControllerSpec("walker", DEPLOYMENT, Walker))
    metrics = OperatorMetrics.from_configuration(configuration.configuration)
    metrics.install(manager)
    await metrics.start()
    await manager.start()
    try:
        yield World(KubeApi(test_client, user_agent="test"), manager, metrics)
    finally:
        await manager.stop()
        await metrics.stop()
        await client.close()
        await test_client.close()


def stable_gauge(scrape: Scrape) -> float | None:
    return scrape.value("flink_operator_resources_in_lifecycle_state", **FD, state="STABLE")


async def test_a_deployment_walked_to_stable_shows_in_gauges_histograms_and_counters(world: World) -> None:
    await world.create("demo", "UPGRADING")
    await world.wait_state("demo", "UPGRADING")
    await world.move("demo", "DEPLOYED")
    await world.move("demo", "STABLE")

    # Gauges read the informer cache, which follows the writes through the watch.
    def settled(scrape: Scrape) -> bool:
        stabilized = scrape.value(TRANSITIONS, **FD, transition="Stabilization")
        return stable_gauge(scrape) == 1 and stabilized == 1

    scrape = await wait_for_metrics(world.url, settled, what="STABLE gauge and Stabilization")
    assert scrape.content_type.startswith("text/plain")
    assert scrape.value("flink_operator_resources", **FD) == 1
    assert scrape.value("flink_operator_resources_in_lifecycle_state", **FD, state="DEPLOYED") == 0
    ns = {"namespace": "default"}
    assert scrape.value("flink_operator_deployments_by_jobmanager_status", **ns, status="READY") == 1
    assert scrape.value("flink_operator_deployments_by_flink_version", **ns, version="2.3.0") == 1
    assert scrape.value("flink_operator_deployment_cpu_cores", namespace="default") == 2
    assert scrape.value("flink_operator_deployment_memory_bytes", namespace="default") == 1073741824

    transition = "flink_operator_lifecycle_transition_seconds"
    assert scrape.value(transition + "_count", **FD, transition="Submission") == 1
    assert scrape.value(transition + "_count", **FD, transition="Stabilization") == 1
    assert scrape.value(transition + "_count", **FD, transition="Upgrade") is None
    state_seconds = "flink_operator_lifecycle_state_seconds"
    assert scrape.value(state_seconds + "_count", **FD, state="UPGRADING") == 1
    assert scrape.value(state_seconds + "_count", **FD, state="DEPLOYED") == 1

    # Every annotation change was a reconcile; each one wrote the status with a PUT.
    assert (scrape.value("flink_operator_reconcile_started_total", kind="FlinkDeployment") or 0) >= 3
    assert (scrape.value("flink_operator_reconcile_finished_total", kind="FlinkDeployment") or 0) >= 3
    assert scrape.value("flink_operator_reconcile_failed_total", kind="FlinkDeployment") == 0
    assert scrape.total("flink_operator_reconcile_duration_seconds_count", outcome="success") >= 3
    assert (scrape.value("flink_operator_kube_client_responses_total", method="PUT", code="200") or 0) >= 3
    assert (scrape.value("flink_operator_kube_client_requests_total", method="GET") or 0) >= 1
    assert (scrape.value("flink_operator_kube_client_request_duration_seconds_count", method="GET") or 0) >= 1
    assert scrape.value("flink_operator_kube_client_failed_requests_total", method="PUT") is None

    for priority in ("user", "event", "periodic"):
        assert scrape.value("flink_operator_workqueue_depth", kind="FlinkDeployment", priority=priority) == 0
    assert scrape.value("flink_operator_reconciles_in_flight", kind="FlinkDeployment") == 0
    assert scrape.value("flink_operator_leader") == 1
    assert (scrape.value("process_resident_memory_bytes") or 0) > 0
    assert (scrape.value("process_open_fds") or 0) > 0


async def test_an_upgrade_of_the_stable_deployment_is_an_upgrade_transition(world: World) -> None:
    await world.create("demo", "UPGRADING")
    await world.wait_state("demo", "UPGRADING")
    for state in ("DEPLOYED", "STABLE", "UPGRADING", "DEPLOYED", "STABLE"):
        await world.move("demo", state)
    transition = TRANSITIONS
    scrape = await wait_for_metrics(
        world.url, lambda s: s.value(transition, **FD, transition="Upgrade") == 1, what="Upgrade transition"
    )
    assert scrape.value(transition, **FD, transition="Submission") == 2
    assert scrape.value(transition, **FD, transition="Stabilization") == 2


async def test_failed_reconciles_and_their_retries_are_counted(world: World) -> None:
    await world.create("demo", "FAIL")

    def retried(scrape: Scrape) -> bool:
        return (scrape.value("flink_operator_reconcile_retries_total", kind="FlinkDeployment") or 0) >= 1

    scrape = await wait_for_metrics(world.url, retried, what="a retried reconcile")
    assert (scrape.value("flink_operator_reconcile_failed_total", kind="FlinkDeployment") or 0) >= 2
    assert scrape.total("flink_operator_reconcile_duration_seconds_count", outcome="failure") >= 2
    # Repaired: the next reconcile succeeds.
    await world.move("demo", "DEPLOYED")


async def test_a_deleted_resource_leaves_the_gauges_and_its_lifecycle_track_is_dropped(world: World) -> None:
    await world.create("demo", "UPGRADING")
    await world.wait_state("demo", "UPGRADING")
    lifecycle = world.metrics.lifecycle
    assert lifecycle is not None
    assert lifecycle.track("FlinkDeployment", ObjectKey("default", "demo")) is not None
    await world.api.delete(DEPLOYMENT, "demo", "default")
    await wait_for_metrics(
        world.url, lambda s: s.value("flink_operator_resources", **FD) is None, what="resource count gone"
    )
    deadline = time.monotonic() + 5
    while lifecycle.track("FlinkDeployment", ObjectKey("default", "demo")) is not None:
        assert time.monotonic() < deadline, "lifecycle track of a deleted resource kept"
        await asyncio.sleep(0.02)


async def test_openmetrics_is_served_when_asked_for(world: World) -> None:
    scrape = await scrape_metrics(world.url, {"Accept": "application/openmetrics-text; version=1.0.0"})
    assert scrape.content_type.startswith("application/openmetrics-text")
    assert scrape.text.rstrip().endswith("# EOF")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_status_updates_fed_to_the_hook_without_a_manager_are_served() -> None:
    metrics = OperatorMetrics(registry=CollectorRegistry())
    server = MetricsServer(metrics.registry, host="127.0.0.1", ports=(0,))
    key = ObjectKey("team", "job")
    document = {"metadata": {"name": "job", "namespace": "team"}}
    steps = [None, "UPGRADING", "DEPLOYED"]
    for previous, current in itertools.pairwise(steps):
        metrics.on_status(StatusUpdate(
            Kind("flink.apache.org", "v1beta1", "FlinkSessionJob", "flinksessionjobs"), key,
            {"lifecycleState": previous} if previous else None, {"lifecycleState": current}, document,
        ))
    await server.start()
    try:
        scrape = await scrape_metrics(server.url)
    finally:
        await server.stop()
    labels = {"kind": "FlinkSessionJob", "namespace": "team", "transition": "Submission"}
    assert scrape.value("flink_operator_lifecycle_transition_seconds_count", **labels) == 1


async def test_a_port_range_skips_a_busy_port_and_a_full_range_fails_clearly() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        spare = free_port()
        server = MetricsServer(CollectorRegistry(), host="127.0.0.1", ports=(taken, spare))
        await server.start()
        try:
            assert server.port == spare
            assert (await scrape_metrics(server.url)).families == frozenset()
        finally:
            await server.stop()
        blocked = MetricsServer(CollectorRegistry(), host="127.0.0.1", ports=(taken,))
        with pytest.raises(OSError, match=f"no port was free.*{taken}"):
            await blocked.start()


async def test_requests_without_a_response_are_counted_as_failed() -> None:
    registry = CollectorRegistry()
    metrics = KubeClientMetrics(registry)
    server = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = KubeConfig.from_dict({
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    })
    client = AsyncClient(config=config, namespace="default")
    metrics.instrument(client)
    try:
        with pytest.raises(httpx2.TransportError):
            await client.get(ConfigMap, "absent", namespace="default")
        failed = "flink_operator_kube_client_failed_requests_total"
        assert registry.get_sample_value(failed, {"method": "GET"}) == 1
        assert registry.get_sample_value("flink_operator_kube_client_requests_total", {"method": "GET"}) == 1
        metrics.uninstall()
        with pytest.raises(httpx2.TransportError):
            await client.get(ConfigMap, "absent", namespace="default")
        assert registry.get_sample_value("flink_operator_kube_client_requests_total", {"method": "GET"}) == 1
    finally:
        await client.close()


async def test_response_codes_and_their_classes(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> None:
    registry = CollectorRegistry()
    metrics = KubeClientMetrics(registry, code_groups=True, slow_threshold=0.0)
    client = AsyncClient(config=KubeConfig.from_file(str(api_kubeconfig)), namespace="default")
    metrics.instrument(client)
    try:
        with pytest.raises(Exception, match="not found"):
            await client.get(ConfigMap, "absent", namespace="default")
        config_map = ConfigMap(metadata=ObjectMeta(name="present", namespace="default"), data={"a": "b"})
        await client.create(config_map)
    finally:
        metrics.uninstall()
        await client.close()

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("flink_operator_kube_client_responses_total", method="GET", code="404") == 1
    assert value("flink_operator_kube_client_responses_total", method="POST", code="201") == 1
    assert value("flink_operator_kube_client_responses_by_class_total", **{"class": "4xx"}) == 1
    assert value("flink_operator_kube_client_responses_by_class_total", **{"class": "2xx"}) == 1
    # Every request is slower than a zero threshold.
    assert value("flink_operator_kube_client_slow_requests_total", method="GET") == 1
