"""The Flink configuration file a cluster's pods read: the cluster-side configuration and its rendering.

`cluster_side_configuration` turns the effective configuration into what the JobManager (and, through it,
the TaskManagers) must see inside the cluster: operator-only and client-only keys dropped, the fixed ports
and addresses Flink's native integration forces, the entrypoint class and execution mode. `render` writes it
in the format the image's entrypoint reads: `config.yaml` (Flink 2.x) or `flink-conf.yaml` (1.x).

Deliberate choices (see the tests for the comparison with Flink's own output):
* both formats are written as flat `key: value` entries. Flink 2's standard-YAML parser accepts dotted keys
  and the legacy `a;b` list and `k:v,k2:v2` map syntax, so no key needs nesting; this also avoids the
  conflict a nested file has when one key is a prefix of another (upstream rejects such configurations).
* list values this module owns (`pipeline.jars`, `pipeline.classpaths`, program arguments) are YAML lists in
  `config.yaml`, so an argument containing `;` survives; in `flink-conf.yaml` they are `;`-joined with
  Flink's quoting.
* a value with a line break or a `#` cannot be expressed in `flink-conf.yaml` (Flink 1.x reads one line
  per key and cuts lines at `#`) and is refused with a `ConfigError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from flink_operator.config import STRING, ConfigError, list_type
from flink_operator.kube.cluster_config import (
    DEFAULT_BLOB_PORT,
    DEFAULT_TASKMANAGER_RPC_PORT,
    ClusterConfig,
    FlinkVersion,
    fixed_port,
)
from flink_operator.kube.names import APPLICATION_ENTRYPOINT, SESSION_ENTRYPOINT, DeploymentMode

DROPPED_PREFIXES = ("kubernetes.operator.", "job.autoscaler.")
"""Operator options: meaningless to Flink (upstream strips them before deploying)."""
DROPPED_KEYS = frozenset(
    {
        # Client-side only: where the operator found its kubeconfig and the generated files.
        "kubernetes.config.file",
        "$internal.deployment.config-dir",
        "$internal.flink.version",
        # Host/bind addresses make sense on one machine, never inside a pod (Flink's own pods bind to all
        # interfaces and advertise the pod IP or the internal service).
        "jobmanager.bind-host",
        "taskmanager.bind-host",
        "taskmanager.host",
        "rest.bind-address",
        "rest.address",
    }
)
_STRINGS = list_type(STRING)
TASKMANAGER_TEMPLATE_KEY = "kubernetes.pod-template-file.taskmanager"
JOBMANAGER_TEMPLATE_KEY = "kubernetes.pod-template-file.jobmanager"


def cluster_side_configuration(
    configuration: Mapping[str, str],
    *,
    cluster_id: str,
    namespace: str,
    application: bool,
    mode: DeploymentMode = DeploymentMode.NATIVE,
    taskmanager_template_path: str | None = None,
) -> dict[str, str]:
    """The configuration the cluster's pods run with (see the module docstring for what changes).

    Standalone clusters run Flink's standalone entrypoints, which are not Kubernetes-aware: they get
    `execution.target: remote` and a fixed REST bind port instead of the native entrypoint settings.
    """
    conf = {
        key: value
        for key, value in configuration.items()
        if key not in DROPPED_KEYS and not key.startswith(DROPPED_PREFIXES)
    }
    conf.pop(JOBMANAGER_TEMPLATE_KEY, None)
    conf.pop(TASKMANAGER_TEMPLATE_KEY, None)
    if taskmanager_template_path is not None and mode is DeploymentMode.NATIVE:
        # The JobManager reads the TaskManager template from the mounted pod-template ConfigMap; the key
        # only has to be set, Flink looks at the fixed path in the pod.
        conf[TASKMANAGER_TEMPLATE_KEY] = taskmanager_template_path
    conf["kubernetes.cluster-id"] = cluster_id
    conf["kubernetes.namespace"] = namespace
    if mode is DeploymentMode.NATIVE:
        conf["kubernetes.internal.jobmanager.entrypoint.class"] = (
            APPLICATION_ENTRYPOINT if application else SESSION_ENTRYPOINT
        )
        conf["internal.cluster.execution-mode"] = "NORMAL"
        conf["execution.target"] = "kubernetes-application" if application else "kubernetes-session"
    else:
        conf["execution.target"] = "remote"
        conf["rest.bind-port"] = str(ClusterConfig(conf).rest_bind_port)
    conf["blob.server.port"] = str(fixed_port(conf.get("blob.server.port"), DEFAULT_BLOB_PORT))
    conf["taskmanager.rpc.port"] = str(
        fixed_port(conf.get("taskmanager.rpc.port"), DEFAULT_TASKMANAGER_RPC_PORT)
    )
    settings = ClusterConfig(conf)
    if settings.ha_enabled:
        conf["high-availability.cluster-id"] = cluster_id
        ha_port = conf.get("high-availability.jobmanager.port")
        conf["high-availability.jobmanager.port"] = str(fixed_port(ha_port, settings.rpc_port))
    else:
        # Without HA every process finds the JobManager through the internal (headless) service.
        conf["jobmanager.rpc.address"] = f"{cluster_id}.{namespace}"
    return conf


def render(
    configuration: Mapping[str, str],
    version: FlinkVersion,
    *,
    lists: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The configuration file content for `version` (see the module docstring for the format).

    `lists` are list-valued keys given as sequences (they win over the same keys in `configuration`).
    """
    list_values = dict(lists or {})
    scalars = {k: v for k, v in configuration.items() if k not in list_values}
    if version.major >= 2:
        document: dict[str, object] = dict(sorted(scalars.items()))
        for key in sorted(list_values):
            document[key] = list(list_values[key])
        return yaml.safe_dump(document, default_flow_style=False, sort_keys=False, width=1 << 30)
    lines = []
    merged: dict[str, str] = dict(scalars)
    for key, items in list_values.items():
        merged[key] = join_list(items)
    for key, value in sorted(merged.items()):
        if "\n" in value or "\r" in value or "\n" in key:
            raise ConfigError(
                f"{key}: a value with a line break cannot be written to flink-conf.yaml "
                "(Flink 1.x reads one 'key: value' per line)",
                key=key,
            )
        if "#" in value:
            raise ConfigError(
                f"{key}: a value containing '#' cannot be written to flink-conf.yaml "
                "(Flink 1.x cuts every line at '#' as a comment)",
                key=key,
            )
        lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


def join_list(items: Sequence[str]) -> str:
    """Flink's legacy list syntax: `;`-separated, an item containing `;` or a quote is single-quoted."""
    parts = []
    for item in items:
        if ";" in item or "'" in item or '"' in item:
            parts.append("'" + item.replace("'", "''") + "'")
        else:
            parts.append(item)
    return ";".join(parts)


def split_list(text: str) -> list[str]:
    """Flink's legacy list syntax back into items (the inverse of `join_list`)."""
    return list(_STRINGS.parse(text)) if text else []


def parse_rendered(text: str, version: FlinkVersion) -> dict[str, str]:
    """Read a rendered file back into flat string values (lists joined as Flink's legacy syntax); for tests
    and for reading what a running cluster was given."""
    if version.major >= 2:
        loaded = yaml.safe_load(text) or {}
        if not isinstance(loaded, dict):
            raise ValueError("config.yaml does not hold a mapping")
        return {str(k): _flat_text(v) for k, v in _flatten(loaded).items()}
    result = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition(": ")
        result[key.strip()] = value.strip()
    return result


def _flatten(tree: Mapping[object, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _flat_text(value: object) -> str:
    if isinstance(value, list):
        return join_list([_flat_text(item) for item in value])
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
