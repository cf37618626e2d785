"""`Configuration`: an immutable flat `key -> text` map with typed reads through `ConfigOption`s.

`cfg.get(RECONCILE_INTERVAL)` looks up the option's key, then its fallback keys, then its deprecated keys
(warning once per deprecated key), parses the first one present and otherwise returns the option's default.
Parsed values are cached per option. A bad value raises `ConfigError` naming the key actually used.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar, cast

from flink_operator.config.option import ConfigOption

T = TypeVar("T")

_log = logging.getLogger(__name__)
_warned_deprecated: set[str] = set()
_warn_lock = threading.Lock()


class Configuration:
    """A read-only configuration. Construct from a flat mapping; derive new ones with `with_overrides`."""

    __slots__ = ("_cache", "_values")

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = dict(values or {})
        # Keyed by the option object itself (identity hash): holding it keeps its id from being reused.
        self._cache: dict[ConfigOption[Any], Any] = {}

    def get(self, option: ConfigOption[T]) -> T:
        """The typed value of `option`: the first present key in `option.all_keys`, else its default."""
        if option in self._cache:
            return cast(T, self._cache[option])
        found = self.lookup(option)
        value = option.default if found is None else option.parse(found[1], key=found[0])
        self._cache[option] = value
        return value

    def lookup(self, option: ConfigOption[Any]) -> tuple[str, str] | None:
        """The `(key, text)` pair that provides `option`, or None when only the default applies."""
        if option.key in self._values:
            return option.key, self._values[option.key]
        for key in option.fallback_keys:
            if key in self._values:
                return key, self._values[key]
        for key in option.deprecated_keys:
            if key in self._values:
                _warn_deprecated(key, option.key)
                return key, self._values[key]
        return None

    def contains(self, option: ConfigOption[Any]) -> bool:
        """Whether any key of `option` is set (the default does not count)."""
        return self.lookup(option) is not None

    def raw(self, key: str) -> str | None:
        return self._values.get(key)

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)

    def with_overrides(self, overrides: Mapping[str, str]) -> Configuration:
        """A new configuration where `overrides` win."""
        if not overrides:
            return self
        return Configuration({**self._values, **overrides})

    def subset(self, prefix: str) -> dict[str, str]:
        """Keys under `prefix` with the prefix stripped, e.g. a plugin's own options."""
        return {k[len(prefix):]: v for k, v in self._values.items() if k.startswith(prefix) and k != prefix}

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Configuration) and self._values == other._values

    def __hash__(self) -> int:
        return hash(frozenset(self._values.items()))

    def __repr__(self) -> str:
        # Never print values: they may be secrets.
        return f"Configuration({len(self._values)} keys)"


def _warn_deprecated(old_key: str, new_key: str) -> None:
    with _warn_lock:
        if old_key in _warned_deprecated:
            return
        _warned_deprecated.add(old_key)
    _log.warning("Config key %r is deprecated; use %r instead", old_key, new_key)
