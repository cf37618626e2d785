"""The three plugin roles as data: names used in configuration keys, entry-point groups and log lines, and
which methods belong to each role.

Also answers "does this object take part in call X": a method inherited unchanged from the base class is a
no-op, so the operator does not spend a call (or a thread) on it.
"""

from __future__ import annotations

import enum

from flink_operator.plugins._interfaces import (
    FlinkResourceListener,
    FlinkResourceMutator,
    FlinkResourceValidator,
)

ENTRY_POINT_GROUP_PREFIX = "flink_operator."
CONFIG_PREFIX = "kubernetes.operator.plugins."


class PluginKind(enum.Enum):
    VALIDATOR = "validators"
    MUTATOR = "mutators"
    LISTENER = "listeners"

    @property
    def plural(self) -> str:
        """`validators`, `mutators`, `listeners`: the word in config keys and entry-point groups."""
        return self.value

    @property
    def singular(self) -> str:
        return self.value[:-1]

    @property
    def title(self) -> str:
        """For log lines: `resource validator`."""
        return f"resource {self.singular}"

    @property
    def entry_point_group(self) -> str:
        return ENTRY_POINT_GROUP_PREFIX + self.plural

    @property
    def config_prefix(self) -> str:
        """`kubernetes.operator.plugins.listeners.`; a plugin's keys are `<prefix><name>.<key>`."""
        return f"{CONFIG_PREFIX}{self.plural}."

    @property
    def base_class(self) -> type[object]:
        return _BASES[self]

    @property
    def methods(self) -> tuple[str, ...]:
        return _METHODS[self]

    @classmethod
    def from_entry_point_group(cls, group: str) -> PluginKind | None:
        for kind in cls:
            if kind.entry_point_group == group:
                return kind
        return None


_BASES: dict[PluginKind, type[object]] = {
    PluginKind.VALIDATOR: FlinkResourceValidator,
    PluginKind.MUTATOR: FlinkResourceMutator,
    PluginKind.LISTENER: FlinkResourceListener,
}

_METHODS: dict[PluginKind, tuple[str, ...]] = {
    PluginKind.VALIDATOR: ("validate_deployment", "validate_session_job", "validate_state_snapshot"),
    PluginKind.MUTATOR: ("mutate_deployment", "mutate_session_job", "mutate_state_snapshot"),
    PluginKind.LISTENER: (
        "on_deployment_status_update",
        "on_deployment_event",
        "on_session_job_status_update",
        "on_session_job_event",
        "on_state_snapshot_status_update",
        "on_state_snapshot_event",
    ),
}


def implements(plugin: object, method: str) -> bool:
    """True when `plugin` has `method` and it is not the no-op inherited from a plugin base class."""
    own = getattr(type(plugin), method, None)
    if own is None:
        return callable(getattr(plugin, method, None))
    return all(own is not getattr(base, method, None) for base in _BASES.values())


def implemented_methods(plugin: object, kind: PluginKind) -> frozenset[str]:
    return frozenset(m for m in kind.methods if implements(plugin, m))
