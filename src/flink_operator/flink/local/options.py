"""Options of the local runtime (``kubernetes.operator.local.*``): where Flink lives, where state goes, sizes.

All are operator-level (system) options: a resource cannot move another cluster's files or pick a
different Java. ``settings_from(configuration)`` turns them into :class:`LocalFlinkSettings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flink_operator.config import DURATION, STRING, Configuration, declare, declare_optional, enum_type
from flink_operator.flink.local.configuration import DEFAULT_JVM_OPTIONS, MemoryPreset

PREFIX = "kubernetes.operator.local."
FLINK_HOME_PREFIX = PREFIX + "flink-home."

STATE_DIR = declare_optional(
    PREFIX + "state-dir",
    STRING,
    "Directory for local clusters' records, configuration, logs, checkpoints, savepoints and HA data "
    "(default: .state/local-flink under the working directory).",
)
FLINK_HOME = declare_optional(
    FLINK_HOME_PREFIX + "<version>",
    STRING,
    "FLINK_HOME of the distribution that runs resources with flinkVersion <version> (e.g. "
    "kubernetes.operator.local.flink-home.v1_20). Without one, the apache-flink package installed with the "
    "operator runs every version of its major release.",
)
USRLIB_DIR = declare_optional(
    PREFIX + "usrlib-dir",
    STRING,
    "Local directory standing in for the image's /opt/flink/usrlib: a jarURI "
    "local:///opt/flink/usrlib/<file> names <usrlib-dir>/<file>, so a resource written for the example "
    "image runs unchanged (default: usrlib under the state directory).",
)
USRLIB_IMAGE_DIR = "/opt/flink/usrlib"
"""Where Flink images keep user jars (upstream's convention); mapped onto ``usrlib-dir`` locally."""
JAVA = declare(PREFIX + "java", STRING, "java", "The java executable that runs Flink processes.")
MEMORY_PRESET = declare(
    PREFIX + "memory-preset",
    enum_type(MemoryPreset),
    MemoryPreset.SMALL,
    "Memory defaults where a resource sets none: 'small' (384m JobManager and TaskManager with shrunk "
    "sub-budgets) or 'flink' (Flink's own defaults).",
)
JVM_OPTIONS = declare(
    PREFIX + "jvm-options",
    STRING,
    DEFAULT_JVM_OPTIONS,
    "JVM flags added to every local Flink process (after the distribution's own env.java.opts.all).",
)
STOP_TIMEOUT = declare(
    PREFIX + "stop-timeout",
    DURATION,
    timedelta(seconds=10),
    "How long a process has to exit after SIGTERM before it gets SIGKILL.",
)
OPERATION_TIMEOUT = declare(
    PREFIX + "operation-timeout",
    DURATION,
    timedelta(minutes=1),
    "Upper bound for waits inside one call: cancel, stop-with-savepoint, ZooKeeper start.",
)
ZOOKEEPER_TICK_TIME = declare(
    PREFIX + "zookeeper.tick-time",
    DURATION,
    timedelta(seconds=2),
    "tickTime of the per-cluster ZooKeeper used for HA; sessions of dead JobManagers expire within "
    "20 ticks, so a shorter tick fails over faster.",
)


@dataclass(frozen=True)
class LocalFlinkSettings:
    state_dir: Path
    usrlib_dir: Path | None = None
    """None: ``<state_dir>/usrlib``."""
    flink_homes: dict[str, Path] = field(default_factory=dict)
    java: str = "java"
    memory_preset: MemoryPreset = MemoryPreset.SMALL
    jvm_options: str = DEFAULT_JVM_OPTIONS
    stop_timeout: float = 10.0
    operation_timeout: float = 60.0
    zookeeper_tick_ms: int = 2000


def settings_from(configuration: Configuration, *, state_dir: Path | None = None) -> LocalFlinkSettings:
    """Read the local runtime's options; ``state_dir`` overrides the configured one."""
    configured_state = configuration.get(STATE_DIR)
    configured_usrlib = configuration.get(USRLIB_DIR)
    homes = {version: Path(home) for version, home in configuration.subset(FLINK_HOME_PREFIX).items() if home}
    return LocalFlinkSettings(
        state_dir=state_dir or Path(configured_state or Path.cwd() / ".state" / "local-flink"),
        usrlib_dir=Path(configured_usrlib) if configured_usrlib else None,
        flink_homes=homes,
        java=configuration.get(JAVA),
        memory_preset=configuration.get(MEMORY_PRESET),
        jvm_options=configuration.get(JVM_OPTIONS),
        stop_timeout=configuration.get(STOP_TIMEOUT).total_seconds(),
        operation_timeout=configuration.get(OPERATION_TIMEOUT).total_seconds(),
        zookeeper_tick_ms=int(configuration.get(ZOOKEEPER_TICK_TIME).total_seconds() * 1000),
    )
