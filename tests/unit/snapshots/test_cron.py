"""Quartz cron expressions: every supported form, errors that name the problem, and a brute-force oracle."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flink_operator.controllers.snapshot.cron import CronError, CronExpression, parse_cron

pytestmark = pytest.mark.unit


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def nxt(expression: str, after: datetime) -> datetime | None:
    return parse_cron(expression).next_after(after)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 0 2 * * ?", at(2024, 1, 1, 3), at(2024, 1, 2, 2)),
        ("0 0 2 * * ?", at(2024, 1, 1, 1, 59, 59), at(2024, 1, 1, 2)),
        ("0 0 2 * * ?", at(2024, 1, 1, 2), at(2024, 1, 2, 2)),  # strictly after
        ("0 0 2 * * ?", at(2024, 12, 31, 3), at(2025, 1, 1, 2)),  # year rollover
        ("*/15 * * * * ?", at(2024, 6, 1, 0, 0, 14), at(2024, 6, 1, 0, 0, 15)),
        ("*/15 * * * * ?", at(2024, 6, 1, 0, 0, 45), at(2024, 6, 1, 0, 1, 0)),
        ("0 0/5 14 * * ?", at(2024, 6, 1, 14, 56), at(2024, 6, 2, 14, 0)),
        ("0 0/5 14 * * ?", at(2024, 6, 1, 14, 1), at(2024, 6, 1, 14, 5)),
        ("0 10-40/10 * * * ?", at(2024, 6, 1, 5, 41), at(2024, 6, 1, 6, 10)),
        ("0 15 10 ? * MON-FRI", at(2024, 6, 7, 10, 15), at(2024, 6, 10, 10, 15)),  # Fri -> Mon
        ("0 15 10 ? * 2-6", at(2024, 6, 7, 10, 15), at(2024, 6, 10, 10, 15)),  # same, numbers
        ("0 0 12 1 JAN,JUL ?", at(2024, 2, 1), at(2024, 7, 1, 12)),
        ("0 0 12 1 jan,jul ?", at(2024, 2, 1), at(2024, 7, 1, 12)),  # names in any case
        ("0 0 0 31 * ?", at(2024, 4, 1), at(2024, 5, 31)),  # April has no 31st
        ("0 0 0 29 2 ?", at(2023, 3, 1), at(2024, 2, 29)),  # the next leap year
        ("0 0 0 L * ?", at(2024, 2, 1), at(2024, 2, 29)),
        ("0 0 0 L * ?", at(2023, 2, 1), at(2023, 2, 28)),
        ("0 0 0 L-3 * ?", at(2024, 2, 1), at(2024, 2, 26)),
        ("0 0 0 LW * ?", at(2024, 8, 1), at(2024, 8, 30)),  # Aug 31 2024 is a Saturday
        ("0 0 0 LW * ?", at(2024, 3, 1), at(2024, 3, 29)),  # Mar 31 2024 is a Sunday
        ("0 0 12 15W * ?", at(2024, 6, 1), at(2024, 6, 14, 12)),  # Sat 15 -> Fri 14
        ("0 0 12 15W * ?", at(2024, 9, 1), at(2024, 9, 16, 12)),  # Sun 15 -> Mon 16
        ("0 0 12 15W * ?", at(2024, 7, 1), at(2024, 7, 15, 12)),  # a Monday stays
        ("0 0 0 1W * ?", at(2024, 5, 31), at(2024, 6, 3)),  # Sat 1st -> Mon 3rd, not into May
        ("0 0 0 31W * ?", at(2024, 3, 1), at(2024, 3, 29)),  # Sun 31st -> Fri 29th, not into April
        ("0 15 10 ? * 6L", at(2024, 1, 1), at(2024, 1, 26, 10, 15)),  # last Friday
        ("0 15 10 ? * FRIL", at(2024, 1, 1), at(2024, 1, 26, 10, 15)),
        ("0 0 0 ? * 6#3", at(2024, 6, 1), at(2024, 6, 21)),  # third Friday
        ("0 0 0 ? * MON#5", at(2024, 6, 1), at(2024, 7, 29)),  # June 2024 has four Mondays
        ("0 0 0 ? * L", at(2024, 6, 3), at(2024, 6, 8)),  # 'L' alone is Saturday
        ("0 0 0 ? * 1", at(2024, 6, 3), at(2024, 6, 9)),  # 1 is Sunday
        ("0 0 0 1 1 ? 2030", at(2024, 6, 1), at(2030, 1, 1)),
        ("0 0 0 1 1 ? 2025-2026/1", at(2025, 6, 1), at(2026, 1, 1)),
        ("0 0 22-2 * * ?", at(2024, 6, 1, 3), at(2024, 6, 1, 22)),  # wrapping hours
        ("0 0 22-2 * * ?", at(2024, 6, 1, 23, 30), at(2024, 6, 2, 0)),
        ("0 0 0 ? * FRI-MON", at(2024, 6, 4), at(2024, 6, 7)),  # Tue -> Fri
        ("0 0 0 ? * FRI-MON", at(2024, 6, 9, 1), at(2024, 6, 10)),  # Sun -> Mon
        ("0 0 0 * * *", at(2024, 6, 1, 1), at(2024, 6, 2)),  # both '*': every day (Quartz refuses)
        ("30 45 23 * * ? *", at(2024, 6, 1), at(2024, 6, 1, 23, 45, 30)),
    ],
)
def test_next_fire_time(expression: str, after: datetime, expected: datetime) -> None:
    assert nxt(expression, after) == expected


@pytest.mark.parametrize(
    "expression",
    ["0 0 0 30 2 ?", "0 0 0 1 1 ? 2020", "0 0 0 31 4,6,9,11 ?"],
)
def test_expressions_that_never_fire(expression: str) -> None:
    assert nxt(expression, at(2024, 1, 1)) is None


def test_fractions_of_a_second_count_as_after() -> None:
    assert nxt("0 0 2 * * ?", at(2024, 1, 1, 2, 0, 0) + timedelta(microseconds=5)) == at(2024, 1, 2, 2)


def test_the_expression_is_normalised_and_the_seven_field_form_accepted() -> None:
    cron = CronExpression.parse("  0  0 2   * * ?  ")
    assert cron.expression == "0 0 2 * * ?"
    assert CronExpression.parse("0 0 2 * * ? 2024-2099").years[0] == 2024


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_cron("0 0 2 * * ?").next_after(datetime(2024, 1, 1))


def test_zones_and_daylight_saving_gaps() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cron = CronExpression.parse("0 30 2 * * ?", zone=berlin)
    # 2024-03-31 02:30 does not exist in Berlin (clocks jump from 02:00 to 03:00): skipped.
    fire = cron.next_after(datetime(2024, 3, 30, 12, tzinfo=berlin))
    assert fire == datetime(2024, 4, 1, 2, 30, tzinfo=berlin)
    day_before = cron.next_after(datetime(2024, 3, 29, 12, tzinfo=berlin))
    assert day_before == datetime(2024, 3, 30, 2, 30, tzinfo=berlin)
    # The same instant expressed in UTC gives the same answer.
    assert cron.next_after(datetime(2024, 3, 30, 11, tzinfo=UTC)) == fire


@pytest.mark.parametrize(
    ("expression", "fragments"),
    [
        ("0 0 2 * *", ["5 fields", "6 or 7"]),
        ("0 0 2 * * ? 2024 x", ["8 fields"]),
        ("60 * * * * ?", ["seconds field '60'", "out of range 0-59"]),
        ("0 60 * * * ?", ["minutes field", "out of range"]),
        ("0 0 24 * * ?", ["hours field '24'"]),
        ("0 0 0 32 * ?", ["day-of-month field '32'"]),
        ("0 0 0 * 13 ?", ["month field '13'", "names JAN-DEC"]),
        ("0 0 0 ? * 8", ["day-of-week field '8'", "names SUN-SAT"]),
        ("0 0 0 ? * FUNDAY", ["day-of-week", "'FUNDAY' is not a number or a name"]),
        ("0 0 0 1 * MON", ["both restricted", "'?'"]),
        ("0 0 0 ? * ?", ["'?' in both"]),
        ("? 0 0 * * ?", ["seconds field '?'", "only allowed in the day-of-month and day-of-week"]),
        ("*/0 0 0 * * ?", ["step '0'"]),
        ("1,,2 0 0 * * ?", ["empty list element"]),
        ("0 0 0 ? * MONW", ["'W' is only allowed in the day-of-month field"]),
        ("0 0 0 1#2 * ?", ["'#' is only allowed in the day-of-week field"]),
        ("0 0 0 ? * 6#6", ["occurrence #6"]),
        ("0 0 0 1,L * ?", ["cannot be combined with lists"]),
        ("0 0 0 L-31 * ?", ["30 or less"]),
        ("0 0 0 1 1 ? 1969", ["year field", "out of range 1970-2099"]),
    ],
)
def test_errors_name_the_field_the_token_and_what_is_expected(expression: str, fragments: list[str]) -> None:
    with pytest.raises(CronError) as raised:
        CronExpression.parse(expression)
    message = str(raised.value)
    assert repr(" ".join(expression.split())) in message or "fields" in message
    for fragment in fragments:
        assert fragment in message, message


# --- a brute-force oracle for plain expressions ---------------------------------------------------------


def _field(rng: random.Random, low: int, high: int, top: int | None = None) -> tuple[str, set[int]]:
    """A random field text and its values; `top` is the field's real maximum (steps run up to it)."""
    top = high if top is None else top
    choice = rng.randrange(5)
    if choice == 0:
        return "*", set(range(low, top + 1))
    if choice == 1:
        value = rng.randint(low, high)
        return str(value), {value}
    if choice == 2:
        start, step = rng.randint(low, high), rng.randint(1, 7)
        return f"{start}/{step}", set(range(start, top + 1, step))
    if choice == 3:
        values = set(rng.sample(range(low, high + 1), rng.randint(1, 3)))
        return ",".join(str(v) for v in sorted(values)), values
    start = rng.randint(low, high)
    end = rng.randint(start, high)
    return f"{start}-{end}", set(range(start, end + 1))


def _brute_force(
    minutes: set[int],
    hours: set[int],
    days: set[int],
    months: set[int],
    weekdays: set[int] | None,
    after: datetime,
) -> datetime | None:
    """The first minute after `after` that matches, found by looking at every day and, on days that
    match, at every minute."""
    first = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    day = first.replace(hour=0, minute=0)
    for _ in range(800):
        quartz_weekday = (day.weekday() + 1) % 7 + 1
        day_ok = quartz_weekday in weekdays if weekdays is not None else day.day in days
        if day.month in months and day_ok:
            for offset in range(24 * 60):
                moment = day + timedelta(minutes=offset)
                if moment >= first and moment.hour in hours and moment.minute in minutes:
                    return moment
        day += timedelta(days=1)
    return None


def test_plain_expressions_agree_with_a_minute_by_minute_search() -> None:
    rng = random.Random(20240601)
    checked = 0
    for _ in range(150):
        minute_text, minutes = _field(rng, 0, 59)
        hour_text, hours = _field(rng, 0, 23)
        month_text, months = _field(rng, 1, 12)
        if rng.random() < 0.5:
            day_text, days = _field(rng, 1, 28, top=31)
            weekday_text, weekdays = "?", None
        else:
            day_text, days = "?", set()
            weekday_text, weekday_set = _field(rng, 1, 7)
            weekdays = weekday_set
        expression = f"0 {minute_text} {hour_text} {day_text} {month_text} {weekday_text}"
        after = at(2024, 1, 1) + timedelta(minutes=rng.randrange(60 * 24 * 366))
        expected = _brute_force(minutes, hours, days, months, weekdays, after)
        assert nxt(expression, after) == expected, expression
        checked += 1
    assert checked == 150
