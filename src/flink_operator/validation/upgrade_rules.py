"""Rules comparing a FlinkDeployment with its last reconciled spec (contract §4.4 items 2 and 11).

They apply only after the first deployment (a stored `status.reconciliationStatus.lastReconciledSpec`):
a cluster cannot switch between session and application, nor between native and standalone; a changed
`savepointRedeployNonce` needs an `initialSavepointPath`; and the Flink version cannot change while the job
is suspended with last-state (its HA metadata belongs to the old version).
"""

from __future__ import annotations

from collections.abc import Iterator

from flink_operator.api import JobState, KubernetesDeploymentMode, Problem, UpgradeMode
from flink_operator.validation.rule import rule
from flink_operator.validation.subjects import DeploymentSubject


@rule("no-cluster-type-switch", "A deployed cluster stays a session cluster or an application cluster.")
def no_cluster_type_switch(s: DeploymentSubject) -> Iterator[Problem]:
    last = s.last_spec
    if last is None:
        return
    spec = s.deployment.spec
    if spec.job is not None and last.job is None:
        yield Problem(
            "spec.job",
            "cannot be added: this is a deployed session cluster; create a new FlinkDeployment for the "
            "application (or a FlinkSessionJob for this cluster)",
        )
    elif spec.job is None and last.job is not None:
        yield Problem(
            "spec.job",
            "cannot be removed: this is a deployed application cluster; create a new FlinkDeployment for a "
            "session cluster",
        )


@rule(
    "no-deployment-mode-switch",
    "spec.mode (native or standalone) does not change after the first deployment.",
)
def no_deployment_mode_switch(s: DeploymentSubject) -> Iterator[Problem]:
    last = s.last_spec
    if last is None:
        return
    before = last.mode or KubernetesDeploymentMode.NATIVE
    after = s.deployment.spec.effective_mode
    if before is not after:
        yield Problem(
            "spec.mode",
            f"cannot change from {before.value} to {after.value} after the first deployment; delete and "
            "recreate the resource to switch",
        )


@rule(
    "savepoint-redeploy-needs-path",
    "A changed spec.job.savepointRedeployNonce comes with spec.job.initialSavepointPath.",
)
def savepoint_redeploy_needs_path(s: DeploymentSubject) -> Iterator[Problem]:
    last, job = s.last_spec, s.deployment.spec.job
    if last is None or last.job is None or job is None:
        return
    nonce = job.savepoint_redeploy_nonce
    if nonce is None or nonce == last.job.savepoint_redeploy_nonce:
        return
    if job.initial_savepoint_path is None or not job.initial_savepoint_path.strip():
        yield Problem(
            "spec.job.initialSavepointPath",
            "required when spec.job.savepointRedeployNonce changes: it is the savepoint the job is "
            "redeployed from",
        )


@rule(
    "flink-version-after-last-state-suspend",
    "spec.flinkVersion does not change while the job is suspended with upgradeMode last-state.",
)
def flink_version_after_last_state_suspend(s: DeploymentSubject) -> Iterator[Problem]:
    last, spec = s.last_spec, s.deployment.spec
    if last is None or last.job is None or spec.job is None:
        return
    suspended = last.job.state is JobState.SUSPENDED and last.job.upgrade_mode is UpgradeMode.LAST_STATE
    if not suspended or spec.job.upgrade_mode is UpgradeMode.STATELESS:
        return
    if last.flink_version != spec.flink_version:
        before = last.flink_version.value if last.flink_version else "unset"
        after = spec.flink_version.value if spec.flink_version else "unset"
        yield Problem(
            "spec.flinkVersion",
            f"cannot change from {before} to {after} while the job is suspended with upgradeMode last-state: "
            f"resume it with {before} first and change the version afterwards (or use upgradeMode stateless)",
        )
