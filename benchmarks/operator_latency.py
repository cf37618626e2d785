"""What the operator adds to real Flink's own time: apply -> RUNNING and savepoint-upgrade downtime.

For each Flink version (2.3; 1.20 when `.venv-flink120` is installed and `--versions` names it) and each
round, two paths do the same thing with the counter job in an application cluster on this machine:

- through the operator: the emulator and the operator (the local runtime; the configuration `flink-operator
  local up` gives users, see `--profile`) each run in a process of their own; this driver creates the
  FlinkDeployment through the API, then bumps `spec.restartNonce` (upgradeMode savepoint), then deletes it;
- directly (the baseline): `LocalFlinkService` in this process starts exactly the cluster the operator
  started (its deploy requests are captured in the first round), then stop-with-savepoint, removes the
  cluster and starts a new application cluster from the savepoint, as a person scripting Flink would.
  After the first round the order of the two paths alternates.

Both paths are observed the same way: a sampler polls the cluster's REST API every `--sample-ms`
(`/jobs/overview`, then `/jobs/:id` for the vertices) and notes when a job and all its vertices are RUNNING.
- apply -> RUNNING: from the create call (operator) or the deploy call (direct) to the first such sample;
- downtime: from the last sample with the old job RUNNING to the first sample with the new one RUNNING.
The Flink configuration sets `web.refresh-interval: 100` (ms) on both paths, so that Flink's REST cache
does not hide the moment vertices start. Also printed: when the operator wrote RUNNING / STABLE into the
status, and where the operator's time went (create -> deploy call, change -> stop-with-savepoint call).
Goals: operator / direct <= 1.05 for apply -> RUNNING and <= 1.10 for the downtime (medians).

Usage: python benchmarks/operator_latency.py [--rounds 3] [--versions v2_3,v1_20] [--profile local-up]
       [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import pickle
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from operator_emulator import start_emulator_process  # noqa: E402
from operator_figures import Row, machine_load, spread, table  # noqa: E402
from operator_process import OperatorOutput, foreign_plugins_off, start_operator_process, stop_process  # noqa: E402
from tests.support.flink_local import flink_home_for, kill_all, processes_with_marker  # noqa: E402

from flink_operator.config import DefaultConfiguration  # noqa: E402
from flink_operator.flink.local.jobs import COUNTER_JOB_CLASS, build_counter_job  # noqa: E402
from flink_operator.flink.local.service import LocalFlinkService  # noqa: E402
from flink_operator.flink.rest import (  # noqa: E402
    FlinkRestClient,
    FlinkRestError,
    JobState,
    RetryPolicy,
    all_vertices_running,
)
from flink_operator.flink.service import ClusterRef, ClusterRequest, SuspendMode  # noqa: E402

NAMESPACE = "default"
PATH = f"/apis/flink.apache.org/v1beta1/namespaces/{NAMESPACE}/flinkdeployments"
MEASURING_CONFIG = {"web.refresh-interval": "100"}
"""Flink's REST cache of job details (default 3 s) would round every RUNNING moment up to its refresh."""


# ---------------------------------------------------------------------------------------------------------
# Observing Flink through REST, the same way on both paths
# ---------------------------------------------------------------------------------------------------------


class Sampler:
    """Polls the REST API of the cluster `url_of()` names: (time, id of the job fully RUNNING, or None)."""

    def __init__(self, url_of: Callable[[], str | None], interval: float) -> None:
        self.url_of = url_of
        self.interval = interval
        self.samples: list[tuple[float, str | None]] = []
        self._http = httpx.AsyncClient(timeout=1.0, trust_env=False)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._http.aclose()

    async def _sample(self) -> str | None:
        url = self.url_of()
        if not url:
            return None
        client = FlinkRestClient(url, timeout=1.0, retry=RetryPolicy.none(), http=self._http)
        try:
            for job in await client.jobs_overview():
                if job.state is JobState.RUNNING and all_vertices_running(await client.job_details(job.jid)):
                    return job.jid
        except (FlinkRestError, httpx.HTTPError):
            return None
        return None

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            running = await self._sample()
            self.samples.append((time.monotonic(), running))
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    def first_running(self, after: float, other_than: str | None = None) -> tuple[float, str] | None:
        for at, job in self.samples:
            if at >= after and job is not None and job != other_than:
                return at, job
        return None

    def last_running(self, job: str, before: float) -> float | None:
        found = [at for at, running in self.samples if running == job and at <= before]
        return max(found) if found else None

    async def wait_running(
        self, after: float, within: float, other_than: str | None = None,
        check: Callable[[], None] = lambda: None,
    ) -> tuple[float, str]:
        deadline = time.monotonic() + within
        while (found := self.first_running(after, other_than)) is None:
            check()
            if time.monotonic() > deadline:
                raise SystemExit(f"no job RUNNING within {within:.0f} s (last samples {self.samples[-3:]})")
            await asyncio.sleep(self.interval / 2)
        return found


# ---------------------------------------------------------------------------------------------------------
# One round on each path
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Round:
    apply_s: float = 0.0
    downtime_s: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def deployment(name: str, version: str, jar: Path, state: Path) -> dict[str, Any]:
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "flinkVersion": version,
            "serviceAccount": "flink",
            "flinkConfiguration": {
                **MEASURING_CONFIG,
                "taskmanager.numberOfTaskSlots": "1",
                "execution.checkpointing.interval": "2 s",
                "execution.checkpointing.dir": f"file://{state}/checkpoints/{name}",
                "execution.checkpointing.savepoint-dir": f"file://{state}/savepoints/{name}",
            },
            "jobManager": {"resource": {"memory": "1g", "cpu": 1}},
            "taskManager": {"resource": {"memory": "1g", "cpu": 1}},
            "job": {
                "jarURI": f"local://{jar}",
                "entryClass": COUNTER_JOB_CLASS,
                "args": ["--sleepMs", "5", "--keys", "16"],
                "parallelism": 1,
                "upgradeMode": "savepoint",
                "state": "running",
            },
        },
    }


class StatusWatch:
    """When the operator wrote a job state / lifecycle state into the status, per generation. A Kubernetes
    watch on the one resource (no polling: polling would load the machine during the operator path only)."""

    def __init__(self, http: aiohttp.ClientSession, base: str, name: str, resource_version: str) -> None:
        self.http, self.base, self.name, self.resource_version = http, base, name, resource_version
        self.first: dict[tuple[int, str], float] = {}
        self.status: dict[str, Any] = {}
        self.gone = False
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self.gone:
            params = {"watch": "true", "fieldSelector": f"metadata.name={self.name}",
                      "resourceVersion": self.resource_version, "timeoutSeconds": "600"}
            timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
            async with self.http.get(self.base + PATH, params=params, timeout=timeout) as response:
                async for line in response.content:
                    event = json.loads(line)
                    self._note(event["type"], event["object"])
                    if self.gone:
                        return

    def _note(self, kind: str, document: dict[str, Any]) -> None:
        now = time.monotonic()
        self.resource_version = document.get("metadata", {}).get("resourceVersion", self.resource_version)
        if kind == "DELETED":
            self.gone = True
            return
        status = self.status = document.get("status") or {}
        generation = int(status.get("observedGeneration") or 0)
        for value in ((status.get("jobStatus") or {}).get("state"), status.get("lifecycleState")):
            if value:
                self.first.setdefault((generation, str(value)), now)

    def check(self) -> None:
        """Stop at once when the operator reports a failure (a benchmark that waits for nothing is no use)."""
        if self.status.get("lifecycleState") == "FAILED":
            raise SystemExit(f"the operator reports FAILED: {self.status.get('error')}")

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def wait(self, generation: int, value: str, within: float) -> float:
        deadline = time.monotonic() + within
        while (generation, value) not in self.first:
            self.check()
            if time.monotonic() > deadline or self._task.done():
                raise SystemExit(f"the operator did not report {value} for generation {generation} in time")
            await asyncio.sleep(0.05)
        return self.first[(generation, value)]

    async def wait_gone(self, within: float) -> None:
        await asyncio.wait_for(asyncio.shield(self._task), within)


async def operator_round(
    http: aiohttp.ClientSession, base: str, output: OperatorOutput, reader: LocalFlinkService,
    name: str, version: str, jar: Path, state: Path, args: argparse.Namespace,
) -> Round:
    ref = ClusterRef(NAMESPACE, name)
    url = f"{base}{PATH}/{name}"
    async with Sampler(lambda: reader.rest_url(ref), args.sample_ms / 1000) as sampler:
        created = time.monotonic()
        async with http.post(base + PATH, json=deployment(name, version, jar, state)) as response:
            if response.status != 201:
                raise SystemExit(f"creating {name} failed: {response.status} {await response.text()}")
            version_created = (await response.json())["metadata"]["resourceVersion"]
        watch = StatusWatch(http, base, name, version_created)
        try:
            result = await _apply_and_upgrade(sampler, watch, http, url, output, f"{NAMESPACE}/{name}",
                                              created, args)
            async with http.delete(url) as response:
                await response.read()
            await watch.wait_gone(args.within)
        finally:
            await watch.stop()
    return result


async def _apply_and_upgrade(
    sampler: Sampler, watch: StatusWatch, http: aiohttp.ClientSession, url: str, output: OperatorOutput,
    key: str, created: float, args: argparse.Namespace,
) -> Round:
    result = Round()
    running_at, job = await sampler.wait_running(created, within=args.within, check=watch.check)
    result.apply_s = running_at - created
    reported_running = await watch.wait(1, "RUNNING", args.within)
    stable = await watch.wait(1, "STABLE", args.within)
    result.extra.update(create_to_deploy_call=output.first_call("deploy_application_cluster", key, created)
                        - created,
                        reported_running=reported_running - created, reported_stable=stable - created)

    await asyncio.sleep(args.run_before_upgrade)
    limited_before = output.stats.get("rate_limited", 0)
    changed = time.monotonic()
    async with http.patch(url, data=json.dumps({"spec": {"restartNonce": 1}}),
                          headers={"Content-Type": "application/merge-patch+json"}) as response:
        if response.status != 200:
            raise SystemExit(f"changing {key} failed: {response.status} {await response.text()}")
    new_at, _ = await sampler.wait_running(changed, within=args.within, other_than=job, check=watch.check)
    last_old = sampler.last_running(job, new_at) or changed
    result.downtime_s = new_at - last_old
    stable2 = await watch.wait(2, "STABLE", args.within)
    stop_call = output.first_call("cancel_job", key, changed)
    redeploy = output.first_call("deploy_application_cluster", key, changed)
    timeline = [f"{c} {s - changed:.2f}..{e - changed:.2f}" for c, k, s, e in output.calls
                if k == key and s >= changed]
    await asyncio.sleep(1.1)  # a fresh stats line
    limited = output.stats.get("rate_limited", 0) - limited_before
    print(f"    operator's Flink calls after the change (s): {'; '.join(timeline)}; new job RUNNING at "
          f"{new_at - changed:.2f}, old job last RUNNING at {last_old - changed:.2f}; reconciles held back "
          f"by the rate limiter meanwhile: {limited}", flush=True)
    result.extra.update(change_to_stop_call=stop_call - changed, change_to_running=new_at - changed,
                        stop_to_redeploy_call=redeploy - stop_call, change_to_stable=stable2 - changed)
    return result


async def direct_round(
    service: LocalFlinkService, captured: Path, name: str, args: argparse.Namespace
) -> Round:
    """The same steps without the operator, starting exactly the clusters the operator started in the
    first round (only the cluster's name and the job ids differ)."""
    first: ClusterRequest = pickle.loads((captured / "counter-0-1.pickle").read_bytes())  # our own capture
    second: ClusterRequest = pickle.loads((captured / "counter-0-2.pickle").read_bytes())
    ref = ClusterRef("direct", name)
    result = Round()
    async with Sampler(lambda: service.rest_url(ref), args.sample_ms / 1000) as sampler:
        request = replace(first, ref=ref, job_id=uuid.uuid4().hex)
        started = time.monotonic()
        await service.deploy_application_cluster(request)
        running_at, job = await sampler.wait_running(started, within=args.within)
        result.apply_s = running_at - started

        await asyncio.sleep(args.run_before_upgrade)
        stopping = time.monotonic()
        savepoint_dir = first.configuration.get("execution.checkpointing.savepoint-dir")
        stopped = await service.cancel_job(ref, job, SuspendMode.SAVEPOINT, savepoint_dir=savepoint_dir)
        cancelled = time.monotonic()
        await service.delete_cluster(ref, delete_ha_data=False)
        deleted = time.monotonic()
        upgraded = replace(second, ref=ref, job_id=uuid.uuid4().hex, restore_path=stopped.savepoint_path)
        await service.deploy_application_cluster(upgraded)
        deployed = time.monotonic()
        new_at, new_job = await sampler.wait_running(stopping, within=args.within, other_than=job)
        last_old = sampler.last_running(job, new_at) or stopping
        print(f"    direct calls after the stop request (s): cancel_job 0..{cancelled - stopping:.2f}; "
              f"delete_cluster ..{deleted - stopping:.2f}; "
              f"deploy_application_cluster ..{deployed - stopping:.2f}"
              f"; new job RUNNING at {new_at - stopping:.2f}, old job last RUNNING at "
              f"{last_old - stopping:.2f}", flush=True)
        result.downtime_s = new_at - last_old
        result.extra["stop_to_running"] = new_at - stopping
    await service.cancel_job(ref, new_job, SuspendMode.STATELESS)
    await service.delete_cluster(ref, delete_ha_data=True)
    return result


# ---------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------


def operator_values(args: argparse.Namespace, state: Path, version: str, home: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if args.profile == "local-up":
        try:
            from flink_operator.local_mode.settings import LAPTOP_DEFAULTS
        except ImportError as error:
            raise SystemExit(f"--profile local-up needs the local mode's defaults: {error}") from error
        values.update(LAPTOP_DEFAULTS)
    values.update({
        "kubernetes.operator.runtime": "local",
        "kubernetes.operator.local.state-dir": str(state),
        f"kubernetes.operator.local.flink-home.{version}": str(home),
        "kubernetes.operator.leader-election.lease-name": "bench-latency-lease",
        "kubernetes.operator.health.probe.enabled": "false",
        **foreign_plugins_off(),
    })
    return values


async def run_version(
    args: argparse.Namespace, version: str, home: Path, work: Path
) -> list[tuple[Round, Round]]:
    jar = build_counter_job(home, work / "job")
    op_state, direct_state, captured = work / "operator", work / "direct", work / "captured"
    captured.mkdir()
    values = operator_values(args, op_state, version, home)
    config_file = work / "operator.yaml"
    config_file.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in values.items()))
    configuration = DefaultConfiguration(values).configuration
    reader = LocalFlinkService.from_configuration(configuration, state_dir=op_state)
    direct = LocalFlinkService.from_configuration(configuration, state_dir=direct_state)
    emulator = await start_emulator_process(work / "kubeconfig")
    output: OperatorOutput | None = None
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
    rounds: list[tuple[Round, Round]] = []
    try:
        output = await start_operator_process(
            work / "kubeconfig", config_file, "--capture-dir", str(captured), "--log-level", args.log_level
        )
        await asyncio.wait_for(output.ready.wait(), 120)
        for index in range(args.rounds):
            name = f"counter-{index}"
            # The first round captures the operator's requests; after it the order alternates, so that a
            # drift in the machine's load does not favour one path.
            if index % 2 == 0:
                through = await operator_round(
                    http, emulator.url, output, reader, name, version, jar, op_state, args
                )
                straight = await direct_round(direct, captured, name, args)
            else:
                straight = await direct_round(direct, captured, name, args)
                through = await operator_round(
                    http, emulator.url, output, reader, name, version, jar, op_state, args
                )
            rounds.append((through, straight))
            print(f"  round {index + 1}: apply -> RUNNING {through.apply_s:.2f} s via the operator, "
                  f"{straight.apply_s:.2f} s directly; savepoint-upgrade downtime {through.downtime_s:.2f} s "
                  f"via the operator, {straight.downtime_s:.2f} s directly", flush=True)
    finally:
        await http.close()
        if output is not None:
            await stop_process(output.process)
        await emulator.stop()
        await direct.stop_all()
        await reader.stop_all()  # a resource left behind by a failed round: its clusters are ours
        await direct.close()
        await reader.close()
        kill_all(processes_with_marker(str(work)))
    return rounds


def describe(version: str, rounds: list[tuple[Round, Round]]) -> str:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    op_apply = [r.apply_s for r, _ in rounds]
    dir_apply = [d.apply_s for _, d in rounds]
    op_down = [r.downtime_s for r, _ in rounds]
    dir_down = [d.downtime_s for _, d in rounds]
    apply_ratio = median(op_apply) / median(dir_apply)
    down_ratio = median(op_down) / median(dir_down)
    ratios_apply = [r.apply_s / d.apply_s for r, d in rounds]
    ratios_down = [r.downtime_s / d.downtime_s for r, d in rounds]

    def extra(key: str, path: int = 0) -> str:
        return spread([pair[path].extra[key] for pair in rounds])

    rows = [
        Row("apply -> RUNNING, via the operator", "", spread(op_apply), None),
        Row("apply -> RUNNING, directly", "", spread(dir_apply), None),
        Row("apply -> RUNNING ratio (medians)", "<= 1.05",
            f"{apply_ratio:.3f} (per round {', '.join(f'{x:.2f}' for x in ratios_apply)})",
            apply_ratio <= 1.05),
        Row("savepoint-upgrade downtime, via the operator", "", spread(op_down), None),
        Row("savepoint-upgrade downtime, directly", "", spread(dir_down), None),
        Row("downtime ratio (medians)", "<= 1.10",
            f"{down_ratio:.3f} (per round {', '.join(f'{x:.2f}' for x in ratios_down)})", down_ratio <= 1.10),
    ]
    notes = [
        f"  operator: create -> deploy call {extra('create_to_deploy_call')}; status said RUNNING after "
        f"{extra('reported_running')}, STABLE after {extra('reported_stable')}",
        f"  operator upgrade: change -> stop-with-savepoint call {extra('change_to_stop_call')}; that "
        f"call -> redeploy call {extra('stop_to_redeploy_call')}; change -> new job RUNNING "
        f"{extra('change_to_running')}; change -> STABLE in the status {extra('change_to_stable')}",
        f"  direct upgrade: stop request -> new job RUNNING {extra('stop_to_running', 1)}",
    ]
    title = f"Flink {version}, {len(rounds)} round(s), median (min..max)"
    return table(title, rows) + "\n" + "\n".join(notes)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--versions", default="v2_3", help="comma-separated: v2_3, v1_20")
    parser.add_argument("--profile", choices=("local-up", "defaults"), default="local-up",
                        help="operator configuration: what `flink-operator local up` sets (default), or the "
                        "operator's built-in defaults (upstream's timings)")
    parser.add_argument("--sample-ms", type=float, default=50.0, help="REST sampling interval")
    parser.add_argument("--run-before-upgrade", type=float, default=3.0,
                        help="seconds the job runs before the upgrade")
    parser.add_argument("--within", type=float, default=240.0, help="bound of every wait (s)")
    parser.add_argument("--log-level", default="WARNING", help="the operator process's log level")
    parser.add_argument("--quick", action="store_true", help="one round (a check that the benchmark works)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.run_before_upgrade = 1, 1.0
    print(f"operator vs direct Flink: {args.rounds} round(s), operator profile {args.profile}, REST sampled "
          f"every {args.sample_ms:g} ms; {machine_load()}", flush=True)
    for version in args.versions.split(","):
        home = flink_home_for(version)
        if home is None:
            print(f"Flink {version}: no distribution installed, skipped")
            continue
        with tempfile.TemporaryDirectory(prefix=f"operator-latency-{version}-") as work:
            rounds = await run_version(args, version, home, Path(work))
        print(describe(version, rounds))
        print(f"  {machine_load()}", flush=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
