"""Plugins dropped into a directory (a mounted volume, no image rebuild): one sub-directory per plugin.

A plugin sub-directory holds Python modules, packages and/or pure-Python wheels. It says what it provides
through
1. `entry_points.txt` in the sub-directory itself (the standard format, groups `flink_operator.validators`,
   `flink_operator.mutators`, `flink_operator.listeners`; targets are `module:Class` relative to it), and
2. the entry points declared in the metadata of its wheels (both are read);
3. only when neither declares anything: the public classes, defined in its own top-level modules (wheels
   are not scanned: they may be vendored dependencies), that derive from `FlinkResourceValidator`,
   `FlinkResourceMutator` or `FlinkResourceListener`. Such a class is named after the sub-directory, or
   `<sub-directory>-<Class>` when the sub-directory has several of one role.

Isolation: each sub-directory is imported as its own package, `flink_operator_plugins.<sub-directory>`, and is
never put on `sys.path`; two plugins may both contain `util.py`, or different versions of one vendored
library, without seeing each other's. Absolute imports of a plugin's own top-level modules
(`from my_plugin.rules import X`) still work: an import hook maps them onto that package, as long as exactly
one plugin provides the name and no installed module has it (installed modules win, as for `sys.path`).

Not guaranteed: Python has one module namespace per process, so isolation stops at the module level. A name
provided by two plugins cannot be imported absolutely by either (relative imports - `from . import util` -
always work); wheels are imported in place from the zip archive, so compiled extension modules inside wheels
cannot be loaded (install those into the image or the extra libraries directory instead).
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import logging
import re
import sys
import threading
import types
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flink_operator.plugins._configured import _attribute
from flink_operator.plugins._entry_points import parse_entry_points_text
from flink_operator.plugins._kinds import PluginKind
from flink_operator.plugins._sources import (
    LoadFailure,
    Origin,
    PluginCandidate,
    PluginSource,
    valid_plugin_name,
)

PACKAGE_ROOT = "flink_operator_plugins"
ENTRY_POINTS_FILE = "entry_points.txt"

_log = logging.getLogger("flink_operator.plugins")
_lock = threading.RLock()
_packages_by_path: dict[Path, str] = {}
_DIST_INFO_ENTRY_POINTS = re.compile(r"[^/]+\.dist-info/entry_points\.txt")


@dataclass(frozen=True)
class PluginDirectory:
    """One plugin sub-directory and the package it is imported as."""

    name: str
    path: Path
    package: str
    wheels: tuple[Path, ...]

    @property
    def source(self) -> PluginSource:
        return PluginSource(Origin.PLUGIN_DIRECTORY, str(self.path))

    @property
    def search_path(self) -> list[str]:
        return [str(self.path), *(str(wheel) for wheel in self.wheels)]

    def own_modules(self) -> frozenset[str]:
        """The modules and packages directly in the sub-directory (not inside its wheels)."""
        names: set[str] = set()
        for child in self.path.iterdir():
            if child.is_file() and child.suffix == ".py":
                names.add(child.stem)
            elif child.is_dir():
                names.add(child.name)
        return frozenset(n for n in names if n.isidentifier() and n != "__pycache__")

    def top_level_modules(self) -> frozenset[str]:
        """Names importable at the top of this plugin: its own modules and packages, and its wheels'."""
        names: set[str] = set(self.own_modules())
        for wheel in self.wheels:
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    first, slash, _ = member.partition("/")
                    names.add(first if slash else first.removesuffix(".py"))
        return frozenset(n for n in names if n.isidentifier() and n != "__pycache__")

    def declared_entry_points(self) -> list[tuple[PluginKind, str, str]]:
        """Entries of the plugin groups from `entry_points.txt` and from the wheels' metadata."""
        declared: list[tuple[PluginKind, str, str]] = []
        own = self.path / ENTRY_POINTS_FILE
        if own.is_file():
            declared += parse_entry_points_text(own.read_text(encoding="utf-8"), str(own))
        for wheel in self.wheels:
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if _DIST_INFO_ENTRY_POINTS.fullmatch(member):
                        text = archive.read(member).decode("utf-8")
                        declared += parse_entry_points_text(text, f"{wheel}!{member}")
        return declared

    def import_module(self, module: str) -> types.ModuleType:
        _ensure_package(self.package, self.search_path)
        return importlib.import_module(f"{self.package}.{module}")

    def load(self, target: str) -> object:
        """Import `module:Attr` from this plugin."""
        module, colon, attribute = target.partition(":")
        if not colon or not module or not attribute:
            raise ImportError(f"{target!r} is not an entry-point target (expected 'module:Class')")
        return _attribute(self.import_module(module.strip()), attribute.strip(), target)


def scan_plugins_root(root: Path) -> list[PluginDirectory]:
    """The plugin sub-directories of `root`, sorted by name; files directly in `root` are reported."""
    if not root.is_dir():
        _log.debug("No plugins directory at %s", root)
        return []
    directories: list[PluginDirectory] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        if not entry.is_dir():
            _log.warning(
                "Ignoring %s in the plugins directory %s: each plugin must be in its own sub-directory",
                entry.name,
                root,
            )
            continue
        wheels = tuple(sorted(entry.glob("*.whl")))
        directories.append(
            PluginDirectory(entry.name, entry.resolve(), _package_for(entry.resolve()), wheels)
        )
    return directories


def directory_candidates(
    directories: Sequence[PluginDirectory],
) -> tuple[list[PluginCandidate], list[LoadFailure]]:
    """Candidates of every plugin directory (declared entry points, else scanned classes)."""
    _ROUTER.register(directories)
    candidates: list[PluginCandidate] = []
    failures: list[LoadFailure] = []
    for directory in directories:
        try:
            declared = directory.declared_entry_points()
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            failures.append(LoadFailure(directory.source, f"cannot read its declarations: {error}"))
            continue
        if declared:
            found, problems = _declared(directory, declared)
        else:
            found, problems = _scanned(directory)
        if not found and not problems:
            _log.warning(
                "Plugin directory %s provides no validator, mutator or listener: add an %s or a wheel "
                "declaring entry points in the flink_operator.* groups",
                directory.path,
                ENTRY_POINTS_FILE,
            )
        candidates += found
        failures += problems
    return candidates, failures


def _declared(
    directory: PluginDirectory, declared: list[tuple[PluginKind, str, str]]
) -> tuple[list[PluginCandidate], list[LoadFailure]]:
    candidates: list[PluginCandidate] = []
    failures: list[LoadFailure] = []
    seen: set[tuple[PluginKind, str]] = set()
    for kind, name, target in declared:
        problem = valid_plugin_name(name)
        if problem is None and (kind, name) in seen:
            problem = "the name is declared twice in this plugin directory"
        if problem:
            failures.append(LoadFailure(directory.source, problem, kind, name, target))
            continue
        seen.add((kind, name))
        candidates.append(
            PluginCandidate(
                kind,
                name,
                directory.source,
                target,
                functools.partial(directory.load, target),
                directory.name,
            )
        )
    return candidates, failures


def _scanned(directory: PluginDirectory) -> tuple[list[PluginCandidate], list[LoadFailure]]:
    failures: list[LoadFailure] = []
    found: dict[PluginKind, list[tuple[str, type[object]]]] = {kind: [] for kind in PluginKind}
    seen: set[type[object]] = set()
    for module_name in sorted(directory.own_modules()):
        try:
            module = directory.import_module(module_name)
        except Exception as error:
            reason = f"module {module_name!r} failed to import: {type(error).__name__}: {error}"
            failures.append(LoadFailure(directory.source, reason, target=module_name))
            continue
        for attribute, value in sorted(vars(module).items()):
            if attribute.startswith("_") or not inspect.isclass(value) or value in seen:
                continue
            if not value.__module__.startswith(f"{directory.package}.") or inspect.isabstract(value):
                continue
            for kind in PluginKind:
                if issubclass(value, kind.base_class) and value is not kind.base_class:
                    seen.add(value)
                    found[kind].append((f"{module_name}:{attribute}", value))
    candidates: list[PluginCandidate] = []
    base_name = re.sub(r"[.\s]+", "-", directory.name)
    for kind, classes in found.items():
        for target, cls in classes:
            name = base_name if len(classes) == 1 else f"{base_name}-{cls.__name__}"
            candidates.append(
                PluginCandidate(
                    kind, name, directory.source, target, functools.partial(_given, cls), directory.name
                )
            )
    return candidates, failures


def _given(value: object) -> object:
    return value


def _package_for(path: Path) -> str:
    """A package name unique to this directory for the life of the process."""
    with _lock:
        existing = _packages_by_path.get(path)
        if existing is not None:
            return existing
        slug = re.sub(r"\W", "_", path.name) or "plugin"
        if slug[0].isdigit():
            slug = f"_{slug}"
        taken = set(_packages_by_path.values())
        package = f"{PACKAGE_ROOT}.{slug}"
        counter = 2
        while package in taken:
            package = f"{PACKAGE_ROOT}.{slug}_{counter}"
            counter += 1
        _packages_by_path[path] = package
        return package


def _ensure_package(name: str, search_path: list[str]) -> types.ModuleType:
    """Create (once) the synthetic package `name` whose submodules are found in `search_path`."""
    with _lock:
        module = sys.modules.get(name)
        if module is not None:
            return module
        parent_name, _, child = name.rpartition(".")
        parent = None
        if parent_name:
            parent = sys.modules.get(parent_name)
            if parent is None:
                parent = _new_package(parent_name, [])
        module = _new_package(name, search_path)
        if parent is not None:
            setattr(parent, child, module)
        return module


def _new_package(name: str, search_path: list[str]) -> types.ModuleType:
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = list(search_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    return module


class _AliasLoader(importlib.abc.Loader):
    """Makes `name` the very module object already imported (or importable) as `target`."""

    def __init__(self, router: _ImportRouter, target: str) -> None:
        self._router = router
        self._target = target
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self._target)
        self._spec = module.__spec__
        self._router.aliases.add(spec.name)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system stamped the alias spec onto the module; its identity stays the prefixed one.
        module.__spec__ = self._spec


class _ImportRouter(importlib.abc.MetaPathFinder):
    """Resolves absolute imports of a plugin's own top-level names to the plugin's package."""

    def __init__(self) -> None:
        self._owners: dict[str, PluginDirectory] = {}
        self._ambiguous: dict[str, list[PluginDirectory]] = {}
        self.aliases: set[str] = set()
        self._installed = False

    def register(self, directories: Sequence[PluginDirectory]) -> None:
        """Route the top-level names of exactly these directories (a later load replaces an earlier one)."""
        with _lock:
            for alias in self.aliases:
                sys.modules.pop(alias, None)
            self.aliases.clear()
            self._owners.clear()
            self._ambiguous.clear()
            for directory in directories:
                try:
                    names = directory.top_level_modules()
                except (OSError, zipfile.BadZipFile):
                    continue  # reported when its declarations are read
                for name in sorted(names):
                    self._claim(name, directory)
            if not self._installed:
                sys.meta_path.insert(0, self)
                self._installed = True

    def _claim(self, name: str, directory: PluginDirectory) -> None:
        owner = self._owners.pop(name, None)
        sharing = self._ambiguous.get(name)
        if owner is not None or sharing is not None:
            sharing = self._ambiguous.setdefault(name, [] if owner is None else [owner])
            sharing.append(directory)
            _log.warning(
                "Module name %r is provided by several plugin directories (%s); each plugin gets its own "
                "copy, but none can import it absolutely: use relative imports inside plugins",
                name,
                ", ".join(str(d.path) for d in sharing),
            )
            return
        if importlib.util.find_spec(name) is not None:
            _log.debug("Plugin module %r in %s is shadowed by an installed module", name, directory.path)
            return
        self._owners[name] = directory

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        top = fullname.partition(".")[0]
        sharing = self._ambiguous.get(top)
        if sharing:
            raise ModuleNotFoundError(
                f"module {top!r} is provided by several plugin directories "
                f"({', '.join(str(d.path) for d in sharing)}); import it relatively inside a plugin",
                name=fullname,
            )
        owner = self._owners.get(top)
        if owner is None:
            return None
        _ensure_package(owner.package, owner.search_path)
        real_name = f"{owner.package}.{fullname}"
        real_spec = importlib.util.find_spec(real_name)
        if real_spec is None:
            return None
        is_package = real_spec.submodule_search_locations is not None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(self, real_name), is_package=is_package)


_ROUTER = _ImportRouter()
