"""System options of the operator process (contract §5.3-§5.5): reconcile loop, timeouts, retries, rate
limiting, watched namespaces, leader election, error reporting, artifacts, health, caches, live reload.

System options are read from the operator configuration only (file, environment, namespace and
Flink-version defaults); a value in a resource's `spec.flinkConfiguration` is ignored.
Defaults follow the upstream operator except where `upstream_default` records a deliberate difference.
"""

from __future__ import annotations

import enum
from datetime import timedelta

from flink_operator.config.configuration import Configuration
from flink_operator.config.constraints import (
    PORT,
    at_least,
    non_empty,
    positive_duration,
    unbounded_or_at_least,
)
from flink_operator.config.registry import declare, declare_optional
from flink_operator.config.values import (
    BOOLEAN,
    DOUBLE,
    DURATION,
    INTEGER,
    REGEX,
    STRING,
    enum_type,
    list_type,
)

DOCS_SECTION = "Operator (system options)"

_P = "kubernetes.operator."

# --- reconcile loop -----------------------------------------------------------------------------------

RECONCILE_INTERVAL = declare(
    _P + "reconcile.interval", DURATION, timedelta(minutes=1),
    "How long after a successful reconcile a resource is looked at again (the Helm chart sets 15 s).",
    deprecated_keys=(_P + "reconciler.reschedule.interval",),
    check=positive_duration,
)
RECONCILE_PARALLELISM = declare(
    _P + "reconcile.parallelism", INTEGER, 50,
    "How many resources are reconciled at the same time; -1 means no bound. Also bounds concurrent "
    "Flink REST calls.",
    deprecated_keys=(_P + "reconciler.max.parallelism",),
    check=unbounded_or_at_least(-1, 1),
)
OBSERVER_PROGRESS_CHECK_INTERVAL = declare(
    _P + "observer.progress-check.interval", DURATION, timedelta(seconds=10),
    "Reschedule interval while a resource is in transition (deploying, savepointing, cancelling); the "
    "Helm chart sets 5 s.",
    check=positive_duration,
)
OBSERVER_REST_READY_DELAY = declare(
    _P + "observer.rest-ready.delay", DURATION, timedelta(seconds=10),
    "Wait after the JobManager REST port opens before the deployment is considered READY.",
)
TERMINATION_TIMEOUT = declare(
    _P + "termination.timeout", DURATION, timedelta(seconds=10),
    "Grace period for running reconciles when the operator shuts down.",
)
STARTUP_STOP_ON_INFORMER_ERROR = declare(
    _P + "startup.stop-on-informer-error", BOOLEAN, True,
    "Fail startup when a watch cannot be started (for example missing RBAC permissions).",
)

# --- timeouts -----------------------------------------------------------------------------------------

FLINK_CLIENT_TIMEOUT = declare(
    _P + "flink.client.timeout", DURATION, timedelta(seconds=10),
    "Timeout of Flink REST calls.",
    deprecated_keys=(_P + "observer.flink.client.timeout",),
    check=positive_duration,
)
FLINK_CLIENT_CANCEL_TIMEOUT = declare(
    _P + "flink.client.cancel.timeout", DURATION, timedelta(minutes=1),
    "Timeout of job cancel calls.",
    deprecated_keys=(_P + "reconciler.flink.cancel.job.timeout",),
    check=positive_duration,
)
RESOURCE_CLEANUP_TIMEOUT = declare(
    _P + "resource.cleanup.timeout", DURATION, timedelta(minutes=5),
    "How long to wait for a Flink cluster's Kubernetes resources to be deleted.",
    deprecated_keys=(_P + "reconciler.flink.cluster.shutdown.timeout",),
    check=positive_duration,
)
JOB_SUBMISSION_TIMEOUT = declare(
    _P + "job.submission.timeout", DURATION, timedelta(minutes=10),
    "Timeout of session-job submission (`jars/run`).",
    check=positive_duration,
)


class DeletionPropagation(enum.Enum):
    """Kubernetes deletion propagation policies."""

    Orphan = "Orphan"
    Background = "Background"
    Foreground = "Foreground"


RESOURCE_DELETION_PROPAGATION = declare(
    _P + "resource.deletion.propagation", enum_type(DeletionPropagation), DeletionPropagation.Foreground,
    "Propagation policy used when deleting JobManager/TaskManager Deployments.",
)

# --- retries and rate limiting ------------------------------------------------------------------------

RETRY_INITIAL_INTERVAL = declare(
    _P + "retry.initial.interval", DURATION, timedelta(seconds=5),
    "First delay before retrying a failed reconcile.",
    check=positive_duration,
)
RETRY_INTERVAL_MULTIPLIER = declare(
    _P + "retry.interval.multiplier", DOUBLE, 1.5,
    "Factor by which each retry delay grows.",
    check=at_least(1.0),
)
RETRY_MAX_ATTEMPTS = declare(
    _P + "retry.max.attempts", INTEGER, 15,
    "Retries of a failing reconcile before the error is recorded as final for this attempt.",
    check=at_least(0),
)
RETRY_MAX_INTERVAL = declare_optional(
    _P + "retry.max.interval", DURATION,
    "Upper bound of the retry delay; unset means no bound.",
    check=positive_duration,
)
RATE_LIMITER_LIMIT = declare(
    _P + "rate-limiter.limit", INTEGER, 5,
    "Reconciles allowed per resource within one refresh period; 0 or less disables rate limiting.",
)
RATE_LIMITER_REFRESH_PERIOD = declare(
    _P + "rate-limiter.refresh-period", DURATION, timedelta(seconds=15),
    "Window of the per-resource rate limiter.",
    check=positive_duration,
)

# --- what is watched -----------------------------------------------------------------------------------

ALL_NAMESPACES = "JOSDK_ALL_NAMESPACES"
"""The `watched.namespaces` value that means every namespace (upstream's spelling)."""

WATCHED_NAMESPACES = declare(
    _P + "watched.namespaces", list_type(STRING, ","), (ALL_NAMESPACES,),
    f"Comma-separated namespaces to watch; `{ALL_NAMESPACES}` (or empty) watches all. The environment "
    "variable `WATCH_NAMESPACES` takes precedence, as upstream.",
    env_var_name="WATCH_NAMESPACES",
)


def watched_namespaces(configuration: Configuration) -> frozenset[str] | None:
    """The namespaces to watch, or None for all (`JOSDK_ALL_NAMESPACES`, or nothing listed)."""
    names: tuple[str, ...] = configuration.get(WATCHED_NAMESPACES)
    listed = frozenset(names)
    if not listed or ALL_NAMESPACES in listed:
        return None
    return listed


DYNAMIC_NAMESPACES_ENABLED = declare(
    _P + "dynamic.namespaces.enabled", BOOLEAN, False,
    "Follow changes of the watched namespaces from a reloaded configuration without a restart.",
)
LABEL_SELECTOR = declare_optional(
    _P + "label.selector", STRING,
    "Kubernetes label selector restricting the custom resources this operator handles.",
)
INGRESS_MANAGE = declare(
    _P + "ingress.manage", BOOLEAN, True,
    "Create and watch Ingresses for `spec.ingress`.",
)

# --- leader election ----------------------------------------------------------------------------------

LEADER_ELECTION_ENABLED = declare(
    _P + "leader-election.enabled", BOOLEAN, True,
    "Elect a leader through a Lease so that standby replicas can take over. On by default here (upstream "
    "defaults to off), so that a second replica can never reconcile concurrently.",
    upstream_default="false",
)
LEADER_ELECTION_LEASE_NAME = declare(
    _P + "leader-election.lease-name", STRING, "flink-operator-lease",
    "Name of the Lease in the operator's namespace. Upstream has no default and fails to start without "
    "one; here it defaults so that leader election works out of the box.",
    upstream_default="(none)",
    check=non_empty,
)
LEADER_ELECTION_LEASE_DURATION = declare(
    _P + "leader-election.lease-duration", DURATION, timedelta(seconds=15),
    "How long a lease is valid without renewal; standbys take over after it expires.",
    check=positive_duration,
)
LEADER_ELECTION_RENEW_DEADLINE = declare(
    _P + "leader-election.renew-deadline", DURATION, timedelta(seconds=10),
    "The leader gives up leadership when it could not renew within this time.",
    check=positive_duration,
)
LEADER_ELECTION_RETRY_PERIOD = declare(
    _P + "leader-election.retry-period", DURATION, timedelta(seconds=2),
    "Interval between attempts to acquire or renew the lease.",
    check=positive_duration,
)

# --- error reporting ----------------------------------------------------------------------------------

EXCEPTION_STACKTRACE_ENABLED = declare(
    _P + "exception.stacktrace.enabled", BOOLEAN, False,
    "Include the stack trace in `status.error`.",
)
EXCEPTION_STACKTRACE_MAX_LENGTH = declare(
    _P + "exception.stacktrace.max.length", INTEGER, 2048,
    "Truncate the stack trace in `status.error` to this many characters.",
    check=at_least(0),
)
EXCEPTION_FIELD_MAX_LENGTH = declare(
    _P + "exception.field.max.length", INTEGER, 2048,
    "Truncate the type and message of `status.error` to this many characters.",
    check=at_least(0),
)
EXCEPTION_THROWABLE_LIST_MAX_COUNT = declare(
    _P + "exception.throwable.list.max.count", INTEGER, 2,
    "Number of causes kept in `status.error.throwableList`.",
    check=at_least(0),
)
EVENTS_EXCEPTIONS_LIMIT_PER_RECONCILIATION = declare(
    _P + "events.exceptions.limit-per-reconciliation", INTEGER, 10,
    "At most this many job exception events are emitted per reconcile.",
    check=at_least(0),
)
EVENTS_EXCEPTIONS_STACKTRACE_LINES = declare(
    _P + "events.exceptions.stacktrace-lines", INTEGER, 5,
    "Stack trace lines included in a job exception event.",
    check=at_least(0),
)

# The session-job artifact options (`kubernetes.operator.user.artifacts.*`) are declared next to the
# artifact fetcher, in `flink_operator.flink.artifact_options`.

# --- health -------------------------------------------------------------------------------------------

HEALTH_PROBE_ENABLED = declare(
    _P + "health.probe.enabled", BOOLEAN, True,
    "Serve the operator health endpoint.",
)
HEALTH_PROBE_PORT = declare(
    _P + "health.probe.port", INTEGER, 8085,
    "Port of the operator health endpoint.",
    check=PORT,
)
HEALTH_CANARY_RESOURCE_TIMEOUT = declare(
    _P + "health.canary.resource.timeout", DURATION, timedelta(minutes=1),
    "A canary resource not reconciled within this time makes the operator unhealthy.",
    check=positive_duration,
)

# --- caches and live reload ---------------------------------------------------------------------------

CONFIG_CACHE_SIZE = declare(
    _P + "config.cache.size", INTEGER, 1000,
    "Maximum number of generated per-resource configurations kept.",
    check=at_least(1),
)
CONFIG_CACHE_TIMEOUT = declare(
    _P + "config.cache.timeout", DURATION, timedelta(minutes=10),
    "Generated configurations expire after this long without access.",
    check=positive_duration,
)
DYNAMIC_CONFIG_ENABLED = declare(
    _P + "dynamic.config.enabled", BOOLEAN, True,
    "Apply changes of the configuration file without a restart.",
)
DYNAMIC_CONFIG_CHECK_INTERVAL = declare(
    _P + "dynamic.config.check.interval", DURATION, timedelta(seconds=2),
    "How often the configuration file is checked for changes. Each check only compares file metadata and "
    "is cheap, so the default is 2 s (upstream: 5 min), and an edited ConfigMap applies within seconds of "
    "the kubelet updating the mounted file.",
    upstream_default="5 min",
    check=positive_duration,
)
CLUSTER_RESOURCE_VIEW_REFRESH_INTERVAL = declare(
    _P + "cluster.resource-view.refresh-interval", DURATION, timedelta(minutes=-1),
    "How often node capacity is read so the autoscaler can tell whether a scale-up fits; negative "
    "disables it.",
)
SAVEPOINT_HISTORY_MAX_AGE_THRESHOLD = declare_optional(
    _P + "savepoint.history.max.age.threshold", DURATION,
    "Upper bound for a resource's `kubernetes.operator.savepoint.history.max.age`.",
)
SAVEPOINT_HISTORY_MAX_COUNT_THRESHOLD = declare_optional(
    _P + "savepoint.history.max.count.threshold", INTEGER,
    "Upper bound for a resource's `kubernetes.operator.savepoint.history.max.count`.",
)

# --- redaction (not in upstream) ----------------------------------------------------------------------

REDACTION_PATTERNS = declare(
    _P + "redaction.patterns", list_type(REGEX), (),
    "Extra regular expressions (`;`-separated, case-insensitive, matched anywhere in the key) for keys "
    "whose values are secret, on top of the built-in rules (password, secret, token, key, ...). Secret "
    "values are never written to logs, events or listener payloads.",
)
