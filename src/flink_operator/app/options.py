"""Options of the operator process itself: which Flink runtime manages the clusters.

`kubernetes.operator.runtime` picks the FlinkService: `local` runs every Flink cluster as processes on this
machine (REST and Web UI on 127.0.0.1, see `kubernetes.operator.local.*`); `kubernetes` runs them on the
Kubernetes cluster the operator watches (native or standalone per `spec.mode`).
"""

from __future__ import annotations

import enum

from flink_operator.config import declare, enum_type

DOCS_SECTION = "Flink runtime"


class RuntimeKind(enum.Enum):
    # Lower-case member names: option values are matched and shown by member name.
    local = "local"
    kubernetes = "kubernetes"


RUNTIME = declare(
    "kubernetes.operator.runtime",
    enum_type(RuntimeKind),
    RuntimeKind.kubernetes,
    "Where the Flink clusters of FlinkDeployments run: `kubernetes` (on the watched Kubernetes cluster, "
    "native or standalone per `spec.mode`) or `local` (JobManager and TaskManager processes on the "
    "operator's machine, REST and Web UI on 127.0.0.1; `flink-operator local up` sets it).",
    upstream_default="(none: upstream always runs on Kubernetes)",
)
