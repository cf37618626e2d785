"""The option registry: every declared `ConfigOption`, for documentation, validation and scope decisions.

Declare options with `declare(...)` / `declare_optional(...)` in any module; by convention a module that
declares options is named `options.py` or `<domain>_options.py` somewhere under `flink_operator`, so that
`load_declared_options()` (used by the docs generator and at operator start) finds and imports it without a
central list. Plugins may register their options into `REGISTRY` at load time the same way.

Redeclaring a key with the same type, default and scope returns the existing option (two modules may
declare the same well-known option); a conflicting redeclaration is an error.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from flink_operator.config.option import ConfigOption, Scope
from flink_operator.config.values import ValueType

T = TypeVar("T")

# Keys under this prefix are scoped defaults (contract §5.1), never options in their own right.
DEFAULT_CONFIGURATION_PREFIX = "kubernetes.operator.default-configuration."


class OptionRegistry:
    """A thread-safe set of options keyed by their primary key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._options: dict[str, ConfigOption[Any]] = {}
        self._by_key: dict[str, ConfigOption[Any]] = {}
        self._templates: list[tuple[re.Pattern[str], ConfigOption[Any]]] = []

    def register(self, option: ConfigOption[T]) -> ConfigOption[T]:
        with self._lock:
            existing = self._options.get(option.key)
            if existing is not None:
                if (
                    existing.value_type.name != option.value_type.name
                    or existing.default_text != option.default_text
                    or existing.scope is not option.scope
                ):
                    raise ValueError(
                        f"option {option.key!r} is already declared differently: {existing!r}, "
                        f"scope {existing.scope.value}"
                    )
                return cast(ConfigOption[T], existing)
            self._options[option.key] = option
            if option.is_template:
                self._templates.append((option.key_pattern(), option))
            else:
                for key in option.all_keys:
                    self._by_key.setdefault(key, option)
            return option

    def __iter__(self) -> Iterator[ConfigOption[Any]]:
        with self._lock:
            options = sorted(self._options.values(), key=lambda o: o.key)
        return iter(options)

    def __len__(self) -> int:
        return len(self._options)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.find(key) is not None

    def get(self, key: str) -> ConfigOption[Any] | None:
        """The option declared with exactly this primary key."""
        return self._options.get(key)

    def find(self, key: str) -> ConfigOption[Any] | None:
        """The option a key belongs to: by primary, fallback or deprecated key, or by template."""
        option = self._by_key.get(key)
        if option is not None:
            return option
        for pattern, template in self._templates:
            if pattern.fullmatch(key):
                return template
        return None

    def scope_of(self, key: str) -> Scope | None:
        """The declared scope of a key; None for keys no option declares (e.g. plain Flink keys)."""
        option = self.find(key)
        return None if option is None else option.scope

    def is_system_key(self, key: str) -> bool:
        """True for keys a resource may not set: system options and scoped-default keys."""
        if key.startswith(DEFAULT_CONFIGURATION_PREFIX):
            return True
        return self.scope_of(key) is Scope.SYSTEM

    def secret_keys(self) -> frozenset[str]:
        """All concrete keys of options marked secret."""
        return frozenset(k for o in self if o.secret and not o.is_template for k in o.all_keys)


REGISTRY = OptionRegistry()
"""The process-wide registry that `declare` writes to."""


def declare(
    key: str,
    value_type: ValueType[T],
    default: T,
    description: str,
    *,
    scope: Scope = Scope.SYSTEM,
    fallback_keys: tuple[str, ...] = (),
    deprecated_keys: tuple[str, ...] = (),
    secret: bool = False,
    upstream_default: str | None = None,
    env_var_name: str | None = None,
    check: Callable[[Any], str | None] | None = None,
    registry: OptionRegistry | None = None,
) -> ConfigOption[T]:
    """Declare and register an option with a default, e.g.
    `INTERVAL = declare("kubernetes.operator.reconcile.interval", DURATION, timedelta(minutes=1), "...")`.
    """
    option: ConfigOption[T] = ConfigOption(
        key=key,
        value_type=value_type,
        default=default,
        description=description,
        scope=scope,
        fallback_keys=fallback_keys,
        deprecated_keys=deprecated_keys,
        secret=secret,
        upstream_default=upstream_default,
        env_var_name=env_var_name,
        check=check,
        module=_caller_module(),
    )
    return (REGISTRY if registry is None else registry).register(option)


def declare_optional(
    key: str,
    value_type: ValueType[T],
    description: str,
    *,
    scope: Scope = Scope.SYSTEM,
    fallback_keys: tuple[str, ...] = (),
    deprecated_keys: tuple[str, ...] = (),
    secret: bool = False,
    upstream_default: str | None = None,
    env_var_name: str | None = None,
    check: Callable[[Any], str | None] | None = None,
    registry: OptionRegistry | None = None,
) -> ConfigOption[T | None]:
    """Declare and register an option without a default; reading it gives None when unset."""
    option: ConfigOption[T | None] = ConfigOption(
        key=key,
        value_type=value_type,
        default=None,
        description=description,
        scope=scope,
        fallback_keys=fallback_keys,
        deprecated_keys=deprecated_keys,
        secret=secret,
        upstream_default=upstream_default,
        env_var_name=env_var_name,
        check=check,
        module=_caller_module(),
    )
    return (REGISTRY if registry is None else registry).register(option)


def _caller_module() -> str:
    """The module that called `declare`/`declare_optional` (two frames up)."""
    return str(sys._getframe(2).f_globals.get("__name__", ""))


_loaded = False
_load_lock = threading.Lock()


def load_declared_options() -> OptionRegistry:
    """Import every `options.py` / `*_options.py` module under `flink_operator` once; return `REGISTRY`."""
    global _loaded
    with _load_lock:
        if not _loaded:
            package_root = Path(__file__).resolve().parent.parent
            for path in sorted(package_root.rglob("*options.py")):
                if path.name != "options.py" and not path.name.endswith("_options.py"):
                    continue
                relative = path.relative_to(package_root).with_suffix("")
                importlib.import_module(".".join(("flink_operator", *relative.parts)))
            _loaded = True
    return REGISTRY


def all_options(registry: OptionRegistry | None = None) -> OptionRegistry:
    """`registry`, or (when None) the process-wide registry with every option module imported."""
    return load_declared_options() if registry is None else registry
