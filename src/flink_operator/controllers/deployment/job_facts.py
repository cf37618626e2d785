"""What the FlinkDeployment observation reads about a live job beyond its state: why it failed, its new
exceptions, its health counters, and (for an unhealthy stateful job) whether HA metadata is there to
restart from.

`job_details(...)` asks the FlinkService only for what can matter now (never raises: a failing call is
logged and the value stays unknown):

* the failure cause, once, when the job is first seen FAILED;
* the job's restart and checkpoint counters, when the health check is on and the job is live;
* the exception history, when there may be something new (`job_exceptions.should_read_exceptions`; the
  restart counter growing counts as a sign), and again for a while after the job was first seen FAILED
  (`failed_recheck_ms`): Flink serves the history from a cache that may predate the failure, and a failed
  job is not looked at again otherwise;
* HA metadata, when the counters make the job unhealthy and its state must be kept.

`observe_options(...)` turns a resource's settings into the observation's `ObserveOptions`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from flink_operator.api import FlinkDeploymentSpec, FlinkDeploymentStatus, FlinkJobState
from flink_operator.controllers.common import health
from flink_operator.controllers.common.job_exceptions import ExceptionMark, should_read_exceptions
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.deployment.observation import ObserveOptions
from flink_operator.controllers.deployment.requests import resource_configuration
from flink_operator.flink.service import (
    ClusterRef,
    FlinkService,
    JobExceptionInfo,
    JobFailure,
    JobManagerObservation,
    JobManagerStatus,
    JobSummary,
)

__all__ = ["JobDetails", "job_details", "observe_options"]

_log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class JobDetails:
    job_failure: JobFailure | None = None
    exceptions_since_ms: int | None = None
    exceptions: tuple[JobExceptionInfo, ...] = ()
    health_metrics: dict[str, str] | None = None
    ha_metadata_available: bool | None = None


def observe_options(
    settings: ResourceSettings,
    spec: FlinkDeploymentSpec,
    *,
    name: str,
    namespace: str,
    defaults: Mapping[str, str],
) -> ObserveOptions:
    """The observation's options for a resource (the health check reads the job's checkpointing options)."""
    checks = None
    if settings.health_check_enabled and spec.job is not None:
        try:
            conf = resource_configuration(spec, name=name, namespace=namespace, defaults=defaults)
        except ValueError:
            conf = {}
        checks = settings.health().with_job_configuration(conf)
    return ObserveOptions(
        max_error_length=settings.exception_field_max_length,
        max_causes=settings.exception_throwable_list_max_count,
        exception_events_limit=settings.exception_events_limit,
        exception_stacktrace_lines=settings.exception_stacktrace_lines,
        health=checks,
    )


async def _quietly(what: str, ref: ClusterRef, call: Awaitable[T]) -> T | None:
    try:
        return await call
    except asyncio.CancelledError:
        raise
    except Exception as error:
        _log.info("%s of %s not available: %s", what, ref, str(error) or type(error).__name__)
        return None


async def job_details(
    flink: FlinkService,
    ref: ClusterRef,
    status: FlinkDeploymentStatus,
    jm: JobManagerObservation | None,
    job: JobSummary | None,
    *,
    options: ObserveOptions,
    exceptions: ExceptionMark | None,
    stateful: bool,
    ha_known: bool,
    now_ms: int,
    failed_recheck_ms: int = 0,
) -> JobDetails:
    """See the module docstring. `ha_known`: the HA metadata was read already; `failed_recheck_ms`: how long
    after a FAILED job was first seen its history is read again."""
    if job is None or jm is None or jm.status is not JobManagerStatus.READY:
        return JobDetails()
    failure = None
    if job.state == FlinkJobState.FAILED.value and status.job_status.state is not FlinkJobState.FAILED:
        failure = await _quietly("Failure cause", ref, flink.job_failure(ref, job.job_id))
    metrics = None
    restarts_grew = False
    ha = None
    if options.health is not None and not job.terminal:
        metrics = await _quietly(
            "Job metrics", ref, flink.job_metrics(ref, job.job_id, health.HEALTH_METRICS)
        )
        sample = health.sample_from_metrics(metrics or {}, now_ms)
        if sample is not None:
            previous = health.read_info(status.cluster_info)
            restarts_grew = previous is not None and sample.restarts > previous.num_restarts
            verdict = health.evaluate(previous, sample, options.health).health_result
            if verdict is not None and not verdict.healthy and stateful and not ha_known:
                ha = await _quietly("HA metadata", ref, flink.ha_metadata_available(ref))
    since = None
    found: tuple[JobExceptionInfo, ...] = ()
    if exceptions is not None and (
        _recently_failed(status, job, now_ms, failed_recheck_ms)
        or should_read_exceptions(
            status.job_status.state, job, modified_seen=exceptions.modified_ms, restarts_grew=restarts_grew
        )
    ):
        read = await _quietly(
            "Job exceptions",
            ref,
            flink.job_exceptions(
                ref, job.job_id, since_ms=exceptions.reported_ms, limit=options.exception_events_limit
            ),
        )
        if read is not None:
            since, found = exceptions.reported_ms, tuple(read)
    return JobDetails(failure, since, found, metrics, ha)


def _recently_failed(status: FlinkDeploymentStatus, job: JobSummary, now_ms: int, window_ms: int) -> bool:
    """The job was FAILED at the last observation too, and that began less than `window_ms` ago."""
    if job.state != FlinkJobState.FAILED.value or status.job_status.state is not FlinkJobState.FAILED:
        return False
    seen = status.job_status.update_time
    return seen is not None and seen.isdigit() and now_ms - int(seen) <= window_ms
