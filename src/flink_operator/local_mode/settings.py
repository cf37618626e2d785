"""What `local up` runs with: the command-line options and the operator configuration built from them.

The operator configuration is layered, later layers winning: laptop defaults (`LAPTOP_DEFAULTS`) and the
Flink distributions found beside the project (`distributions`), the `--config` file, the environment
(`FLINK_OPERATOR_*`, as for `flink-operator run`), then `-D key=value` overrides. The local runtime's state
directory always follows `--state-dir`. Pure functions only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flink_operator.config import ConfigError, DefaultConfiguration
from flink_operator.config.loading import check_values, environment_layer, read_config_file
from flink_operator.local_mode.layout import LocalPaths

DEFAULT_PORT = 16443
"""The emulator's default port on 127.0.0.1 (fixed, so the kubeconfig stays valid across restarts)."""

LOCAL_STATE_DIR_KEY = "kubernetes.operator.local.state-dir"
USRLIB_DIR_KEY = "kubernetes.operator.local.usrlib-dir"

LAPTOP_DEFAULTS: Mapping[str, str] = {
    # Quick feedback on a laptop: look at clusters often, and call REST soon after a JobManager starts
    # (local processes answer in seconds; upstream's defaults are tuned for pods: 60 s, 10 s, 10 s).
    "kubernetes.operator.reconcile.interval": "15 s",
    "kubernetes.operator.observer.progress-check.interval": "2 s",
    "kubernetes.operator.observer.rest-ready.delay": "1 s",
    # One instance, but the Lease is still taken, so a second operator against the same API never races.
    "kubernetes.operator.leader-election.enabled": "true",
    "kubernetes.operator.leader-election.lease-name": "flink-operator-local",
    # No probe port to collide with other programs; `local status` is the health view here.
    "kubernetes.operator.health.probe.enabled": "false",
    "kubernetes.operator.dynamic.config.enabled": "false",
    "kubernetes.operator.local.memory-preset": "small",
    # Session jobs may name the jars of the usrlib directory (`local:///opt/flink/usrlib/<file>`), as the
    # examples do for the image; downloads stay https-only.
    "kubernetes.operator.user.artifacts.allowed-schemes": "https;local",
    # Flink defaults of every local cluster (a resource's flinkConfiguration still wins): metrics in the
    # Web UI and REST follow the job within 2 s instead of 10 s.
    "metrics.fetcher.update-interval": "2 s",
}


@dataclass(frozen=True)
class LocalOptions:
    """The options of `local up` (and `local demo`)."""

    state_dir: Path | None = None
    port: int = DEFAULT_PORT
    kubeconfig_out: Path | None = None
    keep_clusters: bool = False
    config_file: Path | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    namespace: str = "default"
    """Where the operator's Lease lives."""

    @property
    def paths(self) -> LocalPaths:
        return LocalPaths.of(self.state_dir)


def parse_overrides(values: list[str]) -> dict[str, str]:
    """`-D key=value` options as a mapping; a malformed one raises ValueError naming it."""
    parsed: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise ValueError(
                f"{value!r}: expected KEY=VALUE, e.g. kubernetes.operator.reconcile.interval=30s"
            )
        parsed[key.strip()] = text.strip()
    return parsed


def operator_values(
    paths: LocalPaths,
    *,
    discovered: Mapping[str, str] | None = None,
    file_values: Mapping[str, str] | None = None,
    env_values: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The flat operator configuration of a local run (see the module docstring for the layering)."""
    values = {**LAPTOP_DEFAULTS, USRLIB_DIR_KEY: str(paths.usrlib), **(discovered or {})}
    values.update(file_values or {})
    values.update(env_values or {})
    values.update(overrides or {})
    values[LOCAL_STATE_DIR_KEY] = str(paths.flink)
    return values


def operator_configuration(
    options: LocalOptions,
    environ: Mapping[str, str] | None = None,
    *,
    discovered: Mapping[str, str] | None = None,
) -> DefaultConfiguration:
    """Read `--config`, the environment and the overrides; check every value. Raises ConfigError."""
    paths = options.paths
    file_values: dict[str, str] = {}
    sources: list[str] = ["local-mode defaults"]
    if options.config_file is not None:
        if not options.config_file.is_file():
            raise ConfigError(f"configuration file {str(options.config_file)!r} does not exist")
        file_values = read_config_file(options.config_file)
        sources.append(str(options.config_file))
    env_values = environment_layer(os.environ if environ is None else environ)
    if env_values:
        sources.append("environment")
    if options.overrides:
        sources.append("-D options")
    values = operator_values(
        paths,
        discovered=discovered,
        file_values=file_values,
        env_values=env_values,
        overrides=options.overrides,
    )
    problems = check_values(values)
    if problems:
        raise ConfigError("invalid operator configuration: " + "; ".join(problems))
    return DefaultConfiguration(values=values, sources=tuple(sources))


def usrlib_dir(configuration: DefaultConfiguration) -> Path:
    return Path(configuration.values[USRLIB_DIR_KEY]).expanduser().absolute()
