"""Flink duration parsing and formatting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_operator.config.durations import format_duration, parse_duration
from flink_operator.config.errors import ValueParseError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 s", timedelta(seconds=15)),
        ("5 min", timedelta(minutes=5)),
        ("1min", timedelta(minutes=1)),
        ("500ms", timedelta(milliseconds=500)),
        ("2 h", timedelta(hours=2)),
        ("1 d", timedelta(days=1)),
        ("30s", timedelta(seconds=30)),
        ("3 seconds", timedelta(seconds=3)),
        ("1 second", timedelta(seconds=1)),
        ("10 sec", timedelta(seconds=10)),
        ("10 secs", timedelta(seconds=10)),
        ("5 minutes", timedelta(minutes=5)),
        ("1 minute", timedelta(minutes=1)),
        ("7 m", timedelta(minutes=7)),
        ("5 MINUTE", timedelta(minutes=5)),
        ("2 hours", timedelta(hours=2)),
        ("1 hour", timedelta(hours=1)),
        ("2 days", timedelta(days=2)),
        ("1 day", timedelta(days=1)),
        ("20 millis", timedelta(milliseconds=20)),
        ("20 milli", timedelta(milliseconds=20)),
        ("20 milliseconds", timedelta(milliseconds=20)),
        ("7 µs", timedelta(microseconds=7)),
        ("7 micros", timedelta(microseconds=7)),
        ("7 microseconds", timedelta(microseconds=7)),
        ("3000 ns", timedelta(microseconds=3)),
        ("3000 nanos", timedelta(microseconds=3)),
        ("3000 nanoseconds", timedelta(microseconds=3)),
        ("1000", timedelta(seconds=1)),
        ("0", timedelta(0)),
        ("  15   s  ", timedelta(seconds=15)),
        ("-1 min", timedelta(minutes=-1)),
    ],
)
def test_parses_flink_duration_spellings(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "s", "5 minutez", "1.5 min", "1 min 30 s", "five minutes", "PT15S", "1 ns", "10 mins"]
)
def test_rejects_non_durations(text: str) -> None:
    with pytest.raises(ValueParseError) as caught:
        parse_duration(text)
    assert caught.value.what == "a duration"
    assert "15 s" in caught.value.expected


def test_unknown_unit_is_named() -> None:
    with pytest.raises(ValueParseError, match="unknown time unit 'minutez'"):
        parse_duration("5 minutez")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(minutes=1), "1 min"),
        (timedelta(seconds=90), "90 s"),
        (timedelta(days=1), "1 d"),
        (timedelta(hours=36), "36 h"),
        (timedelta(milliseconds=1500), "1500 ms"),
        (timedelta(0), "0 ms"),
        (timedelta(minutes=-1), "-1 min"),
        (timedelta(microseconds=5), "5 µs"),
    ],
)
def test_formats_with_largest_exact_unit(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@given(st.timedeltas(min_value=timedelta(days=-10**6), max_value=timedelta(days=10**6)))
def test_format_then_parse_round_trips(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value
