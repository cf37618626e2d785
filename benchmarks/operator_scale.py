"""Scale benchmark of the operator: 1,000 and 10,000 FlinkDeployments on the emulator and a fake Flink.

Four processes: the Kubernetes API emulator (`operator_emulator`), the fake Flink REST server with its
cluster lifecycle (`operator_fake_flink`), the operator under measurement (`operator_process`: the real
wiring and FlinkDeployment controller; it calls the fake clusters' REST APIs itself) and this driver.
Per count it:

1. creates N FlinkDeployments (savepoint upgrade mode) through the API, 32 requests in flight, then starts
   the operator and waits until every one is STABLE (progress printed);
2. steady state: no user changes for `--steady` seconds while periodic observation runs (every resource
   is observed every `--interval` seconds: JobManager + job status over REST); counts the Kubernetes
   writes in that window from the emulator's request log (goal 0 per resource; the leader's Lease renewals
   are shown apart), the operator's CPU share and reconciles per second;
3. user changes: bumps `spec.restartNonce` of random resources at `--rate` per second while periodic
   observation goes on; latency = from just before the PATCH is sent until the operator's first reconcile
   that sees the new generation starts (split into API + watch delivery and queueing);
4. the operator's RSS (now and peak) and CPU.

Goals: change -> reconcile start p99 <= 100 ms at 1k, <= 1 s at 10k; operator RSS <= 150 MB at 1k,
<= 300 MB at 10k; 0 Kubernetes writes per resource in steady state.

Usage: python benchmarks/operator_scale.py [--count 1000,10000] [--interval S] [--steady S]
       [--changes 200] [--rate 2] [--quick] [--set KEY=VALUE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from operator_emulator import EmulatorProcess, start_emulator_process  # noqa: E402
from operator_fake_flink import FlinkProcess, start_flink_process  # noqa: E402
from operator_figures import Row, machine_load, percentile, proc_figures, table  # noqa: E402
from operator_process import (  # noqa: E402
    OperatorOutput,
    foreign_plugins_off,
    start_operator_process,
    stop_process,
)

NAMESPACE = "default"
PATH = f"/apis/flink.apache.org/v1beta1/namespaces/{NAMESPACE}/flinkdeployments"


def deployment(i: int) -> dict[str, Any]:
    """A small FlinkDeployment: an application cluster with one stateful job, upgraded with a savepoint."""
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": f"job-{i:05d}", "namespace": NAMESPACE, "labels": {"team": f"t{i % 10}"}},
        "spec": {
            "image": "flink:2.3",
            "flinkVersion": "v2_3",
            "serviceAccount": "flink",
            "flinkConfiguration": {
                "taskmanager.numberOfTaskSlots": "1",
                "execution.checkpointing.dir": f"file:///flink-data/checkpoints/job-{i:05d}",
                "execution.checkpointing.savepoint-dir": f"file:///flink-data/savepoints/job-{i:05d}",
                "state.backend.type": "hashmap",
                "restart-strategy.type": "fixed-delay",
            },
            "jobManager": {"resource": {"memory": "1g", "cpu": 1}},
            "taskManager": {"resource": {"memory": "1g", "cpu": 1}},
            "job": {
                "jarURI": "local:///opt/flink/usrlib/counter.jar",
                "entryClass": "demo.CounterJob",
                "args": ["--keys", "16"],
                "parallelism": 1,
                "upgradeMode": "savepoint",
                "state": "running",
            },
        },
    }


async def lifecycle_counts(http: aiohttp.ClientSession, base: str) -> Counter[str]:
    async with http.get(base + PATH) as response:
        items = (await response.json())["items"]
    return Counter(str((item.get("status") or {}).get("lifecycleState")) for item in items)


async def create_all(http: aiohttp.ClientSession, base: str, count: int) -> None:
    pending = iter(range(count))

    async def creator() -> None:
        for i in pending:
            async with http.post(base + PATH, json=deployment(i)) as response:
                if response.status != 201:
                    text = await response.text()
                    raise SystemExit(f"creating job-{i:05d} failed: {response.status} {text}")

    await asyncio.gather(*(creator() for _ in range(32)))


def operator_config(args: argparse.Namespace) -> dict[str, str]:
    """Defaults, except what the scenario needs: the periodic interval under test and the Lease's name."""
    config = {
        "kubernetes.operator.reconcile.interval": f"{args.interval:g} s",
        "kubernetes.operator.leader-election.lease-name": "bench-operator-lease",
        **foreign_plugins_off(),
    }
    for item in args.set or []:
        key, _, value = item.partition("=")
        config[key] = value
    return config


async def wait_stable(http: aiohttp.ClientSession, base: str, count: int, within: float) -> float:
    started = time.monotonic()
    next_print = started + 10
    while True:
        counts = await lifecycle_counts(http, base)
        if counts.get("STABLE", 0) == count:
            return time.monotonic() - started
        now = time.monotonic()
        if now - started > within:
            async with http.get(base + PATH) as response:
                items = (await response.json())["items"]
            failed = [item for item in items if (item.get("status") or {}).get("lifecycleState") == "FAILED"]
            example = json.dumps((failed[0].get("status") if failed else None), indent=1)[:3000]
            raise SystemExit(f"not every resource became STABLE within {within:.0f} s: {dict(counts)}; "
                             f"the status of a FAILED one: {example}")
        if now >= next_print:
            print(f"    ... {now - started:.0f} s: {dict(counts)}", flush=True)
            next_print = now + 10
        await asyncio.sleep(1.0 if count <= 2000 else 3.0)


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has used (user + nice + system), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return (int(fields[0]) + int(fields[1]) + int(fields[2])) / os.sysconf("SC_CLK_TCK")


async def steady_state(
    args: argparse.Namespace, emulator: EmulatorProcess, output: OperatorOutput, pid: int, flink_pid: int
) -> dict[str, Any]:
    await emulator.clear_log()
    await asyncio.sleep(1.5)  # a fresh stats line
    before, cpu_before = dict(output.stats), proc_figures(pid).cpu_s
    others_before = [proc_figures(p).cpu_s for p in (emulator.pid, flink_pid, os.getpid())]
    machine_before = machine_busy_s()
    first_stats = len(output.history)
    started = time.monotonic()
    await asyncio.sleep(args.steady)
    took = time.monotonic() - started
    await asyncio.sleep(1.1)
    after, cpu_after = dict(output.stats), proc_figures(pid).cpu_s
    others = [(proc_figures(p).cpu_s - b) / (took + 1.1)
              for p, b in zip((emulator.pid, flink_pid, os.getpid()), others_before, strict=True)]
    machine = (machine_busy_s() - machine_before) / (took + 1.1)
    window = output.history[first_stats:]
    writes = await emulator.writes()
    by_resource: Counter[str] = Counter()
    for key, n in writes.items():
        _, resource, _ = key.split(" ")
        by_resource[resource] += n
    return {
        "steady_s": took,
        "writes": writes,
        "writes_by_resource": dict(by_resource),
        "reconciles_per_s": (after["reconciles"] - before["reconciles"]) / (took + 1.1),
        "steady_busy": (after["busy_ms"] - before["busy_ms"]) / 1000 / (took + 1.1),
        "cpu_share": (cpu_after - cpu_before) / (took + 1.1),
        "others_cpu_share": others,
        "machine_cpu_share": machine,
        "queued": after.get("queued", {}),
        "steady_running_max": max((s.get("running_max", 0) for s in window), default=0),
        "steady_running_series": [s.get("running_max", 0) for s in window],
        "steady_lag_ms": sorted(s.get("lag_max_ms", 0) for s in window),
        "steady_gc_ms": max((s.get("gc_max_ms", 0) for s in window), default=0),
    }


async def user_changes(
    args: argparse.Namespace, http: aiohttp.ClientSession, base: str, output: OperatorOutput, pid: int
) -> dict[str, Any]:
    sent: list[tuple[str, int, float]] = []
    first_stats = len(output.history)
    interval = 1.0 / args.rate
    next_at = time.monotonic()
    cpu_before = proc_figures(pid).cpu_s
    started = time.monotonic()
    for nonce in range(1, args.changes + 1):
        name = f"job-{random.randrange(args.current_count):05d}"
        now = time.monotonic()
        if now < next_at:
            await asyncio.sleep(next_at - now)
        next_at += interval
        at = time.monotonic()
        async with http.patch(
            f"{base}{PATH}/{name}",
            data=json.dumps({"spec": {"restartNonce": nonce}}),
            headers={"Content-Type": "application/merge-patch+json"},
        ) as response:
            body = await response.json()
            if response.status != 200:
                raise SystemExit(f"changing {name} failed: {response.status} {body}")
        sent.append((f"{NAMESPACE}/{name}", int(body["metadata"]["generation"]), at))
    changes_s = time.monotonic() - started
    first_call = len(output.calls)
    cpu_share = (proc_figures(pid).cpu_s - cpu_before) / changes_s
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(  # noqa: ASYNC110 - the operator reports through a pipe
        output.first_seen(output.starts, key, g) is None for key, g, _ in sent
    ):
        await asyncio.sleep(0.05)
    during = output.history[first_stats:]
    durations: dict[str, list[float]] = {}
    for call, _, begun, ended in output.calls[:first_call]:
        if begun >= started:
            durations.setdefault(call, []).append(ended - begun)
    latencies, delivery, queueing = [], [], []
    for key, generation, at in sent:
        start = output.first_seen(output.starts, key, generation)
        arrival = output.first_seen(output.arrivals, key, generation)
        if start is not None:
            latencies.append(start - at)
        if arrival is not None:
            delivery.append(arrival - at)
        if start is not None and arrival is not None:
            queueing.append(start - arrival)
    return {
        "p50_ms": 1000 * percentile(latencies, 50),
        "p99_ms": 1000 * percentile(latencies, 99),
        "max_ms": 1000 * max(latencies, default=float("nan")),
        "delivery_p50_ms": 1000 * percentile(delivery, 50),
        "delivery_p99_ms": 1000 * percentile(delivery, 99),
        "queueing_p50_ms": 1000 * percentile(queueing, 50),
        "queueing_p99_ms": 1000 * percentile(queueing, 99),
        "samples": len(latencies),
        "missing": len(sent) - len(latencies),
        "changes_cpu_share": cpu_share,
        "changes_busy": (during[-1]["busy_ms"] - during[0]["busy_ms"]) / 1000 / max(1, len(during) - 1)
        if len(during) > 1 else float("nan"),
        "flink_calls": {call: (len(d), 1000 * percentile(d, 50), 1000 * percentile(d, 99))
                        for call, d in sorted(durations.items())},
        "max_running": max((s.get("running_max", 0) for s in during), default=0),
        "changes_running_series": [s.get("running_max", 0) for s in during],
        "changes_lag_ms": sorted(s.get("lag_max_ms", 0) for s in during),
        "changes_gc_ms": max((s.get("gc_max_ms", 0) for s in during), default=0),
        "max_queued": {
            cls: max((s.get("queued", {}).get(cls, 0) for s in during), default=0)
            for cls in ("USER", "EVENT", "PERIODIC")
        },
    }


async def run_count(options: argparse.Namespace, count: int, workdir: Path) -> dict[str, Any]:
    args = argparse.Namespace(**vars(options))
    args.current_count = count
    if args.interval is None:
        args.interval = 15.0 if count <= 2000 else 60.0
    if args.steady is None:
        args.steady = max(30.0, 1.5 * args.interval)
    kubeconfig = workdir / f"kubeconfig-{count}"
    config_file = workdir / f"config-{count}.yaml"
    config_file.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in operator_config(args).items()))
    emulator = await start_emulator_process(kubeconfig, history=max(100_000, 12 * count))
    flink: FlinkProcess | None = None
    operator: asyncio.subprocess.Process | None = None
    result: dict[str, Any] = {"count": count, "interval_s": args.interval, "load_before": machine_load()}
    connector = aiohttp.TCPConnector(limit=64)
    http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300))
    try:
        flink = await start_flink_process(args.ready_delay)
        started = time.monotonic()
        await create_all(http, emulator.url, count)
        result["create_s"] = time.monotonic() - started
        print(f"  {count} FlinkDeployments created in {result['create_s']:.1f} s", flush=True)
        output = await start_operator_process(
            kubeconfig, config_file, "--ready-delay", str(args.ready_delay), *flink.operator_args(),
            *(["--freeze-gc", str(args.freeze_gc)] if args.freeze_gc else []),
        )
        operator = output.process
        started = time.monotonic()
        await asyncio.wait_for(output.ready.wait(), timeout=600)
        result["synced_s"] = time.monotonic() - started
        result["stable_s"] = await wait_stable(http, emulator.url, count, within=args.stable_within)
        result["rss_stable_mb"] = proc_figures(operator.pid).rss_mb
        print(f"  all STABLE {result['stable_s']:.1f} s after the operator was leading with synced caches; "
              f"steady state for {args.steady:g} s ...", flush=True)
        await asyncio.sleep(args.settle)
        result.update(await steady_state(args, emulator, output, operator.pid, flink.pid))
        print(f"  {args.changes} restartNonce changes at {args.rate:g}/s ...", flush=True)
        result.update(await user_changes(args, http, emulator.url, output, operator.pid))
        figures = proc_figures(operator.pid)
        result.update(rss_mb=figures.rss_mb, peak_rss_mb=figures.peak_rss_mb, cpu_total_s=figures.cpu_s,
                      emulator_rss_mb=proc_figures(emulator.pid).rss_mb,
                      flink_rss_mb=proc_figures(flink.pid).rss_mb, load_after=machine_load())
        return result
    finally:
        if operator is not None:
            await stop_process(operator)
            await output.task
            result["gc"] = output.gc_report
        await http.close()
        if flink is not None:
            await flink.stop()
        await emulator.stop()


def _median(values: list[float]) -> float:
    return percentile(values, 50) if values else 0.0


def describe(r: dict[str, Any]) -> str:
    count = r["count"]
    goal_p99, goal_rss = (100.0, 150.0) if count <= 1000 else (1000.0, 300.0)
    by_resource = r["writes_by_resource"]
    lease_writes = sum(n for res, n in by_resource.items() if res.startswith("leases"))
    resource_writes = sum(n for res, n in by_resource.items() if not res.startswith("leases"))
    per_resource = resource_writes / count
    rows = [
        Row("change -> reconcile start p50", "", f"{r['p50_ms']:.1f} ms", None),
        Row("change -> reconcile start p99", f"<= {goal_p99:g} ms", f"{r['p99_ms']:.1f} ms "
            f"(max {r['max_ms']:.0f} ms, {r['samples']} samples, {r['missing']} missing)",
            r["p99_ms"] <= goal_p99 and r["missing"] == 0),
        Row("  of which API + watch delivery", "", f"p50 {r['delivery_p50_ms']:.1f} ms, "
            f"p99 {r['delivery_p99_ms']:.1f} ms", None),
        Row("  of which queue -> reconcile start", "", f"p50 {r['queueing_p50_ms']:.1f} ms, "
            f"p99 {r['queueing_p99_ms']:.1f} ms", None),
        Row("operator RSS", f"<= {goal_rss:g} MB", f"{r['rss_mb']:.0f} MB (peak {r['peak_rss_mb']:.0f} MB, "
            f"{r['rss_stable_mb']:.0f} MB when all STABLE)", r["peak_rss_mb"] <= goal_rss),
        Row("operator CPU, steady state", "", f"{100 * r['cpu_share']:.0f} % of one core "
            f"({r['reconciles_per_s']:.0f} periodic reconciles/s, {r['steady_busy']:.1f} in flight on "
            "average)", None),
        Row("operator CPU, during user changes", "", f"{100 * r['changes_cpu_share']:.0f} % of one core",
            None),
        Row("Kubernetes writes per resource, steady", "0", f"{per_resource:.3f} ({resource_writes} in "
            f"{r['steady_s']:.0f} s; Lease renewals apart: {lease_writes})", resource_writes == 0),
    ]
    head = (f"{count} FlinkDeployments, every one observed every {r['interval_s']:g} s "
            f"(kubernetes.operator.reconcile.interval); {r['load_before']}")
    notes = [
        f"  created in {r['create_s']:.1f} s; operator leading and synced after {r['synced_s']:.1f} s; all "
        f"STABLE after {r['stable_s']:.1f} s more",
        f"  other processes: emulator RSS {r['emulator_rss_mb']:.0f} MB, fake Flink RSS "
        f"{r['flink_rss_mb']:.0f} MB; {r['load_after']} at the end",
    ]
    emulator_cpu, flink_cpu, driver_cpu = r["others_cpu_share"]
    notes.append(f"  steady-state CPU (% of one core): emulator {100 * emulator_cpu:.0f}, fake Flink "
                 f"{100 * flink_cpu:.0f}, driver {100 * driver_cpu:.0f}; the whole machine "
                 f"{100 * r['machine_cpu_share']:.0f} of {100 * (os.cpu_count() or 1)}")
    notes.append(f"  steady state: at most {r['steady_running_max']} reconciles in flight; event-loop stalls "
                 f"per second: median {_median(r['steady_lag_ms']):.0f} ms, "
                 f"max {max(r['steady_lag_ms'] or [0]):.0f} ms (longest garbage collection "
                 f"{r['steady_gc_ms']} ms)")
    notes.append(f"  while changes were made: {r['changes_busy']:.1f} reconciles in flight on average, "
                 f"at most {r['max_running']} at once, queued "
                 f"at most {r['max_queued']}; cluster calls (count, p50/p99 ms): "
                 + ", ".join(f"{c} {n} {p50:.0f}/{p99:.0f}" for c, (n, p50, p99) in r["flink_calls"].items()))
    notes.append(f"  event-loop stalls per second while changes were made: median "
                 f"{_median(r['changes_lag_ms']):.0f} ms, max {max(r['changes_lag_ms'] or [0]):.0f} ms "
                 f"(longest garbage collection {r['changes_gc_ms']} ms)")
    gc_report = r.get("gc") or {}
    if gc_report:
        top = ", ".join(f"{name} {n}" for name, n in gc_report["top"][:6])
        notes.append(f"  objects tracked by the garbage collector at the end: {gc_report['tracked']} "
                     f"({gc_report['frozen']} frozen); most: {top}")
    notes.append("  most reconciles in flight, second by second: steady "
                 + " ".join(map(str, r["steady_running_series"][:60]))
                 + "; during changes " + " ".join(map(str, r["changes_running_series"][:60])))
    if resource_writes:
        notes.append(f"  steady-state writes: {r['writes']}")
    return table(head, rows) + "\n" + "\n".join(notes)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", default="1000,10000", help="resource counts, comma-separated")
    parser.add_argument("--interval", type=float,
                        help="kubernetes.operator.reconcile.interval in seconds (default: the Helm chart's "
                        "15 s up to 2,000 resources, the operator's default 60 s above)")
    parser.add_argument("--steady", type=float,
                        help="steady-state window in seconds (default: 1.5 x the interval, at least 30)")
    parser.add_argument("--settle", type=float, default=5.0, help="pause after all are STABLE (s)")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2.0,
                        help="user changes per second (each one a savepoint upgrade: at 10/s the upgrades "
                        "alone keep the operator's CPU near one core at 1k)")
    parser.add_argument("--ready-delay", type=float, default=0.5,
                        help="seconds until a new fake JobManager answers REST")
    parser.add_argument("--stable-within", type=float, default=1800.0)
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="another operator configuration value (repeatable)")
    parser.add_argument("--freeze-gc", type=float, default=0.0, metavar="SECONDS",
                        help="experiment: the operator process freezes its objects out of the garbage "
                        "collector every SECONDS (0: off, as the operator ships)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run to check the benchmark works (figures are not meaningful)")
    parser.add_argument("--json", action="store_true", help="also print the raw figures as JSON")
    args = parser.parse_args()
    if args.quick:
        args.interval, args.steady, args.settle = min(args.interval or 2.0, 2.0), 3.0, 0.5
        args.changes, args.rate = min(args.changes, 10), 20.0
        args.set = [*(args.set or []), "kubernetes.operator.observer.progress-check.interval=1 s",
                    "kubernetes.operator.observer.rest-ready.delay=0 s"]
    counts = [int(c) for c in args.count.split(",")]
    print(f"operator scale benchmark: {machine_load()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="operator-scale-") as workdir:
        for count in counts:
            print(f"{count} FlinkDeployments:", flush=True)
            result = await run_count(args, count, Path(workdir))
            results.append(result)
            print(describe(result), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
