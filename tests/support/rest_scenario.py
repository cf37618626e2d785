"""One REST scenario run against real Flink (2.x, 1.20) and against the fake Flink server.

``run_scenario`` drives a session cluster through everything the REST client offers (submit, status,
checkpoints, savepoints, stop-with-savepoint, resume, rescale, cancel, disposal, and the errors for unknown
jobs and bad requests) and returns a *transcript*: observations that do not depend on timing or ids.
``expected_transcript`` is what real Flink of that version shows; the differential tests assert that each
target's transcript equals it, so the fake is held to the same observable behaviour as Flink.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flink_operator.flink.rest import (
    ClaimMode,
    FlinkRestClient,
    FlinkRestError,
    FlinkVersion,
    JarRunRequest,
    JobState,
    JobTerminated,
    SavepointFormat,
    TriggerFailed,
    read_fresh_vertex_metrics,
    wait_for_checkpoint,
    wait_for_checkpoint_details,
    wait_for_disposal,
    wait_for_job_running,
    wait_for_job_state,
    wait_for_parallelism,
    wait_for_savepoint,
)
from flink_operator.flink.rest.waiting import poll_until

UNKNOWN_JOB = "0123456789abcdef0123456789abcdef"
COUNTER_CLASS = "demo.CounterJob"
COUNTER_ARGS = ("--sleepMs", "5", "--keys", "4", "--checkpointMs", "500")
SAVEPOINT_NAME = re.compile(r"^file:/.+/savepoint-[0-9a-f]{6}-[0-9a-f]{12}$")
CHECKPOINT_NAME = re.compile(r"^file:/.+/(?P<job>[0-9a-f]{32})/chk-(?P<id>\d+)$")


@dataclass
class Target:
    """Where the scenario runs: a session cluster's REST URL, the counter job jar, and how patient to be."""

    rest_url: str
    jar: Path
    flink_version: str
    within: float = 60.0
    timings: dict[str, float] = field(default_factory=dict)


def _error(error: Exception) -> tuple[str, int | None]:
    status = error.status if isinstance(error, FlinkRestError) else None
    return type(error).__name__, status


async def _expect_error(call: Callable[[], Awaitable[Any]]) -> tuple[str, int | None]:
    try:
        await call()
    except (FlinkRestError, TriggerFailed, JobTerminated) as error:
        return _error(error)
    return ("no error", None)


async def counter_gauges(client: FlinkRestClient, job_id: str, within: float) -> tuple[int, int]:
    """(firstCount, maxCount) of the counter job: the highest over its subtasks, once it has counted."""
    details = await client.job_details(job_id)
    vertex = next(v.id for v in details.vertices if v.name.startswith("counter"))
    names = ["counter.firstCount", "counter.maxCount"]

    async def read() -> tuple[int, int] | None:
        values = await read_fresh_vertex_metrics(client, job_id, vertex, names, ["max"], within=within)
        first, highest = values["counter.firstCount"].max, values["counter.maxCount"].max
        return (int(first), int(highest)) if first and highest and first >= 1 else None

    async def fetch() -> tuple[int, int] | None:
        return await read()

    return await poll_until(fetch, lambda v: v, within=within, what=f"counter gauges of {job_id}")


async def count_at_least(client: FlinkRestClient, job_id: str, count: int, within: float) -> tuple[int, int]:
    async def fetch() -> tuple[int, int]:
        return await counter_gauges(client, job_id, within)

    return await poll_until(
        fetch, lambda v: v if v[1] >= count else None, within=within, what=f"{job_id} counting to {count}"
    )


def expected_transcript(flink_version: str) -> dict[str, Any]:
    version = FlinkVersion.parse(flink_version)
    return {
        "config.version": f"{version.major}.{version.minor}",
        "jar.entry": [COUNTER_CLASS],
        "unknown.status": ("JobNotFound", 500),
        "unknown.details": ("JobNotFound", 404),
        "unknown.checkpoints": ("JobNotFound", 404),
        "unknown.execution_result": ("JobNotFound", 404),
        "unknown.exceptions": ("JobNotFound", 404),
        "unknown.cancel": ("JobNotFound", 404),
        "unknown.resource_requirements": ("JobNotFound", 500),
        "unknown.metrics": {},
        "unknown.savepoint": ("TriggerFailed", None),
        "bad.job_id": ("FlinkRestError", 400),
        "bad.route": ("NotFound", 404),
        "bad.entry_class": (
            "FlinkRestError",
            500,
            "The program's entry point class 'no.Such' was not found in the jar file.",
        ),
        "bad.jar": ("FlinkRestError", 500, True),
        "bad.claim_mode": ("FlinkRestError", 400),
        "bad.savepoint_format": ("FlinkRestError", 400),
        "bad.checkpoint_type": ("FlinkRestError", 400),
        "a.initial_state": True,
        "a.application_id": version.major >= 2,
        "a.vertices": [("Source: seq -> throttle", 1), ("counter -> Sink: print", 1)],
        "a.overview_state": "RUNNING",
        "a.result_in_progress": True,
        "a.checkpoint_config": ("exactly_once", 500),
        "a.periodic_checkpoint_path": True,
        "a.manual_checkpoint_path": True,
        "a.unknown_trigger": ("NotFound", 404),
        "a.fresh_first_count": 1,
        "a.savepoint_path": True,
        "a.savepoint_kept_running": "RUNNING",
        "a.savepoint_bad_dir": (
            "TriggerFailed",
            "Failed to create savepoint directory at file:/proc/no-such-place",
        ),
        "a.stop_path": True,
        "a.final_state": "FINISHED",
        "a.final_result": "SUCCEEDED",
        "a.cancel_finished": ("FlinkRestError", 409),
        "a.stop_again": ("TriggerFailed", True),
        "b.restored": (True, True),
        "b.state_continued": True,
        "b.exceptions_empty": True,
        "b.duplicate_job_id": (
            "FlinkRestError",
            400,
            "Application has already been submitted."
            if version.major >= 2
            else "Job has already been submitted.",
        ),
        "b.requirements": [(1, 2), (1, 2)],
        "b.requirements_incomplete": ("FlinkRestError", 400),
        "b.restart_metrics": (
            {"numRestarts": 1, "numRescales": 1}
            if version.major >= 2
            else {"numRestarts": 1, "fullRestarts": 1}
        ),
        "b.rescaled": [1, 1],
        "b.rescale_kept_state": True,
        "b.cancel_state": "CANCELED",
        "b.result": "CANCELED",
        "b.cancel_again": "ok",
        "disposal.first": "ok",
        "disposal.again": ("TriggerFailed", "Cannot find checkpoint or savepoint file/directory"),
        "c.missing_savepoint": ("JobTerminated", "FAILED", True),
    }


async def run_scenario(target: Target) -> dict[str, Any]:
    within = target.within
    transcript: dict[str, Any] = {}
    timings = target.timings
    async with FlinkRestClient(target.rest_url) as flink:
        config = await flink.config()
        parsed = FlinkVersion.parse(config.flink_version)
        transcript["config.version"] = f"{parsed.major}.{parsed.minor}"
        jar_id = await flink.upload_jar(target.jar)
        transcript["jar.entry"] = [e.name for j in await flink.list_jars() if j.id == jar_id for e in j.entry]

        # -------------------------------------------------------- errors before any job
        transcript["unknown.status"] = await _expect_error(lambda: flink.job_status(UNKNOWN_JOB))
        transcript["unknown.details"] = await _expect_error(lambda: flink.job_details(UNKNOWN_JOB))
        transcript["unknown.checkpoints"] = await _expect_error(lambda: flink.checkpoint_stats(UNKNOWN_JOB))
        transcript["unknown.execution_result"] = await _expect_error(
            lambda: flink.execution_result(UNKNOWN_JOB)
        )
        transcript["unknown.exceptions"] = await _expect_error(lambda: flink.exceptions(UNKNOWN_JOB))
        transcript["unknown.cancel"] = await _expect_error(lambda: flink.cancel_job(UNKNOWN_JOB))
        transcript["unknown.resource_requirements"] = await _expect_error(
            lambda: flink.resource_requirements(UNKNOWN_JOB)
        )
        transcript["unknown.metrics"] = await flink.job_metrics(UNKNOWN_JOB, ["numRestarts"])
        trigger = await flink.trigger_savepoint(UNKNOWN_JOB)
        transcript["unknown.savepoint"] = await _expect_error(
            lambda: wait_for_savepoint(flink, UNKNOWN_JOB, trigger, within=within)
        )
        transcript["bad.job_id"] = await _expect_error(
            lambda: flink.request("GET", "/jobs/not-a-job-id/status")
        )
        transcript["bad.route"] = await _expect_error(lambda: flink.request("GET", "/no/such/route"))
        try:
            await flink.run_jar(jar_id, JarRunRequest(entry_class="no.Such"))
            transcript["bad.entry_class"] = ("no error",)
        except FlinkRestError as error:
            transcript["bad.entry_class"] = (*_error(error), error.root_cause)
        try:
            await flink.run_jar("nope.jar", JarRunRequest())
            transcript["bad.jar"] = ("no error",)
        except FlinkRestError as error:
            transcript["bad.jar"] = (*_error(error), error.root_cause.endswith("does not exist"))
        transcript["bad.claim_mode"] = await _expect_error(
            lambda: flink.request("POST", f"/jars/{jar_id}/run", json_body={"claimMode": "NOT_A_MODE"})
        )

        # -------------------------------------------------------- job A: run, checkpoints, savepoints, stop
        started = time.monotonic()
        run = await flink.run_jar(
            jar_id, JarRunRequest(program_args=COUNTER_ARGS, parallelism=1, claim_mode=ClaimMode.NO_CLAIM)
        )
        job_a = run.jobid
        timings["submit.request"] = time.monotonic() - started
        transcript["a.application_id"] = run.application_id is not None
        state = await flink.job_status(job_a)
        transcript["a.initial_state"] = state in (JobState.INITIALIZING, JobState.CREATED, JobState.RUNNING)
        details = await wait_for_job_running(flink, job_a, within=within)
        timings["submit.all_running"] = time.monotonic() - started
        transcript["a.vertices"] = [(v.name, v.parallelism) for v in details.vertices]
        transcript["a.overview_state"] = next(
            j.state.value for j in await flink.jobs_overview() if j.jid == job_a
        )
        transcript["a.result_in_progress"] = not (await flink.execution_result(job_a)).done
        checkpoint_config = await flink.checkpoint_config(job_a)
        transcript["a.checkpoint_config"] = (checkpoint_config.mode, checkpoint_config.interval)
        transcript["bad.savepoint_format"] = await _expect_error(
            lambda: flink.request("POST", f"/jobs/{job_a}/savepoints", json_body={"formatType": "WEIRD"})
        )
        transcript["bad.checkpoint_type"] = await _expect_error(
            lambda: flink.request("POST", f"/jobs/{job_a}/checkpoints", json_body={"checkpointType": "WEIRD"})
        )

        stats = await poll_until(
            lambda: flink.checkpoint_stats(job_a),
            lambda s: s if s.counts.completed >= 1 and s.latest_completed_path else None,
            within=within,
            what="a periodic checkpoint",
        )
        periodic = CHECKPOINT_NAME.match(stats.latest_completed_path or "")
        transcript["a.periodic_checkpoint_path"] = periodic is not None and periodic["job"] == job_a

        started = time.monotonic()
        trigger = await flink.trigger_checkpoint(job_a)
        checkpoint_id = await wait_for_checkpoint(flink, job_a, trigger, within=within)
        timings["checkpoint"] = time.monotonic() - started
        checkpoint = await wait_for_checkpoint_details(flink, job_a, checkpoint_id, within=within)
        transcript["a.manual_checkpoint_path"] = (checkpoint.external_path or "").endswith(
            f"/chk-{checkpoint_id}"
        )
        transcript["a.unknown_trigger"] = await _expect_error(
            lambda: flink.savepoint_status(job_a, "0" * 31 + "1")
        )

        first, _ = await count_at_least(flink, job_a, 20, within)
        transcript["a.fresh_first_count"] = first

        started = time.monotonic()
        trigger = await flink.trigger_savepoint(job_a, format_type=SavepointFormat.CANONICAL)
        savepoint = await wait_for_savepoint(flink, job_a, trigger, within=within)
        timings["savepoint"] = time.monotonic() - started
        transcript["a.savepoint_path"] = (
            bool(SAVEPOINT_NAME.match(savepoint)) and f"-{job_a[:6]}-" in savepoint
        )
        transcript["a.savepoint_kept_running"] = (await flink.job_status(job_a)).value
        trigger = await flink.trigger_savepoint(job_a, "file:///proc/no-such-place")
        try:
            await wait_for_savepoint(flink, job_a, trigger, within=within)
            transcript["a.savepoint_bad_dir"] = ("no error",)
        except TriggerFailed as error:
            transcript["a.savepoint_bad_dir"] = ("TriggerFailed", error.reason)

        started = time.monotonic()
        trigger = await flink.stop_with_savepoint(job_a)
        stopped_at = await wait_for_savepoint(
            flink, job_a, trigger, within=within, operation="stop-with-savepoint"
        )
        transcript["a.stop_path"] = bool(SAVEPOINT_NAME.match(stopped_at))
        final = await wait_for_job_state(flink, job_a, {JobState.FINISHED}, within=within)
        timings["stop_with_savepoint"] = time.monotonic() - started
        transcript["a.final_state"] = final.value
        result = await flink.execution_result(job_a)
        transcript["a.final_result"] = (
            result.job_execution_result.application_status if result.job_execution_result else None
        )
        transcript["a.cancel_finished"] = await _expect_error(lambda: flink.cancel_job(job_a))
        trigger = await flink.stop_with_savepoint(job_a)
        try:
            await wait_for_savepoint(flink, job_a, trigger, within=within)
            transcript["a.stop_again"] = ("no error",)
        except TriggerFailed as error:
            transcript["a.stop_again"] = ("TriggerFailed", error.job_missing)

        # -------------------------------------------------------- job B: resume, rescale, cancel
        started = time.monotonic()
        resumed = await flink.run_jar(
            jar_id,
            JarRunRequest(
                program_args=COUNTER_ARGS,
                parallelism=2,
                savepoint_path=stopped_at,
                claim_mode=ClaimMode.NO_CLAIM,
            ),
        )
        job_b = resumed.jobid
        await wait_for_job_running(flink, job_b, within=within)
        timings["resume.all_running"] = time.monotonic() - started
        restored = (await flink.checkpoint_stats(job_b)).latest.restored
        transcript["b.restored"] = (
            restored is not None and restored.is_savepoint,
            restored is not None and restored.external_path == stopped_at,
        )
        first, _ = await counter_gauges(flink, job_b, within)
        transcript["b.state_continued"] = first > 1
        transcript["b.exceptions_empty"] = (await flink.exceptions(job_b)).latest is None
        try:
            await flink.run_jar(jar_id, JarRunRequest(program_args=COUNTER_ARGS, job_id=job_b))
            transcript["b.duplicate_job_id"] = ("no error",)
        except FlinkRestError as error:
            transcript["b.duplicate_job_id"] = (*_error(error), error.root_cause)

        requirements = await flink.resource_requirements(job_b)
        transcript["b.requirements"] = sorted(
            (r.parallelism.lower_bound, r.parallelism.upper_bound) for r in requirements.values()
        )
        some_vertex = next(iter(requirements))
        transcript["b.requirements_incomplete"] = await _expect_error(
            lambda: flink.set_resource_requirements(job_b, {some_vertex: 1})
        )
        started = time.monotonic()
        await flink.set_resource_requirements(job_b, {vertex: 1 for vertex in requirements})
        rescaled = await wait_for_parallelism(
            flink, job_b, {vertex: 1 for vertex in requirements}, within=within
        )
        timings["rescale"] = time.monotonic() - started
        transcript["b.rescaled"] = [v.parallelism for v in rescaled.vertices]
        first, _ = await counter_gauges(flink, job_b, within)
        transcript["b.rescale_kept_state"] = first > 1
        metrics = await poll_until(
            lambda: flink.job_metrics(job_b, ["numRestarts", "fullRestarts", "numRescales"]),
            lambda m: m if int(m.get("numRestarts") or 0) >= 1 else None,
            within=within,
            what="numRestarts after the rescale",
        )
        transcript["b.restart_metrics"] = {name: int(value or 0) for name, value in metrics.items()}

        started = time.monotonic()
        await flink.cancel_job(job_b)
        transcript["b.cancel_state"] = (
            await wait_for_job_state(flink, job_b, {JobState.CANCELED}, within=within)
        ).value
        timings["cancel"] = time.monotonic() - started
        result = await flink.execution_result(job_b)
        transcript["b.result"] = (
            result.job_execution_result.application_status if result.job_execution_result else None
        )
        await flink.cancel_job(job_b)
        transcript["b.cancel_again"] = "ok"

        # -------------------------------------------------------- disposal
        trigger = await flink.dispose_savepoint(savepoint)
        await wait_for_disposal(flink, trigger, within=within)
        transcript["disposal.first"] = "ok"
        trigger = await flink.dispose_savepoint(savepoint)
        try:
            await wait_for_disposal(flink, trigger, within=within)
            transcript["disposal.again"] = ("no error",)
        except TriggerFailed as error:
            transcript["disposal.again"] = ("TriggerFailed", error.reason.split(" '")[0])

        # -------------------------------------------------------- job C: restore from a missing savepoint
        missing = await flink.run_jar(
            jar_id, JarRunRequest(program_args=COUNTER_ARGS, savepoint_path="file:///no/such/savepoint")
        )
        try:
            await wait_for_job_running(flink, missing.jobid, within=within)
            transcript["c.missing_savepoint"] = ("no error",)
        except JobTerminated as error:
            transcript["c.missing_savepoint"] = (
                "JobTerminated",
                error.state,
                "Cannot find checkpoint or savepoint file/directory 'file:///no/such/savepoint'"
                in (error.reason or ""),
            )
        await flink.delete_jar(jar_id)
    return transcript


def assert_transcript(transcript: dict[str, Any], flink_version: str) -> None:
    expected = expected_transcript(flink_version)
    different = {
        key: {"observed": transcript.get(key, "<missing>"), "expected": value}
        for key, value in expected.items()
        if transcript.get(key, "<missing>") != value
    }
    extra = sorted(set(transcript) - set(expected))
    assert not different and not extra, (
        f"behaviour differs from Flink {flink_version}: {different}; extra: {extra}"
    )


__all__ = ["Target", "assert_transcript", "counter_gauges", "expected_transcript", "run_scenario"]
