"""Metric options of the operator (contract §5.7, §7.1). All are system options.

Upstream forwards `kubernetes.operator.metrics.*` to Flink's metric reporters; the reporter options are kept
as templates here so configuration files written for upstream stay valid and documented. Names that refer to
Java components (JOSDK, JVM) keep their keys for compatibility and switch the equivalent metric groups of this
operator (controller runtime metrics, Python process metrics).
"""

from __future__ import annotations

from datetime import timedelta

from flink_operator.config.constraints import at_least
from flink_operator.config.registry import declare, declare_optional
from flink_operator.config.values import BOOLEAN, DURATION, INTEGER, STRING

DOCS_SECTION = "Metrics"

_P = "kubernetes.operator."

JOSDK_METRICS_ENABLED = declare(
    _P + "josdk.metrics.enabled", BOOLEAN, True,
    "Publish controller-runtime metrics (reconcile counts and durations, queue sizes).",
)
JVM_METRICS_ENABLED = declare(
    _P + "jvm.metrics.enabled", BOOLEAN, True,
    "Publish operator process metrics (memory, CPU, threads); named after upstream's JVM metrics.",
)
KUBERNETES_CLIENT_METRICS_ENABLED = declare(
    _P + "kubernetes.client.metrics.enabled", BOOLEAN, True,
    "Publish Kubernetes API client request metrics.",
)
KUBERNETES_CLIENT_METRICS_HTTP_RESPONSE_CODE_GROUPS_ENABLED = declare(
    _P + "kubernetes.client.metrics.http.response.code.groups.enabled", BOOLEAN, False,
    "Also count Kubernetes API responses per status class (1xx ... 5xx).",
)
KUBERNETES_CLIENT_METRICS_SLOW_REQUEST_THRESHOLD = declare(
    _P + "kubernetes.client.metrics.slow.request.threshold", DURATION, timedelta(seconds=5),
    "Kubernetes API requests slower than this are counted as slow.",
)
METRICS_HISTOGRAM_SAMPLE_SIZE = declare(
    _P + "metrics.histogram.sample.size", INTEGER, 1000,
    "Number of samples kept by histogram metrics.",
    check=at_least(1),
)
METRICS_SCOPE_SYSTEM = declare(
    _P + "metrics.scope.k8soperator.system", STRING, "<host>.k8soperator.<namespace>.<name>.system",
    "Scope format of operator-wide metrics.",
)
METRICS_SCOPE_RESOURCE_NAMESPACE = declare(
    _P + "metrics.scope.k8soperator.resourcens", STRING,
    "<host>.k8soperator.<namespace>.<name>.namespace.<resourcens>.<resourcetype>",
    "Scope format of per-namespace resource metrics.",
)
METRICS_SCOPE_RESOURCE = declare(
    _P + "metrics.scope.k8soperator.resource", STRING,
    "<host>.k8soperator.<namespace>.<name>.resource.<resourcens>.<resourcename>.<resourcetype>",
    "Scope format of per-resource metrics.",
)
RESOURCE_METRICS_ENABLED = declare(
    _P + "resource.metrics.enabled", BOOLEAN, True,
    "Publish per-resource metrics.",
)
RESOURCE_LIFECYCLE_METRICS_ENABLED = declare(
    _P + "resource.lifecycle.metrics.enabled", BOOLEAN, True,
    "Publish lifecycle state counts and transition times.",
)
RESOURCE_LIFECYCLE_NAMESPACE_HISTOGRAMS_ENABLED = declare(
    _P + "resource.lifecycle.namespace.histograms.enabled", BOOLEAN, True,
    "Also keep lifecycle transition histograms per namespace.",
)
METRICS_REPORTER_FACTORY_CLASS = declare_optional(
    _P + "metrics.reporter.<name>.factory.class", STRING,
    "Enables the metric reporter `<name>` (e.g. Prometheus: "
    "`org.apache.flink.metrics.prometheus.PrometheusReporterFactory`).",
)
METRICS_REPORTER_PORT = declare_optional(
    _P + "metrics.reporter.<name>.port", STRING,
    "Port (or port range such as `9250-9260`) a pull-based reporter such as Prometheus listens on.",
)
METRICS_REPORTER_INTERVAL = declare_optional(
    _P + "metrics.reporter.<name>.interval", DURATION,
    "Reporting interval of a push-based reporter (e.g. `5 MINUTE` for SLF4J).",
)
