"""Errors raised for bad configuration.

`ValueParseError` is what a value parser raises: it knows what it expected but not which key the value came
from. `ConfigError` is what callers see: it names the key, the value and what was expected. Values of keys
that look secret are never echoed back (see `redaction`).
"""

from __future__ import annotations


class ValueParseError(ValueError):
    """A text value does not have the expected form; raised by the parsers in `values`, `durations`, ...

    `what` completes "... is not <what>", `expected` completes "(expected <expected>)".
    """

    def __init__(self, what: str, expected: str, detail: str | None = None) -> None:
        self.what = what
        self.expected = expected
        self.detail = detail
        message = f"not {what} (expected {expected})"
        if detail:
            message = f"{message}: {detail}"
        super().__init__(message)


class ConfigError(ValueError):
    """A configuration value or file is unusable. The message names the key and says what was expected."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(message)

    @classmethod
    def bad_value(cls, key: str, value: str, error: ValueParseError, *, secret: bool = False) -> ConfigError:
        shown = "'******'" if secret else repr(value)
        message = f"{key}: {shown} is not {error.what} (expected {error.expected})"
        if error.detail:
            message = f"{message}; {error.detail}"
        return cls(message, key=key)
