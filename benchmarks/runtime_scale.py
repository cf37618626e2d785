"""Scale benchmark of the controller runtime: 1,000 and 10,000 custom resources under periodic observation.

Three processes, as in production: the Kubernetes API emulator (`flink-operator emulator`), an operator
process running the runtime's `Manager` (leader election on) with one controller, and this driver.
The controller's reconcile is cheap but real: it reads its object from the cache (status overlaid),
simulates an observation round-trip (`--observe-ms`, e.g. a Flink REST call), writes `status` (a no-op
once nothing changes) and asks to be called again after `--resync` seconds, so periodic observation
keeps running for every resource. Per scale it measures:
- change -> reconcile-start latency (p50/p99): the driver patches `spec.bump` of random resources at a
  steady rate while the periodic resyncs run; the operator notes when the first reconcile seeing each bump
  starts (CLOCK_MONOTONIC is shared by processes on Linux);
- operator RSS (current and peak) and CPU (share of one core) during steady state;
- Kubernetes writes per resource in steady state (goal 0) and reconciles per second.
Goals: p99 <= 100 ms at 1k and <= 1 s at 10k; RSS <= 150 MB at 1k and <= 300 MB at 10k.
The `--saturate` scenario makes periodic work exceed the workers (upstream starves user changes there).

Usage: python benchmarks/runtime_scale.py [--scales 1000,10000] [--resync 5] [--observe-ms 5]
       [--changes 400] [--rate 40] [--steady 12] [--saturate] [--fifo-baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCRIPT = str(Path(__file__).resolve())
sys.path.insert(0, str(REPO / "src"))

GROUP, VERSION, KIND, PLURAL = "bench.example.com", "v1", "Probe", "probes"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": PLURAL, "singular": "probe", "kind": KIND},
        "versions": [{
            "name": VERSION, "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }}},
        }],
    },
}


def resource(i: int) -> dict[str, Any]:
    """A resource about the size of a small FlinkDeployment."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": KIND,
        "metadata": {"name": f"probe-{i:05d}", "namespace": "default", "labels": {"app": "bench"}},
        "spec": {
            "image": "flink:2.3", "flinkVersion": "v2_3", "bump": 0,
            "flinkConfiguration": {f"key.number.{k}": f"value-{k}" for k in range(20)},
            "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
            "taskManager": {"resource": {"memory": "2048m", "cpu": 1}},
            "job": {"jarURI": "local:///opt/flink/examples/streaming/StateMachineExample.jar",
                    "parallelism": 2, "upgradeMode": "stateless"},
        },
    }


# ---------------------------------------------------------------------------------------------------------
# The operator process
# ---------------------------------------------------------------------------------------------------------


async def operator_main(args: argparse.Namespace) -> None:
    import logging

    from lightkube import AsyncClient, KubeConfig

    from flink_operator.config import DefaultConfiguration
    from flink_operator.runtime import ControllerContext, ControllerSpec, Kind, Manager, Request, Result

    logging.basicConfig(level=logging.WARNING)
    if args.fifo:
        # Baseline only: one FIFO class for everything, as in a single-queue controller (upstream).
        import flink_operator.runtime.runner as runner_module
        from flink_operator.runtime import Priority

        classify = runner_module.primary_change  # type: ignore[attr-defined]
        runner_module.primary_change = lambda old, new: (  # type: ignore[attr-defined]
            None if classify(old, new) is None else Priority.PERIODIC
        )
    kind = Kind(GROUP, VERSION, KIND, PLURAL)
    out = sys.stdout
    seen_bump: dict[Request, int] = {}
    reconciled: set[Request] = set()
    counters = {"reconciles": 0}

    class Observe:
        def __init__(self, ctx: ControllerContext) -> None:
            self.ctx = ctx

        async def reconcile(self, request: Request) -> Result:
            started = time.monotonic()
            counters["reconciles"] += 1
            obj = self.ctx.get(request)
            if obj is None:
                return Result.done()
            bump = int(obj["spec"].get("bump") or 0)
            if bump > seen_bump.get(request, 0):
                seen_bump[request] = bump
                out.write(f"L {bump} {started:.6f}\n")
            if args.observe_ms:
                await asyncio.sleep(args.observe_ms / 1000)
            await self.ctx.status.write(obj, {"observedGeneration": obj["metadata"].get("generation"),
                                              "state": "RUNNING"})
            if request not in reconciled:
                reconciled.add(request)
                if len(reconciled) == args.objects:
                    out.write("ALL\n")
            return Result.after(args.resync)

    settings = {
        "kubernetes.operator.reconcile.parallelism": str(args.parallelism),
        "kubernetes.operator.leader-election.lease-name": "bench-lease",
    }
    client = AsyncClient(config=KubeConfig.from_file(args.kubeconfig), namespace="default")
    manager = Manager(client, DefaultConfiguration(settings), namespace="default", identity="bench-operator",
                      health_port=-1)
    manager.add(ControllerSpec("observe", kind, Observe))
    await manager.start()

    def note_arrival(change: Any) -> None:
        if change.new is not None and change.old is not None:
            bump = int(change.new.decode()["spec"].get("bump") or 0)
            if bump > int(change.old.decode()["spec"].get("bump") or 0):
                out.write(f"E {bump} {time.monotonic():.6f}\n")

    async def report() -> None:
        while not manager.leading_and_synced:  # noqa: ASYNC110 - no event to wait on from outside
            await asyncio.sleep(0.01)
        out.write("READY\n")
        for informer in manager.informers:
            informer.add_handler(note_arrival)
        while True:
            await asyncio.sleep(1.0)
            counts = manager.runners[0].queue.pending_by_class() if manager.runners else {}
            writes = sum(n for method, n in manager.api.request_counts.items() if method != "GET")
            out.write("S " + json.dumps({
                "reconciles": counters["reconciles"], "writes": writes,
                "queued": {p.name: n for p, n in counts.items()},
                "timers": manager.runners[0].queue.timer_count if manager.runners else 0,
            }) + "\n")
            out.flush()

    reporter = asyncio.create_task(report())
    flusher = asyncio.create_task(_flush_often(out))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    reporter.cancel()
    flusher.cancel()
    await manager.stop()
    await client.close()


async def _flush_often(out: Any) -> None:
    while True:
        await asyncio.sleep(0.01)
        out.flush()


# ---------------------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_emulator(kubeconfig: Path) -> subprocess.Popen[str]:
    code = "from flink_operator.cli.main import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "emulator", "--port", "0", "--kubeconfig", str(kubeconfig),
         "--history", "200000"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "listening on" in process.stdout.readline():
            return process
    process.kill()
    raise SystemExit("the emulator did not start")


def proc_figures(pid: int) -> tuple[float, float, float]:
    """RSS MB, peak RSS MB, CPU seconds (user + system) of a process."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status if ":" in line}
    rss = int(fields["VmRSS"].split()[0]) / 1024
    peak = int(fields["VmHWM"].split()[0]) / 1024
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks
    return rss, peak, cpu


class OperatorOutput:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.starts: dict[int, float] = {}
        self.arrivals: dict[int, float] = {}
        self.ready = asyncio.Event()
        self.all_reconciled = asyncio.Event()
        self.stats: dict[str, Any] = {}
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while True:
            line = (await self.process.stdout.readline()).decode()
            if not line:
                return
            if line.startswith("L "):
                _, bump, at = line.split()
                self.starts[int(bump)] = float(at)
            elif line.startswith("E "):
                _, bump, at = line.split()
                self.arrivals[int(bump)] = float(at)
            elif line.startswith("READY"):
                self.ready.set()
            elif line.startswith("S "):
                self.stats = json.loads(line[2:])
            elif line.startswith("ALL"):
                self.all_reconciled.set()
            else:
                sys.stderr.write("operator: " + line)


async def run_scale(
    args: argparse.Namespace, objects: int, workdir: Path, fifo: bool = False
) -> dict[str, Any]:
    from lightkube import AsyncClient, KubeConfig

    from flink_operator.runtime import Kind, KubeApi

    kubeconfig = workdir / f"kubeconfig-{objects}"
    emulator = start_emulator(kubeconfig)
    operator: asyncio.subprocess.Process | None = None
    client = AsyncClient(config=KubeConfig.from_file(str(kubeconfig)), namespace="default")
    api = KubeApi(client, user_agent="bench-driver")
    kind = Kind(GROUP, VERSION, KIND, PLURAL)
    try:
        await api.create(Kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition",
                              "customresourcedefinitions", False), CRD)
        started = time.perf_counter()
        pending = iter(range(objects))

        async def creator() -> None:
            for i in pending:
                await api.create(kind, resource(i))

        await asyncio.gather(*(creator() for _ in range(16)))
        create_s = time.perf_counter() - started

        operator = await asyncio.create_subprocess_exec(
            sys.executable, SCRIPT, "--operator", "--kubeconfig", str(kubeconfig),
            "--objects", str(objects), "--resync", str(args.resync), "--observe-ms", str(args.observe_ms),
            "--parallelism", str(args.parallelism), *(["--fifo"] if fifo else []),
            stdout=asyncio.subprocess.PIPE, cwd=REPO,
        )
        output = OperatorOutput(operator)
        started = time.perf_counter()
        await asyncio.wait_for(output.ready.wait(), timeout=600)
        synced_s = time.perf_counter() - started
        await asyncio.wait_for(output.all_reconciled.wait(), timeout=600)
        first_pass_s = time.perf_counter() - started
        rss_synced, _, _ = proc_figures(operator.pid)

        # Steady state: periodic resyncs only; nothing changes, so nothing should be written.
        await asyncio.sleep(2.0)
        before = dict(output.stats)
        cpu_before = proc_figures(operator.pid)[2]
        steady_started = time.perf_counter()
        await asyncio.sleep(args.steady)
        steady_s = time.perf_counter() - steady_started
        after = dict(output.stats)
        rss, peak, cpu_after = proc_figures(operator.pid)
        steady_writes = after["writes"] - before["writes"]
        steady_reconciles = after["reconciles"] - before["reconciles"]
        cpu_share = (cpu_after - cpu_before) / steady_s

        # User changes while periodic resyncs run.
        sent: dict[int, float] = {}
        target: dict[int, str] = {}
        interval = 1.0 / args.rate
        next_at = time.monotonic()
        for bump in range(1, args.changes + 1):
            name = f"probe-{random.randrange(objects):05d}"
            now = time.monotonic()
            if now < next_at:
                await asyncio.sleep(next_at - now)
            next_at += interval
            sent[bump] = time.monotonic()
            target[bump] = name
            await api.patch(kind, name, "default", {"spec": {"bump": bump}})
        # A reconcile that sees a later bump of the same resource also serves the earlier ones.
        last_bump = {name: bump for bump, name in sorted(target.items())}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(b not in output.starts for b in last_bump.values()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)

        def served(bump: int, seen: dict[int, float]) -> float | None:
            key = target[bump]
            later = [seen[b] for b, name in target.items() if name == key and b >= bump and b in seen]
            return min(later) if later else None

        latencies, delivery, queueing = [], [], []
        for bump, at in sent.items():
            start, arrival = served(bump, output.starts), served(bump, output.arrivals)
            if start is not None:
                latencies.append(start - at)
            if arrival is not None:
                delivery.append(arrival - at)
            if start is not None and arrival is not None:
                queueing.append(start - arrival)
        queued_during = output.stats.get("queued", {})
        return {
            "objects": objects,
            "create_s": create_s,
            "synced_s": synced_s,
            "first_pass_s": first_pass_s,
            "delivery_p50_ms": 1000 * percentile(delivery, 50),
            "delivery_p99_ms": 1000 * percentile(delivery, 99),
            "queueing_p50_ms": 1000 * percentile(queueing, 50),
            "queueing_p99_ms": 1000 * percentile(queueing, 99),
            "p50_ms": 1000 * percentile(latencies, 50),
            "p99_ms": 1000 * percentile(latencies, 99),
            "max_ms": 1000 * max(latencies),
            "samples": len(latencies),
            "missing": len(sent) - len(latencies),
            "rss_synced_mb": rss_synced,
            "rss_mb": rss,
            "peak_rss_mb": peak,
            "cpu_share": cpu_share,
            "steady_writes_per_resource": steady_writes / objects,
            "reconciles_per_s": steady_reconciles / steady_s,
            "periodic_backlog": queued_during.get("PERIODIC", 0),
            "fifo": fifo,
        }
    finally:
        if operator is not None and operator.returncode is None:
            operator.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(operator.wait(), 30)
            except TimeoutError:
                operator.kill()
        await client.close()
        emulator.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            emulator.wait(30)
        if emulator.poll() is None:
            emulator.kill()


def describe(r: dict[str, Any]) -> str:
    goal_p99, goal_rss = (100, 150) if r["objects"] <= 1000 else (1000, 300)
    return "\n".join([
        f"{r['objects']:>6} resources: created in {r['create_s']:.1f} s; operator leading with caches synced "
        f"after {r['synced_s']:.1f} s, every resource reconciled after {r['first_pass_s']:.1f} s",
        f"        change->reconcile start: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
        f"(goal <= {goal_p99} ms), max {r['max_ms']:.1f} ms, {r['samples']} samples, {r['missing']} missing",
        f"          of which API server + watch delivery p50 {r['delivery_p50_ms']:.1f} ms, "
        f"p99 {r['delivery_p99_ms']:.1f} ms; queue to reconcile start p50 {r['queueing_p50_ms']:.1f} ms, "
        f"p99 {r['queueing_p99_ms']:.1f} ms",
        f"        operator RSS {r['rss_mb']:.0f} MB (peak {r['peak_rss_mb']:.0f} MB, goal <= {goal_rss} MB), "
        f"CPU {100 * r['cpu_share']:.0f} % of one core",
        f"        steady state: {r['steady_writes_per_resource']:.3f} writes per resource (goal 0), "
        f"{r['reconciles_per_s']:.0f} periodic reconciles/s, periodic backlog {r['periodic_backlog']}",
    ])


async def driver_main(args: argparse.Namespace) -> None:
    import tempfile

    scales = [int(s) for s in args.scales.split(",")]
    if args.saturate:
        args.observe_ms = max(args.observe_ms, 50.0)
        args.resync = min(args.resync, 5.0)
    print(f"runtime scale benchmark: resync {args.resync:g} s, observe {args.observe_ms:g} ms per "
          f"reconcile, parallelism {args.parallelism}, {args.changes} changes at {args.rate:g}/s, "
          f"steady {args.steady:g} s")
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for objects in scales:
            result = await run_scale(args, objects, Path(workdir))
            results.append(result)
            print(describe(result), flush=True)
            if args.fifo_baseline:
                baseline = await run_scale(args, objects, Path(workdir), fifo=True)
                results.append(baseline)
                print(
                    f"        baseline with one FIFO queue for all work (as upstream): p50 "
                    f"{baseline['p50_ms']:.1f} ms, p99 {baseline['p99_ms']:.1f} ms, "
                    f"{baseline['missing']} missing -> p99 {baseline['p99_ms'] / result['p99_ms']:.1f}x "
                    "the priority queue's",
                    flush=True,
                )
    if args.json:
        print(json.dumps(results, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1000,10000")
    parser.add_argument("--resync", type=float, default=5.0, help="periodic reconcile interval (s)")
    parser.add_argument("--observe-ms", type=float, default=5.0, help="simulated observation per reconcile")
    parser.add_argument("--parallelism", type=int, default=50)
    parser.add_argument("--changes", type=int, default=400)
    parser.add_argument("--rate", type=float, default=40.0, help="user changes per second")
    parser.add_argument("--steady", type=float, default=12.0, help="steady-state window (s), > resync")
    parser.add_argument("--saturate", action="store_true",
                        help="periodic work beyond the workers' capacity (observe >= 50 ms, resync <= 5 s)")
    parser.add_argument("--fifo-baseline", action="store_true",
                        help="also run each scale with one FIFO queue for all work, for comparison")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fifo", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--operator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--kubeconfig", help=argparse.SUPPRESS)
    parser.add_argument("--objects", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.operator:
        asyncio.run(operator_main(args))
    else:
        asyncio.run(driver_main(args))


if __name__ == "__main__":
    main()
