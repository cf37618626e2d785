"""Where a plugin came from, what was found before it is loaded, and what goes wrong while loading.

Plain data shared by the discovery modules (`_entry_points`, `_plugin_dirs`, `_configured`) and the loader.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flink_operator.plugins._kinds import PluginKind

FAIL_ON_ERROR_HINT = "set kubernetes.operator.plugins.fail-on-error: false to start without failing plugins"


class Origin(enum.IntEnum):
    """Kinds of source, in the order their plugins run (mutators) and are listed."""

    BUILT_IN = 0
    ENTRY_POINT = 1
    PLUGIN_DIRECTORY = 2
    CONFIGURATION = 3

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ").replace("built in", "built-in")


@dataclass(frozen=True)
class PluginSource:
    """`entry point [flink_operator.validators:name]`, `plugin directory [<dir>]`, `configuration [<key>]`."""

    origin: Origin
    location: str = ""

    def __str__(self) -> str:
        return f"{self.origin.label} [{self.location}]" if self.location else self.origin.label


@dataclass(frozen=True)
class PluginCandidate:
    """A plugin found but not yet imported or constructed."""

    kind: PluginKind
    name: str
    source: PluginSource
    target: str
    """What it points at, as written by its author: `package.module:Class`."""
    resolve: Callable[[], object]
    """Imports the target and returns it (a class, a factory, or a ready object)."""
    group: str = ""
    """Secondary sort key within a source: the plugin directory's name."""

    @property
    def order(self) -> tuple[int, str, str]:
        return (int(self.source.origin), self.group, self.name)


@dataclass(frozen=True)
class LoadFailure:
    """Why a plugin could not be loaded, with everything needed to find it."""

    source: PluginSource
    reason: str
    kind: PluginKind | None = None
    name: str | None = None
    target: str | None = None

    def describe(self) -> str:
        what = self.kind.title if self.kind else "plugin"
        if self.name:
            what = f"{what} '{self.name}'"
        detail = f" (class {self.target})" if self.target else ""
        return f"{what} from {self.source}{detail}: {self.reason}"


class PluginLoadError(Exception):
    """One or more plugins could not be loaded and `fail-on-error` is on: the operator must not start."""

    def __init__(self, failures: Sequence[LoadFailure]) -> None:
        self.failures = tuple(failures)
        lines = "\n".join(f"  - {failure.describe()}" for failure in self.failures)
        count = len(self.failures)
        super().__init__(
            f"{count} plugin{'s' if count != 1 else ''} could not be loaded:\n{lines}\n({FAIL_ON_ERROR_HINT})"
        )


def valid_plugin_name(name: str) -> str | None:
    """None when `name` can be a plugin name, else what is wrong (a name is one config-key segment)."""
    if not name:
        return "the name is empty"
    if "." in name:
        return f"the name {name!r} contains '.', so its configuration keys could not be addressed"
    if any(c.isspace() for c in name):
        return f"the name {name!r} contains blanks"
    return None
