"""The common base of all response models: tolerant of unknown fields, immutable, alias-aware.

Flink adds fields between versions (2.x adds ``jobType``, ``applicationId``, ...); models declare only
what we use and ignore the rest, so one model reads both the 1.20 and the 2.x shapes.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict


class FlinkModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


def parse_number(value: Any) -> float | None:
    """A metric value as Flink serialises it: a JSON number, or a string ("12", "0.5", "NaN", "Infinity").

    NaN, infinities, empty strings and anything unparsable become None: they carry no measurement.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
