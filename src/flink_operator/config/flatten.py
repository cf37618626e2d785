"""Flattening of `spec.flinkConfiguration` (and of nested config files) into Flink's flat `key -> text` form.

Contract (upstream `ConfigObjectNode`): nested objects are joined with `.`
(`{high-availability: {type: kubernetes}}` -> `high-availability.type=kubernetes`), scalars become their text
(`true`/`false` for booleans, numbers as written), arrays become one `;`-separated string. Flat and nested
forms are equivalent and may be mixed.

Not guaranteed: numbers keep their written form only as far as the decoder kept it (JSON `1.0` stays `1.0`,
but `1e3` has already become `1000.0`). `null` values are dropped (upstream would store the text "null",
which no option can parse). When a flat key and a nested path name the same key, the one that comes later
in the mapping wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def flatten_flink_configuration(node: Mapping[str, Any] | None) -> dict[str, str]:
    """Flatten a (possibly nested) configuration object into `dict[str, str]`."""
    flat: dict[str, str] = {}
    if node:
        _flatten_into(flat, "", node)
    return flat


def scalar_text(value: Any) -> str:
    """The text form of one configuration value (booleans lower case, arrays `;`-joined)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"), sort_keys=False, default=str)
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes | bytearray):
        return ";".join(scalar_text(item) for item in value if item is not None)
    return str(value)


def _flatten_into(flat: dict[str, str], prefix: str, node: Mapping[Any, Any]) -> None:
    for raw_key, value in node.items():
        key = f"{prefix}{raw_key}"
        if value is None:
            continue
        if isinstance(value, Mapping):
            _flatten_into(flat, f"{key}.", value)
        else:
            flat[key] = scalar_text(value)
