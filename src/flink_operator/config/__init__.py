"""Operator configuration: typed options, parsing of Flink-style values, layering and live reload.

Public surface (import from `flink_operator.config`):
* declaring options: `declare`, `declare_optional`, `ConfigOption`, `Scope`, `REGISTRY`, value types
  (`STRING`, `BOOLEAN`, `INTEGER`, `DOUBLE`, `DURATION`, `MEMORY_SIZE`, `MAP`, `SCHEDULE`, `enum_type`,
  `list_type`);
* reading: `Configuration.get(option)`;
* flattening `spec.flinkConfiguration`: `flatten_flink_configuration`;
* parsing helpers: `parse_duration`, `format_duration`, `MemorySize`, `parse_memory_size`;
* errors: `ConfigError`.
Redaction lives in `flink_operator.config.redaction`.
"""

from flink_operator.config.configuration import Configuration
from flink_operator.config.durations import format_duration, parse_duration
from flink_operator.config.errors import ConfigError, ValueParseError
from flink_operator.config.flatten import flatten_flink_configuration
from flink_operator.config.memory_size import MemorySize, parse_memory_size
from flink_operator.config.option import ConfigOption, Scope
from flink_operator.config.registry import REGISTRY, OptionRegistry, declare, declare_optional
from flink_operator.config.values import (
    BOOLEAN,
    DOUBLE,
    DURATION,
    INTEGER,
    MAP,
    MEMORY_SIZE,
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
    "REGISTRY",
    "SCHEDULE",
    "STRING",
    "ConfigError",
    "ConfigOption",
    "Configuration",
    "CronSchedule",
    "IntervalSchedule",
    "MemorySize",
    "OptionRegistry",
    "Schedule",
    "Scope",
    "ValueParseError",
    "ValueType",
    "declare",
    "declare_optional",
    "enum_type",
    "flatten_flink_configuration",
    "format_duration",
    "list_type",
    "parse_duration",
    "parse_memory_size",
]
