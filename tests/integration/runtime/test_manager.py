"""The manager with the example Counter controller against the emulator: the pieces working together,
steady state without writes, two managers never both writing, hand-over, health, live namespace reload."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from tests.support.conditions import until
from tests.support.runtime_kit import (
    CONFIG_MAP,
    COUNTER,
    COUNTER_CRD,
    FINALIZER,
    api_for,
    client_for,
    config_map,
    counter,
    counter_controller,
    fast_election,
)

from flink_operator.config import ConfigReloader, DefaultConfiguration
from flink_operator.runtime import EVENT, LEASE, KubeApi, Manager, ObjectKey
from flink_operator.runtime.kinds import NAMESPACE
from kube_emulator import EmbeddedApiServer, FaultRule, RequestRecord

pytestmark = pytest.mark.integration

JSON = dict[str, Any]
QUIET = {"kubernetes.operator.rate-limiter.limit": "0", "kubernetes.operator.termination.timeout": "2 s"}


@pytest_asyncio.fixture
async def api(api_server: EmbeddedApiServer, api_kubeconfig: Path) -> AsyncIterator[KubeApi]:
    await api_server.hooks.seed([COUNTER_CRD])
    kube = api_for(api_kubeconfig, "test-client")
    yield kube
    await kube.client.close()


@asynccontextmanager
async def running_manager(
    kubeconfig: Path,
    identity: str,
    *,
    requeue_after: float = 60.0,
    configuration: ConfigReloader | DefaultConfiguration | None = None,
    election: bool = True,
    **options: Any,
) -> AsyncIterator[Manager]:
    client = client_for(kubeconfig)
    manager = Manager(
        client,
        configuration or DefaultConfiguration(QUIET),
        namespace="default",
        identity=identity,
        leader_election=fast_election(identity) if election else False,
        health_host="127.0.0.1",
        health_port=0,
        **options,
    )
    manager.add(counter_controller(requeue_after=requeue_after))
    await manager.start()
    try:
        yield manager
    finally:
        await manager.stop()
        await client.close()


async def status_of(api: KubeApi, name: str, namespace: str = "default") -> JSON:
    return dict((await api.get(COUNTER, name, namespace)).get("status") or {})


async def count_is(api: KubeApi, name: str, expected: int, namespace: str = "default") -> bool:
    return (await status_of(api, name, namespace)).get("count") == expected


async def eventually(check: Any, within: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {within} s")
        await asyncio.sleep(0.02)


def writes_by(api_server: EmbeddedApiServer, identity: str) -> list[RequestRecord]:
    """Requests that change something, sent by a manager's controllers (Lease traffic excluded)."""
    return [
        r for r in api_server.hooks.requests()
        if r.method != "GET" and identity in r.user_agent and "/leases" not in r.path
    ]


async def test_the_example_controller_counts_config_maps_and_cleans_up_through_its_finalizer(
    api_server: EmbeddedApiServer, api: KubeApi, api_kubeconfig: Path
) -> None:
    await api.create(COUNTER, counter("first"))
    await api.create(CONFIG_MAP, config_map("cm-1", "first"))
    async with running_manager(api_kubeconfig, "op-a") as manager:
        await until(lambda: manager.leading_and_synced, what="the manager leads")
        await eventually(lambda: count_is(api, "first", 1), what="first counted")
        await api.create(COUNTER, counter("second"))
        for i in range(2, 5):
            await api.create(CONFIG_MAP, config_map(f"cm-{i}", "second"))
        await eventually(lambda: count_is(api, "second", 3), what="second counted")
        await api.delete(CONFIG_MAP, "cm-1", "default")
        await eventually(lambda: count_is(api, "first", 0), what="deletion of a ConfigMap noticed")

        first = await api.get(COUNTER, "first", "default")
        assert FINALIZER in first["metadata"]["finalizers"]
        assert first["status"]["observedGeneration"] == first["metadata"]["generation"]

        await api.delete(COUNTER, "first", "default")

        async def gone() -> bool:
            try:
                await api.get(COUNTER, "first", "default")
            except Exception:
                return True
            return False

        await eventually(gone, what="the finalizer is removed and the object deleted")
        events = (await api.request("GET", EVENT.collection_path("default")))["items"]
        counts = {(e["involvedObject"]["name"], e["reason"]): e["count"] for e in events}
        # One aggregated "Counted" event per counter (message key), counting the changes it saw.
        assert set(counts) == {("first", "Cleanup"), ("first", "Counted"), ("second", "Counted")}
        assert counts["first", "Cleanup"] == 1 and counts["first", "Counted"] >= 2
        runner = manager.runner("counter")
        assert runner.stats.failed == 0 and ObjectKey("default", "first") not in runner.status._last


async def test_steady_state_makes_no_writes_while_periodic_reconciles_run(
    api_server: EmbeddedApiServer, api: KubeApi, api_kubeconfig: Path
) -> None:
    for i in range(20):
        await api.create(COUNTER, counter(f"c{i}"))
        await api.create(CONFIG_MAP, config_map(f"cm{i}", f"c{i}"))
    async with running_manager(api_kubeconfig, "op-a", requeue_after=0.1) as manager:
        for i in range(20):
            await eventually(lambda i=i: count_is(api, f"c{i}", 1), what=f"c{i} counted")
        runner = manager.runner("counter")
        settled = len(writes_by(api_server, "op-a"))
        reconciled = runner.stats.succeeded
        await until(lambda: runner.stats.succeeded >= reconciled + 100, within=10, what="periodic reconciles")
        assert len(writes_by(api_server, "op-a")) == settled
        # 20 finalizer patches + 20 status writes + 20 "Counted" events, nothing since.
        assert settled == 60
        assert runner.status.skipped >= 100


async def test_two_managers_never_both_write_and_the_standby_takes_over_when_the_leader_dies(
    api_server: EmbeddedApiServer, api: KubeApi, api_kubeconfig: Path
) -> None:
    for i in range(5):
        await api.create(COUNTER, counter(f"c{i}"))
    async with (
        running_manager(api_kubeconfig, "op-a", requeue_after=0.05) as a,
        running_manager(api_kubeconfig, "op-b", requeue_after=0.05) as b,
    ):
        await until(lambda: a.leading_and_synced or b.leading_and_synced, what="someone leads")
        leader, standby = (a, b) if a.leading_and_synced else (b, a)
        for i in range(5):
            await eventually(lambda i=i: count_is(api, f"c{i}", 0), what=f"c{i} reconciled")
        await api.create(CONFIG_MAP, config_map("cm", "c0"))
        await eventually(lambda: count_is(api, "c0", 1), what="leader handles a change")
        assert standby.runners == [] and standby.readiness() == (True, "standby")

        died = time.monotonic()
        await leader.kill()
        await until(lambda: standby.leading_and_synced, within=6, what="the standby takes over")
        took_over = time.monotonic() - died
        await api.create(CONFIG_MAP, config_map("cm-2", "c1"))
        await eventually(lambda: count_is(api, "c1", 1), what="the new leader handles a change")

    old, new = writes_by(api_server, leader.identity), writes_by(api_server, standby.identity)
    assert old and new
    last_old = max(r.started + r.duration for r in old)
    first_new = min(r.started for r in new)
    assert last_old < first_new, "both managers wrote in overlapping periods"
    assert 1.0 <= took_over <= 4.0  # lease duration 2 s (+ retry and sync)


async def test_graceful_stop_releases_the_lease_and_the_standby_takes_over_fast(
    api: KubeApi, api_kubeconfig: Path
) -> None:
    await api.create(COUNTER, counter("c"))
    async with running_manager(api_kubeconfig, "op-a") as a:
        await until(lambda: a.leading_and_synced, what="a leads")
        async with running_manager(api_kubeconfig, "op-b") as b:
            await until(lambda: b.readiness()[0], what="b is a ready standby")
            assert not b.is_leading()
            stopped = time.monotonic()
            await a.stop()
            lease = await api.get(LEASE, "counter-lease", "default")
            assert lease["spec"].get("holderIdentity") in (None, "", "op-b")
            await until(lambda: b.leading_and_synced, within=3, what="b takes over")
            assert time.monotonic() - stopped < 1.5  # well under the 2 s lease duration


async def test_a_manager_whose_lease_is_taken_stops_its_controllers_at_once(
    api_server: EmbeddedApiServer, api: KubeApi, api_kubeconfig: Path
) -> None:
    await api.create(COUNTER, counter("c"))
    async with running_manager(api_kubeconfig, "op-a", requeue_after=0.05) as a:
        await until(lambda: a.leading_and_synced, what="a leads")
        await eventually(lambda: count_is(api, "c", 0), what="reconciled")
        lease = await api.get(LEASE, "counter-lease", "default")
        lease["spec"]["holderIdentity"] = "intruder"
        await api.replace(LEASE, lease)
        await until(lambda: a.runners == [], within=1.5, what="controllers stopped")
        stopped = time.monotonic()
        assert a.readiness()[1].startswith("standby") or not a.is_leading()
        await api.create(CONFIG_MAP, config_map("cm", "c"))
        await until(lambda: a.leading_and_synced, within=5, what="a leads again after the intruder's lease")
        writes_while_standby = [
            r for r in writes_by(api_server, "op-a") if stopped <= r.started and r.started < stopped + 1.0
        ]
        assert writes_while_standby == []
        await eventually(lambda: count_is(api, "c", 1), what="reconciling resumes")


async def test_health_and_readiness_endpoints(
    api_server: EmbeddedApiServer, api: KubeApi, api_kubeconfig: Path
) -> None:
    async with running_manager(api_kubeconfig, "op-a", informer_unhealthy_grace=0.3) as manager:
        await until(lambda: manager.leading_and_synced, what="leading")
        assert manager.health_server is not None
        url = manager.health_server.url
        assert url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as session:
            for path, expected in (("/healthz", "OK"), ("/readyz", "OK"), ("/anything", "OK")):
                async with session.get(url + path) as response:
                    assert (response.status, (await response.text()).strip()) == (200, expected)
            outage = api_server.hooks.faults.add(FaultRule("GET", r"/counters$", status=500, times=None))
            api_server.hooks.cut_watches()
            await until(lambda: not manager.health()[0], within=5, what="liveness fails")
            async with session.get(url + "/healthz") as response:
                body = await response.text()
                assert response.status == 500 and "Counter" in body and "500" in body
            api_server.hooks.faults.remove(outage)
            await until(lambda: manager.health()[0], within=5, what="liveness recovers")


async def test_watched_namespaces_follow_a_live_configuration_reload(
    api: KubeApi, api_kubeconfig: Path, tmp_path: Path
) -> None:
    for namespace in ("team-a", "team-b"):
        await api.create(NAMESPACE, {"metadata": {"name": namespace}})
        await api.create(COUNTER, counter("c", namespace))
    config_file = tmp_path / "config.yaml"

    def settings(namespaces: str) -> str:
        lines = [f"{key}: {value}" for key, value in QUIET.items()]
        lines += ["kubernetes.operator.dynamic.namespaces.enabled: true",
                  f"kubernetes.operator.watched.namespaces: {namespaces}"]
        return "\n".join(lines) + "\n"

    config_file.write_text(settings("team-a"))
    reloader = ConfigReloader(environ={}, path=config_file)
    async with running_manager(api_kubeconfig, "op-a", configuration=reloader) as manager:
        await eventually(lambda: count_is(api, "c", 0, "team-a"), what="team-a reconciled")
        assert manager.namespaces == frozenset({"team-a"})
        assert await status_of(api, "c", "team-b") == {}

        config_file.write_text(settings("team-a, team-b"))
        assert await reloader.check() is not None
        await eventually(lambda: count_is(api, "c", 0, "team-b"), what="team-b reconciled after reload")
        informer_namespaces = {i.namespace for s in manager.informers for i in s.informers}
        assert informer_namespaces == {"team-a", "team-b"}

