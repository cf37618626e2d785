"""`ConfigOption[T]`: one typed configuration option (key, value type, default, documentation, scope).

An option is plain, immutable data. Declaring it (`registry.declare`) also records it in the option registry,
which is what documentation, validation and the dynamic/system split read. Reading a value is the job of
`Configuration.get(option)`.

Scope (contract §5.5-§5.7): a SYSTEM option is read from the operator configuration only (config file,
environment, namespace and Flink-version defaults); a DYNAMIC option may also be overridden by a resource in
`spec.flinkConfiguration`.

Keys may be templates with `<placeholders>` (e.g. `kubernetes.operator.plugins.listeners.<name>.class`); a
placeholder stands for one key segment without dots. `option.resolve(name="audit")` gives the concrete option.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, cast

from flink_operator.config.errors import ConfigError, ValueParseError
from flink_operator.config.values import ValueType

T = TypeVar("T")

ENV_PREFIX = "FLINK_OPERATOR_"
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_-]+)>")


class Scope(enum.Enum):
    """Where an option may be set."""

    SYSTEM = "system"
    """Operator configuration only; a value in a resource's `spec.flinkConfiguration` is ignored."""
    DYNAMIC = "dynamic"
    """Operator configuration, overridable per resource in `spec.flinkConfiguration`."""


def env_var_for_key(key: str) -> str:
    """`kubernetes.operator.reconcile.interval` -> `FLINK_OPERATOR_KUBERNETES_OPERATOR_RECONCILE_INTERVAL`."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", key).upper()


@dataclass(frozen=True, eq=False)
class ConfigOption(Generic[T]):
    """A typed option. `default` is of type T; options without a default are `ConfigOption[X | None]`."""

    key: str
    value_type: ValueType[Any]
    default: T
    description: str
    scope: Scope = Scope.SYSTEM
    fallback_keys: tuple[str, ...] = ()
    """Older keys read, in order, when `key` is absent (silently, like Flink's fallback keys)."""
    deprecated_keys: tuple[str, ...] = ()
    """Deprecated keys read after the fallback keys; using one logs a warning naming the new key."""
    secret: bool = False
    """The value is sensitive: never logged, shown as `******`."""
    upstream_default: str | None = None
    """Set where our default deliberately differs from the upstream operator's (its default, as text)."""
    env_var_name: str | None = field(default=None)
    """Extra environment variable read for this option besides the derived one (e.g. `WATCH_NAMESPACES`)."""
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)
    """A constraint on parsed values (see `constraints`): None when allowed, else what was expected."""
    module: str = field(default="", compare=False)
    """The module that declared the option (the documentation groups options by it)."""

    @property
    def dynamic(self) -> bool:
        return self.scope is Scope.DYNAMIC

    @property
    def all_keys(self) -> tuple[str, ...]:
        """The key, then fallback keys, then deprecated keys: the lookup order."""
        return (self.key, *self.fallback_keys, *self.deprecated_keys)

    @property
    def env_var(self) -> str:
        """The environment variable that sets this option (see `loading.environment_layer`)."""
        return env_var_for_key(self.key)

    @property
    def is_template(self) -> bool:
        return _PLACEHOLDER.search(self.key) is not None

    @property
    def has_default(self) -> bool:
        return self.default is not None

    @property
    def default_text(self) -> str | None:
        """The default as configuration text, or None when the option has no default."""
        return None if self.default is None else self.value_type.format(self.default)

    def parse(self, text: str, *, key: str | None = None) -> T:
        """Parse `text` as this option's value; a bad value raises `ConfigError` naming the key (or `key`)."""
        try:
            value = self.value_type.parse(text)
            problem = None if self.check is None or value is None else self.check(value)
            if problem is not None:
                raise ValueParseError("allowed here", problem)
        except ValueParseError as error:
            raise ConfigError.bad_value(key or self.key, text, error, secret=self.secret) from error
        return cast(T, value)

    def format(self, value: T) -> str:
        if value is None:
            return ""
        return self.value_type.format(value)

    def resolve(self, **names: str) -> ConfigOption[T]:
        """The concrete option for a template key, e.g. `LISTENER_CLASS.resolve(name="audit")`."""

        def fill(template: str) -> str:
            def substitute(match: re.Match[str]) -> str:
                placeholder = match.group(1)
                if placeholder not in names:
                    raise KeyError(f"{template}: no value given for <{placeholder}>")
                value = names[placeholder]
                if not value or "." in value:
                    raise ConfigError(
                        f"{template}: <{placeholder}> must be a non-empty name without '.', got {value!r}",
                        key=template,
                    )
                return value

            return _PLACEHOLDER.sub(substitute, template)

        return replace(
            self,
            key=fill(self.key),
            fallback_keys=tuple(fill(k) for k in self.fallback_keys),
            deprecated_keys=tuple(fill(k) for k in self.deprecated_keys),
        )

    def key_pattern(self) -> re.Pattern[str]:
        """A regex matching this option's key and its older keys, placeholders standing for one segment."""
        alternatives = []
        for key in self.all_keys:
            parts = _PLACEHOLDER.split(key)
            # split() alternates literal text and placeholder names.
            regex = "".join(re.escape(part) if i % 2 == 0 else r"[^.]+" for i, part in enumerate(parts))
            alternatives.append(regex)
        return re.compile("|".join(f"(?:{a})" for a in alternatives))

    def __repr__(self) -> str:
        return f"ConfigOption({self.key!r}, {self.value_type.name}, default={self.default_text!r})"
