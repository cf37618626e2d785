"""Layering of configuration for one resource (contract §5.1), as pure functions over flat `key -> text` maps.

Lowest first:
1. option defaults (implicit: `Configuration.get` falls back to them);
2. the operator's default configuration (config file, then environment; see `loading`);
3. namespace defaults `kubernetes.operator.default-configuration.namespace.<ns>.<key>`;
4. Flink-version defaults `kubernetes.operator.default-configuration.flink-version.<vX_Y>+.<key>` for every
   listed version at or below the resource's, in ascending version order, then the exact `<vX_Y>` ones;
5. the resource's `spec.flinkConfiguration`, except system options (and scoped-default keys), which a resource
   may never set.
Plain Flink keys layer exactly like operator keys, so the config file's Flink keys are defaults for every
managed cluster.

The operator configuration of a resource (intervals, timeouts, ...) stops after step 4. Scoped-default keys
themselves never appear in a result. Not done here: the spec translation of §3.11 (image, resources, ...),
which the deployment builders add on top.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flink_operator.config.configuration import Configuration
from flink_operator.config.flatten import flatten_flink_configuration
from flink_operator.config.registry import DEFAULT_CONFIGURATION_PREFIX, OptionRegistry, all_options

NAMESPACE_DEFAULTS_PREFIX = DEFAULT_CONFIGURATION_PREFIX + "namespace."
VERSION_DEFAULTS_PREFIX = DEFAULT_CONFIGURATION_PREFIX + "flink-version."
OPERATOR_KEY_PREFIXES = ("kubernetes.operator.", "job.autoscaler.")
"""Keys with these prefixes configure the operator, never Flink: removed before Flink sees a config."""

_VERSION = re.compile(r"v(\d+)_(\d+)(\+?)")

ConfigSource = Mapping[str, str] | Configuration


@dataclass(frozen=True, order=True)
class FlinkVersion:
    """A Flink minor version as spelled in `spec.flinkVersion` (`v1_20`, `v2_0`)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> FlinkVersion | None:
        match = _VERSION.fullmatch(text.strip())
        if match is None or match.group(3):
            return None
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"v{self.major}_{self.minor}"


@dataclass(frozen=True)
class ScopedKey:
    """A parsed scoped-default key: which scope it targets and which key it sets."""

    kind: str
    """`namespace` or `flink-version`."""
    scope: str
    """The namespace, or the version token (`v1_19` / `v1_19+`)."""
    key: str


def parse_scoped_key(key: str) -> ScopedKey | None:
    """`...default-configuration.namespace.team-a.x.y` -> ScopedKey("namespace", "team-a", "x.y")."""
    prefixes = (("namespace", NAMESPACE_DEFAULTS_PREFIX), ("flink-version", VERSION_DEFAULTS_PREFIX))
    for kind, prefix in prefixes:
        if key.startswith(prefix):
            scope, dot, inner = key[len(prefix):].partition(".")
            if not scope or not dot or not inner:
                return None
            return ScopedKey(kind, scope, inner)
    return None


def parse_version_token(token: str) -> tuple[FlinkVersion, bool] | None:
    """`v1_19+` -> (v1_19, True); `v1_20` -> (v1_20, False); anything else -> None."""
    match = _VERSION.fullmatch(token)
    if match is None:
        return None
    return FlinkVersion(int(match.group(1)), int(match.group(2))), bool(match.group(3))


def _as_dict(source: ConfigSource) -> Mapping[str, str]:
    return source.as_dict() if isinstance(source, Configuration) else source


def scoped_defaults(
    base: ConfigSource, namespace: str | None = None, flink_version: str | FlinkVersion | None = None
) -> dict[str, str]:
    """The base configuration with the namespace and Flink-version defaults for a resource applied."""
    values = _as_dict(base)
    result = {k: v for k, v in values.items() if not k.startswith(DEFAULT_CONFIGURATION_PREFIX)}
    version = FlinkVersion.parse(flink_version) if isinstance(flink_version, str) else flink_version
    namespace_layer: dict[str, str] = {}
    open_ended: dict[FlinkVersion, dict[str, str]] = {}
    exact: dict[str, str] = {}
    for key, value in values.items():
        scoped = parse_scoped_key(key)
        if scoped is None:
            continue
        if scoped.kind == "namespace":
            if namespace is not None and scoped.scope == namespace:
                namespace_layer[scoped.key] = value
            continue
        parsed = parse_version_token(scoped.scope)
        if version is None or parsed is None:
            continue
        listed, and_newer = parsed
        if and_newer and listed <= version:
            open_ended.setdefault(listed, {})[scoped.key] = value
        elif not and_newer and listed == version:
            exact[scoped.key] = value
    result.update(namespace_layer)
    for listed in sorted(open_ended):
        result.update(open_ended[listed])
    result.update(exact)
    return result


def split_spec_configuration(
    spec_flink_configuration: Mapping[str, Any] | None, registry: OptionRegistry | None = None
) -> tuple[dict[str, str], list[str]]:
    """Flatten a resource's `spec.flinkConfiguration` into (accepted keys, ignored system keys)."""
    reg = all_options(registry)
    flat = flatten_flink_configuration(spec_flink_configuration)
    accepted: dict[str, str] = {}
    ignored: list[str] = []
    for key, value in flat.items():
        if reg.is_system_key(key):
            ignored.append(key)
        else:
            accepted[key] = value
    return accepted, ignored


def effective_flink_configuration(
    base: ConfigSource,
    namespace: str | None,
    flink_version: str | FlinkVersion | None,
    *spec_flink_configurations: Mapping[str, Any] | None,
    registry: OptionRegistry | None = None,
) -> dict[str, str]:
    """The flattened configuration of a resource: scoped defaults, then each given
    `spec.flinkConfiguration` in order (e.g. a session cluster's, then its session job's), system options
    dropped from the specs."""
    defaults = scoped_defaults(base, namespace, flink_version)
    return _overlay_specs(defaults, spec_flink_configurations, registry)


def _overlay_specs(
    result: dict[str, str], specs: Iterable[Mapping[str, Any] | None], registry: OptionRegistry | None
) -> dict[str, str]:
    for spec in specs:
        accepted, _ = split_spec_configuration(spec, registry)
        result.update(accepted)
    return result


def operator_configuration(
    base: ConfigSource, namespace: str | None, flink_version: str | FlinkVersion | None
) -> Configuration:
    """The operator configuration for a resource: scoped defaults only, never anything from its spec."""
    return Configuration(scoped_defaults(base, namespace, flink_version))


SAVEPOINT_DIRECTORY_KEYS = ("state.savepoints.dir", "execution.checkpointing.savepoint-dir")


def observe_configuration(
    deployed: Mapping[str, str],
    current_spec_flink_configuration: Mapping[str, Any] | None,
    registry: OptionRegistry | None = None,
) -> dict[str, str]:
    """The configuration to observe a running resource with (contract §5.1 "observe config"): the
    effective configuration of the *deployed* spec, overlaid with the operator and autoscaler keys and the
    savepoint directory of the *current* spec, so those take effect without a redeploy."""
    accepted, _ = split_spec_configuration(current_spec_flink_configuration, registry)
    result = dict(deployed)
    for key, value in accepted.items():
        if key.startswith(OPERATOR_KEY_PREFIXES) or key in SAVEPOINT_DIRECTORY_KEYS:
            result[key] = value
    return result


def flink_only(configuration: Mapping[str, str]) -> dict[str, str]:
    """Drop operator and autoscaler keys: what may be handed to Flink itself."""
    return {k: v for k, v in configuration.items() if not k.startswith(OPERATOR_KEY_PREFIXES)}


@dataclass(frozen=True, eq=False)
class DefaultConfiguration:
    """One loaded operator default configuration (config file + environment), with its provenance.

    `generation` grows by one with every change a reload applies, so per-resource caches can key on it.
    """

    values: Mapping[str, str]
    generation: int = 0
    sources: tuple[str, ...] = ()
    _resource_cache: dict[tuple[str | None, str | None], Configuration] = field(
        default_factory=dict, repr=False
    )

    @property
    def configuration(self) -> Configuration:
        """The operator-level configuration (no namespace or version scoping)."""
        return self.for_resource(None, None)

    def for_resource(self, namespace: str | None, flink_version: str | None) -> Configuration:
        """`operator_configuration` for a resource, cached per (namespace, version)."""
        cache_key = (namespace, flink_version)
        cached = self._resource_cache.get(cache_key)
        if cached is None:
            cached = operator_configuration(self.values, namespace, flink_version)
            if len(self._resource_cache) > 10_000:
                self._resource_cache.clear()
            self._resource_cache[cache_key] = cached
        return cached

    def effective(
        self,
        namespace: str | None,
        flink_version: str | None,
        *spec_flink_configurations: Mapping[str, Any] | None,
        registry: OptionRegistry | None = None,
    ) -> dict[str, str]:
        """`effective_flink_configuration` of a resource on top of this default configuration."""
        base = self.for_resource(namespace, flink_version).as_dict()
        return _overlay_specs(base, spec_flink_configurations, registry)

    def changed_keys(self, other: DefaultConfiguration) -> frozenset[str]:
        return changed_keys(self.values, other.values)


def changed_keys(before: Mapping[str, str], after: Mapping[str, str]) -> frozenset[str]:
    """Keys added, removed or changed between two flat configurations."""
    keys: Iterable[str] = set(before) | set(after)
    return frozenset(k for k in keys if before.get(k) != after.get(k))
