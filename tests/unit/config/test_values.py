"""Value types: booleans, numbers, enums, lists, maps and duration-or-cron schedules."""

from __future__ import annotations

import enum
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_operator.config.errors import ValueParseError
from flink_operator.config.values import (
    BOOLEAN,
    DOUBLE,
    DURATION,
    INTEGER,
    MAP,
    SCHEDULE,
    STRING,
    CronSchedule,
    IntervalSchedule,
    enum_type,
    list_type,
    split_escaped,
)

pytestmark = pytest.mark.unit


class Mode(enum.Enum):
    FULL = "full"
    INCREMENTAL = "incremental"


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("TRUE", True), ("False", False), (" false ", False)]
)
def test_booleans_are_case_insensitive(text: str, value: bool) -> None:
    assert BOOLEAN.parse(text) is value


@pytest.mark.parametrize("text", ["yes", "1", "on", "", "truee"])
def test_other_words_are_not_booleans(text: str) -> None:
    with pytest.raises(ValueParseError, match="'true' or 'false'"):
        BOOLEAN.parse(text)


def test_integers() -> None:
    assert INTEGER.parse("50") == 50
    assert INTEGER.parse("-1") == -1
    assert INTEGER.parse(" +7 ") == 7
    for bad in ("1.0", "1_000", "ten", ""):
        with pytest.raises(ValueParseError, match="an integer"):
            INTEGER.parse(bad)


def test_doubles_accept_java_forms() -> None:
    assert DOUBLE.parse("0.7") == 0.7
    assert DOUBLE.parse("1") == 1.0
    assert DOUBLE.parse("1e3") == 1000.0
    assert DOUBLE.parse("100000.0") == 100000.0
    assert DOUBLE.parse(".5") == 0.5
    assert DOUBLE.parse("2.5d") == 2.5
    assert DOUBLE.parse("Infinity") == float("inf")
    for bad in ("0,7", "inf", "1_0", "abc", ""):
        with pytest.raises(ValueParseError, match="a number"):
            DOUBLE.parse(bad)


@given(st.floats(allow_nan=False))
def test_doubles_round_trip(value: float) -> None:
    assert DOUBLE.parse(DOUBLE.format(value)) == value


def test_enums_match_names_in_any_case() -> None:
    mode = enum_type(Mode)
    assert mode.parse("FULL") is Mode.FULL
    assert mode.parse("incremental") is Mode.INCREMENTAL
    assert mode.parse("Incremental") is Mode.INCREMENTAL
    assert mode.format(Mode.FULL) == "FULL"
    with pytest.raises(ValueParseError) as caught:
        mode.parse("partial")
    assert "'FULL', 'INCREMENTAL'" in caught.value.expected


def test_semicolon_lists() -> None:
    strings = list_type(STRING)
    assert strings.parse("a;b;c") == ("a", "b", "c")
    assert strings.parse(" a ; b ;") == ("a", "b")
    assert strings.parse("") == ()
    assert strings.parse("'a;b';c") == ("a;b", "c")
    assert strings.parse("\"it's\";x") == ("it's", "x")
    assert strings.parse("'it''s'") == ("it's",)
    assert strings.format(("a;b", "c")) == "'a;b';c"


def test_list_items_are_typed() -> None:
    durations = list_type(DURATION)
    assert durations.parse("1 s;2 min") == (timedelta(seconds=1), timedelta(minutes=2))
    with pytest.raises(ValueParseError) as caught:
        durations.parse("1 s;2 minz")
    assert "item '2 minz' is not a duration" in str(caught.value)


def test_unterminated_quote_is_reported() -> None:
    with pytest.raises(ValueParseError, match="closing '"):
        split_escaped("'abc;d", ";")


def test_comma_lists_split_like_upstream_namespaces() -> None:
    namespaces = list_type(STRING, ",")
    assert namespaces.parse("ns1, ns2 ,ns3") == ("ns1", "ns2", "ns3")
    assert namespaces.parse("default") == ("default",)


@given(st.lists(st.text(min_size=1).filter(lambda s: s.strip() == s and s != "")))
def test_string_lists_round_trip(items: list[str]) -> None:
    strings = list_type(STRING)
    assert strings.parse(strings.format(tuple(items))) == tuple(items)


def test_maps() -> None:
    assert MAP.parse("k1:v1,k2:v2") == {"k1": "v1", "k2": "v2"}
    assert MAP.parse("Authorization:Bearer abc, Accept : application/json") == {
        "Authorization": "Bearer abc",
        "Accept": "application/json",
    }
    assert MAP.parse("url:http://x:8080/a") == {"url": "http://x:8080/a"}
    assert MAP.parse("'k:a,b',k2:v2") == {"k": "a,b", "k2": "v2"}
    assert MAP.parse("") == {}
    with pytest.raises(ValueParseError, match="entry 'novalue' has no ':'"):
        MAP.parse("k:v,novalue")
    with pytest.raises(ValueParseError, match="has no key"):
        MAP.parse(":v")


_map_keys = st.text(alphabet=st.characters(blacklist_characters=":,'\"", blacklist_categories=("Zs", "Cc")),
                    min_size=1)
_map_values = st.text(alphabet=st.characters(blacklist_categories=("Zs", "Cc")), min_size=0).map(str.strip)


@given(st.dictionaries(_map_keys, _map_values))
def test_maps_round_trip(value: dict[str, str]) -> None:
    assert MAP.parse(MAP.format(value)) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("0", None),
        ("0 s", None),
        ("-1 min", None),
        ("1 h", IntervalSchedule(timedelta(hours=1))),
        ("30 min", IntervalSchedule(timedelta(minutes=30))),
        ("0 0 2 * * ?", CronSchedule("0 0 2 * * ?")),
        ("0 0/30 8-18 ? * MON-FRI", CronSchedule("0 0/30 8-18 ? * MON-FRI")),
        ("0 15 10 L * ? 2030", CronSchedule("0 15 10 L * ? 2030")),
        ("0  0 2 *  * ?", CronSchedule("0 0 2 * * ?")),
    ],
)
def test_schedules_are_classified(text: str, expected: object) -> None:
    assert SCHEDULE.parse(text) == expected


def test_cron_fields() -> None:
    schedule = SCHEDULE.parse("0 0 2 * * ?")
    assert isinstance(schedule, CronSchedule)
    assert schedule.fields == ("0", "0", "2", "*", "*", "?")


@pytest.mark.parametrize("text", ["every hour", "0 0 2 * *", "1 h 2", "0 0 2 * * ? 2030 1", "0 0 2 * * $"])
def test_non_schedules_are_rejected(text: str) -> None:
    with pytest.raises(ValueParseError) as caught:
        SCHEDULE.parse(text)
    assert "Quartz cron" in caught.value.expected


def test_schedules_round_trip() -> None:
    for text in ("1 h", "0 0 2 * * ?", ""):
        assert SCHEDULE.format(SCHEDULE.parse(text)) == text
