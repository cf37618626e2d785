"""Flink memory sizes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_operator.config.errors import ValueParseError
from flink_operator.config.memory_size import MemorySize, format_memory_size, parse_memory_size

pytestmark = pytest.mark.unit

MiB = 1024**2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1024m", 1024 * MiB),
        ("2g", 2 * 1024**3),
        ("1gb", 1024**3),
        ("512 mb", 512 * MiB),
        ("64k", 64 * 1024),
        ("64 kb", 64 * 1024),
        ("100b", 100),
        ("100 bytes", 100),
        ("12345", 12345),
        ("1t", 1024**4),
        ("1 TB", 1024**4),
        ("3 mebibytes", 3 * MiB),
        ("3 kibibytes", 3 * 1024),
        ("3 gibibytes", 3 * 1024**3),
        ("1 tebibytes", 1024**4),
        ("2G", 2 * 1024**3),
        (" 1 g ", 1024**3),
    ],
)
def test_parses_flink_memory_sizes(text: str, expected: int) -> None:
    assert parse_memory_size(text).bytes == expected


@pytest.mark.parametrize("text", ["", "mb", "-1m", "1.5g", "1Gi", "500M M", "1 pb", "1 gigs"])
def test_rejects_non_sizes(text: str) -> None:
    with pytest.raises(ValueParseError) as caught:
        parse_memory_size(text)
    assert caught.value.what == "a memory size"


def test_formats_like_flink() -> None:
    assert str(MemorySize(0)) == "0 bytes"
    assert str(MemorySize(128 * MiB)) == "128 mb"
    assert str(MemorySize(1024**3)) == "1 gb"
    assert str(MemorySize(1536 * MiB)) == "1536 mb"
    assert str(MemorySize(1025)) == "1025 bytes"
    assert MemorySize.of_mebibytes(2).mebibytes == 2
    assert MemorySize.parse("2g").gibibytes == 2


def test_negative_sizes_are_impossible() -> None:
    with pytest.raises(ValueError, match="negative"):
        MemorySize(-1)


@given(st.integers(min_value=0, max_value=2**62))
def test_round_trips(size: int) -> None:
    assert parse_memory_size(format_memory_size(MemorySize(size))) == MemorySize(size)
