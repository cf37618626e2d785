"""Metric responses: plain ``[{"id", "value"}]`` lists and aggregated ``[{"id", "min", ...}]`` lists.

Values arrive as strings (plain metrics) or numbers (aggregates), and 1.20 may send the string "NaN";
:func:`parse_number` turns all of those into ``float | None``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from flink_operator.flink.rest.models._base import FlinkModel, parse_number


class MetricValue(FlinkModel):
    """One entry of a plain metric list. ``value`` is kept as Flink sent it (a string)."""

    id: str
    value: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, str) else str(value)

    @property
    def number(self) -> float | None:
        return parse_number(self.value)


class AggregatedMetric(FlinkModel):
    """One entry of an aggregated metric list; absent or non-finite aggregates are None."""

    id: str
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    sum: float | None = None
    skew: float | None = None

    @field_validator("min", "max", "avg", "sum", "skew", mode="before")
    @classmethod
    def _number(cls, value: Any) -> float | None:
        return parse_number(value)


class MetricNames(FlinkModel):
    """A metric listing without ``get``: only the ids."""

    ids: list[str] = Field(default_factory=list)
