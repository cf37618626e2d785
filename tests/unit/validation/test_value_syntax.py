"""The small parsers behind the rules: Kubernetes quantities, memory amounts, excluded periods and Quartz cron
expressions, Ingress URL templates."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from flink_operator.validation.excluded_periods import cron_problem, period_problem
from flink_operator.validation.ingress_template import IngressTemplateError, IngressUrl, ingress_url
from flink_operator.validation.quantities import QuantityError, parse_memory_amount, parse_quantity

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", Decimal(1)),
        (2, Decimal(2)),
        ("500m", Decimal("0.5")),
        ("2Gi", Decimal(2 * 1024**3)),
        ("1.5", Decimal("1.5")),
        ("1e3", Decimal(1000)),
        ("1E-2", Decimal("0.01")),
        ("128Mi", Decimal(128 * 1024**2)),
        ("2k", Decimal(2000)),
        ("-1", Decimal(-1)),
        (".5", Decimal("0.5")),
    ],
)
def test_quantities(text: str | int, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "lots", "2GB", "1.2.3", " 1", "2 Gi", "e3", "1e", "Gi", "1e999"])
def test_not_quantities(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_booleans_are_not_quantities() -> None:
    with pytest.raises(QuantityError):
        parse_quantity(True)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2048m", 2048 * 1024**2),
        ("1g", 1024**3),
        ("2Gi", 2 * 1024**3),
        ("512 mb", 512 * 1024**2),
        ("100", 100),
    ],
)
def test_memory_amounts_read_flink_syntax_first(text: str, size: int) -> None:
    assert parse_memory_amount(text) == size


def test_memory_amount_error_names_both_syntaxes() -> None:
    with pytest.raises(QuantityError, match=r"Flink.*Kubernetes"):
        parse_memory_amount("1.5g")


@pytest.mark.parametrize(
    "period",
    [
        "9:00-17:00",
        "9:30:30-10:50:20",
        "* * 9-11,14-16 * * ?",
        "* * * ? * 2-6",
        "0 0/15 * ? * MON-FRI",
        "9:30-10:50 && * * * ? * 2,5",
        "* * * ? * 2,5 && 9:30-10:50",
        "0 0 12 L * ?",
        "0 0 12 15W * ?",
        "0 0 12 ? * 6L",
        "0 0 12 ? * 6#3",
        "0 0 12 * JAN,DEC ? 2030",
    ],
)
def test_valid_excluded_periods(period: str) -> None:
    assert period_problem(period) is None


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ("25:00-26:00", "not a valid time"),
        ("9-17", "a cron expression has 6 or 7 fields"),
        ("9:00", "not a daily range"),
        ("nine:00-10:00", "not a time"),
        ("* * 24 * * ?", "hours field: '24': 24 is outside 0-23"),
        ("* * * * * *", "exactly one of day-of-month"),
        ("* * * ? * ?", "exactly one of day-of-month"),
        ("? * * * * *", "'?' is only allowed"),
        ("0 0/0 * ? * *", "step"),
        ("0 0 0 ? FOO *", "month field"),
        ("0 0 0 ? * 1#9", "week number"),
        ("9:00-10:00 && 11:00-12:00", "at most one daily range"),
        ("9:00-10:00 &&", "empty part"),
    ],
)
def test_invalid_excluded_periods(period: str, words: str) -> None:
    problem = period_problem(period)
    assert problem is not None and words in problem


def test_cron_expression_field_count() -> None:
    assert cron_problem("0 0 0") == "a cron expression has 6 or 7 fields, got 3"


@pytest.mark.parametrize(
    ("template", "url"),
    [
        (
            "{{name}}.{{namespace}}.flink.example.com",
            IngressUrl("http", "basic.team-a.flink.example.com", ""),
        ),
        (
            "flink.example.com/{{namespace}}/{{name}}(/|$)(.*)",
            IngressUrl("http", "flink.example.com", "/team-a/basic(/|$)(.*)"),
        ),
        ("/{{namespace}}/{{name}}(/|$)(.*)", IngressUrl("http", "", "/team-a/basic(/|$)(.*)")),
        ("https://{{NAME}}.example.com/ui", IngressUrl("https", "basic.example.com", "/ui")),
        ("*.example.com/{{name}}", IngressUrl("http", "*.example.com", "/basic")),
    ],
)
def test_ingress_templates(template: str, url: IngressUrl) -> None:
    assert ingress_url(template, "basic", "team-a") == url


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{{name}}.{{cluster}}.example.com", "unknown placeholder {{cluster}}"),
        ("ftp://{{name}}.example.com", "scheme 'ftp' is not supported"),
        ("{{name}}.example.com:port/x", "not a valid URL"),
        ("flink_{{name}}.example.com", "not a valid DNS name"),
        ("user@{{name}}.example.com", "user information"),
        ("{{name}} .example.com", "blanks"),
        ("   ", "empty"),
        ("*.", "not a valid DNS name"),
        ("*", "a wildcard host needs a domain"),
    ],
)
def test_invalid_ingress_templates(template: str, words: str) -> None:
    with pytest.raises(IngressTemplateError, match=re.escape(words)):
        ingress_url(template, "basic", "team-a")
