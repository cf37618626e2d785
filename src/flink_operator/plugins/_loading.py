"""Start-up: find every plugin, import and construct it, hand it its configuration, and fail loudly.

Sources, in run order: built-ins, entry points (sorted by name), plugin directories (sorted by directory,
then name), configuration keys (sorted by name). Every discovery is logged with its source. Every failure
(import, constructor, `configure()`, a configured class that does not exist, a name used twice) is collected;
then either start-up stops with all of them (`PluginLoadError`) or, with `fail-on-error: false`, each is
logged as a warning and its plugin is left out.

Not guaranteed: importing and constructing plugins is not time-limited (it happens once, before the operator
serves anything).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import inspect
import logging
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from flink_operator.config.redaction import redact_text, redactor_for
from flink_operator.plugins._configured import PluginKeys, configured_candidates, plugin_keys, warn_unclaimed
from flink_operator.plugins._entry_points import entry_point_candidates
from flink_operator.plugins._kinds import PluginKind, implemented_methods
from flink_operator.plugins._options import PluginSettings
from flink_operator.plugins._plugin_dirs import directory_candidates, scan_plugins_root
from flink_operator.plugins._sources import (
    LoadFailure,
    Origin,
    PluginCandidate,
    PluginLoadError,
    PluginSource,
)

_log = logging.getLogger("flink_operator.plugins")

BUILT_IN = PluginSource(Origin.BUILT_IN)


@dataclass(frozen=True)
class LoadedPlugin:
    """A constructed, configured plugin."""

    kind: PluginKind
    name: str
    source: PluginSource
    instance: object
    config: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @functools.cached_property
    def methods(self) -> frozenset[str]:
        """The role's methods this plugin really implements (inherited no-ops excluded)."""
        return implemented_methods(self.instance, self.kind)

    @property
    def class_name(self) -> str:
        cls = type(self.instance)
        return f"{cls.__module__}.{cls.__qualname__}"

    @property
    def trusted(self) -> bool:
        """Part of the operator itself: may share the masked resource instead of receiving its own copy."""
        return type(self.instance).__module__.startswith("flink_operator.")


@dataclass(frozen=True)
class LoadedPlugins:
    validators: tuple[LoadedPlugin, ...] = ()
    mutators: tuple[LoadedPlugin, ...] = ()
    listeners: tuple[LoadedPlugin, ...] = ()
    skipped: tuple[LoadFailure, ...] = ()
    """Plugins left out because they failed while `fail-on-error` was off."""

    def of(self, kind: PluginKind) -> tuple[LoadedPlugin, ...]:
        return {
            PluginKind.VALIDATOR: self.validators,
            PluginKind.MUTATOR: self.mutators,
            PluginKind.LISTENER: self.listeners,
        }[kind]


def load_plugins(
    config: Mapping[str, str],
    settings: PluginSettings,
    *,
    built_ins: Sequence[tuple[PluginKind, str, object]] = (),
    entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
) -> LoadedPlugins:
    """Discover, construct and configure all plugins. Raises `PluginLoadError` (fail-on-error on)."""
    failures: list[LoadFailure] = []
    if settings.lib_dir is not None:
        problem = add_library_directory(settings.lib_dir)
        if problem:
            failures.append(problem)

    candidates: list[PluginCandidate] = []
    for found, problems in (
        entry_point_candidates(entry_points),
        directory_candidates(scan_plugins_root(settings.plugins_dir) if settings.plugins_dir else []),
        configured_candidates(keys := plugin_keys(config.items())),
    ):
        candidates += found
        failures += problems

    loaded: dict[tuple[PluginKind, str], LoadedPlugin] = {}
    for kind, name, instance in built_ins:
        loaded[(kind, name)] = LoadedPlugin(kind, name, BUILT_IN, instance)
        _log.info("Using built-in %s %r: %s", kind.title, name, loaded[(kind, name)].class_name)

    claimed: set[tuple[PluginKind, str]] = set()
    for candidate in sorted(candidates, key=lambda c: c.order):
        claimed.add((candidate.kind, candidate.name))
        plugin_config = keys.get((candidate.kind, candidate.name)) or PluginKeys(
            candidate.kind, candidate.name
        )
        outcome = _load_one(candidate, plugin_config, loaded)
        if isinstance(outcome, LoadFailure):
            failures.append(outcome)
        elif outcome is not None:
            loaded[(candidate.kind, candidate.name)] = outcome

    warn_unclaimed(keys, claimed | loaded.keys())

    if failures:
        # A plugin's error may quote its own configuration, e.g. a token it could not use.
        secrets = redactor_for(config).secret_values(config)
        failures = [replace(f, reason=redact_text(f.reason, secrets)) for f in failures]
    if failures and settings.fail_on_error:
        raise PluginLoadError(failures)
    for failure in failures:
        _log.warning("Skipping %s (kubernetes.operator.plugins.fail-on-error is false)", failure.describe())
    plugins = list(loaded.values())
    return LoadedPlugins(
        validators=tuple(p for p in plugins if p.kind is PluginKind.VALIDATOR),
        mutators=tuple(p for p in plugins if p.kind is PluginKind.MUTATOR),
        listeners=tuple(p for p in plugins if p.kind is PluginKind.LISTENER),
        skipped=tuple(failures),
    )


def _load_one(
    candidate: PluginCandidate, keys: PluginKeys, loaded: Mapping[tuple[PluginKind, str], LoadedPlugin]
) -> LoadedPlugin | LoadFailure | None:
    kind, name = candidate.kind, candidate.name

    def failure(reason: str) -> LoadFailure:
        return LoadFailure(candidate.source, reason, kind, name, candidate.target)

    if keys.values.get("enabled", "true").strip().lower() == "false":
        _log.info(
            "Leaving out %s %r from %s: %s%s.enabled is false",
            kind.title,
            name,
            candidate.source,
            kind.config_prefix,
            name,
        )
        return None
    try:
        target = candidate.resolve()
    except Exception as error:
        return failure(f"cannot import it: {_describe(error)}")

    existing = loaded.get((kind, name))
    if existing is not None:
        if candidate.source.origin is Origin.CONFIGURATION and type(existing.instance) is target:
            # `...<name>.class` naming the discovered plugin of that name, as upstream requires: one plugin.
            _log.info("%s names the discovered %s %r", candidate.source, kind.title, name)
            return None
        return failure(f"the name {name!r} is already taken by the {kind.title} from {existing.source}")

    try:
        instance = _construct(target)
    except Exception as error:
        return failure(f"cannot construct it: {_describe(error)}")
    problem = _role_problem(kind, instance)
    if problem:
        return failure(problem)
    configure = getattr(instance, "configure", None)
    if callable(configure):
        try:
            result = configure(keys.config())
        except Exception as error:
            return failure(f"configure() failed: {_describe(error)}")
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            return failure("configure() must be a plain method, not async")
    plugin = LoadedPlugin(kind, name, candidate.source, instance, keys.config())
    _log.info("Discovered %s from %s: %s (name %r)", kind.title, candidate.source, plugin.class_name, name)
    return plugin


def _construct(target: object) -> object:
    """A class is instantiated, a function is called as a factory, anything else is the plugin itself."""
    if inspect.isclass(target) or inspect.isfunction(target) or inspect.ismethod(target):
        return target()
    return target


def _role_problem(kind: PluginKind, instance: object) -> str | None:
    if isinstance(instance, kind.base_class) or implemented_methods(instance, kind):
        return None
    for other in PluginKind:
        if other is not kind and (
            isinstance(instance, other.base_class) or implemented_methods(instance, other)
        ):
            return f"it is a {other.title}, not a {kind.title}"
    return f"it implements none of the {kind.title} methods ({', '.join(kind.methods)})"


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def add_library_directory(path: Path) -> LoadFailure | None:
    """Put the extra libraries directory, and the wheels and zips inside it, on the import path."""
    source = PluginSource(Origin.CONFIGURATION, "OPERATOR_LIB")
    if not path.is_dir():
        return LoadFailure(source, f"the extra libraries directory {path} does not exist")
    entries = [str(path), *(str(p) for p in sorted(path.iterdir()) if p.suffix in (".whl", ".zip"))]
    for entry in entries:
        if entry not in sys.path:
            sys.path.append(entry)
    importlib.invalidate_caches()
    _log.info("Extra libraries on the import path: %s", ", ".join(entries))
    return None
