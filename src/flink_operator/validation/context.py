"""What the rules look at besides the resource: its effective configuration (with where each key came from),
the operator configuration, the last reconciled spec, and how host names are resolved.

The effective configuration of a resource is the operator's default configuration with its namespace and
Flink-version defaults, overlaid with `spec.flinkConfiguration` (for a session job: with the session
cluster's, then its own), system options dropped from the specs (`flink_operator.config.layering`). The
operator configuration is the scoped defaults alone: options such as the allowed artifact schemes are read
only from there, whatever a resource sets.

Reads of typed options never raise here: a value that cannot be parsed reads as "unknown" (None), and the
option-value rules report it once, with its key.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flink_operator.api import FlinkDeployment, format_path, read_spec
from flink_operator.api.base import SpecModel
from flink_operator.config import ConfigError, ConfigOption, Configuration, DefaultConfiguration
from flink_operator.config.layering import split_spec_configuration

T = TypeVar("T")
Spec = TypeVar("Spec", bound=SpecModel)

HostResolver = Callable[[str], Sequence[str] | None]
"""Host name -> its IP addresses; raises `OSError` when it does not resolve; None means "not looked up"
(offline validation), in which case host-based checks are skipped."""

OPERATOR_CONFIGURATION = "the operator configuration"


def system_resolver(host: str) -> list[str]:
    """Resolve with the system resolver (blocking); raises `OSError` when the host does not resolve."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def offline_resolver(host: str) -> list[str] | None:
    """Resolve nothing over the network: IP literals are themselves, `localhost` is loopback, and every other
    name is left unchecked (None)."""
    bare = host.strip("[]")
    try:
        return [str(ipaddress.ip_address(bare))]
    except ValueError:
        pass
    lowered = bare.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith(".localhost"):
        return ["127.0.0.1", "::1"]
    return None


def config_path(key: str) -> str:
    """`spec.flinkConfiguration["state.savepoints.dir"]`: where a key is set in a resource."""
    return format_path(("spec", "flinkConfiguration", key))


@dataclass(frozen=True)
class ConfigView:
    """A resource's effective configuration and, for each key not set by the resource itself, its origin."""

    configuration: Configuration
    origins: Mapping[str, str] = field(default_factory=dict)
    """Key -> where it came from (`the operator configuration`, `FlinkDeployment ns/name`); keys the resource
    sets itself are absent."""

    @staticmethod
    def of(values: Mapping[str, str]) -> ConfigView:
        """A view where every key is the resource's own (handy in tests)."""
        return ConfigView(Configuration(values))

    def text(self, key: str) -> str | None:
        return self.configuration.raw(key)

    def is_set(self, key: str) -> bool:
        """Set to something other than blanks."""
        value = self.configuration.raw(key)
        return value is not None and value.strip() != ""

    def lookup(self, option: ConfigOption[Any]) -> tuple[str, str] | None:
        """The `(key, text)` providing `option` (its own key, a fallback or a deprecated key)."""
        return self.configuration.lookup(option)

    def get(self, option: ConfigOption[T]) -> T | None:
        """The typed value, the default when unset, None when the value cannot be parsed."""
        try:
            return self.configuration.get(option)
        except ConfigError:
            return None

    def path(self, key: str) -> str:
        return config_path(key)

    def origin(self, key: str) -> str:
        """`""` for the resource's own keys, else ` (from <origin>)` to append to a message."""
        source = self.origins.get(key)
        return f" (from {source})" if source else ""

    def own(self, key: str) -> bool:
        return key in self.configuration and key not in self.origins


def read_option(configuration: Configuration, option: ConfigOption[T]) -> T | None:
    """`configuration.get(option)`, or None when the value cannot be parsed."""
    try:
        return configuration.get(option)
    except ConfigError:
        return None


def _layered(
    defaults: DefaultConfiguration,
    namespace: str | None,
    flink_version: str | None,
    layers: Sequence[tuple[str | None, Mapping[str, Any] | None]],
) -> ConfigView:
    values = defaults.for_resource(namespace, flink_version).as_dict()
    origins = dict.fromkeys(values, OPERATOR_CONFIGURATION)
    for origin, spec_configuration in layers:
        accepted, _ = split_spec_configuration(spec_configuration)
        values.update(accepted)
        for key in accepted:
            if origin is None:
                origins.pop(key, None)
            else:
                origins[key] = origin
    return ConfigView(Configuration(values), origins)


def deployment_config(defaults: DefaultConfiguration, deployment: FlinkDeployment) -> ConfigView:
    """Scoped defaults + the deployment's `spec.flinkConfiguration`."""
    version = deployment.spec.flink_version
    return _layered(
        defaults,
        deployment.metadata.namespace,
        version.value if version else None,
        [(None, deployment.spec.flink_configuration)],
    )


def session_job_config(
    defaults: DefaultConfiguration,
    namespace: str | None,
    spec_configuration: Mapping[str, Any] | None,
    session: FlinkDeployment | None,
) -> ConfigView:
    """Scoped defaults + the session cluster's configuration (when known) + the session job's own."""
    layers: list[tuple[str | None, Mapping[str, Any] | None]] = []
    version: str | None = None
    if session is not None:
        layers.append((f"FlinkDeployment {resource_label(session)}", session.spec.flink_configuration))
        if session.spec.flink_version is not None:
            version = session.spec.flink_version.value
    layers.append((None, spec_configuration))
    return _layered(defaults, namespace, version, layers)


def operator_config(
    defaults: DefaultConfiguration, namespace: str | None, flink_version: str | None
) -> Configuration:
    """The operator configuration for a resource: scoped defaults only, nothing from any spec."""
    return defaults.for_resource(namespace, flink_version)


def last_reconciled_spec(text: str | None, spec_type: type[Spec]) -> Spec | None:
    """The decoded `status.reconciliationStatus.lastReconciledSpec`, or None when absent or unreadable.

    An unreadable stored spec is written by an operator, not by the user; the rules that compare with it
    are skipped rather than blocking every change of the resource.
    """
    if not text:
        return None
    try:
        return read_spec(text, spec_type)
    except (ValueError, TypeError):
        return None


def resource_label(resource: Any) -> str:
    """`namespace/name` as shown in messages (`default` when the namespace is not set)."""
    metadata = resource.metadata
    return f"{metadata.namespace or 'default'}/{metadata.name or '<unnamed>'}"


_HA_KEYS = ("high-availability.type", "high-availability")


def ha_enabled(config: ConfigView) -> bool:
    """Flink HA is on: `high-availability.type` (or the older `high-availability`) is set, and not NONE."""
    for key in _HA_KEYS:
        value = config.text(key)
        if value is not None:
            return value.strip().upper() not in ("", "NONE")
    return False
