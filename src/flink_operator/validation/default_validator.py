"""The default validator: every rule for every kind, all problems reported, never an exception.

Two ways in:

* the functions `validate_deployment`, `validate_session_job`, `validate_state_snapshot` and
  `validate_resource` return `list[Problem]` (each naming its field path) given a `ValidationContext`
  (operator default configuration, host resolver, Kubernetes version for pod templates);
* `DefaultValidator` has the plugin validator shape (`validate_deployment(...) -> str | None`, ...), so the
  plugin host runs it as the first validator, and `problems(...)` for callers that want the list. It reads
  the default configuration through a callable on every call, so a reloaded configuration applies at once.

The rule lists (`DEPLOYMENT_RULES`, `JOB_RULES`, ...) are public: `ALL_RULES` lists every rule by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flink_operator.api import (
    FlinkDeployment,
    FlinkDeploymentSpec,
    FlinkSessionJob,
    FlinkSessionJobSpec,
    FlinkStateSnapshot,
    Problem,
)
from flink_operator.config import DefaultConfiguration
from flink_operator.validation import (
    artifact_rules,
    autoscaler_rules,
    config_rules,
    deployment_rules,
    job_rules,
    resource_rules,
    session_job_rules,
    snapshot_rules,
    upgrade_rules,
)
from flink_operator.validation.context import (
    ConfigView,
    HostResolver,
    deployment_config,
    last_reconciled_spec,
    operator_config,
    session_job_config,
    system_resolver,
)
from flink_operator.validation.rule import Rule, run_rules
from flink_operator.validation.subjects import (
    AutoscalerSubject,
    DeploymentSubject,
    JobSubject,
    SessionJobSubject,
    SnapshotSubject,
)

DEPLOYMENT_RULES: tuple[Rule[DeploymentSubject], ...] = (
    deployment_rules.deployment_name,
    deployment_rules.flink_version,
    upgrade_rules.flink_version_after_last_state_suspend,
    config_rules.forbidden_config_keys,
    config_rules.health_check_requires_jm_recovery,
    deployment_rules.ingress_template,
    deployment_rules.log_configuration,
    resource_rules.jobmanager_memory,
    resource_rules.jobmanager_resource,
    resource_rules.jobmanager_resources,
    resource_rules.jobmanager_replicas,
    resource_rules.taskmanager_memory,
    resource_rules.taskmanager_resource,
    resource_rules.taskmanager_resources,
    resource_rules.taskmanager_replicas,
    upgrade_rules.no_cluster_type_switch,
    upgrade_rules.no_deployment_mode_switch,
    upgrade_rules.savepoint_redeploy_needs_path,
    deployment_rules.service_account,
    deployment_rules.image_pull_policy,
    deployment_rules.reactive_mode_deployment,
    deployment_rules.pod_templates,
)
"""Rules on a FlinkDeployment as a whole."""

CONFIG_RULES: tuple[Rule[ConfigView], ...] = (config_rules.option_values, config_rules.task_slots)
"""Rules on the configuration of a FlinkDeployment or FlinkSessionJob."""

JOB_RULES: tuple[Rule[JobSubject], ...] = (
    job_rules.checkpoint_dir,
    job_rules.savepoint_dir,
    job_rules.job_parallelism,
)
"""Rules on `spec.job` (application deployments; session jobs whose cluster is known)."""

AUTOSCALER_RULES: tuple[Rule[AutoscalerSubject], ...] = (
    autoscaler_rules.autoscaler_option_values,
    autoscaler_rules.autoscaler_excluded_periods,
    *autoscaler_rules.RANGE_RULES,
    autoscaler_rules.autoscaler_metrics_window,
)
"""Rules on the autoscaler settings (deployments; session jobs whose cluster is known)."""

SESSION_JOB_RULES: tuple[Rule[SessionJobSubject], ...] = (
    session_job_rules.session_deployment_name,
    session_job_rules.session_job_required,
    session_job_rules.session_deployment_name_unchanged,
    artifact_rules.session_job_jar_uri,
    session_job_rules.session_cluster_type,
    session_job_rules.session_cluster_match,
)
"""Rules on a FlinkSessionJob and its relation to its session cluster."""

SNAPSHOT_RULES: tuple[Rule[SnapshotSubject], ...] = (
    snapshot_rules.snapshot_type,
    snapshot_rules.snapshot_job_reference,
    snapshot_rules.snapshot_existing_savepoint_path,
    snapshot_rules.snapshot_target_found,
    snapshot_rules.snapshot_target_has_job,
    snapshot_rules.snapshot_backoff_limit,
)
"""Rules on a FlinkStateSnapshot."""

_EVERY_RULE: tuple[Rule[Any], ...] = (
    *DEPLOYMENT_RULES,
    *CONFIG_RULES,
    *JOB_RULES,
    *AUTOSCALER_RULES,
    *SESSION_JOB_RULES,
    *SNAPSHOT_RULES,
)
ALL_RULES: dict[str, Rule[Any]] = {each.name: each for each in _EVERY_RULE}
"""Every rule by name."""


@dataclass(frozen=True)
class ValidationContext:
    """What validation needs besides the resources."""

    defaults: DefaultConfiguration = field(default_factory=lambda: DefaultConfiguration(values={}))
    """The operator's default configuration (config file + environment)."""
    resolve_host: HostResolver = system_resolver
    """How session-job jar hosts are resolved (`offline_resolver` skips network lookups)."""
    kubernetes_version: str | None = None
    """Kubernetes version whose Pod schema checks pod templates (None: the default)."""


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def deployment_subject(deployment: FlinkDeployment, context: ValidationContext) -> DeploymentSubject:
    """The subject the deployment rules check."""
    version = deployment.spec.flink_version.value if deployment.spec.flink_version else None
    return DeploymentSubject(
        deployment=deployment,
        config=deployment_config(context.defaults, deployment),
        operator_config=operator_config(context.defaults, deployment.metadata.namespace, version),
        last_spec=last_reconciled_spec(
            deployment.status.reconciliation_status.last_reconciled_spec, FlinkDeploymentSpec
        ),
        kubernetes_version=context.kubernetes_version,
    )


def session_job_subject(
    session_job: FlinkSessionJob, session: FlinkDeployment | None, context: ValidationContext
) -> SessionJobSubject:
    """The subject the session-job rules check."""
    namespace = session_job.metadata.namespace
    version = (
        session.spec.flink_version.value if session is not None and session.spec.flink_version else None
    )
    return SessionJobSubject(
        session_job=session_job,
        session=session,
        config=session_job_config(context.defaults, namespace, session_job.spec.flink_configuration, session),
        operator_config=operator_config(context.defaults, namespace, version),
        last_spec=last_reconciled_spec(
            session_job.status.reconciliation_status.last_reconciled_spec, FlinkSessionJobSpec
        ),
        resolve_host=context.resolve_host,
    )


def validate_deployment(
    deployment: FlinkDeployment, context: ValidationContext | None = None
) -> list[Problem]:
    """Every problem of a FlinkDeployment."""
    subject = deployment_subject(deployment, context or ValidationContext())
    spec, config = deployment.spec, subject.config
    problems = run_rules(DEPLOYMENT_RULES, subject)
    problems += run_rules(CONFIG_RULES, config)
    if spec.job is not None:
        replicas = spec.task_manager.replicas if spec.task_manager is not None else None
        problems += run_rules(JOB_RULES, JobSubject(spec.job, config, replicas))
    problems += run_rules(AUTOSCALER_RULES, AutoscalerSubject(config, subject.operator_config))
    return _unique(problems)


def validate_session_job(
    session_job: FlinkSessionJob,
    session: FlinkDeployment | None,
    context: ValidationContext | None = None,
) -> list[Problem]:
    """Every problem of a FlinkSessionJob; `session` is its session cluster, None when not found (then only
    the rules that need no cluster apply)."""
    subject = session_job_subject(session_job, session, context or ValidationContext())
    config = subject.config
    problems = run_rules(SESSION_JOB_RULES, subject)
    problems += run_rules(CONFIG_RULES, config)
    job = session_job.spec.job
    if session is not None and job is not None:
        problems += run_rules(JOB_RULES, JobSubject(job, config, None, session_job=True))
        problems += run_rules(AUTOSCALER_RULES, AutoscalerSubject(config, subject.operator_config))
    return _unique(problems)


def validate_state_snapshot(
    snapshot: FlinkStateSnapshot,
    target: FlinkDeployment | FlinkSessionJob | None,
    context: ValidationContext | None = None,
    *,
    target_looked_up: bool = True,
) -> list[Problem]:
    """Every problem of a FlinkStateSnapshot; `target` is the resource its jobReference names (None when not
    found). With `target_looked_up=False` (offline) a missing target is not reported."""
    del context  # snapshot rules need no configuration
    return _unique(run_rules(SNAPSHOT_RULES, SnapshotSubject(snapshot, target, target_looked_up)))


def validate_resource(
    resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot,
    related: FlinkDeployment | FlinkSessionJob | None = None,
    context: ValidationContext | None = None,
    *,
    related_looked_up: bool = True,
) -> list[Problem]:
    """Any kind: `related` is the session cluster of a session job or the target of a snapshot."""
    if isinstance(resource, FlinkDeployment):
        return validate_deployment(resource, context)
    if isinstance(resource, FlinkSessionJob):
        session = related if isinstance(related, FlinkDeployment) else None
        return validate_session_job(resource, session, context)
    return validate_state_snapshot(resource, related, context, target_looked_up=related_looked_up)


def describe_problems(problems: Sequence[Problem]) -> str | None:
    """One message for all problems (`path: message; path: message`), None when there are none."""
    return "; ".join(str(problem) for problem in problems) or None


DefaultsSource = DefaultConfiguration | Callable[[], DefaultConfiguration]


class DefaultValidator:
    """The built-in validator in the plugin validator shape (run first by the plugin host).

        validator = DefaultValidator(lambda: reloader.current)
        host = PluginHost.load(config, default_validator=validator)
        validator.problems(deployment)                       # list[Problem], for callers wanting fields
    """

    def __init__(
        self,
        defaults: DefaultsSource | None = None,
        *,
        resolve_host: HostResolver = system_resolver,
        kubernetes_version: str | None = None,
    ) -> None:
        self._defaults: DefaultsSource = defaults if defaults is not None else DefaultConfiguration(values={})
        self._resolve_host = resolve_host
        self._kubernetes_version = kubernetes_version

    @property
    def context(self) -> ValidationContext:
        defaults = self._defaults() if callable(self._defaults) else self._defaults
        return ValidationContext(defaults, self._resolve_host, self._kubernetes_version)

    def problems(
        self,
        resource: FlinkDeployment | FlinkSessionJob | FlinkStateSnapshot,
        related: FlinkDeployment | FlinkSessionJob | None = None,
        *,
        related_looked_up: bool = True,
    ) -> list[Problem]:
        return validate_resource(resource, related, self.context, related_looked_up=related_looked_up)

    def validate_deployment(self, deployment: FlinkDeployment) -> str | None:
        return describe_problems(validate_deployment(deployment, self.context))

    def validate_session_job(
        self, session_job: FlinkSessionJob, session: FlinkDeployment | None
    ) -> str | None:
        return describe_problems(validate_session_job(session_job, session, self.context))

    def validate_state_snapshot(
        self, snapshot: FlinkStateSnapshot, target: FlinkDeployment | FlinkSessionJob | None
    ) -> str | None:
        return describe_problems(validate_state_snapshot(snapshot, target, self.context))
