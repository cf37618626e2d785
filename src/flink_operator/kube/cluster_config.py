"""The Kubernetes settings of one Flink cluster, read from its effective (flat) Flink configuration.

Flink's native integration decides everything about its pods from configuration keys (image, pull policy,
service account, labels, annotations, node selector, tolerations, resources, ports, replicas, REST exposure);
this module reads the same keys with the same defaults, so the object builders work from plain data.
`ClusterConfig` is a read-only view; a bad value raises `ConfigError` naming the key, the value and what
was expected. It does not check that values are acceptable to Kubernetes (the builders' tests validate the
generated objects against the Kubernetes schema; the API server checks the rest).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from flink_operator.config import DOUBLE, INTEGER, MAP, STRING, ConfigError, ValueParseError, list_type
from flink_operator.config.memory_size import parse_memory_size
from flink_operator.config.values import ValueType

T = TypeVar("T")

_STRINGS = list_type(STRING)
_VERSION = re.compile(r"^v?(\d+)[._](\d+)(?:[._]\d+)*$")

_MIB = 1 << 20
DEFAULT_REST_PORT = 8081
DEFAULT_RPC_PORT = 6123
DEFAULT_BLOB_PORT = 6124
DEFAULT_TASKMANAGER_RPC_PORT = 6122
FLINK_HOME_IN_IMAGE = "/opt/flink"


class Role(enum.StrEnum):
    """Which Flink process a pod runs."""

    JOBMANAGER = "jobmanager"
    TASKMANAGER = "taskmanager"


@dataclass(frozen=True, order=True)
class FlinkVersion:
    """A Flink minor version; parses `v1_20`, `1.20` and `1.20.5`."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> FlinkVersion:
        match = _VERSION.match(text.strip())
        if match is None:
            raise ValueError(
                f"flinkVersion {text!r} is not a Flink version: expected e.g. 'v2_0', 'v1_20' or '1.20'"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def config_file_name(self) -> str:
        """The file the image's entrypoint reads: `config.yaml` from 2.0, `flink-conf.yaml` before.

        Flink 1.19/1.20 images read either; the legacy file is what every 1.x image understands.
        """
        return "config.yaml" if self.major >= 2 else "flink-conf.yaml"


@dataclass(frozen=True)
class Toleration:
    key: str | None
    operator: str | None
    value: str | None
    effect: str | None
    toleration_seconds: int | None

    def manifest(self) -> dict[str, object]:
        found: dict[str, object] = {}
        for name, value in (
            ("effect", self.effect),
            ("key", self.key),
            ("operator", self.operator),
            ("tolerationSeconds", self.toleration_seconds),
            ("value", self.value),
        ):
            if value is not None:
                found[name] = value
        return found


class ClusterConfig:
    """Typed reads of the Kubernetes-related Flink options (names and defaults as in Flink)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values: Mapping[str, str] = values

    # ------------------------------------------------------------------ plumbing

    def raw(self, *keys: str) -> tuple[str, str] | None:
        """The first of `keys` that is set (non-blank), with its value."""
        for key in keys:
            value = self.values.get(key)
            if value is not None and value.strip() != "":
                return key, value
        return None

    def _parse(self, value_type: ValueType[T], default: T, *keys: str) -> T:
        found = self.raw(*keys)
        if found is None:
            return default
        key, text = found
        try:
            return value_type.parse(text.strip())
        except ValueParseError as error:
            raise ConfigError.bad_value(key, text, error) from None

    def string(self, default: str, *keys: str) -> str:
        found = self.raw(*keys)
        return found[1].strip() if found else default

    def optional_string(self, *keys: str) -> str | None:
        found = self.raw(*keys)
        return found[1].strip() if found else None

    def mapping(self, key: str) -> dict[str, str]:
        empty: Mapping[str, str] = {}
        parsed: Mapping[str, str] = self._parse(MAP, empty, key)
        return dict(parsed)

    def strings(self, key: str) -> list[str]:
        return [item for item in self._parse(_STRINGS, (), key) if item]

    def integer(self, default: int, *keys: str) -> int:
        return self._parse(INTEGER, default, *keys)

    def double(self, default: float, *keys: str) -> float:
        return self._parse(DOUBLE, default, *keys)

    def boolean(self, default: bool, key: str) -> bool:
        found = self.raw(key)
        if found is None:
            return default
        text = found[1].strip().lower()
        if text not in ("true", "false"):
            raise ConfigError(f"{key}: {found[1]!r} is not a boolean (expected true or false)", key=key)
        return text == "true"

    # ------------------------------------------------------------------ identity

    @property
    def cluster_id(self) -> str | None:
        return self.optional_string("kubernetes.cluster-id")

    @property
    def namespace(self) -> str:
        return self.string("default", "kubernetes.namespace")

    @property
    def ha_enabled(self) -> bool:
        """Any HA mode but NONE (`high-availability.type`, legacy `high-availability`)."""
        mode = self.string("NONE", "high-availability.type", "high-availability")
        return mode.upper() != "NONE"

    @property
    def kubernetes_ha(self) -> bool:
        mode = self.string("NONE", "high-availability.type", "high-availability").lower()
        return mode == "kubernetes" or mode.endswith("kuberneteshaservicesfactory")

    # ------------------------------------------------------------------ image and identity of pods

    def image(self, version: FlinkVersion) -> str:
        return self.string(f"flink:{version}", "kubernetes.container.image.ref", "kubernetes.container.image")

    @property
    def image_pull_policy(self) -> str:
        policy = self.string("IfNotPresent", "kubernetes.container.image.pull-policy")
        allowed = {p.lower(): p for p in ("Always", "IfNotPresent", "Never")}
        if policy.lower() not in allowed:
            raise ConfigError(
                f"kubernetes.container.image.pull-policy: {policy!r} is not a pull policy "
                "(expected Always, IfNotPresent or Never)",
                key="kubernetes.container.image.pull-policy",
            )
        return allowed[policy.lower()]

    @property
    def image_pull_secrets(self) -> list[str]:
        return self.strings("kubernetes.container.image.pull-secrets")

    def service_account(self, role: Role) -> str:
        return self.string("default", f"kubernetes.{role}.service-account", "kubernetes.service-account")

    def labels(self, role: Role) -> dict[str, str]:
        return self.mapping(f"kubernetes.{role}.labels")

    def annotations(self, role: Role) -> dict[str, str]:
        return self.mapping(f"kubernetes.{role}.annotations")

    def node_selector(self, role: Role) -> dict[str, str]:
        return self.mapping(f"kubernetes.{role}.node-selector")

    def tolerations(self, role: Role) -> list[Toleration]:
        key = f"kubernetes.{role}.tolerations"
        found = self.raw(key)
        if found is None:
            return []
        result = []
        for entry in _STRINGS.parse(found[1]):
            if not entry.strip():
                continue
            try:
                fields = {k.lower(): v for k, v in MAP.parse(entry).items()}
            except ValueParseError as error:
                raise ConfigError.bad_value(key, found[1], error) from None
            seconds = fields.get("tolerationseconds")
            if seconds is not None and not seconds.lstrip("-").isdigit():
                raise ConfigError(f"{key}: tolerationSeconds {seconds!r} is not a whole number", key=key)
            result.append(
                Toleration(
                    key=fields.get("key"),
                    operator=fields.get("operator"),
                    value=fields.get("value"),
                    effect=fields.get("effect"),
                    toleration_seconds=int(seconds) if seconds is not None else None,
                )
            )
        return result

    def environment(self, role: Role) -> dict[str, str]:
        """`containerized.master.env.NAME` (JobManager) / `containerized.taskmanager.env.NAME`."""
        prefix = "containerized.master.env." if role is Role.JOBMANAGER else "containerized.taskmanager.env."
        return {key[len(prefix) :]: value for key, value in self.values.items() if key.startswith(prefix)}

    @property
    def host_network(self) -> bool:
        return self.boolean(False, "kubernetes.hostnetwork.enabled")

    @property
    def owner_references(self) -> list[dict[str, object]]:
        """`kubernetes.jobmanager.owner.reference`: `;`-separated maps of apiVersion, kind, name, uid,
        blockOwnerDeletion, controller (what the operator sets to make the resource own its cluster)."""
        key = "kubernetes.jobmanager.owner.reference"
        found = self.raw(key)
        if found is None:
            return []
        references: list[dict[str, object]] = []
        for entry in _STRINGS.parse(found[1]):
            if not entry.strip():
                continue
            try:
                fields = dict(MAP.parse(entry))
            except ValueParseError as error:
                raise ConfigError.bad_value(key, found[1], error) from None
            missing = [name for name in ("apiVersion", "kind", "name", "uid") if not fields.get(name)]
            if missing:
                raise ConfigError(f"{key}: an owner reference needs {', '.join(missing)}", key=key)
            reference: dict[str, object] = {
                "apiVersion": fields["apiVersion"],
                "kind": fields["kind"],
                "name": fields["name"],
                "uid": fields["uid"],
            }
            for flag in ("blockOwnerDeletion", "controller"):
                if flag in fields:
                    reference[flag] = fields[flag].strip().lower() == "true"
            references.append(reference)
        return references

    # ------------------------------------------------------------------ resources

    def cpu(self, role: Role) -> float:
        cpu = self.double(1.0, f"kubernetes.{role}.cpu.amount", f"kubernetes.{role}.cpu")
        if not math.isfinite(cpu) or cpu <= 0:
            raise ConfigError(
                f"kubernetes.{role}.cpu.amount: {cpu} is not a positive number of cores",
                key=f"kubernetes.{role}.cpu.amount",
            )
        return cpu

    def cpu_limit_factor(self, role: Role) -> float:
        return self._factor(f"kubernetes.{role}.cpu.limit-factor")

    def memory_limit_factor(self, role: Role) -> float:
        return self._factor(f"kubernetes.{role}.memory.limit-factor")

    def _factor(self, key: str) -> float:
        factor = self.double(1.0, key)
        if not math.isfinite(factor) or factor < 1.0:
            raise ConfigError(f"{key}: {factor} must be at least 1.0 (a limit below the request)", key=key)
        return factor

    def _memory(self, key: str, default: int | None = None) -> int | None:
        found = self.raw(key)
        if found is None:
            return default
        try:
            return parse_memory_size(found[1]).bytes
        except ValueParseError as error:
            raise ConfigError.bad_value(key, found[1], error) from None

    def process_memory_mib(self, role: Role) -> int:
        """The total process memory of the role in MiB, as Flink derives it for the pod.

        `<role>.memory.process.size` when set; otherwise the total Flink memory (`<role>.memory.flink.size`,
        or for the JobManager `jobmanager.memory.heap.size` plus `jobmanager.memory.off-heap.size`) plus
        JVM metaspace and the JVM overhead Flink derives from its fraction, bounded by its min and max.
        """
        prefix = f"{role}.memory."
        process = self._memory(prefix + "process.size")
        if process is not None:
            return process >> 20
        flink = self._memory(prefix + "flink.size")
        if flink is None and role is Role.JOBMANAGER:
            heap = self._memory(prefix + "heap.size")
            if heap is not None:
                flink = heap + (self._memory(prefix + "off-heap.size", _MIB * 128) or 0)
        if flink is None:
            spec_field = "jobManager" if role is Role.JOBMANAGER else "taskManager"
            also = ", jobmanager.memory.heap.size" if role is Role.JOBMANAGER else ""
            raise ConfigError(
                f"{prefix}process.size is not set and cannot be derived (set {prefix}process.size, "
                f"{prefix}flink.size{also}, or spec.{spec_field}.resource.memory): the pod's memory is the "
                "process size",
                key=prefix + "process.size",
            )
        metaspace = self._memory(prefix + "jvm-metaspace.size", _MIB * 256) or 0
        fraction = self.double(0.1, prefix + "jvm-overhead.fraction")
        if not 0 <= fraction < 1:
            raise ConfigError(
                f"{prefix}jvm-overhead.fraction: {fraction} must be at least 0 and below 1",
                key=prefix + "jvm-overhead.fraction",
            )
        low = self._memory(prefix + "jvm-overhead.min", _MIB * 192) or 0
        high = self._memory(prefix + "jvm-overhead.max", _MIB * 1024) or 0
        overhead = min(max(int((flink + metaspace) * fraction / (1 - fraction)), low), high)
        return (flink + metaspace + overhead) >> 20

    @property
    def jobmanager_replicas(self) -> int:
        replicas = self.integer(1, "kubernetes.jobmanager.replicas")
        if replicas < 1:
            raise ConfigError(
                f"kubernetes.jobmanager.replicas: {replicas} must be at least 1",
                key="kubernetes.jobmanager.replicas",
            )
        return replicas

    # ------------------------------------------------------------------ ports and services

    @property
    def rest_port(self) -> int:
        return self._port(DEFAULT_REST_PORT, "rest.port")

    @property
    def rest_bind_port(self) -> int:
        """The port the REST server listens on in the pod (`rest.bind-port`, a range counts as unset)."""
        found = self.raw("rest.bind-port")
        if found is not None and found[1].strip().isdigit():
            return int(found[1].strip())
        return self.rest_port

    @property
    def rpc_port(self) -> int:
        return self._port(DEFAULT_RPC_PORT, "jobmanager.rpc.port")

    @property
    def blob_port(self) -> int:
        return fixed_port(self.values.get("blob.server.port"), DEFAULT_BLOB_PORT)

    @property
    def taskmanager_rpc_port(self) -> int:
        return fixed_port(self.values.get("taskmanager.rpc.port"), DEFAULT_TASKMANAGER_RPC_PORT)

    def _port(self, default: int, key: str) -> int:
        port = self.integer(default, key)
        if not 0 < port < 65536:
            raise ConfigError(f"{key}: {port} is not a port number (1-65535)", key=key)
        return port

    @property
    def rest_service_type(self) -> str:
        key = "kubernetes.rest-service.exposed.type"
        text = self.string("ClusterIP", key)
        allowed = {t.lower(): t for t in ("ClusterIP", "NodePort", "LoadBalancer", "Headless_ClusterIP")}
        if text.lower() not in allowed:
            raise ConfigError(
                f"{key}: {text!r} is not a REST service type "
                "(expected ClusterIP, NodePort, LoadBalancer or Headless_ClusterIP)",
                key=key,
            )
        return allowed[text.lower()]

    @property
    def rest_service_annotations(self) -> dict[str, str]:
        return self.mapping("kubernetes.rest-service.annotations")

    # ------------------------------------------------------------------ entrypoint

    @property
    def entry_path(self) -> str:
        return self.string("/docker-entrypoint.sh", "kubernetes.entry.path")

    @property
    def conf_dir(self) -> str:
        return self.string(f"{FLINK_HOME_IN_IMAGE}/conf", "kubernetes.flink.conf.dir")

    def entrypoint_args(self, role: Role) -> str:
        return self.string("", f"kubernetes.{role}.entrypoint.args")

    @property
    def artifacts_dir(self) -> str:
        return self.string(f"{FLINK_HOME_IN_IMAGE}/artifacts", "user.artifacts.base-dir")


def fixed_port(value: str | None, default: int) -> int:
    """Kubernetes needs fixed ports: a configured single port is kept; unset, 0 or a range becomes `default`.

    (Flink's native integration applies the same rule to the blob and TaskManager RPC ports.)
    """
    text = (value or "").strip()
    if text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    return default
