"""Checking the autoscaler's excluded periods (`job.autoscaler.excluded.periods`) and Quartz cron expressions.

An excluded period is a daily time range (`9:30-10:45`, `9:30:30-10:50:20`), a Quartz cron expression
(`* * 9-11,14-16 * * ?`: every second from 9:00 to 11:59 and 14:00 to 16:59), or one of each joined with
`&&` (`9:30-10:50 && * * * ? * 2,5`: those times on Mondays and Thursdays).

`period_problem` returns why an expression is unusable, or None. The cron check follows Quartz's field rules
(seconds, minutes, hours, day of month, month, day of week, optional year; names for months and days;
`* ? - , / L W #`; exactly one of day-of-month and day-of-week is `?`). It checks syntax and ranges, not
whether the expression ever fires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    question: bool = False
    """`?` allowed (day of month, day of week)."""


_FIELDS = (
    _Field("seconds", 0, 59),
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, question=True),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS, question=True),
    _Field("year", 1970, 2099),
)


def _value(text: str, field: _Field) -> int:
    upper = text.upper()
    if field.names and upper in field.names:
        return field.names.index(upper) + 1
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a number{' or name' if field.names else ''}")
    number = int(text)
    if not field.low <= number <= field.high:
        raise ValueError(f"{number} is outside {field.low}-{field.high}")
    return number


def _special_problem(item: str, field: _Field) -> str | None:
    """Checks the `L`, `W` and `#` forms; None when `item` is one of them and valid, "" when it is not one."""
    upper = item.upper()
    if field.name == "day-of-month":
        if upper in ("L", "LW"):
            return None
        if re.fullmatch(r"L-\d{1,2}", upper):
            return None if int(upper[2:]) <= 30 else f"offset in {item!r} must be at most 30"
        if re.fullmatch(r"\d{1,2}W", upper):
            return None if 1 <= int(upper[:-1]) <= 31 else f"day in {item!r} must be 1-31"
    if field.name == "day-of-week":
        if upper == "L":
            return None
        match = re.fullmatch(r"(\w+)L", upper) or re.fullmatch(r"(\w+)#(\d)", upper)
        if match:
            try:
                _value(match.group(1), field)
            except ValueError as error:
                return f"{item!r}: {error}"
            if "#" in upper and not 1 <= int(match.group(2)) <= 5:
                return f"{item!r}: the week number after '#' must be 1-5"
            return None
    return ""


def _item_problem(item: str, field: _Field) -> str | None:
    if item == "*":
        return None
    special = _special_problem(item, field)
    if special != "":
        return special
    base, slash, step = item.partition("/")
    if slash:
        if not step.isdigit() or int(step) == 0:
            return f"step in {item!r} must be a positive number"
        if base == "*":
            return None
    start, dash, end = base.partition("-")
    try:
        _value(start, field)
        if dash:
            _value(end, field)
    except ValueError as error:
        return f"{item!r}: {error}"
    return None


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not a Quartz cron expression, or None."""
    fields = expression.split()
    if len(fields) not in (6, 7):
        return f"a cron expression has 6 or 7 fields, got {len(fields)}"
    for text, field in zip(fields, _FIELDS, strict=False):
        if text == "?":
            if not field.question:
                return f"'?' is only allowed for day-of-month and day-of-week, not {field.name}"
            continue
        for item in text.split(","):
            problem = _item_problem(item, field)
            if problem:
                return f"{field.name} field: {problem}"
    if (fields[3] == "?") == (fields[5] == "?"):
        return "exactly one of day-of-month (4th field) and day-of-week (6th field) must be '?'"
    return None


def _time_problem(text: str) -> str | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return f"{text!r} is not a time (expected H:mm or H:mm:ss)"
    hours, minutes, seconds = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return f"{text!r} is not a valid time of day"
    return None


def daily_problem(expression: str) -> str | None:
    """Why `expression` is not a daily range `start-end`, or None."""
    start, dash, end = expression.partition("-")
    if not dash:
        return f"{expression!r} is not a daily range (expected start-end, e.g. 9:30-10:45)"
    return _time_problem(start.strip()) or _time_problem(end.strip())


def _is_daily(expression: str) -> bool:
    return ":" in expression and len(expression.split()) == 1


def period_problem(period: str) -> str | None:
    """Why one excluded period is unusable, or None."""
    parts = [part.strip() for part in period.split("&&")]
    if any(not part for part in parts):
        return f"{period!r} has an empty part"
    if len(parts) > 2:
        return f"{period!r} joins more than two expressions with '&&'"
    daily = [part for part in parts if _is_daily(part)]
    cron = [part for part in parts if not _is_daily(part)]
    if len(daily) > 1 or len(cron) > 1:
        return f"{period!r}: join at most one daily range and one cron expression"
    for part in daily:
        problem = daily_problem(part)
        if problem:
            return problem
    for part in cron:
        problem = cron_problem(part)
        if problem:
            return f"{part!r}: {problem}"
    return None
