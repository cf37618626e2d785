"""From a FlinkSessionJob spec to what the runtime needs: its effective configuration and a SessionJobRequest.

Pure. The configuration sent with a submission is the session job's effective configuration (scoped
defaults + the session cluster's `flinkConfiguration` + the session job's own), without operator-only keys,
with upstream's job defaults (contract §3.11, §3.12): `pipeline.name` = the resource name, retained
checkpoints on cancellation (a last-state upgrade cancels and restores from the latest one), and a
checkpoint interval for last-state jobs that configure none.
"""

from __future__ import annotations

from collections.abc import Mapping

from flink_operator.api import FlinkSessionJobSpec, UpgradeMode
from flink_operator.flink import config_builder
from flink_operator.flink.service import ClusterRef, SessionJobRequest
from flink_operator.flink.service import JobSpec as RuntimeJobSpec

PIPELINE_NAME_KEY = "pipeline.name"


def job_configuration(
    effective: Mapping[str, str], *, name: str, upgrade_mode: UpgradeMode = UpgradeMode.STATELESS
) -> dict[str, str]:
    configuration = config_builder.flink_only(effective)
    configuration.setdefault(PIPELINE_NAME_KEY, name)
    if upgrade_mode is UpgradeMode.LAST_STATE:
        configuration.setdefault(
            config_builder.CHECKPOINT_INTERVAL_KEY, config_builder.LAST_STATE_DEFAULT_CHECKPOINT_INTERVAL
        )
    configuration.setdefault(config_builder.CHECKPOINT_RETENTION_KEY, "RETAIN_ON_CANCELLATION")
    return configuration


def submit_request(
    spec: FlinkSessionJobSpec,
    *,
    cluster: ClusterRef,
    name: str,
    effective: Mapping[str, str],
    job_id: str,
    restore_path: str | None,
) -> SessionJobRequest:
    job = spec.job
    assert job is not None, "the validator requires spec.job"
    return SessionJobRequest(
        cluster=cluster,
        job_name=name,
        job=RuntimeJobSpec(
            jar_uri=job.jar_uri,
            entry_class=job.entry_class,
            args=tuple(job.args),
            parallelism=job.parallelism if job.parallelism > 0 else None,
        ),
        job_id=job_id,
        configuration=job_configuration(effective, name=name, upgrade_mode=job.upgrade_mode),
        restore_path=restore_path,
        allow_non_restored_state=bool(job.allow_non_restored_state),
    )
