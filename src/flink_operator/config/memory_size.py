"""Flink memory sizes (`MemorySize`): `1024m`, `2g`, `1gb`, `512 mb`, `64k`, `100b`, plain bytes.

Follows Flink's `MemorySize.parse`: a non-negative integer, optional blanks, an optional unit matched
case-insensitively; no unit means bytes. Units are binary (k = 1024 bytes, m = MiB, ...):
`b`/`bytes`, `k`/`kb`/`kibibytes`, `m`/`mb`/`mebibytes`, `g`/`gb`/`gibibytes`, `t`/`tb`/`tebibytes`.
Kubernetes quantities (`1Gi`, `500M`) are a different syntax and are not accepted here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flink_operator.config.errors import ValueParseError

EXPECTED_MEMORY_SIZE = "e.g. '512 mb', '2g', '1024m', '64 kb' or a number of bytes"

_UNITS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1024**4, ("t", "tb", "tebibytes")),
    (1024**3, ("g", "gb", "gibibytes")),
    (1024**2, ("m", "mb", "mebibytes")),
    (1024, ("k", "kb", "kibibytes")),
    (1, ("b", "bytes")),
)
_BYTES_PER_LABEL = {label: size for size, labels in _UNITS for label in labels}
_MEMORY = re.compile(r"(\d+)\s*(\S*)")
_LONG_MAX = 2**63 - 1


@dataclass(frozen=True, order=True)
class MemorySize:
    """An amount of memory in bytes; `str()` prints it the way Flink does (`128 mb`, `1 gb`, `0 bytes`)."""

    bytes: int

    def __post_init__(self) -> None:
        if self.bytes < 0:
            raise ValueError(f"memory size must not be negative, got {self.bytes}")

    @classmethod
    def parse(cls, text: str) -> MemorySize:
        return parse_memory_size(text)

    @classmethod
    def of_mebibytes(cls, mebibytes: int) -> MemorySize:
        return cls(mebibytes * 1024**2)

    @property
    def kibibytes(self) -> int:
        return self.bytes // 1024

    @property
    def mebibytes(self) -> int:
        return self.bytes // 1024**2

    @property
    def gibibytes(self) -> int:
        return self.bytes // 1024**3

    def __str__(self) -> str:
        return format_memory_size(self)


def parse_memory_size(text: str) -> MemorySize:
    """Parse Flink memory-size text; raise `ValueParseError` when it is not one."""
    match = _MEMORY.fullmatch(text.strip())
    if match is None:
        raise ValueParseError("a memory size", EXPECTED_MEMORY_SIZE)
    digits, label = match.groups()
    unit = _BYTES_PER_LABEL.get(label.lower()) if label else 1
    if unit is None:
        raise ValueParseError("a memory size", EXPECTED_MEMORY_SIZE, f"unknown memory unit {label!r}")
    size = int(digits) * unit
    if size > _LONG_MAX:
        raise ValueParseError("a memory size", EXPECTED_MEMORY_SIZE, "value is too large")
    return MemorySize(size)


def format_memory_size(size: MemorySize) -> str:
    """Largest unit that divides the size exactly: `1 gb`, `1536 mb`, `100 bytes`."""
    if size.bytes == 0:
        return "0 bytes"
    for unit, labels in _UNITS:
        if size.bytes % unit == 0:
            label = labels[1] if unit > 1 else "bytes"
            return f"{size.bytes // unit} {label}"
    raise AssertionError("unreachable: 1 divides every size")
