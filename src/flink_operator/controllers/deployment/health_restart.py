"""Restarting a job the health check found unhealthy (contract §3.18), keeping its state.

`unhealthy_restart(ctx, status, spec, events)` returns the step, or None when there is nothing to do. A job
is restarted only on the verdict of this reconcile's sample (`clusterInfo["ClusterHealthInfo"]` written in
this observation, never an older one), only while it is live (not FAILED, CANCELED or FINISHED) on a
JobManager that answers, so a job that ended meanwhile is never restarted (FLINK-39507); failed jobs are
`kubernetes.operator.job.restart.failed`'s business.

The restart keeps the job's latest state: with HA metadata the cluster is replaced keeping it and the same
job id resumes from its latest checkpoint; otherwise the job is cancelled keeping its retained checkpoints
and a new job starts from the latest one (upstream resubmits from the last recorded savepoint path, which
may be older). A stateless job restarts empty. A Warning `RestartUnhealthyJob` event carries the verdict
("Restart count hit threshold: N", "Cluster is not able to complete checkpoints").
"""

from __future__ import annotations

from dataclasses import replace

from flink_operator.api import (
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    JobManagerDeploymentStatus,
    UpgradeMode,
)
from flink_operator.controllers.common import events as ev
from flink_operator.controllers.common import health
from flink_operator.controllers.common.events import Component, EventSpec, Reason
from flink_operator.controllers.common.upgrade import JobUpgrade, SuspendMode
from flink_operator.controllers.deployment import transitions
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.requests import resource_configuration
from flink_operator.controllers.deployment.steps import Step
from flink_operator.flink import config_builder

__all__ = ["fresh_verdict", "unhealthy_restart"]


def fresh_verdict(status: FlinkDeploymentStatus, now_ms: int) -> health.HealthResult | None:
    """The health verdict of the sample taken in this reconcile (None: no sample now)."""
    info = health.read_info(status.cluster_info)
    if info is None or info.time_stamp != now_ms:
        return None
    return info.health_result


def unhealthy_restart(
    ctx: DeploymentContext, status: FlinkDeploymentStatus, spec: FlinkDeploymentSpec, events: list[EventSpec]
) -> Step | None:
    if not ctx.settings.health_check_enabled or spec.job is None:
        return None
    verdict = fresh_verdict(status, ctx.now_ms)
    if verdict is None or verdict.healthy:
        return None
    job_state = status.job_status.state
    if (
        job_state is None
        or job_state.is_globally_terminal
        or not status.job_status.job_id
        or status.job_manager_deployment_status is not JobManagerDeploymentStatus.READY
    ):
        return None
    if spec.job.upgrade_mode is UpgradeMode.STATELESS:
        upgrade = JobUpgrade(SuspendMode.STATELESS, UpgradeMode.STATELESS, True)
    elif ctx.facts.ha_metadata_available and config_builder.ha_enabled(
        resource_configuration(spec, name=ctx.name, namespace=ctx.namespace, defaults=ctx.defaults)
    ):
        upgrade = JobUpgrade(SuspendMode.LAST_STATE, UpgradeMode.LAST_STATE, True)
    else:
        upgrade = JobUpgrade(SuspendMode.CANCEL, UpgradeMode.SAVEPOINT, True)
    message = verdict.error or "The job is unhealthy"
    warning = ev.warning(Reason.RESTART_UNHEALTHY_JOB, Component.JOB, message)
    step = transitions.suspend(ctx, status, spec, [*events, warning], upgrade)
    # The restart is reported as such, not as a suspension.
    kept = tuple(e for e in step.events if e.reason != Reason.SUSPENDED)
    return replace(step, events=kept, note=f"restart the unhealthy job ({message})")
