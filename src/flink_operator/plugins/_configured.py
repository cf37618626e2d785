"""Plugins named in configuration, and every plugin's own keys.

`kubernetes.operator.plugins.<validators|mutators|listeners>.<name>.<key>` belongs to the plugin `<name>` of
that role. `<key> = class` names a class to load (`package.module:Class` or `package.module.Class`); all of
the plugin's keys, prefix removed, go to its `configure()`. One class may be configured under several names.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from flink_operator.plugins._kinds import PluginKind
from flink_operator.plugins._sources import (
    LoadFailure,
    Origin,
    PluginCandidate,
    PluginSource,
    valid_plugin_name,
)

_log = logging.getLogger("flink_operator.plugins")


@dataclass
class PluginKeys:
    """The keys of one named plugin."""

    kind: PluginKind
    name: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def class_path(self) -> str | None:
        value = self.values.get("class", "").strip()
        return value or None

    @property
    def class_key(self) -> str:
        return f"{self.kind.config_prefix}{self.name}.class"

    def config(self) -> Mapping[str, str]:
        """Read-only view handed to `configure()`."""
        return MappingProxyType(dict(self.values))


def plugin_keys(config: Iterable[tuple[str, str]]) -> dict[tuple[PluginKind, str], PluginKeys]:
    """Group configuration entries by (role, plugin name)."""
    grouped: dict[tuple[PluginKind, str], PluginKeys] = {}
    for key, value in config:
        for kind in PluginKind:
            prefix = kind.config_prefix
            if not key.startswith(prefix):
                continue
            name, dot, rest = key[len(prefix) :].partition(".")
            if not dot or not name or not rest:
                continue  # e.g. a role-wide option, not a plugin's key
            entry = grouped.setdefault((kind, name), PluginKeys(kind, name))
            entry.values[rest] = value
    return grouped


def configured_candidates(
    keys: Mapping[tuple[PluginKind, str], PluginKeys],
) -> tuple[list[PluginCandidate], list[LoadFailure]]:
    """A candidate for every `...<name>.class` key."""
    candidates: list[PluginCandidate] = []
    failures: list[LoadFailure] = []
    for (kind, name), entry in sorted(keys.items(), key=lambda item: (item[0][0].value, item[0][1])):
        class_path = entry.class_path
        if class_path is None:
            continue
        source = PluginSource(Origin.CONFIGURATION, entry.class_key)
        problem = valid_plugin_name(name)
        if problem:
            failures.append(LoadFailure(source, problem, kind, name, class_path))
            continue
        candidates.append(
            PluginCandidate(kind, name, source, class_path, functools.partial(import_target, class_path))
        )
    return candidates, failures


def import_target(path: str) -> object:
    """Import `package.module:Attr.Inner` or `package.module.Attr`; errors say which part is missing."""
    path = path.strip()
    if ":" in path:
        module_name, _, attribute = path.partition(":")
        if not module_name or not attribute:
            raise ImportError(f"{path!r} is not a class path (expected 'package.module:Class')")
        return _attribute(importlib.import_module(module_name), attribute, path)
    parts = path.split(".")
    if len(parts) < 2 or not all(parts):
        raise ImportError(
            f"{path!r} is not a class path (expected 'package.module:Class' or 'package.module.Class')"
        )
    first_missing: ModuleNotFoundError | None = None
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # Only a guess of ours was wrong when the missing module is the one we asked for (or a parent);
            # a module that exists but lacks one of its own dependencies is a real error.
            if error.name and (module_name == error.name or module_name.startswith(error.name + ".")):
                first_missing = first_missing or error
                continue
            raise
        return _attribute(module, ".".join(parts[split:]), path)
    assert first_missing is not None
    raise first_missing


def _attribute(module: object, dotted: str, path: str) -> object:
    value = module
    for part in dotted.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            owner = getattr(value, "__name__", type(value).__name__)
            raise ImportError(f"{owner!r} has no attribute {part!r} (looking up {path!r})") from None
    return value


def warn_unclaimed(
    keys: Mapping[tuple[PluginKind, str], PluginKeys], claimed: set[tuple[PluginKind, str]]
) -> None:
    """Keys for a plugin name nothing was found under are probably a typo: say so."""
    for (kind, name), entry in sorted(keys.items(), key=lambda item: (item[0][0].value, item[0][1])):
        if (kind, name) in claimed:
            continue
        if entry.class_path is None:
            _log.warning(
                "Configuration keys %s%s.* (%s) name no known %s; set %s%s.class to load one",
                kind.config_prefix,
                name,
                ", ".join(sorted(entry.values)),
                kind.title,
                kind.config_prefix,
                name,
            )
