"""What notifying listeners costs the caller (a controller after a status or event write).

Prints, per notification: the caller's cost with only the built-in audit log, with four third-party listeners
of which one hangs and one raises on every call, and the share of it spent masking secrets; then how long the
healthy listeners took to receive everything. Run: `.venv/bin/python benchmarks/plugin_delivery.py`.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.conditions import until
from tests.support.plugin_resources import deployment, event, with_status

from flink_operator.plugins._host import PluginHost
from flink_operator.plugins._masking import Masker

NOTIFICATIONS = 2000
C = "tests.support.plugin_classes"
L = "kubernetes.operator.plugins.listeners."


def host(config: dict[str, str], plugins_dir: Path) -> tuple[PluginHost, CollectorRegistry]:
    registry = CollectorRegistry()
    plugin_host = PluginHost.load(
        {
            "kubernetes.operator.plugins.shutdown-timeout": "1 s",
            "kubernetes.operator.plugins.listener-queue-size": str(NOTIFICATIONS),
            **config,
        },
        registry=registry,
        environ={"FLINK_PLUGINS_DIR": str(plugins_dir)},
        entry_points=[],
    )
    return plugin_host, registry


async def caller_cost(plugin_host: PluginHost, registry: CollectorRegistry) -> tuple[float, float]:
    """Microseconds per notification for the caller, and seconds until every healthy listener heard all."""
    resource = with_status(deployment(secrets=True), "STABLE", secrets=True)
    previous = with_status(deployment(secrets=True), "DEPLOYED", secrets=True).status
    started = time.perf_counter()
    for i in range(NOTIFICATIONS // 2):
        plugin_host.listeners.notify_status_update(resource, previous)
        plugin_host.listeners.notify_event(resource, event(message=f"event {i}", count=i + 1))
    caller = time.perf_counter() - started
    healthy = [n for n in plugin_host.listeners.listener_names if n not in ("hangs", "raises")]

    def handled(name: str) -> float:
        return sum(
            registry.get_sample_value(
                "flink_operator_listener_deliveries_total", {"listener": name, "outcome": outcome}
            )
            or 0.0
            for outcome in ("ok", "error", "timeout")
        )

    await until(lambda: all(handled(n) == NOTIFICATIONS for n in healthy), within=120, what="all handled")
    for name in healthy:
        labels = {"listener": name, "outcome": "ok"}
        ok = registry.get_sample_value("flink_operator_listener_deliveries_total", labels) or 0.0
        if ok != NOTIFICATIONS:
            print(f"  (listener {name}: {NOTIFICATIONS - ok:.0f} calls failed or timed out)")
    drained = time.perf_counter() - started
    await plugin_host.aclose()
    return caller / NOTIFICATIONS * 1e6, drained


def masking_cost() -> float:
    masker = Masker()
    resource = with_status(deployment(secrets=True), "STABLE", secrets=True)
    previous = resource.status
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(500):
            masker.pair(resource, previous)
        samples.append((time.perf_counter() - started) / 500 * 1e6)
    return statistics.median(samples)


CROWDED = {
    "kubernetes.operator.plugins.listener-call-timeout": "1 s",
    L + "hangs.class": f"{C}:HangingListener",
    L + "raises.class": f"{C}:RaisingListener",
    L + "async.class": f"{C}:AsyncRecordingListener",
    L + "sync.class": f"{C}:RecordingListener",
}
REPEATS = 3


async def main() -> None:
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as empty:
        plugins_dir = Path(empty)
        await caller_cost(*host({}, plugins_dir))  # warm-up: imports, caches
        audit_runs = [await caller_cost(*host({}, plugins_dir)) for _ in range(REPEATS)]
        crowded_runs = [await caller_cost(*host(CROWDED, plugins_dir)) for _ in range(REPEATS)]
    audit_only = statistics.median(cost for cost, _ in audit_runs)
    crowded = statistics.median(cost for cost, _ in crowded_runs)
    drained = statistics.median(seconds for _, seconds in crowded_runs)
    masking = masking_cost()
    print(f"notifications: {NOTIFICATIONS} (half status updates, half events), resource with secrets")
    print(f"medians of {REPEATS} runs (this machine is shared: expect noise)")
    print(f"caller cost, audit log only:                       {audit_only:7.1f} µs per notification")
    print(f"caller cost, + 4 listeners (1 hanging, 1 raising):  {crowded:7.1f} µs per notification")
    print(f"  of which masking a resource and its previous status: {masking:7.1f} µs")
    print(f"ratio crowded / audit only: {crowded / audit_only:.2f}")
    print(
        f"healthy listeners (audit log, an async and a sync recorder) had heard everything after "
        f"{drained * 1000:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
