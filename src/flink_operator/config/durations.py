"""Flink duration text: parsing (`15 s`, `5 min`, `1min`, `500ms`, `2 h`, `1 d`, `3 seconds`) and formatting.

Follows Flink's `TimeUtils.parseDuration`: an integer, optional blanks, then an optional unit label matched
case-insensitively; no unit means milliseconds. Flink's unit spellings are accepted: `d`/`day`/`days`,
`h`/`hour`/`hours`, `m`/`min`/`minute`/`minutes`, `s`/`sec`/`secs`/`second`/`seconds`,
`ms`/`milli`/`millis`/`millisecond`/`milliseconds`, `µs`/`us`/`micro`/`micros`/`microsecond`/`microseconds`,
`ns`/`nano`/`nanos`/`nanosecond`/`nanoseconds`.
Beyond Flink: a leading `-` is accepted, so that documented defaults such as `-1 min` (meaning "disabled")
parse back. Python's `timedelta` stops at microseconds, so a nanosecond value that is not a whole number of
microseconds is rejected rather than silently rounded.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flink_operator.config.errors import ValueParseError

EXPECTED_DURATION = "e.g. '15 s', '5 min', '1 h'"

_NANOS_PER_UNIT: dict[str, int] = {}


def _unit(nanos: int, *labels: str) -> None:
    for label in labels:
        _NANOS_PER_UNIT[label] = nanos


_unit(86_400 * 10**9, "d", "day", "days")
_unit(3_600 * 10**9, "h", "hour", "hours")
_unit(60 * 10**9, "m", "min", "minute", "minutes")
_unit(10**9, "s", "sec", "secs", "second", "seconds")
_unit(10**6, "ms", "milli", "millis", "millisecond", "milliseconds")
_unit(10**3, "µs", "us", "micro", "micros", "microsecond", "microseconds")
_unit(1, "ns", "nano", "nanos", "nanosecond", "nanoseconds")

_DURATION = re.compile(r"(-?)(\d+)\s*(\S*)")
# The largest value timedelta can hold, in nanoseconds (timedelta.max is ~ 999999999 days).
_MAX_NANOS = (timedelta.max // timedelta(microseconds=1)) * 1000

# Units used when formatting, largest first, with the label Flink prints.
_FORMAT_UNITS: tuple[tuple[int, str], ...] = (
    (86_400 * 10**6, "d"),
    (3_600 * 10**6, "h"),
    (60 * 10**6, "min"),
    (10**6, "s"),
    (10**3, "ms"),
    (1, "µs"),
)


def parse_duration(text: str) -> timedelta:
    """Parse Flink duration text; raise `ValueParseError` when it is not one."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueParseError("a duration", EXPECTED_DURATION)
    sign, digits, label = match.groups()
    unit_nanos = _NANOS_PER_UNIT.get(label.lower()) if label else 10**6
    if unit_nanos is None:
        raise ValueParseError("a duration", EXPECTED_DURATION, f"unknown time unit {label!r}")
    nanos = int(digits) * unit_nanos
    if nanos > _MAX_NANOS:
        raise ValueParseError("a duration", EXPECTED_DURATION, "value is too large")
    micros, rest = divmod(nanos, 1000)
    if rest:
        raise ValueParseError(
            "a duration", EXPECTED_DURATION, "durations finer than one microsecond are not supported"
        )
    return timedelta(microseconds=-micros if sign else micros)


def format_duration(value: timedelta) -> str:
    """Format with the largest unit that divides the value exactly, as Flink prints defaults (`1 min`)."""
    micros = value // timedelta(microseconds=1)
    if micros == 0:
        return "0 ms"
    sign = "-" if micros < 0 else ""
    magnitude = abs(micros)
    for unit_micros, label in _FORMAT_UNITS:
        if magnitude % unit_micros == 0:
            return f"{sign}{magnitude // unit_micros} {label}"
    raise AssertionError("unreachable: every value is a whole number of microseconds")
