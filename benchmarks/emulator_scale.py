"""Scale benchmark of the Kubernetes API emulator: 10,000 objects and 100 open watches.

Starts `flink-operator emulator` as its own process (as in local mode), then measures from this
process over HTTP:
- write throughput: creating N custom resources (schema-validated) with 32 requests in flight;
- list latency: full lists of all N objects (plus a label-selected list);
- watch fan-out: 100 watches open on the resource, one update at a time; latency from sending the
  update until each watcher has read the event (p50/p99 over every watcher and update).
Goals from the issue: a full list of 10,000 objects under 1 s; fan-out p99 under 100 ms.
Usage: python benchmarks/emulator_scale.py [--objects 10000] [--watchers 100] [--updates 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
NS = "default"
PLURAL = f"/apis/bench.example.com/v1/namespaces/{NS}/items"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "items.bench.example.com"},
    "spec": {
        "group": "bench.example.com",
        "scope": "Namespaced",
        "names": {"plural": "items", "singular": "item", "kind": "Item"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "image": {"type": "string"},
                                    "parallelism": {"type": "integer", "minimum": 1},
                                    "seq": {"type": "integer"},
                                    "config": {"type": "object", "additionalProperties": {"type": "string"}},
                                },
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}


def item(i: int) -> dict:
    return {
        "apiVersion": "bench.example.com/v1",
        "kind": "Item",
        "metadata": {"name": f"item-{i:05d}", "labels": {"shard": str(i % 10), "app": "bench"}},
        "spec": {
            "image": "flink:1.20",
            "parallelism": 1 + i % 8,
            "seq": 0,
            "config": {f"key.{k}": f"value-{k}" for k in range(8)},
        },
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    code = os.environ.get("BENCH_PRELUDE", "") + "from flink_operator.cli.main import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "emulator", "--port", "0", "--kubeconfig", os.devnull],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "listening on" in line:
            return process, line.split()[-1]
    process.kill()
    raise SystemExit("the emulator did not start")


async def create_all(session: aiohttp.ClientSession, base: str, count: int, in_flight: int) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            async with session.post(base + PLURAL, json=item(i)) as response:
                if response.status != 201:
                    raise SystemExit(f"create failed: {response.status} {await response.text()}")
                await response.read()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return time.perf_counter() - started


async def timed_get(
    session: aiohttp.ClientSession, url: str, params: dict[str, str] | None = None
) -> tuple[float, int]:
    started = time.perf_counter()
    async with session.get(url, params=params) as response:
        body = await response.read()
    elapsed = time.perf_counter() - started
    return elapsed, len(json.loads(body)["items"])


async def fan_out(session: aiohttp.ClientSession, base: str, watchers: int, updates: int) -> list[float]:
    async with session.get(base + PLURAL, params={"limit": "1"}) as response:
        rv = (await response.json())["metadata"]["resourceVersion"]
    sent: dict[int, float] = {}
    latencies: list[float] = []
    ready = 0
    all_ready = asyncio.Event()
    done = asyncio.Event()
    remaining = watchers * updates

    async def watch() -> None:
        nonlocal ready, remaining
        params = {"watch": "true", "resourceVersion": rv, "fieldSelector": "metadata.name=item-00000"}
        async with session.get(
            base + PLURAL, params=params, timeout=aiohttp.ClientTimeout(total=None)
        ) as resp:
            ready += 1
            if ready == watchers:
                all_ready.set()
            seen = 0
            while seen < updates:
                line = await resp.content.readline()
                if not line:
                    return
                at = time.perf_counter()
                marker = line.find(b'"seq":')
                seq = int(line[marker + 6 : line.find(b",", marker)].strip(b"}"))
                latencies.append(at - sent[seq])
                seen += 1
                remaining -= 1
                if remaining == 0:
                    done.set()

    tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
    await asyncio.wait_for(all_ready.wait(), timeout=60)
    await asyncio.sleep(0.2)  # let every watch reach the server's fan-out before the first update
    for seq in range(1, updates + 1):
        sent[seq] = time.perf_counter()
        async with session.patch(
            base + PLURAL + "/item-00000",
            data=json.dumps({"spec": {"seq": seq}}),
            headers={"Content-Type": "application/merge-patch+json"},
        ) as response:
            await response.read()
        await asyncio.sleep(0.01)
    await asyncio.wait_for(done.wait(), timeout=60)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--updates", type=int, default=200)
    args = parser.parse_args()
    process, base = start_emulator()
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=120)
        ) as session:
            async with session.post(
                base + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=CRD
            ) as response:
                assert response.status == 201, await response.text()
            elapsed = await create_all(session, base, args.objects, 32)
            print(
                f"objects: {args.objects} custom resources; load average before: {os.getloadavg()[0]:.1f} "
                f"on {os.cpu_count()} CPUs (other processes on the machine skew every figure)"
            )
            print(f"write throughput: {args.objects / elapsed:,.0f} creates/s ({elapsed:.2f} s for all)")
            full = [await timed_get(session, base + PLURAL) for _ in range(5)]
            assert all(n == args.objects for _, n in full)
            times = [t for t, _ in full]
            print(
                f"full list of {args.objects}: median {statistics.median(times) * 1000:.0f} ms, "
                f"max {max(times) * 1000:.0f} ms (goal < 1000 ms)"
            )
            selected = [
                await timed_get(session, base + PLURAL, {"labelSelector": "shard=3"}) for _ in range(5)
            ]
            print(
                f"label-selected list ({selected[0][1]} items): median "
                f"{statistics.median(t for t, _ in selected) * 1000:.0f} ms"
            )
            latencies = await fan_out(session, base, args.watchers, args.updates)
            print(
                f"watch fan-out to {args.watchers} watchers over {args.updates} updates: "
                f"p50 {percentile(latencies, 50) * 1000:.1f} ms, "
                f"p99 {percentile(latencies, 99) * 1000:.1f} ms, "
                f"max {max(latencies) * 1000:.1f} ms (goal p99 < 100 ms)"
            )
    finally:
        process.terminate()
        process.wait(30)


if __name__ == "__main__":
    asyncio.run(main())
