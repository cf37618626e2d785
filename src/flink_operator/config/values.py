"""Value types of configuration options: how option text is parsed into Python values and printed back.

Each `ValueType[T]` pairs a parser (text -> T, raising `ValueParseError`) with a formatter (T -> text) so
that `parse(format(v)) == v`. The types mirror Flink's: strings, booleans (`true`/`false`, any case),
integers, doubles, durations, memory sizes, enums (names matched case-insensitively), `;`-separated lists
(quote-aware like Flink's `StructuredOptionsSplitter`; `,`-separated where upstream splits on `\\s*,\\s*`),
`k1:v1,k2:v2` maps, and "duration or Quartz cron" schedules for periodic snapshots.

Schedules are only classified here: a cron expression is checked for shape (6 or 7 fields of cron
characters), not for meaning; computing fire times belongs to the snapshot scheduler.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from flink_operator.config.durations import EXPECTED_DURATION, format_duration, parse_duration
from flink_operator.config.errors import ValueParseError
from flink_operator.config.memory_size import MemorySize, format_memory_size, parse_memory_size

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


class ValueType(Generic[T]):
    """A named parser/formatter pair, e.g. `DURATION: ValueType[timedelta]`."""

    def __init__(self, name: str, parse: Callable[[str], T], format: Callable[[T], str]) -> None:
        self.name = name
        self._parse = parse
        self._format = format

    def parse(self, text: str) -> T:
        return self._parse(text)

    def format(self, value: T) -> str:
        return self._format(value)

    def __repr__(self) -> str:
        return f"ValueType({self.name})"


# --- scalars -------------------------------------------------------------------------------------------

def _parse_string(text: str) -> str:
    return text


def _parse_boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueParseError("a boolean", "'true' or 'false'")


def _format_boolean(value: bool) -> str:
    return "true" if value else "false"


_INTEGER = re.compile(r"[+-]?\d+")


def _parse_integer(text: str) -> int:
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise ValueParseError("an integer", "a whole number such as '10' or '-1'")
    return int(stripped)


# Java's Double.parseDouble forms we accept: decimals, exponents, an optional d/f suffix, NaN and Infinity.
_DOUBLE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[dDfF]?|[+-]?(?:NaN|Infinity)")


def _parse_double(text: str) -> float:
    stripped = text.strip()
    if not _DOUBLE.fullmatch(stripped):
        raise ValueParseError("a number", "a decimal number such as '0.7' or '1e3'")
    return float(stripped.rstrip("dDfF").replace("Infinity", "inf"))


def _format_double(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def _parse_regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as error:
        raise ValueParseError("a regular expression", "a Python regular expression", str(error)) from error
    return text


STRING: ValueType[str] = ValueType("String", _parse_string, str)
REGEX: ValueType[str] = ValueType("Regex", _parse_regex, str)
"""A string that must compile as a regular expression."""
BOOLEAN: ValueType[bool] = ValueType("Boolean", _parse_boolean, _format_boolean)
INTEGER: ValueType[int] = ValueType("Integer", _parse_integer, str)
DOUBLE: ValueType[float] = ValueType("Double", _parse_double, _format_double)
DURATION: ValueType[timedelta] = ValueType("Duration", parse_duration, format_duration)
MEMORY_SIZE: ValueType[MemorySize] = ValueType("MemorySize", parse_memory_size, format_memory_size)


def enum_type(enum_class: type[E]) -> ValueType[E]:
    """Enum values by member name, matched case-insensitively as Flink's `convertToEnum` does."""
    by_name = {member.name.upper(): member for member in enum_class}
    names = ", ".join(f"'{member.name}'" for member in enum_class)

    def parse(text: str) -> E:
        member = by_name.get(text.strip().upper())
        if member is None:
            raise ValueParseError(f"one of {names}", f"one of {names}, in any case")
        return member

    def format(value: E) -> str:
        return value.name

    return ValueType(f"Enum({enum_class.__name__})", parse, format)


# --- structured: lists and maps -----------------------------------------------------------------------

def split_escaped(text: str, delimiter: str) -> list[str]:
    """Split on `delimiter` outside quotes; a token may be quoted with ' or " and a doubled quote escapes it.

    This is the escaping Flink's `StructuredOptionsSplitter` accepts, so values containing the delimiter can
    be written as `'a;b';c`.
    """
    tokens: list[str] = []
    current: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in "'\"" and not "".join(current).strip():
            quote = char
            i += 1
            quoted: list[str] = []
            while True:
                if i >= n:
                    raise ValueParseError(
                        "a well-formed list", f"a closing {quote} for the quote opened in {text!r}"
                    )
                if text[i] == quote:
                    if i + 1 < n and text[i + 1] == quote:
                        quoted.append(quote)
                        i += 2
                        continue
                    i += 1
                    break
                quoted.append(text[i])
                i += 1
            current = quoted
            # Only blanks may follow a closing quote before the next delimiter.
            while i < n and text[i] != delimiter:
                if not text[i].isspace():
                    raise ValueParseError(
                        "a well-formed list", f"a delimiter {delimiter!r} after a quoted item in {text!r}"
                    )
                i += 1
            tokens.append("".join(current))
            current = []
            i += 1  # skip the delimiter (or run past the end)
            continue
        if char == delimiter:
            tokens.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    if current or (text and text.rstrip().endswith(delimiter)):
        tokens.append("".join(current).strip())
    return tokens


def _quote_if_needed(item: str, delimiters: str) -> str:
    if any(d in item for d in delimiters) or item.startswith(("'", '"')) or item != item.strip():
        return "'" + item.replace("'", "''") + "'"
    return item


def list_type(element: ValueType[T], separator: str = ";") -> ValueType[tuple[T, ...]]:
    """A list of `element`s separated by `separator` (quote-aware); blanks around items and empty items are
    dropped. `list_type(STRING, ",")` splits like upstream's `\\s*,\\s*` for namespace lists."""

    def parse(text: str) -> tuple[T, ...]:
        items = [item for item in split_escaped(text, separator) if item != ""]
        parsed: list[T] = []
        for item in items:
            try:
                parsed.append(element.parse(item))
            except ValueParseError as error:
                raise ValueParseError(
                    f"a list of {element.name} values",
                    f"items separated by '{separator}'",
                    f"item {item!r} is not {error.what} (expected {error.expected})",
                ) from error
        return tuple(parsed)

    def format(values: tuple[T, ...]) -> str:
        return separator.join(_quote_if_needed(element.format(v), separator) for v in values)

    return ValueType(f"List<{element.name}>", parse, format)


def _parse_map(text: str) -> Mapping[str, str]:
    """`k1:v1,k2:v2`; an entry containing ',' may be quoted whole (`'k:a,b',k2:v2`).

    A key ends at its first ':', so keys cannot contain ':' (values can)."""
    result: dict[str, str] = {}
    for entry in split_escaped(text, ","):
        if entry == "":
            continue
        key, colon, value = entry.partition(":")
        if not colon:
            raise ValueParseError(
                "a map", "entries 'key:value' separated by ','", f"entry {entry!r} has no ':'"
            )
        if not key.strip():
            raise ValueParseError(
                "a map", "entries 'key:value' separated by ','", f"entry {entry!r} has no key"
            )
        result[key.strip()] = value.strip()
    return result


def _format_map(values: Mapping[str, str]) -> str:
    return ",".join(_quote_if_needed(f"{k}:{v}", ",") for k, v in values.items())


MAP: ValueType[Mapping[str, str]] = ValueType("Map", _parse_map, _format_map)


# --- schedules: duration or Quartz cron ---------------------------------------------------------------

@dataclass(frozen=True)
class IntervalSchedule:
    """Fire every `interval` (always positive)."""

    interval: timedelta


@dataclass(frozen=True)
class CronSchedule:
    """A Quartz cron expression (seconds minutes hours day-of-month month day-of-week [year])."""

    expression: str

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.expression.split())


Schedule = IntervalSchedule | CronSchedule

_CRON_FIELD = re.compile(r"[0-9A-Za-z*?/,#\-]+")
EXPECTED_SCHEDULE = f"a duration ({EXPECTED_DURATION}) or a Quartz cron expression (e.g. '0 0 2 * * ?')"


def parse_schedule(text: str) -> Schedule | None:
    """`""`, a zero or a negative duration mean "no periodic snapshots" and give None."""
    stripped = text.strip()
    if not stripped:
        return None
    fields = stripped.split()
    if len(fields) in (6, 7):
        bad = [field for field in fields if not _CRON_FIELD.fullmatch(field)]
        if bad:
            raise ValueParseError(
                "a duration or a Quartz cron expression",
                EXPECTED_SCHEDULE,
                f"cron field {bad[0]!r} has characters a cron field cannot contain",
            )
        return CronSchedule(" ".join(fields))
    try:
        interval = parse_duration(stripped)
    except ValueParseError as error:
        raise ValueParseError(
            "a duration or a Quartz cron expression",
            EXPECTED_SCHEDULE,
            "a cron expression has 6 or 7 fields" if len(fields) > 2 else error.detail,
        ) from error
    return IntervalSchedule(interval) if interval > timedelta(0) else None


def format_schedule(value: Schedule | None) -> str:
    if value is None:
        return ""
    if isinstance(value, CronSchedule):
        return value.expression
    return format_duration(value.interval)


SCHEDULE: ValueType[Schedule | None] = ValueType("Duration or cron", parse_schedule, format_schedule)
