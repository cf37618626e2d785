"""Reading the example counter job's progress from a cluster's REST API (the demo shows it).

The job's "counter" operator exposes two gauges (see examples/jobs/counter): `counter.maxCount`, the
largest per-key count, and `counter.firstCount`, the first count after a (re)start (1 for a fresh start,
more when state was restored). Both are read as the maximum over subtasks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from flink_operator.flink.rest import FlinkRestClient, JobState, read_fresh_vertex_metrics

GAUGES = ("counter.firstCount", "counter.maxCount")


@dataclass(frozen=True)
class CounterReading:
    job_id: str
    first_count: int
    max_count: int


async def wait_for_count(rest_url: str, at_least: int, *, within: float) -> CounterReading | None:
    """Read the counter until `counter.maxCount` reaches `at_least`; the last reading (None: no counter)."""
    deadline = time.monotonic() + within
    reading = await read_counter(rest_url, within=within)
    while reading is not None and reading.max_count < at_least and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        reading = await read_counter(rest_url, within=max(deadline - time.monotonic(), 1.0))
    return reading


async def read_counter(rest_url: str, *, within: float = 20.0) -> CounterReading | None:
    """The running counter job's gauges, or None when no job with a counter vertex runs there."""
    async with FlinkRestClient(rest_url) as client:
        running = [job for job in await client.jobs_overview() if job.state is JobState.RUNNING]
        if len(running) != 1:
            return None
        job_id = running[0].jid
        details = await client.job_details(job_id)
        vertex = next((v.id for v in details.vertices if v.name.startswith("counter")), None)
        if vertex is None:
            return None
        values = await read_fresh_vertex_metrics(client, job_id, vertex, GAUGES, ["max"], within=within)
        first, highest = values[GAUGES[0]].max, values[GAUGES[1]].max
        if first is None or highest is None:
            return None
        return CounterReading(job_id, int(first), int(highest))
