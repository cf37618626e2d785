"""Kubernetes resource quantities (`500m`, `2Gi`, `1.5`, `1e3`) and JobManager/TaskManager memory amounts.

`parse_quantity` follows the API server's quantity grammar: an optional sign, a decimal number, and at most
one suffix that is binary (`Ki` … `Ei`), decimal SI (`n`, `u`, `m`, `k`, `M` … `E`) or a decimal exponent
(`e3`, `E-2`). The value is returned exactly, as a `Decimal`.

`parse_memory_amount` reads the deprecated `resource.memory` field the way the operator uses it: Flink's
memory-size syntax first (`2048m` is 2048 MiB there, not 2.048 bytes), Kubernetes quantities second.

Not checked: the API server's limits on precision and magnitude (a quantity with more than 18 significant
digits is still accepted here).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flink_operator.config import parse_memory_size
from flink_operator.config.errors import ValueParseError

EXPECTED_QUANTITY = "a Kubernetes quantity such as '2Gi', '512Mi', '500m', '1.5' or '1e3'"
EXPECTED_MEMORY = "a memory size such as '2048m', '2g' (Flink) or '2Gi' (Kubernetes)"

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE]?)")


class QuantityError(ValueError):
    """Text that is not a quantity; the message says what was expected."""


def parse_quantity(value: int | float | str) -> Decimal:
    """The exact value of a Kubernetes quantity; raises `QuantityError`."""
    if isinstance(value, bool):
        raise QuantityError(f"expected {EXPECTED_QUANTITY}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    match = _QUANTITY.fullmatch(value.strip()) if value.strip() == value else None
    if match is None:
        raise QuantityError(f"expected {EXPECTED_QUANTITY}")
    number, suffix = match.groups()
    try:
        amount = Decimal(number)
        if suffix in _BINARY:
            return amount * _BINARY[suffix]
        if suffix in _DECIMAL:
            return amount * _DECIMAL[suffix]
        exponent = int(suffix[1:])
        if abs(exponent) > 100:
            # Far outside anything the API server stores; refusing avoids huge Decimal arithmetic.
            raise QuantityError(f"exponent {suffix!r} is out of range")
        return amount.scaleb(exponent)
    except InvalidOperation as error:
        raise QuantityError(f"expected {EXPECTED_QUANTITY}") from error


def parse_memory_amount(text: str) -> Decimal:
    """Bytes of a `resource.memory` value: Flink memory size first, then a Kubernetes quantity."""
    try:
        return Decimal(parse_memory_size(text).bytes)
    except ValueParseError:
        pass
    try:
        return parse_quantity(text)
    except QuantityError as error:
        raise QuantityError(f"expected {EXPECTED_MEMORY}") from error
