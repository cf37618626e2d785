"""The FlinkService side of the FlinkDeployment shell: gathering `Facts` and performing a step's action.

Observation never raises: a failing call becomes an error text in the facts (the decision treats the
value as unknown). Actions raise whatever the runtime raises; the shell turns that into the step's
failure outcome.
"""

from __future__ import annotations

import asyncio
import logging

from flink_operator.api import FlinkDeploymentStatus
from flink_operator.controllers.deployment.observation import Facts, follow_ups, wants_jobmanager
from flink_operator.controllers.deployment.steps import Action, CancelJob, DeleteCluster, DeployCluster
from flink_operator.flink.service import ClusterRef, FlinkService, JobSummary

_log = logging.getLogger(__name__)


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


async def gather_facts(
    flink: FlinkService,
    ref: ClusterRef,
    status: FlinkDeploymentStatus,
    *,
    desired_suspended: bool,
    deleting: bool,
    stateful: bool,
    change_pending: bool,
) -> Facts:
    """Ask the runtime what the decision needs (see `observation.follow_ups`)."""
    if not wants_jobmanager(status, desired_suspended=desired_suspended, deleting=deleting):
        return Facts()
    try:
        jm = await flink.observe_jobmanager(ref)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        _log.warning("Observing the JobManager of %s failed: %s", ref, _describe(error))
        return Facts(jm_error=_describe(error))
    wanted = follow_ups(status, jm, stateful=stateful, change_pending=change_pending or deleting)
    job = None
    job_error = None
    if wanted.job_id is not None:
        try:
            job = await flink.job_status(ref, wanted.job_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            job_error = _describe(error)
    cluster_info = None
    if wanted.cluster_info:
        try:
            cluster_info = (await flink.cluster_info(ref)).as_status_map()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _log.info("Cluster info of %s not available: %s", ref, _describe(error))
    checkpoint = None
    checkpoint_checked = False
    checkpoint_of = wanted.latest_checkpoint_of
    if checkpoint_of is None and stateful and job is not None and job.terminal:
        # The job stopped since the last observation: its latest checkpoint is where it restarts from.
        checkpoint_of = job.job_id
    if checkpoint_of is not None:
        try:
            checkpoint = await flink.latest_checkpoint(ref, checkpoint_of)
            checkpoint_checked = True
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _log.info("Latest checkpoint of %s not available: %s", ref, _describe(error))
    ha_metadata = None
    if wanted.ha_metadata:
        try:
            ha_metadata = await flink.ha_metadata_available(ref)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _log.info("HA metadata of %s not readable: %s", ref, _describe(error))
    return Facts(
        jm=jm,
        job_id_checked=wanted.job_id,
        job=job,
        job_error=job_error,
        cluster_info=cluster_info,
        rest_url=flink.rest_url(ref),
        checkpoint_checked=checkpoint_checked,
        latest_checkpoint=checkpoint,
        ha_metadata_available=ha_metadata,
    )


async def perform(flink: FlinkService, ref: ClusterRef, action: Action) -> object:
    """Run one action; returns the runtime's result (None for deletions)."""
    if isinstance(action, DeployCluster):
        # The intent was persisted first, so removing a leftover cluster here is part of the same step.
        await flink.delete_cluster(ref, delete_ha_data=action.delete_ha_data)
        if action.request.job is None:
            return await flink.deploy_session_cluster(action.request)
        return await flink.deploy_application_cluster(action.request)
    if isinstance(action, CancelJob):
        return await flink.cancel_job(
            ref,
            action.job_id,
            action.mode,
            savepoint_dir=action.savepoint_dir,
            savepoint_format=action.savepoint_format,
            drain=action.drain,
        )
    if isinstance(action, DeleteCluster):
        await flink.delete_cluster(ref, delete_ha_data=action.delete_ha_data)
        return None
    raise TypeError(f"unknown action {action!r}")


async def list_session_jobs(flink: FlinkService, ref: ClusterRef) -> tuple[JobSummary, ...] | None:
    """Every job a session cluster knows; None when its REST API does not answer."""
    try:
        return tuple(await flink.list_jobs(ref))
    except asyncio.CancelledError:
        raise
    except Exception as error:
        _log.info("Jobs of %s not available: %s", ref, _describe(error))
        return None
