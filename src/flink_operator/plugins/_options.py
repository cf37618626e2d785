"""Configuration options of the plugin system and of the built-in listeners, and their typed reading.

All are SYSTEM options (operator configuration only). Per-plugin keys live under
`kubernetes.operator.plugins.<validators|mutators|listeners>.<name>.`; the ones the operator itself reads
(`class`, `enabled`) are declared here as templates, the rest belong to the plugin (the HTTP sink's are
declared here too so they appear in the generated option reference).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flink_operator.config.configuration import Configuration
from flink_operator.config.errors import ConfigError
from flink_operator.config.registry import declare, declare_optional
from flink_operator.config.values import BOOLEAN, DURATION, INTEGER, MAP, STRING

DEFAULT_PLUGINS_DIR = "/opt/flink-operator/plugins"

FAIL_ON_ERROR = declare(
    "kubernetes.operator.plugins.fail-on-error",
    BOOLEAN,
    True,
    "Whether a plugin that cannot be loaded (import error, constructor or configure() error, a configured "
    "class that does not exist) stops the operator from starting. When false, the plugin is skipped with a "
    "warning naming it and the reason.",
)
PLUGINS_DIR = declare(
    "kubernetes.operator.plugins.dir",
    STRING,
    DEFAULT_PLUGINS_DIR,
    "Directory holding one sub-directory per plugin (Python modules, packages or wheels). "
    "The FLINK_PLUGINS_DIR environment variable sets it too.",
    env_var_name="FLINK_PLUGINS_DIR",
)
LIB_DIR = declare_optional(
    "kubernetes.operator.plugins.lib-dir",
    STRING,
    "Extra libraries directory put on the import path before plugins are loaded (modules, packages, "
    "wheels, or a `pip install --target` tree whose entry points are then discovered). "
    "The OPERATOR_LIB environment variable sets it too.",
    env_var_name="OPERATOR_LIB",
)
CALL_TIMEOUT = declare(
    "kubernetes.operator.plugins.call-timeout",
    DURATION,
    timedelta(seconds=5),
    "Deadline of one validator or mutator call. A validator past it rejects the resource with a message "
    "naming it; a mutator past it is skipped.",
)
LISTENER_CALL_TIMEOUT = declare(
    "kubernetes.operator.plugins.listener-call-timeout",
    DURATION,
    timedelta(seconds=10),
    "Deadline of one listener call; the listener's worker then moves on to the next notification.",
)
LISTENER_QUEUE_SIZE = declare(
    "kubernetes.operator.plugins.listener-queue-size",
    INTEGER,
    1000,
    "Notifications each listener may have waiting; when full the oldest is dropped (and counted).",
)
MAX_THREADS = declare(
    "kubernetes.operator.plugins.max-threads",
    INTEGER,
    4,
    "Threads one synchronous plugin may occupy at once (calls that timed out keep theirs until they return).",
)
SHUTDOWN_TIMEOUT = declare(
    "kubernetes.operator.plugins.shutdown-timeout",
    DURATION,
    timedelta(seconds=10),
    "How long listeners may take to drain their queues when the operator stops.",
)
AUDIT_LOG_ENABLED = declare(
    "kubernetes.operator.plugins.audit-log.enabled",
    BOOLEAN,
    True,
    "Whether status changes and events are written to the `flink_operator.audit` logger (secrets masked).",
)

PLUGIN_CLASS = {
    kind: declare_optional(
        f"kubernetes.operator.plugins.{kind}.<name>.class",
        STRING,
        f"Class (`package.module:Class` or `package.module.Class`) of the {kind[:-1]} named <name>; all "
        f"`kubernetes.operator.plugins.{kind}.<name>.*` keys, prefix removed, go to its configure().",
    )
    for kind in ("validators", "mutators", "listeners")
}
PLUGIN_ENABLED = {
    kind: declare(
        f"kubernetes.operator.plugins.{kind}.<name>.enabled",
        BOOLEAN,
        True,
        f"Set to false to leave out the discovered {kind[:-1]} named <name>.",
    )
    for kind in ("validators", "mutators", "listeners")
}

# The HTTP sink's own keys, relative to `kubernetes.operator.plugins.listeners.<name>.`.
_SINK = "kubernetes.operator.plugins.listeners.<name>."
HTTP_SINK_URL = declare_optional(
    _SINK + "url", STRING, "HTTP sink: the URL every notification is POSTed to (required)."
)
HTTP_SINK_TIMEOUT = declare(
    _SINK + "timeout", DURATION, timedelta(seconds=10), "HTTP sink: timeout of one request."
)
HTTP_SINK_MAX_RETRIES = declare(
    _SINK + "max-retries",
    INTEGER,
    5,
    "HTTP sink: retries after the first attempt on connection errors and 5xx, 408 or 429 answers.",
)
HTTP_SINK_QUEUE_SIZE = declare(
    _SINK + "queue-size",
    INTEGER,
    1000,
    "HTTP sink: notifications waiting to be sent; when full the oldest is dropped (and counted).",
)
HTTP_SINK_HEADERS = declare(
    _SINK + "headers",
    MAP,
    {},
    "HTTP sink: extra request headers, `Name:value,Other:value` (values are never logged).",
    secret=True,
)
HTTP_SINK_INITIAL_BACKOFF = declare(
    _SINK + "initial-backoff",
    DURATION,
    timedelta(milliseconds=500),
    "HTTP sink: first retry delay (jittered).",
)
HTTP_SINK_MAX_BACKOFF = declare(
    _SINK + "max-backoff", DURATION, timedelta(seconds=30), "HTTP sink: longest retry delay."
)


@dataclass(frozen=True)
class PluginSettings:
    """The plugin options, read once at start-up."""

    fail_on_error: bool = True
    plugins_dir: Path | None = None
    lib_dir: Path | None = None
    call_timeout: float = 5.0
    listener_call_timeout: float = 10.0
    listener_queue_size: int = 1000
    max_threads: int = 4
    shutdown_timeout: float = 10.0
    audit_log_enabled: bool = True

    @classmethod
    def from_config(
        cls, config: Configuration | Mapping[str, str], environ: Mapping[str, str] | None = None
    ) -> PluginSettings:
        """Read the options; the environment variables apply when the configuration does not set the key."""
        conf = config if isinstance(config, Configuration) else Configuration(config)
        env = os.environ if environ is None else environ
        plugins_dir = conf.raw(PLUGINS_DIR.key) or env.get("FLINK_PLUGINS_DIR") or PLUGINS_DIR.default
        lib_dir = conf.get(LIB_DIR) or env.get("OPERATOR_LIB")
        settings = cls(
            fail_on_error=conf.get(FAIL_ON_ERROR),
            plugins_dir=Path(plugins_dir) if plugins_dir else None,
            lib_dir=Path(lib_dir) if lib_dir else None,
            call_timeout=_positive_seconds(conf.get(CALL_TIMEOUT), CALL_TIMEOUT.key),
            listener_call_timeout=_positive_seconds(
                conf.get(LISTENER_CALL_TIMEOUT), LISTENER_CALL_TIMEOUT.key
            ),
            listener_queue_size=_at_least_one(conf.get(LISTENER_QUEUE_SIZE), LISTENER_QUEUE_SIZE.key),
            max_threads=_at_least_one(conf.get(MAX_THREADS), MAX_THREADS.key),
            shutdown_timeout=max(conf.get(SHUTDOWN_TIMEOUT).total_seconds(), 0.0),
            audit_log_enabled=conf.get(AUDIT_LOG_ENABLED),
        )
        return settings


def _positive_seconds(value: timedelta, key: str) -> float:
    seconds = value.total_seconds()
    if seconds <= 0:
        raise ConfigError(f"{key}: must be a positive duration, got {value}", key=key)
    return seconds


def _at_least_one(value: int, key: str) -> int:
    if value < 1:
        raise ConfigError(f"{key}: must be at least 1, got {value}", key=key)
    return value
