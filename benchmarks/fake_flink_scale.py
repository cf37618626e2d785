"""Scale benchmark of the fake Flink REST server: thousands of virtual clusters in one process.

Starts ``python -m flink_operator.testing.fake_flink`` as its own process (as a scale test of the operator
would), creates N clusters through its control API, then, from this process with one shared connection
pool and 32 requests in flight (as the operator polls), measures:
- setup: creating the clusters, and uploading a jar and running one job on each;
- polling: rounds of ``GET /jobs/:id/status`` over every cluster (requests per second, p50/p99 latency);
- observation: ``/jobs/:id`` + ``/jobs/:id/checkpoints`` + job metrics per cluster (an observe cycle);
- the fake's resident memory (RSS) before and after, and its CPU time per request (the server's own cost,
  apart from the client's, which dominates the wall-clock figures on a 2-core machine).
Usage: python benchmarks/fake_flink_scale.py [--clusters 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.support.fake_jars import fake_jar  # noqa: E402

from flink_operator.flink.rest import FlinkRestClient, JarRunRequest  # noqa: E402

CONFIG = {"web.refresh-interval": "1000", "metrics.fetcher.update-interval": "1000"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def bounded(limit: int, calls: list) -> list:  # type: ignore[type-arg]
    gate = asyncio.Semaphore(limit)

    async def run(call):  # type: ignore[no-untyped-def]
        async with gate:
            return await call()

    return await asyncio.gather(*(run(c) for c in calls))


async def main(clusters: int, rounds: int, in_flight: int) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "flink_operator.testing.fake_flink",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    try:
        assert server.stdout is not None
        url = json.loads(await server.stdout.readline())["url"]
        print(f"fake Flink server pid {server.pid} at {url}; RSS at start {rss_mb(server.pid):.0f} MB")
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(trust_env=False, limits=limits, timeout=30) as http:
            started = time.perf_counter()
            for i in range(clusters):
                answer = await http.post(f"{url}/_fake/clusters", json={"name": f"c{i}", "config": CONFIG})
                answer.raise_for_status()
            create = time.perf_counter() - started
            clients = [
                FlinkRestClient(f"{url}/clusters/c{i}", http=http, flink_version="2.3")
                for i in range(clusters)
            ]
            jar = fake_jar()

            async def deploy(client: FlinkRestClient) -> str:
                jar_id = await client.upload_jar(jar, filename="job.jar")
                return (await client.run_jar(jar_id, JarRunRequest(parallelism=2))).jobid

            started = time.perf_counter()
            jobs = await bounded(in_flight, [lambda c=c: deploy(c) for c in clients])
            deploy_time = time.perf_counter() - started
            print(f"clusters: {clusters} created in {create:.2f} s")
            print(
                f"jar upload + run on each: {deploy_time:.2f} s ({2 * clusters / deploy_time:.0f} requests/s)"
            )

            latencies: list[float] = []

            async def status(client: FlinkRestClient, job: str) -> str:
                begin = time.perf_counter()
                state = await client.job_status(job)
                latencies.append(time.perf_counter() - begin)
                return state.value

            for round_no in range(rounds):
                latencies.clear()
                started = time.perf_counter()
                cpu = cpu_seconds(server.pid)
                states = await bounded(
                    in_flight, [lambda c=c, j=j: status(c, j) for c, j in zip(clients, jobs, strict=True)]
                )
                took = time.perf_counter() - started
                server_ms = (cpu_seconds(server.pid) - cpu) / clusters * 1000
                p50, p99 = statistics.median(latencies) * 1000, percentile(latencies, 0.99) * 1000
                print(
                    f"status round {round_no + 1}: {clusters / took:.0f} requests/s, p50 {p50:.1f} ms, "
                    f"p99 {p99:.1f} ms, server CPU {server_ms:.2f} ms/request, states {sorted(set(states))}"
                )

            async def observe(client: FlinkRestClient, job: str) -> None:
                await client.job_details(job)
                await client.checkpoint_stats(job)
                await client.job_metrics(job, ["numRestarts", "numberOfCompletedCheckpoints"])

            started = time.perf_counter()
            cpu = cpu_seconds(server.pid)
            await bounded(
                in_flight, [lambda c=c, j=j: observe(c, j) for c, j in zip(clients, jobs, strict=True)]
            )
            took = time.perf_counter() - started
            server_ms = (cpu_seconds(server.pid) - cpu) / (3 * clusters) * 1000
            print(
                f"observe cycle (details + checkpoints + metrics) over all clusters: {took:.2f} s "
                f"({3 * clusters / took:.0f} requests/s, server CPU {server_ms:.2f} ms/request)"
            )
        print(f"fake server RSS with {clusters} clusters and {clusters} jobs: {rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=32)
    options = parser.parse_args()
    asyncio.run(main(options.clusters, options.rounds, options.in_flight))
