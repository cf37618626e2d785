"""Assembling a `DeploymentContext`: settings, facts from the runtime, observation, fresh ids.

Used by the reconciler and by anything that wants to run the same decision outside it (tests, tools):
`build_context(resource, desired=..., validation_error=..., flink=..., configuration=..., ...)`.
The only I/O is the FlinkService observation (`runtime_calls.gather_facts`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkDeploymentStatus,
    JobState,
    ReconciliationState,
    UpgradeMode,
    read_spec,
)
from flink_operator.config import Configuration, DefaultConfiguration
from flink_operator.controllers.common.job_exceptions import REPORT_WINDOW_MS, ExceptionMark
from flink_operator.controllers.common.settings import ResourceSettings
from flink_operator.controllers.common.spec_diff import DiffType, diff_specs
from flink_operator.controllers.deployment import rollback_rules
from flink_operator.controllers.deployment.context import DeploymentContext
from flink_operator.controllers.deployment.job_facts import job_details, observe_options
from flink_operator.controllers.deployment.observation import apply_observation
from flink_operator.controllers.deployment.runtime_calls import gather_facts, list_session_jobs
from flink_operator.controllers.deployment.session_observation import observe_session
from flink_operator.controllers.sessionjob.deletion import SessionDeletionSettings, SessionJobRef
from flink_operator.controllers.sessionjob.options import session_deletion_settings
from flink_operator.flink.service import ClusterRef, FlinkService, JobManagerStatus

_log = logging.getLogger(__name__)


def reconciled_spec(status: FlinkDeploymentStatus) -> FlinkDeploymentSpec | None:
    text = status.reconciliation_status.last_reconciled_spec
    if text is None:
        return None
    try:
        return read_spec(text, FlinkDeploymentSpec)
    except ValueError:
        return None


def resource_settings(
    configuration: DefaultConfiguration, resource: FlinkDeployment, spec: FlinkDeploymentSpec
) -> tuple[dict[str, str], ResourceSettings]:
    """(scoped defaults, settings) of a resource; a bad per-resource option falls back to the defaults
    (the validator reports it)."""
    version = spec.flink_version.value if spec.flink_version is not None else None
    operator = configuration.for_resource(resource.namespace, version)
    defaults = operator.as_dict()
    try:
        effective = configuration.effective(resource.namespace, version, spec.flink_configuration)
        settings = ResourceSettings.from_configs(operator, Configuration(effective))
    except ValueError as error:
        _log.info(
            "FlinkDeployment %s/%s: using default settings: %s", resource.namespace, resource.name, error
        )
        settings = ResourceSettings.from_configs(operator, operator)
    return defaults, settings


async def build_context(
    resource: FlinkDeployment,
    *,
    desired: FlinkDeploymentSpec,
    validation_error: str | None,
    flink: FlinkService,
    configuration: DefaultConfiguration,
    now_ms: int,
    new_id: Callable[[], str],
    session_jobs: tuple[SessionJobRef, ...] = (),
    managed_job_ids: frozenset[str] = frozenset(),
    force_deletion: bool = False,
    exceptions: ExceptionMark | None = None,
) -> DeploymentContext:
    """`session_jobs` / `managed_job_ids`: for a session cluster, the FlinkSessionJobs naming it and the job
    ids they record; `force_deletion`: the force-deletion annotation is set; `exceptions`: how far the
    job's exception history was reported (None: as for a resource seen for the first time)."""
    status = resource.status
    defaults, settings = resource_settings(configuration, resource, desired)
    reconciled = reconciled_spec(status)
    effective = reconciled if validation_error is not None and reconciled is not None else desired
    job = effective.job
    stateful = any(
        s is not None and s.job is not None and s.job.upgrade_mode is not UpgradeMode.STATELESS
        for s in (desired, reconciled)
    )
    change_pending = status.reconciliation_status.state is ReconciliationState.UPGRADING or (
        reconciled is not None and diff_specs(reconciled, desired).type is not DiffType.IGNORE
    )
    # A rollback that may start now restores from the failing job's latest checkpoint or HA metadata.
    rollback_possible = rollback_rules.needs_restore_facts(
        status,
        enabled=settings.rollback_enabled,
        cancel=rollback_rules.cancel_annotation_set(resource),
        readiness_timeout=settings.readiness_timeout,
        now_ms=now_ms,
    )
    ref = ClusterRef(resource.namespace, resource.name)
    facts = await gather_facts(
        flink,
        ref,
        status,
        desired_suspended=job is not None and job.state is JobState.SUSPENDED,
        deleting=resource.metadata.deletion_timestamp is not None,
        stateful=stateful,
        change_pending=change_pending or rollback_possible,
    )
    session = desired.job is None and (reconciled is None or reconciled.job is None)
    deleting = resource.metadata.deletion_timestamp is not None
    if session:
        observed = observe_session(status, facts, max_error_length=settings.exception_field_max_length)
    else:
        options = observe_options(
            settings, effective, name=resource.name, namespace=resource.namespace, defaults=defaults
        )
        details = await job_details(
            flink,
            ref,
            status,
            facts.jm,
            facts.job,
            options=options,
            exceptions=exceptions or ExceptionMark(max(now_ms - REPORT_WINDOW_MS, 0), 0),
            stateful=stateful,
            ha_known=facts.ha_metadata_available is not None,
            now_ms=now_ms,
            # At least one more read at a later reconcile, when Flink's history cache has caught up.
            failed_recheck_ms=int(2 * settings.reconcile_interval * 1000),
        )
        facts = replace(
            facts,
            job_failure=details.job_failure,
            exceptions_since_ms=details.exceptions_since_ms,
            exceptions=details.exceptions,
            health_metrics=details.health_metrics,
            ha_metadata_available=(
                facts.ha_metadata_available
                if details.ha_metadata_available is None
                else details.ha_metadata_available
            ),
        )
        observed = apply_observation(status, facts, now_ms=now_ms, options=options)
    cluster_jobs = None
    if session and deleting and facts.jm is not None and facts.jm.status is JobManagerStatus.READY:
        cluster_jobs = await list_session_jobs(flink, ref)
    return DeploymentContext(
        resource=resource,
        observed=observed.status,
        spec=desired,
        settings=settings,
        defaults=defaults,
        now_ms=now_ms,
        new_job_id=new_id(),
        new_deployment_id=new_id(),
        validation_error=validation_error,
        facts=facts,
        observation_events=observed.events,
        deployment_in_progress=observed.deployment_in_progress,
        session_jobs=session_jobs,
        managed_job_ids=managed_job_ids,
        session_cluster_jobs=cluster_jobs,
        session_deletion=_session_deletion(configuration, resource, desired),
        force_deletion=force_deletion,
    )


def _session_deletion(
    configuration: DefaultConfiguration, resource: FlinkDeployment, spec: FlinkDeploymentSpec
) -> SessionDeletionSettings:
    if spec.job is not None:
        return SessionDeletionSettings()
    version = spec.flink_version.value if spec.flink_version is not None else None
    try:
        effective = configuration.effective(resource.namespace, version, spec.flink_configuration)
    except ValueError:
        return SessionDeletionSettings()
    return session_deletion_settings(Configuration(effective))
