"""Times of the local Flink runtime's main operations, for each installed Flink version.

Run from the repository root: ``.venv/bin/python benchmarks/flink_local_lifecycle.py [--rounds N]``.
For each version (the installed 2.x, and 1.20 from ``.venv-flink120`` when present) it starts a session
cluster through LocalFlinkService and measures: cluster start (deploy call until REST answers with a
TaskManager registered), submit until all tasks RUNNING, savepoint, stop-with-savepoint, resume from that
savepoint until RUNNING, and an application cluster start until its job runs. It prints the median of the
rounds and the resident memory of the session cluster's processes. Everything it starts is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.flink_local import (
    FAST_TEST_CONFIG,
    flink_home_for,
    wait_job_running,
    wait_ready,
    wait_until,
)

from flink_operator.flink.local.distribution import inspect_distribution
from flink_operator.flink.local.jobs import build_counter_job
from flink_operator.flink.local.options import LocalFlinkSettings
from flink_operator.flink.local.service import LocalFlinkService
from flink_operator.flink.service import (
    ClusterRef,
    ClusterRequest,
    JobSpec,
    SessionJobRequest,
    SnapshotResult,
    SnapshotState,
    SuspendMode,
)

STEPS = (
    "cluster start",
    "submit -> RUNNING",
    "savepoint",
    "stop-with-savepoint",
    "resume -> RUNNING",
    "app cluster -> job RUNNING",
)


async def timed(action: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    start = time.perf_counter()
    result = await action()
    return time.perf_counter() - start, result


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


async def one_round(version: str, home: Path, work: Path, index: int) -> tuple[dict[str, float], float]:
    jar = build_counter_job(home, work / "job")
    settings = LocalFlinkSettings(state_dir=work / f"state-{index}", flink_homes={version: home})
    service = LocalFlinkService(settings)
    ref = ClusterRef("bench", f"session-{index}")
    app = ClusterRef("bench", f"app-{index}")
    spec = JobSpec(f"file://{jar}", "demo.CounterJob", ("--sleepMs", "5", "--keys", "16"), 1)
    times: dict[str, float] = {}
    try:

        async def start_session() -> None:
            await service.deploy_session_cluster(ClusterRequest(ref, version, FAST_TEST_CONFIG, generation=1))
            await wait_ready(service, ref)

        times["cluster start"], _ = await timed(start_session)

        async def submit(restore: str | None = None) -> str:
            job_id = uuid.uuid4().hex
            await service.submit_job(SessionJobRequest(ref, "counter", spec, job_id, restore_path=restore))
            await wait_job_running(service, ref, job_id)
            return job_id

        times["submit -> RUNNING"], job = await timed(submit)
        assert isinstance(job, str)
        await asyncio.sleep(2)

        async def savepoint() -> SnapshotResult:
            trigger = await service.trigger_savepoint(ref, job)

            async def done() -> SnapshotResult | None:
                result = await service.snapshot_result(ref, trigger)
                return None if result.state is SnapshotState.IN_PROGRESS else result

            return await wait_until(done, within=60, what="savepoint", interval=0.05)

        times["savepoint"], _ = await timed(savepoint)
        times["stop-with-savepoint"], stopped = await timed(
            lambda: service.cancel_job(ref, job, SuspendMode.SAVEPOINT)
        )
        path = getattr(stopped, "savepoint_path", None)
        times["resume -> RUNNING"], resumed = await timed(lambda: submit(path))
        pids = [p.pid for record in service.list_clusters() for p in record.processes]
        memory = rss_mb(pids)
        assert isinstance(resumed, str)
        await service.cancel_job(ref, resumed, SuspendMode.STATELESS)
        await service.delete_cluster(ref, delete_ha_data=True)

        async def start_application() -> None:
            job_id = uuid.uuid4().hex
            request = ClusterRequest(app, version, FAST_TEST_CONFIG, generation=1, job=spec, job_id=job_id)
            await service.deploy_application_cluster(request)
            await wait_ready(service, app)
            await wait_job_running(service, app, job_id)

        times["app cluster -> job RUNNING"], _ = await timed(start_application)
    finally:
        await service.stop_all()
        await service.close()
    return times, memory


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    print(f"local Flink lifecycle, median of {rounds} round(s), seconds")
    for version in ("v2_3", "v1_20"):
        home = flink_home_for(version)
        if home is None:
            print(f"{version}: no distribution installed, skipped")
            continue
        with tempfile.TemporaryDirectory(prefix=f"flink-bench-{version}-") as scratch:
            results = [await one_round(version, home, Path(scratch), i) for i in range(rounds)]
        print(f"\nFlink {inspect_distribution(home).version} ({version})")
        for step in STEPS:
            values = [times[step] for times, _ in results]
            spread = f"(min {min(values):.2f}, max {max(values):.2f})"
            print(f"  {step:<28} {statistics.median(values):6.2f}   {spread}")
        memories = [memory for _, memory in results]
        print(f"  {'session RSS (JM+TM), MB':<28} {statistics.median(memories):6.0f}")


if __name__ == "__main__":
    asyncio.run(main())
