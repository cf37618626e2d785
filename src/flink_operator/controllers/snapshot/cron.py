"""Quartz cron expressions: parsing and next fire times, for `kubernetes.operator.periodic.*.interval`.

Upstream evaluates these schedules with Quartz's `CronExpression`, so the syntax here is Quartz's, not Unix
cron's: six or seven fields, `seconds minutes hours day-of-month month day-of-week [year]`, day-of-week
`1`-`7` = `SUN`-`SAT`. Supported per field:

* `*` (every value), numbers, names (`JAN`-`DEC`, `SUN`-`SAT`, any case), ranges `a-b` (wrapping when
  `b < a`, e.g. `FRI-MON` or hours `22-2`), steps `a/n`, `*/n`, `a-b/n`, and comma lists of these;
* day-of-month: `?` (no specific value), `L` (last day), `L-n` (n days before the last), `LW` (last weekday),
  `nW` (the weekday nearest to day n, within the month);
* day-of-week: `?`, `L` (Saturday, as in Quartz), `nL` (last day n of the month), `n#k` (k-th day n).

`L`, `W` and `#` forms stand alone in their field, as in Quartz. Quartz refuses an expression that restricts
both day-of-month and day-of-week; so does this module, naming the fields. Unlike Quartz, `*` in both day
fields is accepted (it means every day). Years run from 1970 to 2099 (Quartz's range).

Times are computed in a time zone (UTC by default; Quartz uses the JVM's zone, which is UTC in the
operator's container). Wall-clock times that do not exist in the zone (a daylight-saving gap) are skipped.
What this module does not do: validate that an expression ever fires (`0 0 0 30 2 ?` parses and never
fires; `next_after` then returns None).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

__all__ = ["CronError", "CronExpression", "parse_cron"]

MIN_YEAR = 1970
MAX_YEAR = 2099

_MONTHS = {
    name: index
    for index, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
_WEEKDAYS = {
    name: index for index, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)
}
_FIELD_NAMES = ("seconds", "minutes", "hours", "day-of-month", "month", "day-of-week", "year")


class CronError(ValueError):
    """A cron expression that Quartz would refuse; the message names the field, the token and what is
    expected."""


@dataclass(frozen=True)
class _Range:
    """The allowed values of a plain field."""

    name: str
    low: int
    high: int
    names: Mapping[str, int]

    def expected(self) -> str:
        named = ""
        if self.names:
            ordered = sorted(self.names, key=self.names.__getitem__)
            named = f" or names {ordered[0]}-{ordered[-1]}"
        return f"values {self.low}-{self.high}{named}, '*', ranges a-b, steps a/n and lists a,b"


_SECONDS = _Range("seconds", 0, 59, {})
_MINUTES = _Range("minutes", 0, 59, {})
_HOURS = _Range("hours", 0, 23, {})
_DAYS = _Range("day-of-month", 1, 31, {})
_MONTH = _Range("month", 1, 12, _MONTHS)
_WEEKDAY = _Range("day-of-week", 1, 7, _WEEKDAYS)
_YEAR = _Range("year", MIN_YEAR, MAX_YEAR, {})

_LAST_OFFSET = re.compile(r"L-(\d+)")
_NEAREST_WEEKDAY = re.compile(r"(\d+)W")
_LAST_WEEKDAY_OF = re.compile(r"([0-9A-Z]+)L")
_NTH_WEEKDAY = re.compile(r"([0-9A-Z]+)#(\d+)")


# --- day rules ----------------------------------------------------------------------------------------
# A day rule maps (year, month) to the days of that month it selects (sorted).

DayRule = Callable[[int, int], tuple[int, ...]]


def _quartz_weekday(year: int, month: int, day: int) -> int:
    """Quartz numbering: 1 = Sunday ... 7 = Saturday."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _any_day(year: int, month: int) -> tuple[int, ...]:
    return tuple(range(1, _month_length(year, month) + 1))


def _days_in(values: frozenset[int]) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        last = _month_length(year, month)
        return tuple(day for day in sorted(values) if day <= last)

    return rule


def _last_day(offset: int) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        day = _month_length(year, month) - offset
        return (day,) if day >= 1 else ()

    return rule


def _nearest_weekday_day(year: int, month: int, target: int) -> int | None:
    last = _month_length(year, month)
    if target > last:
        return None
    weekday = _quartz_weekday(year, month, target)
    if weekday == 7:  # Saturday: the Friday before, or the Monday after when that leaves the month
        return target - 1 if target > 1 else target + 2
    if weekday == 1:  # Sunday: the Monday after, or the Friday before when that leaves the month
        return target + 1 if target < last else target - 2
    return target


def _nearest_weekday(target: int) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        day = _nearest_weekday_day(year, month, target)
        return () if day is None else (day,)

    return rule


def _last_weekday_of_month(year: int, month: int) -> tuple[int, ...]:
    day = _month_length(year, month)
    while _quartz_weekday(year, month, day) in (1, 7):
        day -= 1
    return (day,)


def _weekdays_in(values: frozenset[int]) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        return tuple(d for d in _any_day(year, month) if _quartz_weekday(year, month, d) in values)

    return rule


def _last_weekday_named(weekday: int) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        day = _month_length(year, month)
        while _quartz_weekday(year, month, day) != weekday:
            day -= 1
        return (day,)

    return rule


def _nth_weekday(weekday: int, nth: int) -> DayRule:
    def rule(year: int, month: int) -> tuple[int, ...]:
        first = next(d for d in range(1, 8) if _quartz_weekday(year, month, d) == weekday)
        day = first + 7 * (nth - 1)
        return (day,) if day <= _month_length(year, month) else ()

    return rule


# --- parsing ------------------------------------------------------------------------------------------


class _FieldParser:
    def __init__(self, expression: str, spec: _Range) -> None:
        self.expression = expression
        self.spec = spec

    def error(self, token: str, problem: str, expected: str | None = None) -> CronError:
        return CronError(
            f"cron expression {self.expression!r}: {self.spec.name} field {token!r}: {problem} "
            f"(expected {expected or self.spec.expected()})"
        )

    def value(self, text: str, token: str) -> int:
        upper = text.upper()
        if upper in self.spec.names:
            return self.spec.names[upper]
        if not text.isdigit():
            raise self.error(token, f"{text!r} is not a number" + (" or a name" if self.spec.names else ""))
        number = int(text)
        if not self.spec.low <= number <= self.spec.high:
            raise self.error(token, f"{number} is out of range {self.spec.low}-{self.spec.high}")
        return number

    def values(self, field: str) -> frozenset[int]:
        result: set[int] = set()
        for part in field.split(","):
            if not part:
                raise self.error(field, "empty list element")
            result.update(self._part(part, field))
        return frozenset(result)

    def _part(self, part: str, field: str) -> Iterable[int]:
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise self.error(field, f"step {step_text!r} is not a positive number")
            step = int(step_text)
        low, high = self.spec.low, self.spec.high
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = self.value(first, field), self.value(last, field)
        else:
            start = self.value(base, field)
            end = high if slash else start
        if end >= start:
            return range(start, end + 1, step)
        # A wrapping range (FRI-MON, 22-2): count through the end of the range and around.
        span = (high - start + 1) + (end - low + 1)
        return [low + (start - low + offset) % (high - low + 1) for offset in range(0, span, step)]


def _day_of_month_rule(parser: _FieldParser, field: str) -> DayRule | None:
    """None for `*`/`?` (no restriction)."""
    upper = field.upper()
    if upper in ("*", "?"):
        return None
    if "L" in upper or "W" in upper:
        if "," in upper or "/" in upper:
            raise parser.error(field, "'L' and 'W' cannot be combined with lists or steps")
        if upper == "L":
            return _last_day(0)
        if upper == "LW":
            return _last_weekday_of_month
        if match := _LAST_OFFSET.fullmatch(upper):
            offset = int(match.group(1))
            if offset > 30:
                raise parser.error(field, "the offset from the last day must be 30 or less")
            return _last_day(offset)
        if match := _NEAREST_WEEKDAY.fullmatch(upper):
            return _nearest_weekday(parser.value(match.group(1), field))
        raise parser.error(field, "unknown form", "'L', 'L-n', 'LW', 'nW' or plain values")
    if "#" in upper:
        raise parser.error(field, "'#' is only allowed in the day-of-week field")
    return _days_in(parser.values(field))


def _day_of_week_rule(parser: _FieldParser, field: str) -> DayRule | None:
    upper = field.upper()
    if upper in ("*", "?"):
        return None
    if upper == "L":
        return _weekdays_in(frozenset({7}))
    if "L" in upper or "#" in upper:
        if "," in upper or "/" in upper:
            raise parser.error(field, "'L' and '#' cannot be combined with lists or steps")
        if match := _NTH_WEEKDAY.fullmatch(upper):
            nth = int(match.group(2))
            if not 1 <= nth <= 5:
                raise parser.error(field, f"occurrence #{nth} is out of range 1-5")
            return _nth_weekday(parser.value(match.group(1), field), nth)
        if match := _LAST_WEEKDAY_OF.fullmatch(upper):
            return _last_weekday_named(parser.value(match.group(1), field))
        raise parser.error(field, "unknown form", "'L', 'nL', 'n#k' or plain values")
    if "W" in upper.replace("WED", ""):
        raise parser.error(field, "'W' is only allowed in the day-of-month field")
    return _weekdays_in(parser.values(field))


def _plain(expression: str, spec: _Range, field: str) -> frozenset[int]:
    parser = _FieldParser(expression, spec)
    if field == "?":
        raise parser.error(field, "'?' is only allowed in the day-of-month and day-of-week fields")
    return parser.values(field)


# --- the expression -----------------------------------------------------------------------------------


def _next_at_least(values: tuple[int, ...], minimum: int) -> int | None:
    for value in values:
        if value >= minimum:
            return value
    return None


@dataclass(frozen=True)
class CronExpression:
    """A parsed Quartz cron expression; `next_after(moment)` gives its next fire time."""

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    day_of_month: DayRule | None
    day_of_week: DayRule | None
    zone: tzinfo = UTC

    @classmethod
    def parse(cls, text: str, zone: tzinfo = UTC) -> CronExpression:
        fields = text.split()
        if len(fields) not in (6, 7):
            raise CronError(
                f"cron expression {text!r} has {len(fields)} fields; a Quartz expression has 6 or 7: "
                + " ".join(_FIELD_NAMES[:6])
                + " [year]"
            )
        expression = " ".join(fields)
        dom_field, dow_field = fields[3], fields[5]
        if dom_field.upper() not in ("*", "?") and dow_field.upper() not in ("*", "?"):
            raise CronError(
                f"cron expression {expression!r}: day-of-month {dom_field!r} and day-of-week {dow_field!r} "
                "are both restricted; Quartz needs '?' in one of them (e.g. '0 0 2 ? * MON' or "
                "'0 0 2 1 * ?')"
            )
        if dom_field == "?" and dow_field == "?":
            raise CronError(
                f"cron expression {expression!r}: '?' in both day-of-month and day-of-week; use '?' in one "
                "and '*' or values in the other"
            )
        years = _plain(expression, _YEAR, fields[6]) if len(fields) == 7 else range(MIN_YEAR, MAX_YEAR + 1)
        return cls(
            expression=expression,
            seconds=tuple(sorted(_plain(expression, _SECONDS, fields[0]))),
            minutes=tuple(sorted(_plain(expression, _MINUTES, fields[1]))),
            hours=tuple(sorted(_plain(expression, _HOURS, fields[2]))),
            months=tuple(sorted(_plain(expression, _MONTH, fields[4]))),
            years=tuple(sorted(years)),
            day_of_month=_day_of_month_rule(_FieldParser(expression, _DAYS), dom_field),
            day_of_week=_day_of_week_rule(_FieldParser(expression, _WEEKDAY), dow_field),
            zone=zone,
        )

    def days(self, year: int, month: int) -> tuple[int, ...]:
        """The days of a month on which the expression fires (at some time of day)."""
        rule = self.day_of_month or self.day_of_week or _any_day
        return rule(year, month)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment` (an aware datetime), in the expression's zone; None
        when there is none up to the year 2099."""
        if moment.tzinfo is None:
            raise ValueError("next_after needs a time-zone aware datetime")
        local = moment.astimezone(self.zone).replace(tzinfo=None, microsecond=0) + timedelta(seconds=1)
        while True:
            candidate = self._next_wall_clock(local)
            if candidate is None:
                return None
            aware = candidate.replace(tzinfo=self.zone)
            # A wall-clock time inside a daylight-saving gap does not survive the round trip: skip it.
            if aware.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) == candidate:
                return aware
            local = candidate + timedelta(seconds=1)

    def _next_wall_clock(self, start: datetime) -> datetime | None:
        year, month, day = start.year, start.month, start.day
        hour, minute, second = start.hour, start.minute, start.second
        while True:
            found_year = _next_at_least(self.years, year)
            if found_year is None:
                return None
            if found_year != year:
                year, month, day, hour, minute, second = found_year, 1, 1, 0, 0, 0
            found_month = _next_at_least(self.months, month)
            if found_month is None:
                year, month, day, hour, minute, second = year + 1, 1, 1, 0, 0, 0
                continue
            if found_month != month:
                month, day, hour, minute, second = found_month, 1, 0, 0, 0
            found_day = _next_at_least(_cached_days(self, year, month), day)
            if found_day is None:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
                day, hour, minute, second = 1, 0, 0, 0
                continue
            if found_day != day:
                day, hour, minute, second = found_day, 0, 0, 0
            found_hour = _next_at_least(self.hours, hour)
            if found_hour is None:
                day, hour, minute, second = day + 1, 0, 0, 0
                continue
            if found_hour != hour:
                hour, minute, second = found_hour, 0, 0
            found_minute = _next_at_least(self.minutes, minute)
            if found_minute is None:
                hour, minute, second = hour + 1, 0, 0
                continue
            if found_minute != minute:
                minute, second = found_minute, 0
            found_second = _next_at_least(self.seconds, second)
            if found_second is None:
                minute, second = minute + 1, 0
                continue
            return datetime(year, month, day, hour, minute, found_second)


@lru_cache(maxsize=4096)
def _cached_days(expression: CronExpression, year: int, month: int) -> tuple[int, ...]:
    return expression.days(year, month)


@lru_cache(maxsize=256)
def parse_cron(text: str) -> CronExpression:
    """`CronExpression.parse` in UTC, cached (schedules are evaluated on every reconcile)."""
    return CronExpression.parse(text)
