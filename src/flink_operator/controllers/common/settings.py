"""The options a controller decision reads, as one plain value object per resource.

`ResourceSettings.from_configs(operator, resource)` reads system options (intervals, retries) from the
resource's operator configuration (scoped defaults only, never its spec) and per-resource ("dynamic")
options from its effective configuration (scoped defaults + `spec.flinkConfiguration`). Decisions take the
result and never read configuration themselves, so they stay pure and easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flink_operator.config import Configuration
from flink_operator.config import operator_options as op
from flink_operator.config import resource_options as ro
from flink_operator.controllers.common.health import HealthSettings


@dataclass(frozen=True)
class ResourceSettings:
    """Operator behaviour for one resource (seconds for durations)."""

    reconcile_interval: float = 60.0
    progress_check_interval: float = 10.0
    rest_ready_delay: float = 10.0
    retry_initial_interval: float = 5.0
    retry_multiplier: float = 1.5
    retry_max_attempts: int = 15
    retry_max_interval: float | None = None
    exception_field_max_length: int = 2048
    savepoint_on_deletion: bool = False
    drain_on_savepoint_deletion: bool = False
    savepoint_format: str = "CANONICAL"
    last_state_fallback_enabled: bool = True
    last_state_job_cancel_enabled: bool = False
    max_checkpoint_age: float | None = None
    jm_recovery_enabled: bool = True
    job_restart_failed: bool = False
    jm_shutdown_ttl: float = 86400.0
    ignore_pending_savepoint: bool = False
    savepoint_trigger_grace_period: float = 60.0
    manage_ingress: bool = True
    rollback_enabled: bool = False
    readiness_timeout: float = 300.0
    health_check_enabled: bool = False
    health_restarts_threshold: int = 64
    health_restarts_window: float = 120.0
    health_checkpoint_progress_enabled: bool = True
    health_checkpoint_progress_window: float | None = None
    exception_events_limit: int = 10
    exception_stacktrace_lines: int = 5
    exception_throwable_list_max_count: int = 2

    @classmethod
    def from_configs(
        cls, operator: Configuration, resource: Configuration | Mapping[str, str]
    ) -> ResourceSettings:
        dynamic = resource if isinstance(resource, Configuration) else Configuration(resource)
        max_age = dynamic.get(ro.JOB_UPGRADE_LAST_STATE_MAX_ALLOWED_CHECKPOINT_AGE)
        max_interval = operator.get(op.RETRY_MAX_INTERVAL)
        progress_window = dynamic.get(ro.CLUSTER_HEALTH_CHECK_CHECKPOINT_PROGRESS_WINDOW)
        return cls(
            reconcile_interval=operator.get(op.RECONCILE_INTERVAL).total_seconds(),
            progress_check_interval=operator.get(op.OBSERVER_PROGRESS_CHECK_INTERVAL).total_seconds(),
            rest_ready_delay=operator.get(op.OBSERVER_REST_READY_DELAY).total_seconds(),
            retry_initial_interval=operator.get(op.RETRY_INITIAL_INTERVAL).total_seconds(),
            retry_multiplier=operator.get(op.RETRY_INTERVAL_MULTIPLIER),
            retry_max_attempts=operator.get(op.RETRY_MAX_ATTEMPTS),
            retry_max_interval=max_interval.total_seconds() if max_interval is not None else None,
            exception_field_max_length=operator.get(op.EXCEPTION_FIELD_MAX_LENGTH),
            savepoint_on_deletion=dynamic.get(ro.JOB_SAVEPOINT_ON_DELETION),
            drain_on_savepoint_deletion=dynamic.get(ro.JOB_DRAIN_ON_SAVEPOINT_DELETION),
            savepoint_format=dynamic.get(ro.SAVEPOINT_FORMAT_TYPE).value,
            last_state_fallback_enabled=dynamic.get(ro.JOB_UPGRADE_LAST_STATE_FALLBACK_ENABLED),
            last_state_job_cancel_enabled=dynamic.get(ro.JOB_UPGRADE_LAST_STATE_JOB_CANCEL_ENABLED),
            max_checkpoint_age=max_age.total_seconds() if max_age is not None else None,
            jm_recovery_enabled=dynamic.get(ro.JM_DEPLOYMENT_RECOVERY_ENABLED),
            job_restart_failed=dynamic.get(ro.JOB_RESTART_FAILED),
            jm_shutdown_ttl=dynamic.get(ro.JM_DEPLOYMENT_SHUTDOWN_TTL).total_seconds(),
            ignore_pending_savepoint=dynamic.get(ro.JOB_UPGRADE_IGNORE_PENDING_SAVEPOINT),
            savepoint_trigger_grace_period=dynamic.get(ro.SAVEPOINT_TRIGGER_GRACE_PERIOD).total_seconds(),
            manage_ingress=operator.get(op.INGRESS_MANAGE),
            rollback_enabled=dynamic.get(ro.DEPLOYMENT_ROLLBACK_ENABLED),
            readiness_timeout=dynamic.get(ro.DEPLOYMENT_READINESS_TIMEOUT).total_seconds(),
            health_check_enabled=dynamic.get(ro.CLUSTER_HEALTH_CHECK_ENABLED),
            health_restarts_threshold=dynamic.get(ro.CLUSTER_HEALTH_CHECK_RESTARTS_THRESHOLD),
            health_restarts_window=dynamic.get(ro.CLUSTER_HEALTH_CHECK_RESTARTS_WINDOW).total_seconds(),
            health_checkpoint_progress_enabled=dynamic.get(ro.CLUSTER_HEALTH_CHECK_CHECKPOINT_PROGRESS_ENABLED),
            health_checkpoint_progress_window=(
                progress_window.total_seconds() if progress_window is not None else None
            ),
            exception_events_limit=operator.get(op.EVENTS_EXCEPTIONS_LIMIT_PER_RECONCILIATION),
            exception_stacktrace_lines=operator.get(op.EVENTS_EXCEPTIONS_STACKTRACE_LINES),
            exception_throwable_list_max_count=operator.get(op.EXCEPTION_THROWABLE_LIST_MAX_COUNT),
        )

    def health(self) -> HealthSettings:
        """The health-check options (the job's checkpointing options are added by the caller)."""
        window = self.health_checkpoint_progress_window
        return HealthSettings(
            restarts_threshold=self.health_restarts_threshold,
            restarts_window_ms=int(self.health_restarts_window * 1000),
            checkpoint_progress_enabled=self.health_checkpoint_progress_enabled,
            checkpoint_window_ms=int(window * 1000) if window is not None else None,
        )

    def retry_delay(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based) of a failing reconcile."""
        delay = self.retry_initial_interval * (self.retry_multiplier ** max(attempt - 1, 0))
        if self.retry_max_interval is not None:
            delay = min(delay, self.retry_max_interval)
        return delay
