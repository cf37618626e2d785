"""The operator under measurement, in a process of its own, reporting what the benchmarks time.

Runs the real wiring (`flink_operator.app.start_operator`: configuration file, plugins with the default
validator, leader election, the FlinkDeployment controller) against the emulator, with either the local
Flink runtime (from the configuration) or `SplitFakeFlinkService` (the fake Flink in another process).
It writes lines to stdout for the driver (times are CLOCK_MONOTONIC, shared by the processes of a Linux
machine):

- `READY`: leading, caches synced;
- `L <namespace/name> <generation> <t>`: the first reconcile of a resource that sees a new generation
  started at t (the reconciler is wrapped; the reconcile itself is unchanged);
- `E <namespace/name> <generation> <t>`: the operator's informer received that generation;
- `F <call> <namespace/name> <start> <end>`: a cluster-lifecycle call of the FlinkService (deploy, cancel,
  delete) and when it ran; with `--capture-dir`, each deploy request is also pickled there as
  `<name>-<generation>.pickle` (so a baseline can start exactly the cluster the operator started);
- `G {json}` at the end: objects tracked by the garbage collector (count, frozen, most common types);
- `S {json}` every second: reconciles started, the time spent in reconciles so far (`busy_ms`), Kubernetes
  requests by method, queue contents, reconciles deferred by the rate limiter, and within that second the
  most reconciles in flight (`running_max`), the longest event-loop stall (`lag_max_ms`) and the longest
  garbage collection (`gc_max_ms`).

Not guaranteed: the wrapper reads the object from the cache once more per reconcile (a dict lookup).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def foreign_plugins_off() -> dict[str, str]:
    """Configuration that leaves out plugins that installed distributions other than the operator publish
    through entry points (a development environment has the test suite's sample plugins installed; a
    user's operator does not)."""
    import importlib.metadata

    values = {}
    for kind in ("validators", "mutators", "listeners"):
        for point in importlib.metadata.entry_points(group=f"flink_operator.{kind}"):
            distribution = point.dist.name if point.dist is not None else ""
            if distribution.replace("_", "-") != "flink-operator":
                values[f"kubernetes.operator.plugins.{kind}.{point.name}.enabled"] = "false"
    return values


TRACED_CALLS = ("deploy_application_cluster", "deploy_session_cluster", "cancel_job", "delete_cluster")


def trace_calls(cls: type, out: Any, capture_dir: Path | None) -> None:
    """Wrap the cluster-lifecycle methods of a FlinkService class to report when they ran."""
    import pickle

    def wrap(name: str, original: Any) -> Any:
        async def traced(self: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return await original(self, target, *args, **kwargs)
            finally:
                ref = getattr(target, "ref", target)
                out.write(f"F {name} {ref.namespace}/{ref.name} {started:.6f} {time.monotonic():.6f}\n")
                if capture_dir is not None and name.startswith("deploy"):
                    path = capture_dir / f"{ref.name}-{target.generation}.pickle"
                    path.write_bytes(pickle.dumps(target))

        return traced

    for name in TRACED_CALLS:
        setattr(cls, name, wrap(name, getattr(cls, name)))


async def run(args: argparse.Namespace) -> None:
    from flink_operator.app import OperatorSettings, start_operator
    from flink_operator.controllers.deployment.controller import FlinkDeploymentController
    from flink_operator.flink.service import FlinkService
    from flink_operator.runtime import Request, Result

    logging.basicConfig(level=getattr(logging, args.log_level), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    out = sys.stdout
    seen: dict[Request, int] = {}
    counters: Counter[str] = Counter()
    original = FlinkDeploymentController.reconcile

    async def traced(self: FlinkDeploymentController, request: Request) -> Result:
        started = time.monotonic()
        counters["reconciles"] += 1
        raw = self.ctx.get(request)
        if raw is not None:
            generation = int(raw["metadata"].get("generation") or 0)
            if generation > seen.get(request, 0):
                seen[request] = generation
                out.write(f"L {request.namespace}/{request.name} {generation} {started:.6f}\n")
        try:
            return await original(self, request)
        finally:
            counters["busy_ms"] += round(1000 * (time.monotonic() - started))

    FlinkDeploymentController.reconcile = traced  # type: ignore[method-assign]

    flink: FlinkService | None = None
    if args.flink_rpc:
        from operator_fake_flink import SplitFakeFlinkService

        flink = SplitFakeFlinkService(args.flink_rpc, args.flink_token, ready_delay=args.ready_delay)
        trace_calls(SplitFakeFlinkService, out, None)
    else:
        from flink_operator.flink.local.service import LocalFlinkService

        trace_calls(LocalFlinkService, out, Path(args.capture_dir) if args.capture_dir else None)
    operator = await start_operator(
        OperatorSettings(
            config_file=Path(args.config),
            kubeconfig=Path(args.kubeconfig),
            environ={},
            namespace="default",
            identity="bench-operator",
            health_port=-1,
        ),
        flink_service=flink,
    )
    manager = operator.manager

    def note_arrival(change: Any) -> None:
        if change.new is None:
            return
        document = change.new.decode()
        metadata = document.get("metadata") or {}
        generation = int(metadata.get("generation") or 0)
        old_generation = 0
        if change.old is not None:
            old_generation = int((change.old.decode().get("metadata") or {}).get("generation") or 0)
        if generation > old_generation:
            out.write(f"E {metadata.get('namespace')}/{metadata.get('name')} {generation} "
                      f"{time.monotonic():.6f}\n")

    async def report() -> None:
        while not manager.leading_and_synced:  # noqa: ASYNC110 - no event to wait on from outside
            await asyncio.sleep(0.01)
        for informer in manager.informers:
            informer.add_handler(note_arrival)
        out.write("READY\n")
        if args.freeze_gc:
            freezer.append(asyncio.create_task(freeze_gc_often(args.freeze_gc)))
        while True:
            await asyncio.sleep(1.0)
            runner = manager.runners[0] if manager.runners else None
            queued = runner.queue.pending_by_class() if runner is not None else {}
            out.write("S " + json.dumps({
                "reconciles": counters["reconciles"],
                "busy_ms": counters["busy_ms"],
                "requests": dict(manager.api.request_counts),
                "queued": {p.name: n for p, n in queued.items()},
                "running": runner.running if runner is not None else 0,
                "running_max": window["running_max"],
                "lag_max_ms": round(window["lag_max_ms"]),
                "gc_max_ms": round(window["gc_max_ms"]),
                "rate_limited": runner.stats.rate_limited if runner is not None else 0,
                "rpc_calls": getattr(flink, "rpc_calls", 0),
            }) + "\n")
            window.update(running_max=0, lag_max_ms=0.0, gc_max_ms=0.0)

    window = {"running_max": 0, "lag_max_ms": 0.0, "gc_max_ms": 0.0}
    gc_started = [0.0]

    def note_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            window["gc_max_ms"] = max(window["gc_max_ms"], 1000 * (time.perf_counter() - gc_started[0]))

    gc.callbacks.append(note_gc)

    async def flush_often() -> None:
        """Flushes the report every 10 ms, and notes how late this loop wakes (event-loop lag) and the most
        reconciles in flight within each report's second."""
        while True:
            due = time.monotonic() + 0.01
            await asyncio.sleep(0.01)
            window["lag_max_ms"] = max(window["lag_max_ms"], 1000 * (time.monotonic() - due))
            if manager.runners:
                window["running_max"] = max(window["running_max"], manager.runners[0].running)
            out.flush()

    freezer: list[asyncio.Task[None]] = []

    async def freeze_gc_often(interval: float) -> None:
        """An experiment (off by default): move what exists now out of the collector's reach, as the
        emulator does, so full collections stop scanning the long-lived caches."""
        while True:
            gc.collect()
            gc.freeze()
            await asyncio.sleep(interval)

    tasks = [asyncio.create_task(report()), asyncio.create_task(flush_often())]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    for task in tasks + freezer:
        task.cancel()
    counts = Counter(type(o).__qualname__ for o in gc.get_objects())
    out.write("G " + json.dumps({"tracked": sum(counts.values()), "frozen": gc.get_freeze_count(),
                                 "top": counts.most_common(12)}) + "\n")
    await operator.stop()
    if flink is not None and hasattr(flink, "aclose"):
        await flink.aclose()
    out.flush()


class OperatorOutput:
    """What the operator process reports (see `operator_process`)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.starts: dict[str, list[tuple[int, float]]] = {}
        self.arrivals: dict[str, list[tuple[int, float]]] = {}
        self.ready = asyncio.Event()
        self.stats: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str, float, float]] = []
        self.gc_report: dict[str, Any] = {}
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := (await self.process.stdout.readline()).decode():
            kind, _, rest = line.partition(" ")
            if kind in ("L", "E"):
                key, generation, at = rest.split()
                target = self.starts if kind == "L" else self.arrivals
                target.setdefault(key, []).append((int(generation), float(at)))
            elif kind == "F":
                call, key, started, ended = rest.split()
                self.calls.append((call, key, float(started), float(ended)))
            elif kind == "G":
                self.gc_report = json.loads(rest)
            elif kind == "S":
                self.stats = json.loads(rest)
                self.history.append(self.stats)
            elif line.startswith("READY"):
                self.ready.set()
            else:
                sys.stderr.write("operator: " + line)

    @staticmethod
    def first_seen(seen: dict[str, list[tuple[int, float]]], key: str, generation: int) -> float | None:
        times = [at for g, at in seen.get(key, []) if g >= generation]
        return min(times) if times else None

    def first_call(self, call: str, key: str, after: float) -> float:
        """When the first `call` for `key` at or after `after` started (NaN if there was none)."""
        found = [s for c, k, s, _ in self.calls if c == call and k == key and s >= after]
        return min(found) if found else float("nan")

    def writes(self) -> int:
        return sum(n for method, n in (self.stats.get("requests") or {}).items() if method != "GET")


async def start_operator_process(kubeconfig: Path, config_file: Path, *extra: str) -> OperatorOutput:
    """Start this file as the operator process; its report is read in the background."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--kubeconfig", str(kubeconfig), "--config", str(config_file), *extra,
        stdout=asyncio.subprocess.PIPE, cwd=REPO,
    )
    return OperatorOutput(process)


async def stop_process(process: asyncio.subprocess.Process, grace: float = 60.0) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            process.kill()
            await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--config", required=True, help="the operator's configuration file")
    parser.add_argument("--flink-rpc", help="lifecycle RPC of the fake Flink process (else: the configured "
                        "runtime)")
    parser.add_argument("--flink-token", default="")
    parser.add_argument("--ready-delay", type=float, default=0.1)
    parser.add_argument("--capture-dir", help="where to pickle the deploy requests (local runtime)")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--freeze-gc", type=float, default=0.0, metavar="SECONDS",
                        help="experiment: gc.collect() + gc.freeze() every SECONDS once leading (0: off)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
