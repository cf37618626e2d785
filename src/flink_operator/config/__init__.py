"""Operator configuration: typed options, parsing of Flink-style values, layering and live reload.

Public surface (import from `flink_operator.config`):
* declaring options: `declare`, `declare_optional`, `ConfigOption`, `Scope`, `REGISTRY`, value types
  (`STRING`, `BOOLEAN`, `INTEGER`, `DOUBLE`, `DURATION`, `MEMORY_SIZE`, `MAP`, `SCHEDULE`, `enum_type`,
  `list_type`);
* reading: `Configuration.get(option)`;
* loading and layering: `load_default_configuration`, `DefaultConfiguration` (`.for_resource`,
  `.effective`), `effective_flink_configuration`, `operator_configuration`, `flink_only`;
* live reload: `ConfigReloader` (`.current`, `.subscribe`, `.run`), `ConfigChange`;
* flattening `spec.flinkConfiguration`: `flatten_flink_configuration`;
* parsing helpers: `parse_duration`, `format_duration`, `MemorySize`, `parse_memory_size`;
* errors: `ConfigError`.
Redaction lives in `flink_operator.config.redaction`; the declared options in `operator_options`,
`resource_options`, `metrics_options` and `autoscaler_options`.
"""

from flink_operator.config.configuration import Configuration
from flink_operator.config.durations import format_duration, parse_duration
from flink_operator.config.errors import ConfigError, ValueParseError
from flink_operator.config.flatten import flatten_flink_configuration
from flink_operator.config.layering import (
    DefaultConfiguration,
    FlinkVersion,
    effective_flink_configuration,
    flink_only,
    operator_configuration,
    scoped_defaults,
    split_spec_configuration,
)
from flink_operator.config.loading import load_default_configuration
from flink_operator.config.memory_size import MemorySize, parse_memory_size
from flink_operator.config.option import ConfigOption, Scope
from flink_operator.config.registry import (
    REGISTRY,
    OptionRegistry,
    declare,
    declare_optional,
    load_declared_options,
)
from flink_operator.config.reload import ConfigChange, ConfigReloader
from flink_operator.config.values import (
    BOOLEAN,
    DOUBLE,
    DURATION,
    INTEGER,
    MAP,
    MEMORY_SIZE,
    REGEX,
    SCHEDULE,
    STRING,
    CronSchedule,
    IntervalSchedule,
    Schedule,
    ValueType,
    enum_type,
    list_type,
)

__all__ = [
    "BOOLEAN",
    "DOUBLE",
    "DURATION",
    "INTEGER",
    "MAP",
    "MEMORY_SIZE",
    "REGEX",
    "REGISTRY",
    "SCHEDULE",
    "STRING",
    "ConfigChange",
    "ConfigError",
    "ConfigOption",
    "ConfigReloader",
    "Configuration",
    "CronSchedule",
    "DefaultConfiguration",
    "FlinkVersion",
    "IntervalSchedule",
    "MemorySize",
    "OptionRegistry",
    "Schedule",
    "Scope",
    "ValueParseError",
    "ValueType",
    "declare",
    "declare_optional",
    "effective_flink_configuration",
    "enum_type",
    "flatten_flink_configuration",
    "flink_only",
    "format_duration",
    "list_type",
    "load_declared_options",
    "load_default_configuration",
    "operator_configuration",
    "parse_duration",
    "parse_memory_size",
    "scoped_defaults",
    "split_spec_configuration",
]
